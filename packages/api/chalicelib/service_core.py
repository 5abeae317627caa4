"""The shared part of the API's service: its store, endpoint and registry, who is calling,
the cached catalog views (chalicelib.cache) and the helpers every route uses.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib import ownership
from chalicelib.cache import Refreshing
from chalicelib.endpoint import Endpoint
from chalicelib.errors import (
    NotFound,
    TooManyRequests,
    Unavailable,
)
from chalicelib.limits import CapReached, Caps, WriteCap
from chalicelib.registry import Registry
from chalicelib.similarity import SimilarityIndex
from chalicelib.store import (
    CatalogEntry,
    Movie,
    Store,
    StoreUnavailable,
    UserProfile,
)

POPULAR_POOL = 5000  # the whole catalog: k=100 stays full after removing a heavy rater's history
POPULAR_TTL = 60.0
MAX_RANK = 100  # the endpoint's largest k: offset + k of one request stays within it
DEFAULT_CAPS = Caps(
    ratings=WriteCap("ratings", 1000, 200),
    feedback=WriteCap("feedback", 1000, 200),
    users_per_client_per_hour=20,
)


@dataclass(frozen=True)
class Caller:
    """Who sends a request: the bearer token it carries (if any) and its client key."""

    token: str | None = None
    client: str = "unknown"


ANONYMOUS = Caller()


class ServiceCore:
    def __init__(
        self,
        store: Store,
        endpoint: Endpoint,
        registry: Registry,
        *,
        cache_seconds: float = 300.0,
        caps: Caps = DEFAULT_CAPS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.caps = caps
        self.endpoint = endpoint
        self.registry = registry
        self.cache_seconds = cache_seconds
        self.clock = clock
        # Popular movies and the catalog follow new ratings within a minute at most; the
        # similarity index (every rating read) lives ``cache_seconds``. A stale one is served
        # while one background thread reloads it (chalicelib.cache).
        counts_ttl = min(POPULAR_TTL, cache_seconds or POPULAR_TTL)
        self._popular = Refreshing("popular", lambda: store.popular(POPULAR_POOL), counts_ttl)
        self._catalog = Refreshing("catalog", store.catalog, counts_ttl)
        self._similarity = Refreshing(
            "similarity index", lambda: SimilarityIndex.build(store.iter_ratings()), cache_seconds
        )

    # ----------------------------------------------------------------------------- helpers

    def _now(self) -> int:
        return int(self.clock())

    def _store_call(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except StoreUnavailable as exc:
            raise Unavailable(f"the ratings store is unavailable: {exc}") from None

    def _user(self, user_id: int) -> Any:
        user = self._store_call(lambda: self.store.get_user(user_id))
        if user is None:
            raise NotFound(f"user {user_id} does not exist")
        return user

    def _owned_user(self, user_id: int, caller: Caller) -> UserProfile:
        """The user, when ``caller`` holds its token (401/403 otherwise; 404 if unknown)."""
        user: UserProfile = self._user(user_id)
        ownership.verify(user_id, caller.token, user.token, source=user.source)
        return user

    def _readable_user(self, user_id: int, caller: Caller) -> UserProfile:
        """Dataset users are public; an API user's data needs its token."""
        user: UserProfile = self._user(user_id)
        if user.source != "base":
            ownership.verify(user_id, caller.token, user.token, source=user.source)
        return user

    def _capped(self, call: Callable[[], Any]) -> Any:
        try:
            return self._store_call(call)
        except CapReached as exc:
            raise TooManyRequests(str(exc), exc.retry_after) from None

    def _movie(self, item_id: int) -> Movie:
        movies = self._store_call(lambda: self.store.get_movies([item_id]))
        if item_id not in movies:
            raise NotFound(f"movie {item_id} does not exist")
        return movies[item_id]

    def _scored(self, pairs: list[tuple[int, float]]) -> list[dict[str, Any]]:
        movies = self._store_call(lambda: self.store.get_movies(i for i, _ in pairs))
        return [
            {**movies[i].to_dict(), "score": round(float(s), 6)}
            for i, s in pairs
            if i in movies and math.isfinite(s)
        ]

    def popular(self) -> list[tuple[int, int]]:
        """The most rated movies, (item, ratings count), most rated first."""
        return self._popular.get()

    def catalog(self) -> list[CatalogEntry]:
        """Every movie with its ratings count and mean, most rated first."""
        return self._catalog.get()

    def genres(self) -> list[tuple[str, int]]:
        """(genre, number of movies), most common first (ties: by name)."""
        counts: dict[str, int] = {}
        for movie, _, _ in self._store_call(self.catalog):
            for genre in movie.genres:
                counts[genre] = counts.get(genre, 0) + 1
        return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))

    def warm(self) -> None:
        """Read the catalog and build the similarity index in the background, so the first
        recommendation does not wait for every rating to be read."""
        self._catalog.warm()
        self._similarity.warm()

    def similarity(self) -> SimilarityIndex:
        """Item-item co-rating index over every rating (chalicelib.similarity)."""
        return self._similarity.get()
