"""Baselines served with the same signature as the TFRS model: MostPop and EASE.

EASE (Steck, 2019) is closed form: ``P = (XᵀX + λI)⁻¹``, ``B = I − P / diag(P)`` with a zero
diagonal; a user's scores are ``x · B`` for the multi-hot history ``x``.

EASE is O(items²) in memory and O(items³) in time, so it is capped: only the ``max_items``
most popular items get EASE weights (float32, ``4 · max_items²`` bytes); the
rest of the catalog falls back to popularity, ranked below every capped item.
The default cap (5,000 items: 95 MB, one Cholesky inverse ~10 s on 2 cores) keeps the
lambda grid to minutes at any catalog size. With a cap at
or above the catalog size the capped model is exactly EASE. The interaction matrix is sparse
(CSR), so memory grows with the ratings only by their count, never users × items.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import tensorflow as tf

from recs_ml.data.datasets import Ratings
from recs_ml.serving.signature import Scorer


class Catalog:
    """Item ids ↔ catalog indices 1..N (0 is padding), shared by every model of one artifact."""

    def __init__(self, item_ids: np.ndarray) -> None:
        self.item_ids = np.asarray(sorted({int(i) for i in item_ids}), dtype=np.int64)
        self.n = int(self.item_ids.shape[0]) + 1
        self._index = {int(item): pos + 1 for pos, item in enumerate(self.item_ids)}

    def index(self, item_ids: np.ndarray) -> np.ndarray:
        """Catalog indices of ``item_ids`` (0 for an id not in the catalog); vectorised."""
        item_ids = np.asarray(item_ids, dtype=np.int64).reshape(-1)
        if not item_ids.shape[0] or not self.item_ids.shape[0]:
            return np.zeros(item_ids.shape[0], dtype=np.int64)
        position = np.searchsorted(self.item_ids, item_ids)
        clipped = np.minimum(position, self.item_ids.shape[0] - 1)
        return np.where(self.item_ids[clipped] == item_ids, clipped + 1, 0).astype(np.int64)

    def interactions(self, ratings: Ratings) -> tuple[np.ndarray, np.ndarray]:
        """(user ids, dense 0/1 matrix users × n) of the ratings: small data only."""
        users, matrix = self.sparse_interactions(ratings)
        return users, matrix.toarray().astype(np.float64)

    def sparse_interactions(self, ratings: Ratings) -> tuple[np.ndarray, sp.csr_matrix]:
        """(user ids, sparse 0/1 CSR matrix users × n) of the ratings; column 0 stays empty."""
        users, rows = np.unique(ratings.user_id, return_inverse=True)
        columns = self.index(ratings.item_id)
        known = columns > 0
        matrix = sp.csr_matrix(
            (np.ones(int(known.sum()), np.float32), (rows[known], columns[known])),
            shape=(len(users), self.n),
        )
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
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


def fit_ease(matrix: np.ndarray | sp.spmatrix, lam: float) -> np.ndarray:
    """EASE weights for a users × n 0/1 matrix (column 0 is padding and stays zero)."""
    if lam <= 0:
        raise ValueError(f"EASE lambda must be positive, got {lam}")
    if sp.issparse(matrix):
        gram = np.asarray((matrix.T @ matrix).toarray(), dtype=np.float64)
    else:
        gram = np.asarray(matrix, dtype=np.float64).T @ np.asarray(matrix, dtype=np.float64)
    return _ease_from_gram(gram, lam, np.float64)


def _ease_from_gram(gram: np.ndarray, lam: float, dtype: type) -> np.ndarray:
    gram = gram.astype(dtype, copy=False)
    gram[np.diag_indices_from(gram)] += lam
    inverse = _spd_inverse(gram)
    del gram
    diagonal = np.diag(inverse).copy()
    inverse /= -diagonal[None, :]
    weights = inverse
    weights[np.diag_indices_from(weights)] = 0.0
    weights[0, :] = 0.0
    weights[:, 0] = 0.0
    return weights.astype(np.float32, copy=False)


def _spd_inverse(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix by Cholesky (half the work of LU);
    ``matrix`` is overwritten."""
    from scipy.linalg import lapack

    potrf, potri = lapack.get_lapack_funcs(("potrf", "potri"), (matrix,))
    factor, info = potrf(matrix, lower=False, overwrite_a=True, clean=False)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE Gram matrix is not positive definite (info={info})")
    inverse, info = potri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE Gram matrix inversion failed (info={info})")
    upper = np.triu(inverse)
    return upper + np.triu(inverse, 1).T


DEFAULT_EASE_MAX_ITEMS = 5000


def ease_columns(popularity: np.ndarray, max_items: int) -> np.ndarray:
    """Catalog indices (ascending) of the ``max_items`` most popular items (ties: lower index)."""
    if max_items < 1:
        raise ValueError(f"the EASE item cap must be positive, got {max_items}")
    counts = np.asarray(popularity, dtype=np.float64).copy()
    counts[0] = -1.0  # padding is never a column
    order = np.lexsort((np.arange(counts.shape[0]), -counts))
    chosen = order[: min(max_items, counts.shape[0] - 1)]
    return np.sort(chosen).astype(np.int64)


class CappedEase:
    """Gram matrix of the capped items, computed once; EASE weights for any lambda from it."""

    def __init__(self, matrix: sp.csr_matrix, columns: np.ndarray) -> None:
        self.columns = np.asarray(columns, dtype=np.int64)
        sub = matrix[:, self.columns].tocsc().astype(np.float32)
        size = self.columns.shape[0] + 1
        gram = np.zeros((size, size), dtype=np.float32)
        gram[1:, 1:] = (sub.T @ sub).toarray()
        self.gram = gram

    def weights(self, lam: float) -> np.ndarray:
        """``[m + 1, m + 1]`` float32 EASE weights over the capped items (index 0 = padding)."""
        if lam <= 0:
            raise ValueError(f"EASE lambda must be positive, got {lam}")
        return _ease_from_gram(self.gram.copy(), lam, np.float32)


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


class CappedEaseScorer(Scorer):
    """EASE over the capped items; every other item scores below them, by popularity."""

    def __init__(
        self, weights: np.ndarray, columns: np.ndarray, n: int, popularity: np.ndarray
    ) -> None:
        super().__init__(name="ease")
        columns = np.asarray(columns, dtype=np.int64)
        if weights.shape != (columns.shape[0] + 1, columns.shape[0] + 1):
            raise ValueError(
                f"weights {weights.shape} do not match {columns.shape[0]} capped items"
            )
        self.n = n
        self.ease = EaseScorer(weights)
        position = np.zeros(n, dtype=np.int64)
        position[columns] = np.arange(1, columns.shape[0] + 1)
        self.position = tf.constant(position)
        # Padding (index 0) reads EASE's all-zero column 0, as in uncapped EASE.
        self.capped = tf.constant((position > 0) | (np.arange(n) == 0))
        counts = np.log1p(np.asarray(popularity, dtype=np.float64))
        # In [0, 1): orders the fallback items by popularity below the capped ones.
        self.fallback = tf.constant((counts / (counts.max() + 1.0)).astype(np.float32))

    def scores(self, history: tf.Tensor) -> tf.Tensor:
        capped_history = tf.gather(self.position, history)
        ease = tf.gather(self.ease.scores(capped_history), self.position, axis=1)
        floor = tf.reduce_min(tf.where(self.capped[None, :], ease, np.float32(3e38)), axis=1)
        below = floor[:, None] - 1.0 + self.fallback[None, :]
        return tf.where(self.capped[None, :], ease, below)
