"""Two-tower TFRS retrieval: a GRU user tower over the last rated items, an item tower of
item embeddings (+ genres), trained causally to predict each next item with in-batch softmax
and the logQ (candidate sampling probability) correction.

Because the user tower reads the history, a new user's few ratings give real recommendations
without retraining.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_recommenders as tfrs

from recs_ml.serving.signature import Scorer, last_items


class UserTower(tf.keras.Model):
    """Last ``length`` item indices (right-padded with 0) → user embedding."""

    def __init__(self, n: int, dim: int, length: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.length = length
        self.embedding = tf.keras.layers.Embedding(n, dim, mask_zero=True)
        self.dropout = tf.keras.layers.Dropout(dropout)
        # Unrolled: the window length is fixed, and a loop-free graph serves faster on CPU.
        self.gru = tf.keras.layers.GRU(dim, unroll=True)
        self.projection = tf.keras.layers.Dense(dim)

    def call(self, history: tf.Tensor, training: bool = False) -> tf.Tensor:
        embedded = self.dropout(self.embedding(history), training=training)
        mask = self.embedding.compute_mask(history)
        return self.projection(self.gru(embedded, mask=mask, training=training))


class ItemTower(tf.keras.Model):
    """Catalog index → item embedding, plus a projection of item features when given."""

    def __init__(self, n: int, dim: int, features: np.ndarray | None = None) -> None:
        super().__init__()
        self.embedding = tf.keras.layers.Embedding(n, dim)
        self.features = (
            None if features is None else tf.constant(features.astype(np.float32), name="features")
        )
        self.feature_projection = (
            None if features is None else tf.keras.layers.Dense(dim, use_bias=False)
        )

    def call(self, items: tf.Tensor) -> tf.Tensor:
        vectors = self.embedding(items)
        if self.features is not None and self.feature_projection is not None:
            vectors = vectors + self.feature_projection(tf.gather(self.features, items))
        return vectors


class SequenceRetrieval(tfrs.Model):
    def __init__(
        self,
        n: int,
        dim: int,
        length: int,
        sampling_probability: np.ndarray,
        item_features: np.ndarray | None = None,
        dropout: float = 0.0,
        logq: bool = True,
    ) -> None:
        super().__init__()
        self.user_tower = UserTower(n, dim, length, dropout)
        self.item_tower = ItemTower(n, dim, item_features)
        self.logq = logq
        self.sampling_probability = tf.constant(sampling_probability.astype(np.float32))
        self.task = tfrs.tasks.Retrieval(remove_accidental_hits=True)

    def compute_loss(self, features: dict[str, tf.Tensor], training: bool = False) -> tf.Tensor:
        users = self.user_tower(features["history"], training=training)
        items = self.item_tower(features["target"])
        probability = (
            tf.gather(self.sampling_probability, features["target"]) if self.logq else None
        )
        return self.task(
            users,
            items,
            candidate_sampling_probability=probability,
            candidate_ids=features["target"],
            compute_metrics=False,
            compute_batch_metrics=False,
        )


def next_item_examples(sequences: list[np.ndarray], length: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (last ``length`` items before t, item t) pair of each user's index sequence."""
    total = sum(max(len(s) - 1, 0) for s in sequences)
    history = np.zeros((total, length), dtype=np.int64)
    target = np.zeros(total, dtype=np.int64)
    row = 0
    for sequence in sequences:
        for t in range(1, len(sequence)):
            window = sequence[max(0, t - length) : t]
            history[row, : len(window)] = window
            target[row] = sequence[t]
            row += 1
    return history, target


class RetrievalScorer(Scorer):
    """Serving side of :class:`SequenceRetrieval`: plain TensorFlow, no TFRS at load time."""

    def __init__(self, model: SequenceRetrieval, n: int, length: int, fallback: np.ndarray) -> None:
        super().__init__(name="retrieval")
        self.user_tower = model.user_tower
        self.length = length
        candidates = model.item_tower(tf.range(n)).numpy()
        self.candidates = tf.Variable(candidates, trainable=False)
        # A user with no known history gets popularity, not an arbitrary order.
        self.fallback = tf.Variable(fallback.astype(np.float32), trainable=False)

    def refresh(self, model: SequenceRetrieval) -> None:
        """Take the item vectors of ``model``'s current weights (the user tower is shared)."""
        self.candidates.assign(model.item_tower(tf.range(self.candidates.shape[0])))

    def user_vectors(self, history: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """User embeddings ``[B, d]`` and which rows have no history (served by popularity)."""
        window = last_items(history, self.length)
        return self.user_tower(window), tf.reduce_all(window == 0, axis=1)

    def scores(self, history: tf.Tensor) -> tf.Tensor:
        window = last_items(history, self.length)
        users = self.user_tower(window)
        scores = tf.matmul(users, self.candidates, transpose_b=True)
        empty = tf.reduce_all(window == 0, axis=1, keepdims=True)
        return tf.where(empty, self.fallback[None, :], scores)
