"""Item-item similarity from co-ratings: cosine between movies' sets of raters.

``sim(i, j) = |raters(i) ∩ raters(j)| / sqrt(|raters(i)| * |raters(j)|)``, from an in-memory
index of every rating: one movie's neighbours on demand (cached per movie), one pair's
similarity, and a user's weighted affinity over every movie in one pass (``affinity``).
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
        self._sets: dict[int, frozenset[int]] = {}
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

    def similarity(self, first: int, second: int) -> float:
        """``sim(first, second)``; 0 for a movie nobody rated."""
        a, b = self._raters_set(first), self._raters_set(second)
        if not a or not b:
            return 0.0
        return len(a & b) / math.sqrt(len(a) * len(b))

    def _raters_set(self, item_id: int) -> frozenset[int]:
        with self._lock:
            cached = self._sets.get(item_id)
        if cached is None:
            cached = frozenset(self.raters.get(item_id, ()))
            with self._lock:
                self._sets[item_id] = cached
        return cached

    def affinity(self, weights: dict[int, float], skip: set[int]) -> dict[int, float]:
        """``sum over i in weights of weights[i] * sim(i, j)`` for every movie ``j`` not in
        ``skip`` that shares a rater with a weighted movie (``skip`` must hold the weighted
        movies themselves).

        Summed per rater rather than per pair: ``sim(i, j) * sqrt(n_j)`` is the sum over the
        raters of both of ``1 / sqrt(n_i)``, so one pass over the raters of the weighted
        movies and one over those raters' ratings give every ``j`` at once, with no
        neighbour lists to compute first.
        """
        shares: dict[int, float] = {}
        for item_id, weight in weights.items():
            raters = self.raters.get(item_id, ())
            if not raters or not weight:
                continue
            share = weight / math.sqrt(len(raters))
            for user_id in raters:
                shares[user_id] = shares.get(user_id, 0.0) + share
        totals: dict[int, float] = {}
        for user_id, share in shares.items():
            for item_id in self.rated[user_id]:
                totals[item_id] = totals.get(item_id, 0.0) + share
        return {
            item_id: total / math.sqrt(len(self.raters[item_id]))
            for item_id, total in totals.items()
            if item_id not in skip
        }
