"""Choices made on validation: the validation users and their two halves, EASE's lambda,
the retrieval model's epoch count and whether the ranking stage stays (module docstring of
:mod:`recs_ml.models.training`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from recs_ml.data.datasets import Ratings
from recs_ml.data.processed import ProcessedData
from recs_ml.data.split import take
from recs_ml.models.fitting import fit_ranker, fit_retrieval, item_features, ranker_data
from recs_ml.models.hyperparameters import Hyperparameters

Log = Callable[[str], None]


@dataclass
class Validation:
    """Train minus validation (``fit``) and the validation users every choice is judged on;
    the ranker learns on ``ranker_users`` and is judged on the other half."""

    catalog: Any
    features: np.ndarray | None
    fit: Ratings
    popularity: np.ndarray  # of the fit set
    users: np.ndarray
    rows: Ratings  # the validation ratings of ``users``
    known: Ratings  # the fit ratings of ``users``
    histories: dict[int, list[int]]
    holdout: dict[int, set[int]]
    ranker_users: list[int]
    judge_holdout: Ratings

    @property
    def size(self) -> int:
        return int(self.catalog.n - 1)

    def ndcg(self, serve: Any) -> float:
        """Validation NDCG@10 of a serving function over every validation user."""
        from recs_ml.models.evaluation import evaluate_serving

        return evaluate_serving(serve, self.known, self.rows, self.size)["ndcg@10"]

    def judge(self, scorer: Any) -> dict[str, float]:
        """Metrics of ``scorer`` served, on the judging half of the validation users."""
        from recs_ml.models.evaluation import evaluate_serving
        from recs_ml.serving.signature import Recommender

        module = Recommender(scorer, self.catalog.item_ids, self.histories)
        return evaluate_serving(module.serve, self.known, self.judge_holdout, self.size)


def validation_set(data: ProcessedData, hp: Hyperparameters, log: Log) -> Validation:
    from recs_ml.models.baselines import Catalog
    from recs_ml.models.evaluation import histories, holdout_sets, sample_users, take_users

    item_ids = np.unique(
        np.concatenate(
            [data.train.item_id, data.test.item_id, np.asarray(list(data.items), np.int64)]
        )
    )
    catalog = Catalog(item_ids)
    # Validation users: every one up to eval_users, above that a fixed-seed sample.
    users = np.asarray(
        sample_users(np.unique(data.validation.user_id).tolist(), hp.eval_users, hp.seed),
        dtype=np.int64,
    )
    rows = take_users(data.validation, users)
    known = take_users(data.fit, users)
    holdout = holdout_sets(rows)
    log(
        f"training on {len(data.train):,} ratings, {catalog.n - 1:,} items; validation on "
        f"{len(users):,} users; hyperparameters {hp.as_dict()}"
    )
    # Validation users split in two: the ranker learns on one half and is judged on the other.
    rng = np.random.default_rng(hp.seed)
    shuffled = np.array(sorted(holdout))
    rng.shuffle(shuffled)
    half = max(1, len(shuffled) // 2)
    ranker_users = sorted(shuffled[:half].tolist())
    judge_users = sorted(shuffled[half:].tolist()) or ranker_users
    judge_rows = np.flatnonzero(np.isin(rows.user_id, list(set(judge_users))))
    return Validation(
        catalog=catalog,
        features=item_features(catalog, data.items),
        fit=data.fit,
        popularity=catalog.popularity(data.fit),
        users=users,
        rows=rows,
        known=known,
        histories=histories(known),
        holdout=holdout,
        ranker_users=ranker_users,
        judge_holdout=take(rows, judge_rows),
    )


def select_ease(val: Validation, hp: Hyperparameters, log: Log) -> tuple[float, Any]:
    """EASE's lambda chosen on validation, and EASE fitted on the fit set with it. EASE is
    capped to the most popular ``ease_max_items`` items; the rest fall back to popularity."""
    from recs_ml.models.baselines import CappedEase, CappedEaseScorer, ease_columns
    from recs_ml.serving.signature import Recommender

    catalog = val.catalog
    _, fit_matrix = catalog.sparse_interactions(val.fit)
    columns = ease_columns(val.popularity, hp.ease_max_items)
    gram = CappedEase(fit_matrix, columns)
    del fit_matrix
    capped = columns.shape[0]
    log(
        f"EASE on the {capped:,} most popular of {val.size:,} items "
        f"({4 * (capped + 1) ** 2 / 2**20:,.0f} MB float32); the rest by popularity"
    )
    best_lambda, best_ease, best_weights = 0.0, -1.0, None
    # One module for the whole grid: assigning new weights avoids re-tracing.
    module = Recommender(
        CappedEaseScorer(
            np.zeros((capped + 1, capped + 1), np.float32), columns, catalog.n, val.popularity
        ),
        catalog.item_ids,
        val.histories,
    )
    for lam in hp.lambdas():
        weights = gram.weights(lam)
        module.scorer.ease.weights.assign(weights)
        ndcg = val.ndcg(module.serve)
        log(f"validation: EASE lambda={lam:g} ndcg@10={ndcg:.4f}")
        if ndcg > best_ease:
            best_lambda, best_ease, best_weights = lam, ndcg, weights
        del weights
    assert best_weights is not None
    del gram, module
    return best_lambda, CappedEaseScorer(best_weights, columns, catalog.n, val.popularity)


@dataclass
class RetrievalChoice:
    scorer: Any  # the retrieval model fitted on the fit set, at its best epoch
    best_epochs: int
    epoch_scores: dict[int, float]
    best_weights: list[np.ndarray]
    epoch_seconds: list[float]


def select_retrieval(
    data: ProcessedData,
    val: Validation,
    hp: Hyperparameters,
    log: Log,
    deadline: float,
    strategy: Any | None,
) -> RetrievalChoice:
    """The retrieval model on the fit set, its epoch count chosen on validation."""
    from recs_ml.models.retrieval import RetrievalScorer
    from recs_ml.serving.signature import Recommender

    epoch_scores: dict[int, float] = {}
    snapshots: dict[int, list[np.ndarray]] = {}
    # One serving module for every epoch: refreshing its item vectors avoids re-tracing.
    epoch_module: list[Any] = []

    def on_epoch(epoch: int, model: Any) -> None:
        if not epoch_module:
            scorer = RetrievalScorer(model, val.catalog.n, hp.history_length, val.popularity)
            epoch_module.append(Recommender(scorer, val.catalog.item_ids, val.histories))
        epoch_module[0].scorer.refresh(model)
        epoch_scores[epoch] = val.ndcg(epoch_module[0].serve)
        snapshots[epoch] = model.get_weights()
        log(f"validation: retrieval epoch {epoch} ndcg@10={epoch_scores[epoch]:.4f}")

    epoch_seconds: list[float] = []
    model = fit_retrieval(
        val.catalog, val.fit, hp, val.features, hp.epochs, on_epoch, deadline, log, epoch_seconds,
        shards=data.train_shards if hp.stream else None, without_validation=True,
        stage="retrieval (validation)", strategy=strategy,
    )  # fmt: skip
    best_epochs = max(epoch_scores, key=lambda e: epoch_scores[e])
    model.set_weights(snapshots[best_epochs])
    return RetrievalChoice(
        scorer=RetrievalScorer(model, val.catalog.n, hp.history_length, val.popularity),
        best_epochs=best_epochs,
        epoch_scores=epoch_scores,
        best_weights=snapshots[best_epochs],
        epoch_seconds=epoch_seconds,
    )


@dataclass
class RankerChoice:
    use: bool
    metrics: dict[str, dict[str, float]]  # of every served candidate, on the judging half
    popularity: Any  # log-popularity of the fit set, the ranker's feature
    candidates: int


def select_ranker(
    val: Validation, retrieval: Any, ease: Any, hp: Hyperparameters, log: Log
) -> RankerChoice:
    """The ranking stage learns on half the validation users and is judged on the other."""
    import tensorflow as tf

    from recs_ml.models.baselines import MostPopScorer
    from recs_ml.models.ranking import RankedScorer

    popularity = tf.constant(np.log1p(val.popularity).astype(np.float32))
    candidates = min(hp.candidates, val.size)
    x_rank, valid_rank, y_rank = ranker_data(
        retrieval, ease, popularity, val.catalog, val.histories, val.holdout,
        val.ranker_users, candidates,
    )  # fmt: skip
    metrics = {
        "retrieval": val.judge(retrieval),
        "ease": val.judge(ease),
        "mostpop": val.judge(MostPopScorer(val.popularity)),
    }
    use = hp.ranker == "on"
    if hp.ranker != "off" and y_rank.sum() > 0:
        ranker = fit_ranker(x_rank, valid_rank, y_rank, hp)
        ranked = RankedScorer(retrieval, ease, popularity, ranker, candidates)
        metrics["ranked"] = val.judge(ranked)
        if hp.ranker == "auto":
            use = metrics["ranked"]["ndcg@10"] > metrics["retrieval"]["ndcg@10"]
        log(
            f"validation: ranker ndcg@10={metrics['ranked']['ndcg@10']:.4f} vs retrieval "
            f"{metrics['retrieval']['ndcg@10']:.4f} -> {'kept' if use else 'dropped'}"
        )
    metrics["tfrs"] = metrics.pop("ranked") if use else dict(metrics["retrieval"])
    metrics.pop("ranked", None)
    return RankerChoice(use, metrics, popularity, candidates)
