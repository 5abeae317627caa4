"""TFRS ranking stage: re-orders the retrieval top-N for relevance.

Trained on the user's next rated items (label 1) against the other retrieved candidates
(label 0). Features per candidate, standardised within the user's candidate list so they
transfer from the validation-time models to the final ones: retrieval score, EASE score,
log popularity and retrieval rank.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_recommenders as tfrs

from recs_ml.serving.signature import MASKED, Scorer

FEATURES = ("retrieval", "ease", "popularity", "rank")
# Rank positions are scaled by the largest k the signature allows, whatever N is.
RANK_SCALE = 100.0


def _standardise(values: tf.Tensor, valid: tf.Tensor) -> tf.Tensor:
    weight = tf.cast(valid, tf.float32)
    count = tf.maximum(tf.reduce_sum(weight, axis=1, keepdims=True), 1.0)
    mean = tf.reduce_sum(values * weight, axis=1, keepdims=True) / count
    variance = tf.reduce_sum(tf.square(values - mean) * weight, axis=1, keepdims=True) / count
    return tf.where(valid, (values - mean) / tf.sqrt(variance + 1e-6), 0.0)


def candidate_features(
    retrieval: tf.Tensor,
    ease: tf.Tensor,
    popularity: tf.Tensor,
    allowed: tf.Tensor,
    count: tf.Tensor | int,
) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Top-``count`` allowed candidates by retrieval → (indices, features [B, N, 4], valid)."""
    top = tf.math.top_k(tf.where(allowed, retrieval, MASKED), k=count)
    valid = top.values > MASKED / 2
    return top.indices, features_of(top.indices, top.values, valid, ease, popularity), valid


def features_of(
    indices: tf.Tensor,
    retrieval: tf.Tensor,
    valid: tf.Tensor,
    ease: tf.Tensor,
    popularity: tf.Tensor,
) -> tf.Tensor:
    """Features ``[B, N, 4]`` of candidates ``indices`` in retrieval order (``retrieval``:
    their retrieval scores) from every item's EASE scores ``[B, n]`` and popularity ``[n]``."""
    ease_scores = tf.gather(ease, indices, batch_dims=1)
    pop = tf.gather(popularity, indices)
    rank = tf.cast(tf.range(tf.shape(indices)[1]), tf.float32)[None, :] / RANK_SCALE
    return tf.stack(
        [
            _standardise(retrieval, valid),
            _standardise(ease_scores, valid),
            _standardise(pop, valid),
            tf.broadcast_to(rank, tf.shape(retrieval)),
        ],
        axis=-1,
    )


class RelevanceRanker(tfrs.Model):
    """Scores each candidate; trained listwise (softmax over a user's candidates) for NDCG."""

    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.scorer = tf.keras.Sequential(
            [
                tf.keras.layers.Dense(hidden, activation="relu"),
                tf.keras.layers.Dense(max(hidden // 2, 1), activation="relu"),
                tf.keras.layers.Dense(1),
            ]
        )
        self.task = tfrs.tasks.Ranking(
            loss=tf.keras.losses.CategoricalCrossentropy(from_logits=True),
        )

    def call(self, features: tf.Tensor) -> tf.Tensor:
        """``[B, N, F]`` candidate features → ``[B, N]`` scores."""
        return self.scorer(features)[..., 0]

    def compute_loss(
        self, inputs: tuple[tf.Tensor, tf.Tensor, tf.Tensor], training: bool = False
    ) -> tf.Tensor:
        features, valid, labels = inputs
        logits = tf.where(valid, self(features, training=training), MASKED)
        return self.task(labels=labels, predictions=logits)


class RankedScorer(Scorer):
    """Retrieval top-N → ranker → top-k: the served path of the default model."""

    def __init__(
        self,
        retrieval: Scorer,
        ease: Scorer,
        popularity: tf.Variable,
        ranker: RelevanceRanker,
        candidates: int,
    ) -> None:
        super().__init__(name="ranked")
        self.retrieval = retrieval
        self.ease = ease
        self.popularity = popularity
        self.ranker_scorer = ranker.scorer
        self.candidates = candidates

    def rank(
        self, history: tf.Tensor, allowed: tf.Tensor, k: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        count = tf.minimum(tf.maximum(tf.cast(k, tf.int32), self.candidates), tf.shape(allowed)[1])
        indices, features, valid = candidate_features(
            self.retrieval.scores(history),
            self.ease.scores(history),
            self.popularity,
            allowed,
            count,
        )
        return self._reorder(indices, features, valid, k)

    def rerank(
        self,
        history: tf.Tensor,
        indices: tf.Tensor,
        retrieval: tf.Tensor,
        valid: tf.Tensor,
        k: tf.Tensor,
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """Top ``k`` of candidates found elsewhere (an index), given in retrieval order."""
        ease = self.ease.scores(history)
        features = features_of(indices, retrieval, valid, ease, self.popularity)
        return self._reorder(indices, features, valid, k)

    def _reorder(
        self, indices: tf.Tensor, features: tf.Tensor, valid: tf.Tensor, k: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        scores = self.ranker_scorer(features)[..., 0]
        scores = tf.where(valid, scores, MASKED)
        top = tf.math.top_k(scores, k=k)
        return tf.gather(indices, top.indices, batch_dims=1), top.values
