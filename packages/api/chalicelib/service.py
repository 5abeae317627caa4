"""What each route does, as plain Python over a store, an endpoint and a registry.

Routes in app.py decide nothing: they hand parameters and bodies, checked by the API's pydantic
models, to ``RecsService`` and return its dicts, or turn its ``ApiError`` into an error
response. The shared helpers and caches are in chalicelib.service_core, recommendations in
chalicelib.picks.
"""

from __future__ import annotations

from typing import Any

from chalicelib import ownership
from chalicelib.errors import Conflict, Forbidden, NotFound, Unavailable
from chalicelib.filters import parse_genres
from chalicelib.models_info import models_overview
from chalicelib.picks import Picks
from chalicelib.registry import RegistryUnavailable
from chalicelib.service_core import ANONYMOUS, Caller
from chalicelib.store import DuplicateRating, NewUser, StoreUnavailable

__all__ = ["ANONYMOUS", "Caller", "RecsService"]


class RecsService(Picks):
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
                NewUser(
                    body.get("age"),
                    body.get("gender"),
                    body.get("occupation"),
                    self._now(),
                    token_for=token_for,
                    client=caller.client,
                    users_per_hour=self.caps.users_per_client_per_hour,
                )
            )
        )
        # The only time the token leaves the API: the store keeps a salted digest of it.
        return {**user.summary(), "created_at": user.created_at, "history": [],
                "token": issued[0]}  # fmt: skip

    def delete_user(self, user_id: int, caller: Caller = ANONYMOUS) -> dict[str, Any]:
        self._owned_user(user_id, caller)
        removed = self._store_call(lambda: self.store.delete_user(user_id))
        self._popular.invalidate()  # the counts changed
        self._catalog.invalidate()
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
        return models_overview(self.registry.group, versions, self.endpoint.ping())


def _mean(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)
