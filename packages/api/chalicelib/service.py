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
from chalicelib.explain import Taste
from chalicelib.filters import EXCLUDE_LIMIT, Filters, parse_filters, parse_genres
from chalicelib.limits import CapReached, Caps, WriteCap
from chalicelib.models_info import POPULARITY_MODELS, model_info
from chalicelib.registry import Registry, RegistryUnavailable, finite_numbers
from chalicelib.similarity import SimilarityIndex
from chalicelib.store import (
    CatalogEntry,
    DuplicateRating,
    Movie,
    RatingRow,
    Store,
    StoreUnavailable,
    UserProfile,
)
from recs_contracts.serving import MAX_K

log = logging.getLogger(__name__)

POPULAR_POOL = 5000  # the whole catalog: k=100 stays full after removing a heavy rater's history
POPULAR_TTL = 60.0
MAX_RANK = MAX_K  # the endpoint's largest k: offset + k of one request stays within it
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
        self._catalog: tuple[float, list[CatalogEntry]] | None = None
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

    def catalog(self) -> list[CatalogEntry]:
        """Every movie with its ratings count and mean, most rated first; refreshed like
        ``popular``."""
        now = time.monotonic()
        with self._lock:
            cached = self._catalog
        if cached and now - cached[0] < min(POPULAR_TTL, self.cache_seconds or POPULAR_TTL):
            return cached[1]
        entries = self.store.catalog()
        with self._lock:
            self._catalog = (now, entries)
        return entries

    def genres(self) -> list[tuple[str, int]]:
        """(genre, number of movies), most common first (ties: by name)."""
        counts: dict[str, int] = {}
        for movie, _, _ in self._store_call(self.catalog):
            for genre in movie.genres:
                counts[genre] = counts.get(genre, 0) + 1
        return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))

    def _taste(self, ratings: list[RatingRow]) -> Taste:
        counts = {movie.item_id: n for movie, n, _ in self._store_call(self.catalog)}
        index = self._store_call(self.similarity)
        return Taste(index, [(r.item_id, r.rating) for r in ratings], counts)

    def _explained(
        self, pairs: list[tuple[int, float]], ratings: list[RatingRow], popularity: bool
    ) -> list[dict[str, Any]]:
        """``_scored`` items with ``match``, ``because`` and ``reason`` (chalicelib.explain)."""
        items = self._scored(pairs)
        taste = self._taste(ratings)
        titles = self._store_call(lambda: self.store.get_movies(r.item_id for r in ratings))
        for item in items:
            item["match"] = taste.match(item["item_id"])
            reason = None if popularity else taste.because(item["item_id"])
            if reason is not None and reason.item_id in titles:
                item["because"] = {"item_id": reason.item_id,
                                   "title": titles[reason.item_id].title,
                                   "rating": reason.rating}  # fmt: skip
                item["reason"] = "similar_to_rated"
            else:
                item["because"] = None
                item["reason"] = "popular" if popularity else "taste"
        return items

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
            self._popular = self._catalog = None  # the counts changed
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

    # ----------------------------------------------------------------------------- feedback

    def list_feedback(self, user_id: int, caller: Caller = ANONYMOUS) -> dict[str, Any]:
        self._readable_user(user_id, caller)
        rows = self._store_call(lambda: self.store.feedback(user_id))
        movies = self._store_call(lambda: self.store.get_movies(r.item_id for r in rows))
        items = [
            {**movies[r.item_id].to_dict(), "kind": r.kind, "timestamp": r.timestamp}
            for r in rows
            if r.item_id in movies
        ]
        return {"user_id": user_id, "items": items}

    def add_feedback(
        self, user_id: int, body: dict[str, Any], caller: Caller = ANONYMOUS
    ) -> tuple[int, dict[str, Any]]:
        self._owned_user(user_id, caller)
        item_id = int(body["item_id"])
        self._movie(item_id)
        row, created = self._capped(
            lambda: self.store.add_feedback(
                user_id, item_id, str(body["kind"]), self._now(), self.caps.feedback
            )
        )
        return (201 if created else 200), dict(row.to_dict())

    def delete_feedback(
        self, user_id: int, item_id: int, caller: Caller = ANONYMOUS
    ) -> dict[str, Any]:
        self._owned_user(user_id, caller)
        if not self._store_call(lambda: self.store.delete_feedback(user_id, item_id)):
            raise NotFound(f"user {user_id} has not marked movie {item_id} not interested")
        return {"user_id": user_id, "item_id": item_id, "deleted": True}

    # ----------------------------------------------------------------------------- recommendations

    def recommend(
        self,
        user_id: int,
        k: int,
        model: str,
        caller: Caller = ANONYMOUS,
        *,
        genres: str = "",
        year_min: int | None = None,
        year_max: int | None = None,
        offset: int = 0,
    ) -> dict[str, Any]:
        if offset + k > MAX_RANK:
            raise BadRequest(
                f"offset + k must be at most {MAX_RANK}, got {offset} + {k}; the endpoint "
                f"ranks at most {MAX_RANK} movies"
            )
        known = [g for g, _ in self.genres()] if genres.strip(" ,") else []
        filters = parse_filters(genres, year_min, year_max, known)
        user = self._readable_user(user_id, caller)
        ratings = self._store_call(lambda: self.store.user_ratings(user_id))
        hidden = {f.item_id for f in self._store_call(lambda: self.store.feedback(user_id))}
        rated = {r.item_id for r in ratings}
        unwanted = hidden | self._filtered_out(filters)
        page = {**filters.to_dict(), "offset": offset, "k": k}
        if not ratings:
            return self._fallback(user_id, k, offset, rated | unwanted, "no_ratings", page, [])
        # The contract's user_id is 0 for users the model never saw; API users are new to it.
        known_id = user_id if user.source == "base" else 0
        # Filtered-out and not-interested movies go in the request's exclude, so the model's
        # top offset + k are all wanted ones (chalicelib.filters); a huge list: filter after.
        exclude = sorted(unwanted) if len(unwanted) <= EXCLUDE_LIMIT else sorted(hidden)
        want = offset + k if len(exclude) == len(unwanted) else MAX_RANK
        try:
            prediction = self.endpoint.recommend(
                known_id, [r.item_id for r in ratings], want, model, exclude
            )
        except EndpointRejected as exc:
            raise BadRequest(f"the endpoint rejected the request: {exc}") from None
        except EndpointUnavailable as exc:
            log.warning("endpoint unavailable, answering popular movies: %s", exc)
            return self._fallback(
                user_id, k, offset, rated | unwanted, "endpoint_unavailable", page, ratings
            )
        pairs = [
            (i, s) for i, s in zip(prediction.item_ids, prediction.scores, strict=True)
            if i not in rated and i not in unwanted and i > 0
        ][offset : offset + k]  # fmt: skip
        name = prediction.model_name or model or "default"
        items = self._explained(pairs, ratings, popularity=name in POPULARITY_MODELS)
        return {
            "user_id": user_id,
            "model": {"name": name, "version": prediction.version, **model_info(name)},
            "fallback": False,
            "reason": None,
            "filters": page,
            "movies": [item["item_id"] for item in items],
            "items": items,
        }

    def _filtered_out(self, filters: Filters) -> set[int]:
        """Catalog movies that the filters leave out."""
        if not filters.active:
            return set()
        return {
            movie.item_id
            for movie, _, _ in self._store_call(self.catalog)
            if not filters.matches(movie)
        }

    def _fallback(
        self,
        user_id: int,
        k: int,
        offset: int,
        unwanted: set[int],
        reason: str,
        page: dict[str, Any],
        ratings: list[RatingRow],
    ) -> dict[str, Any]:
        try:
            ranking = self.popular()
        except StoreUnavailable as exc:
            raise Unavailable(
                f"the endpoint did not answer and popular movies are unavailable: {exc}"
            ) from None
        top = [(i, n) for i, n in ranking if i not in unwanted][offset : offset + k]
        if not top and offset == 0 and not page["genres"] and page["year_min"] is None \
                and page["year_max"] is None:  # fmt: skip
            raise Unavailable("the endpoint did not answer and no popular movie is left to show")
        best = ranking[0][1] if ranking else 1  # score = share of the most rated movie's count
        items = self._explained([(i, n / (best or 1)) for i, n in top], ratings, popularity=True)
        return {
            "user_id": user_id,
            "model": {"name": "popularity", "version": None, **model_info("popularity")},
            "fallback": True,
            "reason": reason,
            "filters": page,
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

    def similar(
        self, item_id: int, k: int, user_id: int | None = None, caller: Caller = ANONYMOUS
    ) -> dict[str, Any]:
        self._movie(item_id)
        hidden: set[int] = set()
        if user_id is not None:
            self._readable_user(user_id, caller)
            hidden = {f.item_id for f in self._store_call(lambda: self.store.feedback(user_id))}
        index = self._store_call(self.similarity)
        pairs = [(i, s) for i, s in index.neighbours(item_id) if i not in hidden][:k]
        items = self._scored(pairs)
        return {"item_id": item_id, "movies": [i["item_id"] for i in items], "items": items}

    def popular_movies(
        self, genre: str, limit: int, user_id: int | None = None, caller: Caller = ANONYMOUS
    ) -> dict[str, Any]:
        chosen = parse_genres(genre, (g for g, _ in self.genres()), name="genre")
        skip: set[int] = set()
        if user_id is not None:
            self._readable_user(user_id, caller)
            skip = {r.item_id for r in self._store_call(lambda: self.store.user_ratings(user_id))}
            skip |= {f.item_id for f in self._store_call(lambda: self.store.feedback(user_id))}
        rows = [
            (movie, n, mean)
            for movie, n, mean in self._store_call(self.catalog)
            if movie.item_id not in skip and (not chosen or set(chosen) & set(movie.genres))
        ]
        return {
            "items": [
                {**m.to_dict(), "ratings_count": n, "mean_rating": _mean(mean)}
                for m, n, mean in rows[:limit]
            ],
            "total": len(rows),
        }

    def list_genres(self) -> dict[str, Any]:
        return {"genres": [{"name": g, "movies": n} for g, n in self.genres()]}

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
        models = []
        for name in names:
            metrics = finite_numbers(serving.metrics.get(name)) if serving else {}
            models.append(
                {
                    "name": name,
                    **model_info(name),
                    "default": name == default,
                    "version": serving.version if serving else None,
                    "status": serving.status if serving else None,
                    "metrics": metrics,
                    "metrics_split": serving.metrics_split if serving and metrics else None,
                }
            )
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
                    "metrics_split": v.metrics_split if v.metrics else None,
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
