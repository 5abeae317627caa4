"""Baselines served with the same signature as the TFRS model: MostPop and EASE.

EASE (Steck, 2019) is closed form: ``P = (XᵀX + λI)⁻¹``, ``B = I − P / diag(P)`` with a zero
diagonal; a user's scores are ``x · B`` for the multi-hot history ``x``.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from recs_ml.data import Ratings
from recs_ml.serving import Scorer


class Catalog:
    """Item ids ↔ catalog indices 1..N (0 is padding), shared by every model of one artifact."""

    def __init__(self, item_ids: np.ndarray) -> None:
        self.item_ids = np.asarray(sorted({int(i) for i in item_ids}), dtype=np.int64)
        self.n = int(self.item_ids.shape[0]) + 1
        self._index = {int(item): pos + 1 for pos, item in enumerate(self.item_ids)}

    def index(self, item_ids: np.ndarray) -> np.ndarray:
        return np.asarray([self._index.get(int(i), 0) for i in item_ids], dtype=np.int64)

    def interactions(self, ratings: Ratings) -> tuple[np.ndarray, np.ndarray]:
        """(user ids, dense 0/1 matrix users × n) of the ratings."""
        users, rows = np.unique(ratings.user_id, return_inverse=True)
        matrix = np.zeros((len(users), self.n), dtype=np.float64)
        matrix[rows, self.index(ratings.item_id)] = 1.0
        matrix[:, 0] = 0.0
        return users, matrix

    def popularity(self, ratings: Ratings) -> np.ndarray:
        """Rating count per catalog index."""
        counts = np.bincount(self.index(ratings.item_id), minlength=self.n).astype(np.float64)
        counts[0] = 0.0
        return counts


class MostPopScorer(Scorer):
    def __init__(self, counts: np.ndarray) -> None:
        super().__init__(name="mostpop")
        # log1p keeps the order and gives scores on a readable scale.
        self.popularity = tf.Variable(np.log1p(counts).astype(np.float32), trainable=False)

    def scores(self, history: tf.Tensor) -> tf.Tensor:
        return tf.tile(self.popularity[None, :], [tf.shape(history)[0], 1])


def fit_ease(matrix: np.ndarray, lam: float) -> np.ndarray:
    """EASE weights for a users × n 0/1 matrix (column 0 is padding and stays zero)."""
    if lam <= 0:
        raise ValueError(f"EASE lambda must be positive, got {lam}")
    gram = matrix.T @ matrix
    gram[np.diag_indices_from(gram)] += lam
    inverse = np.linalg.inv(gram)
    weights = -inverse / np.diag(inverse)[None, :]
    weights[np.diag_indices_from(weights)] = 0.0
    weights[0, :] = 0.0
    weights[:, 0] = 0.0
    return weights.astype(np.float32)


class EaseScorer(Scorer):
    def __init__(self, weights: np.ndarray) -> None:
        super().__init__(name="ease")
        self.n = int(weights.shape[0])
        self.weights = tf.Variable(weights.astype(np.float32), trainable=False)

    def scores(self, history: tf.Tensor) -> tf.Tensor:
        # Sum of the history's rows of B: reads |history| rows instead of all n x n weights.
        rows = tf.cast(tf.shape(history)[0], tf.int64)
        position = tf.where(history > 0)
        keys = position[:, 0] * self.n + tf.gather_nd(history, position)
        keys = tf.sort(tf.unique(keys).y)  # a repeated item counts once, as in x
        indices = tf.stack([keys // self.n, keys % self.n], axis=1)
        x = tf.SparseTensor(indices, tf.ones_like(keys, tf.float32), [rows, self.n])
        return tf.sparse.sparse_dense_matmul(x, self.weights)
