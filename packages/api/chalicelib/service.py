"""What each route does, as plain Python over a store, an endpoint and a registry.

Routes in app.py parse nothing and decide nothing: they hand raw parameters and bodies to
``RecsService`` and return its dicts, or turn its ``ApiError`` into an error response.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib import ownership
from chalicelib.endpoint import Endpoint, EndpointRejected, EndpointUnavailable
from chalicelib.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unavailable,
)
from chalicelib.limits import CapReached, Caps, WriteCap
from chalicelib.registry import Registry, RegistryUnavailable, finite_numbers
from chalicelib.similarity import SimilarityIndex
from chalicelib.store import DuplicateRating, Movie, Store, StoreUnavailable, UserProfile

log = logging.getLogger(__name__)

POPULAR_POOL = 5000  # the whole catalog: k=100 stays full after removing a heavy rater's history
POPULAR_TTL = 60.0
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


class RecsService:
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
        self._lock = threading.Lock()
        self._popular: tuple[float, list[tuple[int, int]]] | None = None
        self._similarity: tuple[float, SimilarityIndex] | None = None

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
        """The most rated movies, refreshed at most once a minute."""
        now = time.monotonic()
        with self._lock:
            cached = self._popular
        if cached and now - cached[0] < min(POPULAR_TTL, self.cache_seconds or POPULAR_TTL):
            return cached[1]
        ranking = self.store.popular(POPULAR_POOL)
        with self._lock:
            self._popular = (now, ranking)
        return ranking

    def similarity(self) -> SimilarityIndex:
        """Item-item co-rating index, built once from every rating and rebuilt when stale."""
        with self._lock:
            cached = self._similarity
            if cached and time.monotonic() - cached[0] < self.cache_seconds:
                return cached[1]
            index = SimilarityIndex.build(self.store.iter_ratings())
            self._similarity = (time.monotonic(), index)
            return index

    # ----------------------------------------------------------------------------- health

    def health(self) -> tuple[int, dict[str, Any]]:
        store: dict[str, Any] = {"status": "ok", "backend": self.store.backend, "detail": ""}
        try:
            self.store.check()
        except StoreUnavailable as exc:
            store = {**store, "status": "unavailable", "detail": str(exc)}
        ping = self.endpoint.ping()
        endpoint = {
            "status": "ok" if ping.ok else "unavailable",
            "backend": self.endpoint.backend,
            "version": ping.version,
            "detail": ping.detail,
        }
        healthy = store["status"] == "ok" and ping.ok
        body = {"status": "ok" if healthy else "degraded", "store": store, "endpoint": endpoint}
        # Without the store nothing works; without the endpoint the API still answers fallbacks.
        return (200 if store["status"] == "ok" else 503), body

    # ----------------------------------------------------------------------------- users

    def list_users(
        self, query: str, limit: int, offset: int, caller: Caller = ANONYMOUS
    ) -> dict[str, Any]:
        # Dataset users are public; an API user is listed only to the holder of its token.
        include = ownership.token_user(caller.token)
        if caller.token is not None:
            if include is None:
                raise Forbidden("the token is not one POST /users returned")
            self._owned_user(include, caller)
        users, total = self._store_call(
            lambda: self.store.list_users(query, limit, offset, include)
        )
        return {
            "users": [u.summary() for u in users],
            "total": total,
            "limit": limit,
            "offset": offset,
        }

    def create_user(self, body: dict[str, Any], caller: Caller = ANONYMOUS) -> dict[str, Any]:
        issued: list[str] = []

        def token_for(user_id: int) -> ownership.TokenRecord:
            token, record = ownership.new_token(user_id)
            issued[:] = [token]
            return record

        user = self._capped(
            lambda: self.store.create_user(
                body.get("age"),
                body.get("gender"),
                body.get("occupation"),
                self._now(),
                token_for=token_for,
                client=caller.client,
                users_per_hour=self.caps.users_per_client_per_hour,
            )
        )
        # The only time the token leaves the API: the store keeps a salted digest of it.
        return {**user.summary(), "created_at": user.created_at, "history": [],
                "token": issued[0]}  # fmt: skip

    def delete_user(self, user_id: int, caller: Caller = ANONYMOUS) -> dict[str, Any]:
        self._owned_user(user_id, caller)
        removed = self._store_call(lambda: self.store.delete_user(user_id))
        with self._lock:
            self._popular = None  # the counts changed
        return {"user_id": user_id, "deleted": True, "ratings_removed": removed}

    def get_user(self, user_id: int, caller: Caller = ANONYMOUS) -> dict[str, Any]:
        user = self._readable_user(user_id, caller)
        ratings = self._store_call(lambda: self.store.user_ratings(user_id))
        movies = self._store_call(lambda: self.store.get_movies(r.item_id for r in ratings))
        history = [
            {**movies[r.item_id].to_dict(), "rating": r.rating, "timestamp": r.timestamp}
            for r in reversed(ratings)
            if r.item_id in movies
        ]
        return {**user.summary(), "created_at": user.created_at, "history": history}

    def rate(
        self, user_id: int, body: dict[str, Any], caller: Caller = ANONYMOUS
    ) -> dict[str, Any]:
        self._owned_user(user_id, caller)
        item_id = int(body["item_id"])
        self._movie(item_id)
        rating = float(body["rating"])
        try:
            row = self._capped(
                lambda: self.store.add_rating(
                    user_id, item_id, rating, self._now(), self.caps.ratings
                )
            )
        except DuplicateRating as exc:
            raise Conflict(f"{exc}; each movie can be rated once") from None
        return dict(row.to_dict())

    # ----------------------------------------------------------------------------- recommendations

    def recommend(
        self, user_id: int, k: int, model: str, caller: Caller = ANONYMOUS
    ) -> dict[str, Any]:
        user = self._readable_user(user_id, caller)
        ratings = self._store_call(lambda: self.store.user_ratings(user_id))
        rated = {r.item_id for r in ratings}
        if not ratings:
            return self._fallback(user_id, k, rated, "no_ratings")
        # The contract's user_id is 0 for users the model never saw; API users are new to it.
        known_id = user_id if user.source == "base" else 0
        try:
            prediction = self.endpoint.recommend(known_id, [r.item_id for r in ratings], k, model)
        except EndpointRejected as exc:
            raise BadRequest(f"the endpoint rejected the request: {exc}") from None
        except EndpointUnavailable as exc:
            log.warning("endpoint unavailable, answering popular movies: %s", exc)
            return self._fallback(user_id, k, rated, "endpoint_unavailable")
        pairs = [
            (i, s) for i, s in zip(prediction.item_ids, prediction.scores, strict=True)
            if i not in rated and i > 0
        ][:k]  # fmt: skip
        items = self._scored(pairs)
        return {
            "user_id": user_id,
            "model": {
                "name": prediction.model_name or model or "default",
                "version": prediction.version,
            },  # fmt: skip
            "fallback": False,
            "reason": None,
            "movies": [item["item_id"] for item in items],
            "items": items,
        }

    def _fallback(self, user_id: int, k: int, rated: set[int], reason: str) -> dict[str, Any]:
        try:
            ranking = self.popular()
        except StoreUnavailable as exc:
            raise Unavailable(
                f"the endpoint did not answer and popular movies are unavailable: {exc}"
            ) from None
        top = [(i, n) for i, n in ranking if i not in rated][:k]
        if not top:
            raise Unavailable("the endpoint did not answer and no popular movie is left to show")
        best = ranking[0][1] or 1  # score = share of the most rated movie's count
        items = self._scored([(i, n / best) for i, n in top])
        return {
            "user_id": user_id,
            "model": {"name": "popularity", "version": None},
            "fallback": True,
            "reason": reason,
            "movies": [item["item_id"] for item in items],
            "items": items,
        }

    def recommend_endpoint(
        self, user_id: int, k: int, caller: Caller = ANONYMOUS
    ) -> dict[str, Any]:
        return {"movies": self.recommend(user_id, k, "", caller)["movies"]}

    # ----------------------------------------------------------------------------- movies

    def list_movies(self, query: str, limit: int) -> dict[str, Any]:
        rows, total = self._store_call(lambda: self.store.search_movies(query, limit))
        return {
            "items": [
                {**m.to_dict(), "ratings_count": n, "mean_rating": _mean(mean)}
                for m, n, mean in rows
            ],
            "total": total,
        }

    def get_movie(self, item_id: int) -> dict[str, Any]:
        movie = self._movie(item_id)
        count, mean = self._store_call(lambda: self.store.movie_stats(item_id))
        return {**movie.to_dict(), "ratings_count": count, "mean_rating": _mean(mean)}

    def similar(self, item_id: int, k: int) -> dict[str, Any]:
        self._movie(item_id)
        index = self._store_call(self.similarity)
        items = self._scored(index.similar(item_id, k))
        return {"item_id": item_id, "movies": [i["item_id"] for i in items], "items": items}

    # ----------------------------------------------------------------------------- models

    def models(self) -> dict[str, Any]:
        try:
            versions = self.registry.versions()
        except RegistryUnavailable as exc:
            raise Unavailable(f"the model registry is unavailable: {exc}") from None
        ping = self.endpoint.ping()
        serving = next((v for v in versions if ping.ok and v.version == ping.version), None)
        if serving is None:
            approved = [v for v in versions if v.status == "Approved"]
            serving = approved[-1] if approved else None
        names = list(ping.models) if ping.ok and ping.models else []
        if not names and serving is not None:
            names = sorted(serving.metrics)
        default = ping.default_model if ping.ok else None
        models = [
            {
                "name": name,
                "default": name == default,
                "version": serving.version if serving else None,
                "status": serving.status if serving else None,
                "metrics": finite_numbers(serving.metrics.get(name)) if serving else {},
            }
            for name in names
        ]
        return {
            "group": self.registry.group,
            "endpoint": {
                "status": "ok" if ping.ok else "unavailable",
                "version": ping.version if ping.ok else None,
                "default_model": default,
            },
            "models": models,
            "versions": [
                {
                    "version": v.version,
                    "status": v.status,
                    "metrics": v.metrics,
                    "created_at": v.created_at,
                    "artifact_uri": v.artifact_uri,
                    "serving": ping.ok and v.version == ping.version,
                    **({"deploy_error": v.deploy_error} if v.deploy_error else {}),
                }
                for v in versions
            ],
        }


def _mean(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)
