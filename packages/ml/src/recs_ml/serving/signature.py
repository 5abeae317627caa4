"""The serving signature every exported model shares (docs/contracts.md, "Serving signature").

A :class:`Recommender` is a plain ``tf.Module`` — it needs TensorFlow only, not TFRS, at load
time — wrapping a *scorer* that ranks catalog indices. It maps item ids to catalog indices
(``0`` = padding or unknown), looks up a known user's stored history when a request carries
none, removes the history and ``exclude`` from the answer and returns the top ``max(k)``.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

# A score no real item gets; masked items sort below every candidate.
MASKED = -1e9
MAX_K = 100


class Scorer(tf.Module):
    """Scores every catalog index (column 0 is padding) from a batch of histories."""

    def scores(self, history: tf.Tensor) -> tf.Tensor:
        """``history``: int64 ``[B, H]`` catalog indices, right-padded with 0 → ``[B, n]``."""
        raise NotImplementedError

    def rank(
        self, history: tf.Tensor, allowed: tf.Tensor, k: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """Top ``k`` allowed catalog indices and their scores, best first."""
        scores = tf.where(allowed, self.scores(history), MASKED)
        top = tf.math.top_k(scores, k=k)
        return top.indices, top.values


def multi_hot(history: tf.Tensor, n: int) -> tf.Tensor:
    """``[B, H]`` indices → ``[B, n]`` float 0/1 with padding column 0 cleared."""
    counts = tf.math.bincount(
        tf.cast(history, tf.int32), minlength=n, maxlength=n, axis=-1, binary_output=True
    )
    x = tf.cast(counts, tf.float32)
    return x * tf.concat([tf.zeros([1]), tf.ones([n - 1])], axis=0)


def last_items(history: tf.Tensor, length: int) -> tf.Tensor:
    """The last ``length`` non-padding indices of each row, oldest first, right-padded with 0."""
    valid = history > 0
    # Stable sort moves the real items to the front in their original order.
    order = tf.argsort(tf.cast(tf.logical_not(valid), tf.int32), axis=1, stable=True)
    packed = tf.gather(history, order, batch_dims=1)
    count = tf.reduce_sum(tf.cast(valid, tf.int32), axis=1)
    start = tf.maximum(count - length, 0)
    positions = start[:, None] + tf.range(length)[None, :]
    width = tf.shape(history)[1]
    padded = tf.pad(packed, [[0, 0], [0, tf.maximum(length - width, 0)]])
    window = tf.gather(padded, tf.minimum(positions, tf.shape(padded)[1] - 1), batch_dims=1)
    return tf.where(positions < count[:, None], window, tf.zeros_like(window))


def check_k(k: tf.Tensor) -> None:
    tf.debugging.assert_greater_equal(k, 1, message="k must be between 1 and 100")
    tf.debugging.assert_less_equal(k, MAX_K, message="k must be between 1 and 100")


# The serving signature (docs/contracts.md); every exported model answers exactly this.
SIGNATURE = [
    tf.TensorSpec([None], tf.int64, name="user_id"),
    tf.TensorSpec([None, None], tf.int64, name="history"),
    tf.TensorSpec([None, None], tf.int64, name="exclude"),
    tf.TensorSpec([None], tf.int32, name="k"),
]


class Recommender(tf.Module):
    """``serving_default``: user_id, history, exclude, k → item_ids, scores (best first)."""

    def __init__(
        self,
        scorer: Scorer,
        item_ids: np.ndarray,
        user_histories: dict[int, list[int]],
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        item_ids = np.asarray(sorted(int(i) for i in item_ids), dtype=np.int64)
        self.scorer = scorer
        self.n = int(item_ids.shape[0]) + 1
        self.catalog = tf.constant(np.r_[0, item_ids].astype(np.int64))
        self.item_table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(item_ids), tf.range(1, self.n, dtype=tf.int64)
            ),
            default_value=0,
        )
        users = sorted(user_histories)
        # Key -1 (never a user id) keeps the table non-empty when no history is stored.
        self.user_table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(np.asarray([-1, *users], dtype=np.int64)),
                tf.range(0, len(users) + 1, dtype=tf.int64),
            ),
            default_value=0,
        )
        # Row 0 is the empty history of an unknown user; stored ragged to keep the artifact small.
        lengths = [0] + [len(user_histories[u]) for u in users]
        values = [i for u in users for i in user_histories[u]]
        self.history_values = tf.Variable(
            np.asarray(values, dtype=np.int32).reshape(-1), trainable=False
        )
        self.history_splits = tf.Variable(
            np.r_[0, np.cumsum(lengths)].astype(np.int64), trainable=False
        )

    def stored_history(self, user_id: tf.Tensor) -> tf.Tensor:
        rows = self.user_table.lookup(user_id)
        ragged = tf.RaggedTensor.from_row_splits(self.history_values, self.history_splits)
        return tf.cast(tf.gather(ragged, rows).to_tensor(default_value=0), tf.int64)

    @tf.function(input_signature=SIGNATURE)
    def serve(
        self, user_id: tf.Tensor, history: tf.Tensor, exclude: tf.Tensor, k: tf.Tensor
    ) -> dict[str, tf.Tensor]:
        check_k(k)
        indices = self.history_indices(user_id, history)
        top = tf.minimum(tf.reduce_max(k), self.n - 1)
        return self.exact_answer(indices, self.item_table.lookup(exclude), top)

    def history_indices(self, user_id: tf.Tensor, history: tf.Tensor) -> tf.Tensor:
        """Catalog indices of each row's history: the request's own, else the stored one."""
        stored = self.stored_history(user_id)
        width = tf.maximum(tf.shape(history)[1], tf.shape(stored)[1])
        given = tf.pad(history, [[0, 0], [0, width - tf.shape(history)[1]]])
        stored = tf.pad(stored, [[0, 0], [0, width - tf.shape(stored)[1]]])
        # A request's own history wins; a known user without one gets the stored history.
        has_history = tf.reduce_any(history > 0, axis=1, keepdims=True)
        effective = tf.where(has_history, given, stored)
        return self.item_table.lookup(effective)

    def exact_answer(
        self, indices: tf.Tensor, excluded: tf.Tensor, top: tf.Tensor
    ) -> dict[str, tf.Tensor]:
        """Every catalog item scored; history and ``excluded`` (catalog indices) masked."""
        blocked = multi_hot(indices, self.n) + multi_hot(excluded, self.n)
        allowed = tf.logical_and(blocked < 0.5, tf.range(self.n)[None, :] > 0)
        best, scores = self.scorer.rank(indices, allowed, top)
        return {
            "item_ids": tf.gather(self.catalog, tf.cast(best, tf.int64)),
            "scores": tf.cast(scores, tf.float32),
        }

    def save(self, directory: str) -> None:
        tf.saved_model.save(self, directory, signatures={"serving_default": self.serve})


def recommend_batch(
    serve: object,
    histories: list[list[int]],
    k: int,
    user_ids: list[int] | None = None,
    exclude: list[list[int]] | None = None,
    batch_size: int = 256,
) -> list[list[int]]:
    """Call a serving function (in memory or loaded) for many users; the first ``k`` ids each."""
    out: list[list[int]] = []
    for start in range(0, len(histories), batch_size):
        chunk = histories[start : start + batch_size]
        width = max(1, max(len(h) for h in chunk))
        hist = np.zeros((len(chunk), width), dtype=np.int64)
        for row, items in enumerate(chunk):
            hist[row, : len(items)] = items
        ex_chunk = exclude[start : start + batch_size] if exclude else [[] for _ in chunk]
        ex_width = max(1, max(len(e) for e in ex_chunk))
        ex = np.zeros((len(chunk), ex_width), dtype=np.int64)
        for row, items in enumerate(ex_chunk):
            ex[row, : len(items)] = items
        users = (
            np.asarray(user_ids[start : start + batch_size], dtype=np.int64)
            if user_ids
            else np.zeros(len(chunk), dtype=np.int64)
        )
        result = serve(  # type: ignore[operator]
            user_id=tf.constant(users),
            history=tf.constant(hist),
            exclude=tf.constant(ex),
            k=tf.fill([len(chunk)], np.int32(k)),
        )
        out.extend(row[:k] for row in result["item_ids"].numpy().tolist())
    return out
