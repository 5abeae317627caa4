"""The SQLite ratings store (``RECS_HOME/store.db``) behind the API's ``Store`` protocol.

``recs_contracts.store.RatingsStore`` owns the schema and every statement; this adapter adds
the API's policies (write caps, per-client user quota, ownership tokens), which run inside
that store's write transactions so concurrent requests cannot both pass a cap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from chalicelib.limits import CapReached, WriteCap, check_write, day_window, hour_window
from chalicelib.ownership import TokenRecord
from chalicelib.store import NewUser, SeedData, UserProfile
from recs_contracts.store import (
    CatalogEntry,
    FeedbackRow,
    Movie,
    RatingRow,
    RatingsStore,
    StoredUser,
)


def _profile(user: StoredUser) -> UserProfile:
    token = (
        TokenRecord(user.token_salt, user.token_digest)
        if user.token_salt and user.token_digest
        else None
    )
    return UserProfile(
        user.user_id,
        user.age,
        user.gender,
        user.occupation,
        user.source,
        user.created_at,
        user.ratings_count,
        token,
    )


def _cap_check(cap: WriteCap, now: int) -> Callable[[int, int], None]:
    def admit(total: int, today: int) -> None:
        check_write(cap, total=total, today=today, now=now)

    return admit


class SqliteStore:
    backend = "sqlite"

    def __init__(self, path: Path, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.store = RatingsStore(self.path, timeout=timeout)

    def create_schema(self) -> None:
        self.store.create_schema()

    def close(self) -> None:
        self.store.close()

    # ----------------------------------------------------------------------------- reading

    def check(self) -> None:
        self.store.check()

    def list_users(
        self, query: str, limit: int, offset: int, include: int | None = None
    ) -> tuple[list[UserProfile], int]:
        users, total = self.store.list_users(query, limit, offset, include)
        return [_profile(user) for user in users], total

    def get_user(self, user_id: int) -> UserProfile | None:
        user = self.store.get_user(user_id)
        return _profile(user) if user else None

    def user_ratings(self, user_id: int) -> list[RatingRow]:
        return self.store.user_ratings(user_id)

    def get_movies(self, item_ids: Iterable[int]) -> dict[int, Movie]:
        return self.store.get_movies(item_ids)

    def movie_stats(self, item_id: int) -> tuple[int, float | None]:
        return self.store.movie_stats(item_id)

    def search_movies(self, query: str, limit: int) -> tuple[list[CatalogEntry], int]:
        return self.store.search_movies(query, limit)

    def popular(self, limit: int) -> list[tuple[int, int]]:
        return self.store.popular(limit)

    def iter_ratings(self) -> Iterator[tuple[int, int]]:
        return self.store.iter_ratings()

    def catalog(self) -> list[CatalogEntry]:
        return self.store.catalog()

    def feedback(self, user_id: int) -> list[FeedbackRow]:
        return self.store.feedback(user_id)

    # ----------------------------------------------------------------------------- writing

    def create_user(self, new: NewUser) -> UserProfile:
        window, retry_after = hour_window(new.now)

        def admit(count: int) -> None:
            if count >= new.users_per_hour:
                raise CapReached(
                    f"this client created {count} users this hour, the most allowed "
                    f"({new.users_per_hour})",
                    retry_after,
                )

        def token(user_id: int) -> tuple[str, str]:
            record = new.token_for(user_id)
            return record.salt, record.digest

        user = self.store.create_user(
            new.age, new.gender, new.occupation, new.now, client=new.client, window=window,
            admit=admit, token_for=token,
        )  # fmt: skip
        return _profile(user)

    def delete_user(self, user_id: int) -> int:
        return self.store.delete_user(user_id)

    def add_rating(
        self, user_id: int, item_id: int, rating: float, now: int, cap: WriteCap
    ) -> RatingRow:
        day_start, _ = day_window(now)
        return self.store.add_rating(
            user_id, item_id, rating, now, since=day_start, admit=_cap_check(cap, now)
        )

    def add_feedback(
        self, user_id: int, item_id: int, kind: str, now: int, cap: WriteCap
    ) -> tuple[FeedbackRow, bool]:
        day_start, _ = day_window(now)
        return self.store.add_feedback(
            user_id, item_id, kind, now, since=day_start, admit=_cap_check(cap, now)
        )

    def delete_feedback(self, user_id: int, item_id: int) -> bool:
        return self.store.delete_feedback(user_id, item_id)

    def is_seeded(self, movies: int, users: int, ratings: int) -> bool:
        return self.store.is_seeded(movies, users, ratings)

    def seed(self, data: SeedData) -> bool:
        return self.store.seed(data.movies, data.users, data.ratings)
