"""Item-item similarity from co-ratings: cosine between movies' sets of raters.

``sim(i, j) = |raters(i) ∩ raters(j)| / sqrt(|raters(i)| * |raters(j)|)``, computed for one
movie on demand from an in-memory index of every rating and cached per movie.
"""

from __future__ import annotations

import heapq
import math
import threading
from collections import Counter
from collections.abc import Iterable
from itertools import chain

KEEP = 100  # the largest k a request may ask for; keeps the per-movie cache small


class SimilarityIndex:
    def __init__(self, raters: dict[int, list[int]], rated: dict[int, list[int]]) -> None:
        self.raters = raters  # item -> users who rated it
        self.rated = rated  # user -> items they rated
        self._cache: dict[int, list[tuple[int, float]]] = {}
        self._lock = threading.Lock()

    @classmethod
    def build(cls, pairs: Iterable[tuple[int, int]]) -> SimilarityIndex:
        raters: dict[int, list[int]] = {}
        rated: dict[int, list[int]] = {}
        for user_id, item_id in pairs:
            raters.setdefault(item_id, []).append(user_id)
            rated.setdefault(user_id, []).append(item_id)
        return cls(raters, rated)

    def neighbours(self, item_id: int) -> list[tuple[int, float]]:
        """The ``KEEP`` movies most often co-rated with ``item_id`` (ties: lower id first)."""
        with self._lock:
            cached = self._cache.get(item_id)
        if cached is not None:
            return cached
        # Counter over the chained lists counts in C: a recommendation explains its picks from
        # up to 50 rated movies, so a cold movie must take milliseconds, not tens of them.
        counts = Counter(
            chain.from_iterable(self.rated[user_id] for user_id in self.raters.get(item_id, ()))
        )
        counts.pop(item_id, None)
        own = len(self.raters.get(item_id, ()))
        scored = [
            (n / math.sqrt(own * len(self.raters[other])), -other) for other, n in counts.items()
        ]
        # nlargest on (score, -id): highest score first, ties by the lower id.
        ranked = [(-negative, score) for score, negative in heapq.nlargest(KEEP, scored)]
        with self._lock:
            self._cache[item_id] = ranked
        return ranked

    def similar(self, item_id: int, k: int) -> list[tuple[int, float]]:
        return self.neighbours(item_id)[:k]
