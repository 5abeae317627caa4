"""Approximate top-k from TensorFlow ops only: an IVF index that lives inside the SavedModel.

Stock TensorFlow Serving (the SageMaker image) loads no faiss and no ScaNN custom ops, so a
large catalog is searched with plain ops: k-means centroids split the item vectors into
``nlist`` inverted lists; a query scores the centroids, probes the best ``nprobe`` lists,
scores their items exactly and keeps the top. The lists are one contiguous array in list
order, so a probe reads a slice, not scattered rows. The layout is built with NumPy at export
(:mod:`recs_ml.serving.ivf`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from recs_ml.serving.ivf import DEFAULT_BLOCK, IndexBuildError, IvfLayout, blocked_layout
from recs_ml.serving.signature import (
    MASKED,
    SIGNATURE,
    Recommender,
    Scorer,
    check_k,
    last_items,
    tf,
)


class IvfIndex(tf.Module):
    """The TensorFlow side of an :class:`IvfLayout`: ``search`` is plain ops only."""

    def __init__(self, layout: IvfLayout, nprobe: int, block: int = DEFAULT_BLOCK) -> None:
        super().__init__(name="ivf_index")
        if not 1 <= nprobe <= layout.nlist:
            raise IndexBuildError(
                f"nprobe must be between 1 and nlist={layout.nlist}, got {nprobe}"
            )
        if block < 1:
            raise IndexBuildError(f"block must be at least 1, got {block}")
        vectors, items, list_blocks = blocked_layout(layout, block)
        self.nprobe = nprobe
        self.block = block
        self.centroids = tf.Variable(layout.centroids, trainable=False)
        self.list_blocks = tf.Variable(list_blocks, trainable=False)
        self.vectors = tf.Variable(vectors, trainable=False)
        self.items = tf.Variable(items, trainable=False)

    def search(self, users: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """``users`` [B, d] → catalog indices and scores [B, C] of every item in the
        ``nprobe`` lists whose centroids score highest; empty slots have index 0."""
        batch = tf.shape(users)[0]
        probes = tf.math.top_k(tf.matmul(users, self.centroids, transpose_b=True), self.nprobe)
        starts = tf.gather(self.list_blocks, probes.indices)
        limits = tf.gather(self.list_blocks, probes.indices + 1)
        blocks = tf.ragged.range(tf.reshape(starts, [-1]), tf.reshape(limits, [-1]))
        per_row = tf.reduce_sum(tf.reshape(blocks.row_lengths(), [batch, self.nprobe]), axis=1)
        # Block 0 is empty: it pads the rows that probed fewer blocks.
        chosen = tf.RaggedTensor.from_row_lengths(blocks.flat_values, per_row).to_tensor(0)
        width = tf.shape(chosen)[1] * self.block
        dim = int(self.vectors.shape[-1])
        vectors = tf.reshape(tf.gather(self.vectors, chosen), [batch, width, dim])
        scores = tf.linalg.matvec(vectors, users)
        return tf.reshape(tf.gather(self.items, chosen), [batch, width]), scores


def is_member(values: tf.Tensor, sorted_set: tf.Tensor) -> tf.Tensor:
    """``values`` [B, C] in the matching row of ``sorted_set`` [B, M] (ascending, M ≥ 1)?"""
    at = tf.searchsorted(sorted_set, values, side="left")
    at = tf.minimum(at, tf.shape(sorted_set)[1] - 1)
    return tf.equal(tf.gather(sorted_set, at, batch_dims=1), values)


class IndexedRecommender(Recommender):
    """The serving signature of :class:`recs_ml.serving.signature.Recommender`, retrieval by an
    index.

    ``scorer`` is a retrieval scorer (``user_vectors``) or a ranked scorer over one
    (``retrieval`` + ``rerank``): the index finds its candidates, the ranker re-orders them.
    A request falls back to scoring every item when a row has no history (popularity
    answers it) or when the probed lists hold fewer allowed items than it needs.
    """

    def __init__(
        self,
        scorer: Scorer,
        index: IvfIndex,
        item_ids: np.ndarray,
        user_histories: dict[int, list[int]],
        name: str | None = None,
    ) -> None:
        super().__init__(scorer, item_ids, user_histories, name=name)
        self.index = index
        retrieval = retrieval_of(scorer)
        if retrieval is None:
            raise IndexBuildError(f"scorer {scorer.name!r} has no user vectors to search with")
        self.retrieval: Any = retrieval
        # The ranked path asks the index for the ranker's whole candidate list.
        self.candidates = int(getattr(scorer, "candidates", 0)) if hasattr(scorer, "rerank") else 0

    @tf.function(input_signature=SIGNATURE)
    def serve(
        self, user_id: tf.Tensor, history: tf.Tensor, exclude: tf.Tensor, k: tf.Tensor
    ) -> dict[str, tf.Tensor]:
        check_k(k)
        indices = self.history_indices(user_id, history)
        excluded = self.item_table.lookup(exclude)
        top = tf.minimum(tf.reduce_max(k), self.n - 1)
        want = tf.minimum(tf.maximum(top, self.candidates), self.n - 1)
        users, empty = self.retrieval.user_vectors(indices)
        found, scores = self.index.search(users)
        # Column 0 (padding) keeps the set non-empty; found items are never 0.
        blocked = tf.sort(tf.concat([tf.zeros_like(indices[:, :1]), indices, excluded], 1), 1)
        allowed = tf.logical_and(found > 0, tf.logical_not(is_member(found, blocked)))
        scores = tf.where(allowed, scores, MASKED)
        available = tf.reduce_sum(tf.cast(allowed, tf.int32), axis=1)
        exact = tf.logical_or(tf.reduce_any(empty), tf.reduce_any(available < want))
        return tf.cond(
            exact,
            lambda: self.exact_answer(indices, excluded, top),
            lambda: self.approximate_answer(indices, found, scores, want, top),
        )

    def approximate_answer(
        self,
        indices: tf.Tensor,
        found: tf.Tensor,
        scores: tf.Tensor,
        want: tf.Tensor,
        top: tf.Tensor,
    ) -> dict[str, tf.Tensor]:
        best = tf.math.top_k(scores, k=want)
        candidates = tf.gather(found, best.indices, batch_dims=1)
        if self.candidates:
            valid = best.values > MASKED / 2
            chosen, values = self.scorer.rerank(indices, candidates, best.values, valid, top)
        else:
            chosen, values = candidates[:, :top], best.values[:, :top]
        return {
            "item_ids": tf.gather(self.catalog, tf.cast(chosen, tf.int64)),
            "scores": tf.cast(values, tf.float32),
        }


def retrieval_of(scorer: Scorer) -> Scorer | None:
    """The scorer whose user vectors and item vectors an index serves, if ``scorer`` has one."""
    if hasattr(scorer, "user_vectors") and isinstance(
        getattr(scorer, "candidates", None), tf.Variable
    ):
        return scorer
    inner = getattr(scorer, "retrieval", None)
    if inner is not None and hasattr(scorer, "rerank"):
        return retrieval_of(inner)
    return None


class AverageHistoryScorer(Scorer):
    """A user is the mean vector of their last ``length`` items; items score by dot product.

    The retrieval model of a catalog known only by its item vectors (and the synthetic
    catalogs of the scale benchmark): the same interface as the TFRS retrieval scorer.
    """

    def __init__(
        self, item_vectors: np.ndarray, length: int = 30, fallback: np.ndarray | None = None
    ) -> None:
        super().__init__(name="average_history")
        vectors = np.asarray(item_vectors, dtype=np.float32)
        # Row 0 is the padding index.
        self.candidates = tf.Variable(
            np.vstack([np.zeros((1, vectors.shape[1]), np.float32), vectors]), trainable=False
        )
        self.length = length
        fallback = np.zeros(len(vectors) + 1) if fallback is None else np.asarray(fallback)
        self.fallback = tf.Variable(fallback.astype(np.float32), trainable=False)

    def user_vectors(self, history: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        window = last_items(history, self.length)
        count = tf.reduce_sum(tf.cast(window > 0, tf.float32), axis=1, keepdims=True)
        summed = tf.reduce_sum(tf.gather(self.candidates, window), axis=1)
        return summed / tf.maximum(count, 1.0), count[:, 0] == 0

    def scores(self, history: tf.Tensor) -> tf.Tensor:
        users, empty = self.user_vectors(history)
        scores = tf.matmul(users, self.candidates, transpose_b=True)
        return tf.where(empty[:, None], self.fallback[None, :], scores)
