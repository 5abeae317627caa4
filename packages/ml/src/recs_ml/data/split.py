"""The evaluation protocol's split (ARCHITECTURE.md): per user, ratings sorted by (timestamp,
item_id); the last ``max(1, floor(0.2 * n))`` are test, the rest train; validation is carved
the same way from train, so validation rows are a subset of train rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recs_ml.data.datasets import Ratings

HOLDOUT_FRACTION = 0.2


@dataclass
class Split:
    train: Ratings
    validation: Ratings
    test: Ratings


def order_by_user_time(ratings: Ratings) -> np.ndarray:
    """Row order grouping each user's ratings by (timestamp, item_id), users ascending."""
    return np.lexsort((ratings.item_id, ratings.timestamp, ratings.user_id))


def take(ratings: Ratings, rows: np.ndarray) -> Ratings:
    return Ratings(
        user_id=ratings.user_id[rows],
        item_id=ratings.item_id[rows],
        rating=ratings.rating[rows],
        timestamp=ratings.timestamp[rows],
    )


def holdout_tail(ratings: Ratings, fraction: float = HOLDOUT_FRACTION) -> tuple[Ratings, Ratings]:
    """Split each user's last ``max(1, floor(fraction * n))`` ratings off: (head, tail)."""
    order = order_by_user_time(ratings)
    users = ratings.user_id[order]
    n = len(order)
    if n == 0:
        return take(ratings, order), take(ratings, order)
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    counts = np.diff(np.r_[starts, n])
    held = np.maximum(1, np.floor(fraction * counts).astype(np.int64))
    # Position of each row within its user's sorted ratings.
    position = np.arange(n) - np.repeat(starts, counts)
    is_tail = position >= np.repeat(counts - held, counts)
    return take(ratings, order[~is_tail]), take(ratings, order[is_tail])


def deduplicate(ratings: Ratings) -> Ratings:
    """Keep one rating per (user, item): the latest, as a re-rating replaces the earlier one."""
    order = np.lexsort((ratings.timestamp, ratings.item_id, ratings.user_id))
    sorted_r = take(ratings, order)
    pair = sorted_r.user_id * (int(sorted_r.item_id.max(initial=0)) + 1) + sorted_r.item_id
    last = np.r_[pair[1:] != pair[:-1], True]
    return take(sorted_r, np.flatnonzero(last))


def split_protocol(ratings: Ratings) -> Split:
    """train / validation / test of the evaluation protocol (validation is inside train)."""
    train, test = holdout_tail(ratings)
    _, validation = holdout_tail(train)
    return Split(train=train, validation=validation, test=test)


def without(ratings: Ratings, removed: Ratings) -> Ratings:
    """Rows of ``ratings`` whose (user, item) pair is not in ``removed``."""
    if not len(removed) or not len(ratings):
        return take(ratings, np.arange(len(ratings)))
    width = int(max(ratings.item_id.max(), removed.item_id.max())) + 1
    keys = ratings.user_id * width + ratings.item_id
    removed_keys = removed.user_id * width + removed.item_id
    return take(ratings, np.flatnonzero(~np.isin(keys, removed_keys)))
