"""Item-item similarity from co-ratings: cosine between movies' sets of raters.

``sim(i, j) = |raters(i) ∩ raters(j)| / sqrt(|raters(i)| * |raters(j)|)``, from an in-memory
index of every rating: one movie's neighbours on demand (cached per movie), one pair's
similarity, and a user's weighted affinity over every movie at once (``affinity``).

Users are numbered densely (0..U-1) inside the index, so per-user sums live in a plain list
and the inner loops run as ``sum(map(list.__getitem__, ...))`` in C.
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
    def __init__(self, raters: dict[int, list[int]], rated: list[list[int]]) -> None:
        self.raters = raters  # item -> the dense numbers of the users who rated it
        self.rated = rated  # dense user number -> the items they rated
        self._cache: dict[int, list[tuple[int, float]]] = {}
        self._sets: dict[int, frozenset[int]] = {}
        self._lock = threading.Lock()

    @classmethod
    def build(cls, pairs: Iterable[tuple[int, int]]) -> SimilarityIndex:
        """From (user_id, item_id) pairs, each rating once."""
        number: dict[int, int] = {}
        raters: dict[int, list[int]] = {}
        rated: list[list[int]] = []
        for user_id, item_id in pairs:
            user = number.get(user_id)
            if user is None:
                user = number[user_id] = len(rated)
                rated.append([])
            raters.setdefault(item_id, []).append(user)
            rated[user].append(item_id)
        return cls(raters, rated)

    def neighbours(self, item_id: int) -> list[tuple[int, float]]:
        """The ``KEEP`` movies most often co-rated with ``item_id`` (ties: lower id first)."""
        with self._lock:
            cached = self._cache.get(item_id)
        if cached is not None:
            return cached
        # Counter over the chained lists counts in C.
        counts = Counter(chain.from_iterable(self.rated[u] for u in self.raters.get(item_id, ())))
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
        movies themselves; movies whose sum is 0 are left out).

        Summed per rater rather than per pair: ``sim(i, j) * sqrt(n_j)`` is the sum, over the
        raters of both, of ``1 / sqrt(n_i)``. So each rater of a weighted movie gets a share,
        and each movie's affinity is the sum of its raters' shares over ``sqrt(n_j)``: one
        pass over the weighted movies' raters and one over the index, with no neighbour
        lists to compute first.
        """
        shares = [0.0] * len(self.rated)
        for item_id, weight in weights.items():
            raters = self.raters.get(item_id, ())
            if not raters or not weight:
                continue
            share = weight / math.sqrt(len(raters))
            for user in raters:
                shares[user] += share
        result: dict[int, float] = {}
        share_of = shares.__getitem__
        for item_id, raters in self.raters.items():
            if item_id in skip:
                continue
            total = sum(map(share_of, raters))
            if total:
                result[item_id] = total / math.sqrt(len(raters))
        return result
