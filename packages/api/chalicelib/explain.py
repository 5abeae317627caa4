"""Why a movie is recommended and how well it matches: the same answer whichever model picked it.

A user's taste affinity for a movie is ``sum over their ratings of (rating - 3) * sim``, sim
being the co-rating cosine of ``chalicelib.similarity`` (what GET /movies/{id}/similar ranks
by), over their ``RECENT`` latest ratings. ``match`` is the movie's percentile among every
catalog movie the user has not rated, by (affinity, ratings count): a model-free 0-1 figure,
so ``tfrs``, ``ease`` and the fallback give the same movie the same match for the same user.
``because`` is the rated movie (3.5 stars or more) with the largest ``(rating - 3) * sim``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

from chalicelib.similarity import SimilarityIndex

RECENT = 50  # latest ratings that explain a pick; bounds the work of one request
LIKED = 3.5  # a movie rated this or more can be named as the reason for a pick
NEUTRAL = 3.0  # a rating above it pulls similar movies up, below it pushes them down


@dataclass(frozen=True)
class Reason:
    item_id: int  # the rated movie
    rating: float
    weight: float  # (rating - NEUTRAL) * similarity


class Taste:
    """One user's affinities over the catalog, for ``match`` and ``because`` of many picks."""

    def __init__(
        self,
        index: SimilarityIndex,
        ratings: Iterable[tuple[int, float]],
        counts: dict[int, int],
    ) -> None:
        """``ratings``: (item, stars) oldest first; ``counts``: every catalog movie's ratings
        count."""
        ratings = list(ratings)
        recent = ratings[-RECENT:]
        rated = {item for item, _ in ratings}
        self.index = index
        self.affinity = index.affinity({item: r - NEUTRAL for item, r in recent}, skip=rated)
        self.liked = [(item, rating) for item, rating in recent if rating >= LIKED]
        self.counts = counts
        self._keys = sorted(self._key(item) for item in counts if item not in rated)

    def _key(self, item: int) -> tuple[float, int]:
        return (round(self.affinity.get(item, 0.0), 9), self.counts.get(item, 0))

    def match(self, item: int) -> float:
        """Share of the catalog's other unrated movies that rank below ``item`` (0 to 1)."""
        below = bisect.bisect_left(self._keys, self._key(item))
        others = len(self._keys) - 1
        if others <= 0:
            return 1.0
        return round(min(1.0, below / others), 4)

    def because(self, item: int) -> Reason | None:
        """The liked movie with the largest ``(rating - 3) * sim`` to ``item`` (the oldest of
        equals); None when no liked movie shares a rater with it."""
        best: Reason | None = None
        for rated_item, rating in self.liked:
            similarity = self.index.similarity(rated_item, item) if rated_item != item else 0.0
            weight = (rating - NEUTRAL) * similarity
            if similarity > 0 and (best is None or weight > best.weight):
                best = Reason(rated_item, rating, weight)
        return best
