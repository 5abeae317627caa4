"""Recommendations: the endpoint's picks for a user, filtered and paged, each with its match
and because (chalicelib.explain), or flagged popular movies when the endpoint cannot answer.
"""

from __future__ import annotations

import logging
from typing import Any

from chalicelib.endpoint import EndpointRejected, EndpointUnavailable
from chalicelib.errors import BadRequest, Unavailable
from chalicelib.explain import Taste
from chalicelib.filters import EXCLUDE_LIMIT, Filters, parse_filters
from chalicelib.models_info import POPULARITY_MODELS, model_info
from chalicelib.service_core import ANONYMOUS, Caller, ServiceCore
from chalicelib.store import RatingRow, StoreUnavailable
from recs_contracts.serving import MAX_K

log = logging.getLogger(__name__)

MAX_RANK = MAX_K  # the endpoint's largest k: offset + k of one request stays within it


class Picks(ServiceCore):
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
