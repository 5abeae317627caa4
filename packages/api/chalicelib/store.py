"""The ratings store the API reads and writes: users, movies and ratings.

Two backends behind one protocol, chosen by ``RECS_STORE``: SQLite locally
(``chalicelib.sqlite_store`` over ``recs_contracts.store``, which owns the schema) and DynamoDB
on AWS (``chalicelib.dynamodb_store``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.limits import WriteCap
from chalicelib.ownership import TokenRecord
from recs_contracts.store import (
    CatalogEntry,
    DuplicateRating,
    FeedbackRow,
    Movie,
    RatingRow,
    StoreUnavailable,
    genres_json,
)

# The row shapes and errors are the store's contract (recs_contracts.store); both backends
# answer with them.
__all__ = [
    "CatalogEntry",
    "DuplicateRating",
    "FeedbackRow",
    "Movie",
    "NewUser",
    "RatingRow",
    "SeedData",
    "Store",
    "StoreUnavailable",
    "UserProfile",
    "genres_json",
]


@dataclass(frozen=True)
class UserProfile:
    user_id: int
    age: int | None
    gender: str | None
    occupation: str | None
    source: str
    created_at: int
    ratings_count: int
    # Only API users have one; never part of an answer.
    token: TokenRecord | None = field(default=None, repr=False, compare=False)

    def summary(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "age": self.age,
            "gender": self.gender,
            "occupation": self.occupation,
            "source": self.source,
            "ratings_count": self.ratings_count,
        }


@dataclass
class SeedData:
    """The base dataset to load: users, movies and ratings, all with ``source = 'base'``."""

    users: list[tuple[int, int | None, str | None, str | None]] = field(default_factory=list)
    movies: list[Movie] = field(default_factory=list)
    ratings: list[tuple[int, int, float, int]] = field(default_factory=list)


@dataclass(frozen=True)
class NewUser:
    """What creating an API user takes: its profile, the time, how to make its token, and
    the client creating it with that client's hourly cap."""

    age: int | None
    gender: str | None
    occupation: str | None
    now: int
    token_for: Callable[[int], TokenRecord]
    client: str
    users_per_hour: int

    def profile(self, user_id: int, token: TokenRecord) -> UserProfile:
        return UserProfile(
            user_id, self.age, self.gender, self.occupation, "api", self.now, 0, token
        )


class Store(Protocol):
    backend: str

    def check(self) -> None:
        """Raise StoreUnavailable unless the store is reachable and seeded."""

    def list_users(
        self, query: str, limit: int, offset: int, include: int | None = None
    ) -> tuple[list[UserProfile], int]:
        """Dataset users matching ``query`` (and the API user ``include``), by id."""

    def get_user(self, user_id: int) -> UserProfile | None: ...

    def create_user(self, new: NewUser) -> UserProfile:
        """A new API user with ``new.token_for(user_id)`` stored beside it; CapReached when
        ``new.client`` already created ``new.users_per_hour`` users this hour."""

    def delete_user(self, user_id: int) -> int:
        """Remove an API user with its ratings, feedback (and counters); the number of
        ratings removed."""

    def user_ratings(self, user_id: int) -> list[RatingRow]:
        """The user's ratings, oldest first (timestamp, item_id)."""

    def add_rating(
        self, user_id: int, item_id: int, rating: float, now: int, cap: WriteCap
    ) -> RatingRow:
        """Store one rating; DuplicateRating when this user already rated this movie,
        CapReached when it would exceed ``cap``."""

    def get_movies(self, item_ids: Iterable[int]) -> dict[int, Movie]: ...

    def movie_stats(self, item_id: int) -> tuple[int, float | None]:
        """(ratings count, mean rating) of one movie."""

    def search_movies(
        self, query: str, limit: int
    ) -> tuple[list[tuple[Movie, int, float | None]], int]:
        """Movies whose title contains ``query``, most rated first, with count and mean."""

    def popular(self, limit: int) -> list[tuple[int, int]]:
        """(item_id, ratings count), most rated first."""

    def catalog(self) -> list[CatalogEntry]:
        """Every movie with its ratings count and mean, most rated first (ties: lower id)."""

    def feedback(self, user_id: int) -> list[FeedbackRow]:
        """The user's not-interested marks, newest first (timestamp, then item_id)."""

    def add_feedback(
        self, user_id: int, item_id: int, kind: str, now: int, cap: WriteCap
    ) -> tuple[FeedbackRow, bool]:
        """Mark ``item_id``; (the stored row, whether it is new). An existing mark is kept
        as it is; CapReached when a new one would exceed ``cap``."""

    def delete_feedback(self, user_id: int, item_id: int) -> bool:
        """Remove the user's mark on ``item_id``; False when there was none."""

    def iter_ratings(self) -> Iterator[tuple[int, int]]:
        """Every (user_id, item_id) pair, for item-item similarity."""

    def is_seeded(self, movies: int, users: int, ratings: int) -> bool:
        """Whether the base dataset with these row counts is already loaded."""

    def seed(self, data: SeedData) -> bool:
        """Load the base dataset; False (and no work) when it is already there."""
