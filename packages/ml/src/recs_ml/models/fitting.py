"""The fits :mod:`recs_ml.models.training` chooses between: the retrieval model epoch by epoch
(in memory or streamed from shards, one worker or several) and the relevance ranker on its
candidates."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from recs_ml.data.datasets import Ratings
from recs_ml.models.hyperparameters import Hyperparameters


def user_sequences(catalog: Any, ratings: Ratings) -> tuple[list[int], list[np.ndarray]]:
    from recs_ml.models.evaluation import histories

    per_user = histories(ratings)
    users = sorted(per_user)
    return users, [catalog.index(np.asarray(per_user[u])) for u in users]


def item_features(catalog: Any, items: dict[int, Any]) -> np.ndarray | None:
    genres = sorted({g for item in items.values() for g in item.genres})
    if not genres:
        return None
    column = {g: j for j, g in enumerate(genres)}
    features = np.zeros((catalog.n, len(genres)), dtype=np.float32)
    for pos, item_id in enumerate(catalog.item_ids.tolist(), start=1):
        item = items.get(item_id)
        if item is not None:
            for genre in item.genres:
                features[pos, column[genre]] = 1.0
    # Each item's genre vector sums to one so multi-genre items are not louder.
    sums = features.sum(axis=1, keepdims=True)
    return features / np.maximum(sums, 1.0)


def _next_item_dataset(
    catalog: Any,
    ratings: Ratings,
    hp: Hyperparameters,
    shards: list[Path] | None,
    without_validation: bool,
    strategy: Any | None,
) -> tuple[Any, np.ndarray, int]:
    """The (history, next item) examples as a batched tf.data dataset, each item's count as
    a target, and the number of examples."""
    import tensorflow as tf

    from recs_ml.models.retrieval import next_item_examples

    if shards:
        # Streamed from the Parquet shards: memory is one shard's examples, not all of them.
        from recs_ml.data.streaming import streamed_dataset, target_counts

        counts = target_counts(shards, catalog, without_validation)
        examples = int(counts.sum())
        dataset = streamed_dataset(
            shards, catalog, hp.history_length, without_validation, hp.batch_size, hp.seed
        )
    else:
        _, sequences = user_sequences(catalog, ratings)
        history, target = next_item_examples(sequences, hp.history_length)
        counts = np.bincount(target, minlength=catalog.n).astype(np.float64)
        examples = int(target.shape[0])
        dataset = (
            tf.data.Dataset.from_tensor_slices({"history": history, "target": target})
            .shuffle(len(target), seed=hp.seed, reshuffle_each_iteration=True)
            .batch(hp.batch_size)
            .prefetch(2)
        )
    if examples == 0:
        from recs_ml.data.datasets import DataError

        raise DataError("train/ratings.csv", None, "no user has two ratings to learn from")
    if strategy is not None:
        from recs_ml.models.distributed import check_global_batch

        check_global_batch(hp.batch_size, strategy.num_replicas_in_sync)
        # Each worker keeps every N-th global batch's share: same batches as one worker.
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        dataset = dataset.with_options(options)
    return dataset, counts, examples


def _retrieval_model(
    catalog: Any,
    hp: Hyperparameters,
    features: np.ndarray | None,
    counts: np.ndarray,
    initial_weights: list[np.ndarray] | None,
    strategy: Any | None,
) -> Any:
    """A compiled retrieval model (in ``strategy``'s scope when given), its logQ correction
    from ``counts``, with ``initial_weights`` set when given."""
    import contextlib

    import tensorflow as tf

    from recs_ml.models.retrieval import SequenceRetrieval

    probability = np.maximum(counts, 1.0) / counts.sum()
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = SequenceRetrieval(
            catalog.n,
            hp.embedding_dim,
            hp.history_length,
            probability,
            item_features=features if hp.item_features else None,
            dropout=hp.dropout,
            logq=hp.logq,
        )
        model.compile(optimizer=tf.keras.optimizers.Adam(hp.learning_rate))
        if initial_weights is not None:
            # Variables are created on first use: one tiny batch builds them, then they are set.
            model.compute_loss(
                {
                    "history": tf.zeros([1, hp.history_length], tf.int64),
                    "target": tf.ones([1], tf.int64),
                }
            )
            model.set_weights(initial_weights)
    return model


def fit_retrieval(
    catalog: Any,
    ratings: Ratings,
    hp: Hyperparameters,
    features: np.ndarray | None,
    epochs: int,
    on_epoch: Callable[[int, Any], None] | None = None,
    deadline: float = float("inf"),
    log: Callable[[str], None] | None = None,
    timing: list[float] | None = None,
    shards: list[Path] | None = None,
    without_validation: bool = False,
    stage: str = "retrieval",
    initial_weights: list[np.ndarray] | None = None,
    strategy: Any | None = None,
) -> Any:
    """The retrieval model fitted on ``ratings`` — or, when ``shards`` are given, on the
    train shards streamed with tf.data (``without_validation``: the fit set); starting from
    ``initial_weights`` (another model's ``get_weights()``) when given. Under a multi-worker
    ``strategy`` the model lives in its scope and ``hp.batch_size`` is the global batch, split
    evenly over the workers (the dataset is sharded by batch)."""
    import tensorflow as tf

    from recs_ml.progress import progress

    tf.keras.utils.set_random_seed(hp.seed)
    dataset, counts, examples = _next_item_dataset(
        catalog, ratings, hp, shards, without_validation, strategy
    )
    model = _retrieval_model(catalog, hp, features, counts, initial_weights, strategy)
    seconds = timing if timing is not None else []
    with progress(f"train {stage}", total=examples * epochs, unit="examples") as bar:
        callback = _ProgressCallback(bar, examples, hp.batch_size, deadline)
        for epoch in range(1, epochs + 1):
            begin = time.perf_counter()
            model.fit(dataset, epochs=1, verbose=0, callbacks=[callback])
            seconds.append(time.perf_counter() - begin)
            if on_epoch is not None:
                on_epoch(epoch, model)
            if time.perf_counter() > deadline or (
                epoch < epochs and time.perf_counter() + seconds[-1] > deadline
            ):
                if log is not None:
                    log(f"time budget: stopping after epoch {epoch} of {epochs}")
                break
    return model


def _ProgressCallback(  # noqa: N802
    bar: Any, examples: int, batch_size: int, deadline: float = float("inf")
) -> Any:
    """A Keras callback advancing ``bar`` by the examples of each finished batch, and
    stopping training mid-epoch once ``deadline`` (a perf_counter time) has passed."""
    import tensorflow as tf

    class Callback(tf.keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.seen = 0

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            step = min(batch_size, examples - self.seen)
            self.seen += step
            bar.advance(step)
            if time.perf_counter() > deadline:
                self.model.stop_training = True

    return Callback()


def ranker_data(
    scorer_retrieval: Any,
    scorer_ease: Any,
    popularity: Any,
    catalog: Any,
    known: dict[int, list[int]],
    holdout: dict[int, set[int]],
    users: list[int],
    candidates: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per user: candidate features ``[U, N, F]``, valid mask and next-item labels ``[U, N]``."""
    import tensorflow as tf

    from recs_ml.models.ranking import candidate_features
    from recs_ml.serving.signature import multi_hot

    feature_rows, valid_rows, label_rows = [], [], []
    for start in range(0, len(users), 256):
        chunk = users[start : start + 256]
        width = max(1, max(len(known.get(u, [])) for u in chunk))
        hist = np.zeros((len(chunk), width), dtype=np.int64)
        for row, user in enumerate(chunk):
            items = catalog.index(np.asarray(known.get(user, []), dtype=np.int64))
            hist[row, : len(items)] = items
        history = tf.constant(hist)
        allowed = tf.logical_and(
            multi_hot(history, catalog.n) < 0.5, tf.range(catalog.n)[None, :] > 0
        )
        indices, features, valid = candidate_features(
            scorer_retrieval.scores(history),
            scorer_ease.scores(history),
            popularity,
            allowed,
            min(candidates, catalog.n - 1),
        )
        ids = catalog.item_ids[np.maximum(indices.numpy() - 1, 0)]
        labels = np.array(
            [
                [item in holdout.get(user, set()) for item in row]
                for user, row in zip(chunk, ids, strict=True)
            ],
            dtype=np.float32,
        )
        mask = valid.numpy()
        feature_rows.append(features.numpy())
        valid_rows.append(mask)
        label_rows.append(labels * mask)
    return np.concatenate(feature_rows), np.concatenate(valid_rows), np.concatenate(label_rows)


def fit_ranker(
    features: np.ndarray, valid: np.ndarray, labels: np.ndarray, hp: Hyperparameters
) -> Any:
    import tensorflow as tf

    from recs_ml.models.ranking import RelevanceRanker

    tf.keras.utils.set_random_seed(hp.seed)
    # Users without a relevant candidate carry no listwise signal.
    keep = labels.sum(axis=1) > 0
    ranker = RelevanceRanker(hp.ranker_hidden)
    ranker.compile(optimizer=tf.keras.optimizers.Adam(0.01))
    dataset = (
        tf.data.Dataset.from_tensor_slices((features[keep], valid[keep], labels[keep]))
        .shuffle(int(keep.sum()), seed=hp.seed)
        .batch(32)
    )
    ranker.fit(dataset, epochs=hp.ranker_epochs, verbose=0)
    return ranker
