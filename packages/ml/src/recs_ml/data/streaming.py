"""Training examples streamed from the process step's Parquet shards with ``tf.data``.

Each shard holds whole users, ordered by user then time, so one shard at a time gives every
(last ``length`` items before t, item t) example of its users. Memory is one shard's examples
plus the shuffle buffer, whatever the number of ratings; the examples are exactly those of
the in-memory path (:func:`recs_ml.models.retrieval.next_item_examples`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from recs_ml.data.datasets import Ratings
from recs_ml.data.split import holdout_tail

CHUNK_EXAMPLES = 65_536


def read_shard(path: Path) -> Ratings:
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["user_id", "item_id", "rating", "timestamp"])
    return Ratings(
        user_id=table.column("user_id").to_numpy(),
        item_id=table.column("item_id").to_numpy(),
        rating=table.column("rating").to_numpy(),
        timestamp=table.column("timestamp").to_numpy(),
    )


def shard_ratings(path: Path, without_validation: bool) -> Ratings:
    """A train shard's rows; without the validation tail of each user when asked (the
    protocol's fit set: validation is each user's last ``max(1, floor(0.2 n))`` train rows)."""
    ratings = read_shard(path)
    if without_validation:
        ratings, _ = holdout_tail(ratings)
    return ratings


def sequence_examples(
    user_id: np.ndarray, index: np.ndarray, length: int
) -> tuple[np.ndarray, np.ndarray]:
    """Examples of rows grouped by user in time order (``index``: catalog indices), in the
    order of :func:`next_item_examples`: users in row order, then t = 1..n-1; vectorised."""
    n = user_id.shape[0]
    if n == 0:
        return np.zeros((0, length), np.int64), np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, user_id[1:] != user_id[:-1]])
    counts = np.diff(np.r_[starts, n])
    position = np.arange(n) - np.repeat(starts, counts)
    rows = np.flatnonzero(position > 0)  # each row after a user's first is a target
    # Window j of example at row r: row r - length + j, when it is the same user's.
    offsets = np.arange(-length, 0)
    source = rows[:, None] + offsets[None, :]
    valid = offsets[None, :] >= -position[rows][:, None]
    history = np.where(valid, index[np.maximum(source, 0)], 0)
    # Right-pad: shift each window's items to the front, as next_item_examples lays them out.
    filled = valid.sum(axis=1)
    shift = length - filled
    column = (np.arange(length)[None, :] + shift[:, None]) % length
    history = np.take_along_axis(history, column, axis=1)
    history[np.arange(length)[None, :] >= filled[:, None]] = 0
    return history.astype(np.int64), index[rows].astype(np.int64)


def example_chunks(
    paths: list[Path], catalog: Any, length: int, without_validation: bool
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(history, target) arrays, shard by shard, in chunks of at most CHUNK_EXAMPLES."""
    for path in paths:
        ratings = shard_ratings(path, without_validation)
        users = ratings.user_id
        index = catalog.index(ratings.item_id)
        starts: list[int] = (
            np.flatnonzero(np.r_[True, users[1:] != users[:-1]]).tolist() if len(users) else []
        )
        # Blocks of whole users, about CHUNK_EXAMPLES rows each: bounded temporaries.
        cuts = [0]
        for start in starts[1:]:
            if start - cuts[-1] >= CHUNK_EXAMPLES:
                cuts.append(start)
        cuts.append(len(users))
        for begin, end in zip(cuts[:-1], cuts[1:], strict=True):
            if end > begin:
                yield sequence_examples(users[begin:end], index[begin:end], length)


def target_counts(paths: list[Path], catalog: Any, without_validation: bool) -> np.ndarray:
    """How often each catalog index is a target (every rating but each user's first)."""
    counts = np.zeros(catalog.n, dtype=np.float64)
    for path in paths:
        ratings = shard_ratings(path, without_validation)
        first = np.r_[True, ratings.user_id[1:] != ratings.user_id[:-1]]
        counts += np.bincount(catalog.index(ratings.item_id[~first]), minlength=catalog.n)
    return counts


def streamed_dataset(
    paths: list[Path],
    catalog: Any,
    length: int,
    without_validation: bool,
    batch_size: int,
    seed: int,
    shuffle: bool = True,
) -> Any:
    """A ``tf.data`` pipeline of ``{"history", "target"}`` batches read from the shards.

    Shuffling is two-level, without a per-example buffer: the shard order is permuted each
    epoch, and each shard's examples (whole users, ~1M rows) are permuted before batching.
    Memory is one shard's examples, whatever the number of shards.
    """
    import tensorflow as tf

    epoch = [0]

    def generate() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        rng = np.random.default_rng([seed, epoch[0]])
        epoch[0] += 1
        order = rng.permutation(len(paths)) if shuffle else np.arange(len(paths))
        for shard in order.tolist():
            chunks = list(example_chunks([paths[shard]], catalog, length, without_validation))
            if not chunks:
                continue
            history = np.concatenate([c[0] for c in chunks])
            target = np.concatenate([c[1] for c in chunks])
            del chunks
            rows = rng.permutation(target.shape[0]) if shuffle else np.arange(target.shape[0])
            for start in range(0, rows.shape[0], batch_size):
                pick = rows[start : start + batch_size]
                yield history[pick], target[pick]

    batches = tf.data.Dataset.from_generator(
        generate,
        output_signature=(
            tf.TensorSpec([None, length], tf.int64),
            tf.TensorSpec([None], tf.int64),
        ),
    )
    return batches.map(lambda h, t: {"history": h, "target": t}).prefetch(2)
