"""Training: hyperparameters chosen on validation, then the final fit on all of train.

1. Fit on train minus validation: EASE for each lambda, the retrieval model epoch by epoch;
   keep the lambda and epoch count with the best validation NDCG@10.
2. Ranking stage: trained on half the validation users (their next items vs the other
   retrieved candidates), measured on the other half; kept only when it raises NDCG@10 of
   the served top-k there.
3. Final models fitted on all of train with the chosen hyperparameters.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recs_ml.data.processed import ProcessedData
from recs_ml.models.fitting import fit_ranker, fit_retrieval, ranker_data
from recs_ml.models.hyperparameters import HyperparameterError, Hyperparameters
from recs_ml.models.selection import (
    Log,
    RankerChoice,
    RetrievalChoice,
    Validation,
    select_ease,
    select_ranker,
    select_retrieval,
    validation_set,
)


def check_training_data(data: ProcessedData) -> None:
    """Fail before training when the splits cannot train or evaluate anything."""
    from recs_ml.data.datasets import DataError

    if len(data.train) == 0:
        raise DataError("train/ratings.csv", None, "no training ratings")
    if len(data.validation) == 0:
        raise DataError("validation/ratings.csv", None, "no validation ratings")
    if len(np.unique(data.train.item_id)) < 2:
        raise DataError("train/ratings.csv", None, "fewer than 2 distinct items")
    if len(data.fit) == 0:
        raise DataError("train/ratings.csv", None, "every train rating is a validation rating")


@dataclass
class TrainedModels:
    """Final models (fitted on all of train) as serving scorers, plus what was chosen."""

    item_ids: np.ndarray
    user_histories: dict[int, list[int]]
    scorers: dict[str, Any]
    default_model: str
    hyperparameters: dict[str, Any]
    chosen: dict[str, Any]
    validation_metrics: dict[str, dict[str, float]]
    timings: dict[str, float] = field(default_factory=dict)


def final_fit_plan(
    final_fit: str, best_epochs: int, seconds_per_epoch: float, seconds_left: float
) -> tuple[bool, int]:
    """(continue the validated model?, epochs) of the final retrieval fit on all of train.

    "refit" trains a new model for ``best_epochs`` — unless the time left cannot hold them:
    a refit cut short by the budget is a barely trained model, worse than the validated one,
    while one more epoch over all of train from the validated weights can only add to it."""
    if final_fit == "continue" or seconds_left < best_epochs * seconds_per_epoch:
        return True, 1
    return False, best_epochs


@dataclass
class _Choices:
    """What validation chose, and the fit-set models the final ranker learns from."""

    ease_lambda: float
    ease_fit: Any
    retrieval: RetrievalChoice
    ranker: RankerChoice


def _final_epochs(
    data: ProcessedData,
    val: Validation,
    hp: Hyperparameters,
    log: Log,
    retrieval: RetrievalChoice,
    seconds_left: float,
) -> tuple[bool, int]:
    """(continue the validated model?, epochs) of the final fit, within the time left."""
    best_epochs = retrieval.best_epochs
    per_epoch = left = float("inf")
    if seconds_left < float("inf") and retrieval.epoch_seconds:
        # Train has more examples than fit: scale the measured epoch time.
        per_epoch = float(np.mean(retrieval.epoch_seconds)) * len(data.train) / max(len(val.fit), 1)
        left = seconds_left
    continue_fit, final_epochs = final_fit_plan(hp.final_fit, best_epochs, per_epoch, left)
    if continue_fit and hp.final_fit == "refit":
        log(
            f"time budget: {max(left, 0) / 60:.1f} min left, a refit of {best_epochs} epochs "
            f"needs {best_epochs * per_epoch / 60:.1f}: continuing the validated model on all "
            "of train instead"
        )
    return continue_fit, final_epochs


def _final_models(
    data: ProcessedData,
    val: Validation,
    hp: Hyperparameters,
    log: Log,
    chosen: _Choices,
    deadline: float,
    strategy: Any | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The models fitted on all of train with the chosen hyperparameters (``deadline``: a
    perf_counter time), and what the final fit chose (refit or continue, epochs, EASE items)."""
    import tensorflow as tf

    from recs_ml.models.baselines import CappedEase, CappedEaseScorer, MostPopScorer, ease_columns
    from recs_ml.models.ranking import RankedScorer
    from recs_ml.models.retrieval import RetrievalScorer

    catalog = val.catalog
    popularity = catalog.popularity(data.train)
    columns = ease_columns(popularity, hp.ease_max_items)
    _, train_matrix = catalog.sparse_interactions(data.train)
    gram = CappedEase(train_matrix, columns)
    del train_matrix
    ease = CappedEaseScorer(gram.weights(chosen.ease_lambda), columns, catalog.n, popularity)
    del gram
    seconds_left = deadline - time.perf_counter()
    continue_fit, final_epochs = _final_epochs(data, val, hp, log, chosen.retrieval, seconds_left)
    model = fit_retrieval(
        catalog, data.train, hp, val.features, final_epochs,
        deadline=deadline, log=log,
        shards=data.train_shards if hp.stream else None, stage="retrieval (final)",
        initial_weights=chosen.retrieval.best_weights if continue_fit else None,
        strategy=strategy,
    )  # fmt: skip
    retrieval = RetrievalScorer(model, catalog.n, hp.history_length, popularity)
    mostpop = MostPopScorer(popularity)
    scorers: dict[str, Any] = {"retrieval": retrieval, "ease": ease, "mostpop": mostpop}
    scorers["tfrs"] = retrieval  # or the ranked path, below
    if chosen.ranker.use:
        # The final ranker learns from every validation user.
        x_all, valid_all, y_all = ranker_data(
            chosen.retrieval.scorer, chosen.ease_fit, chosen.ranker.popularity, catalog,
            val.histories, val.holdout, sorted(val.holdout), chosen.ranker.candidates,
        )  # fmt: skip
        ranker = fit_ranker(x_all, valid_all, y_all, hp)
        popularity_var = tf.Variable(np.log1p(popularity).astype(np.float32), trainable=False)
        scorers["tfrs"] = RankedScorer(
            retrieval, ease, popularity_var, ranker, chosen.ranker.candidates
        )
    return scorers, {
        # "continue": the validated model plus one epoch on all of train.
        "final_fit": "continue" if continue_fit else "refit",
        "final_epochs": final_epochs,
        "ease_items": int(columns.shape[0]),
    }


def train_models(
    data: ProcessedData,
    hp: Hyperparameters,
    log: Callable[[str], None] = print,
    strategy: Any | None = None,
) -> TrainedModels:
    """Choose hyperparameters on validation and fit the final models. ``strategy``: a
    ``MultiWorkerMirroredStrategy`` (every worker runs this same function; the retrieval
    model trains across them, the rest is computed identically on each)."""
    from recs_ml.models.evaluation import histories

    check_training_data(data)
    started = time.perf_counter()
    hp = hp.for_size(len(data.train))
    if strategy is not None and hp.max_train_minutes > 0:
        # Workers stopping on their own clocks would leave the others in a collective.
        raise HyperparameterError(
            "max_train_minutes works with one worker only; set epochs instead"
        )
    budget = hp.max_train_minutes * 60.0 if hp.max_train_minutes > 0 else float("inf")
    timings: dict[str, float] = {}
    val = validation_set(data, hp, log)
    best_lambda, ease_fit = select_ease(val, hp, log)
    timings["ease_select_s"] = time.perf_counter() - started

    mark = time.perf_counter()
    # With a time budget, choosing epochs may use half of what is left; the final fit the rest.
    select_deadline = time.perf_counter() + (budget - (mark - started)) / 2
    retrieval = select_retrieval(data, val, hp, log, select_deadline, strategy)
    timings["retrieval_select_s"] = time.perf_counter() - mark

    mark = time.perf_counter()
    ranker = select_ranker(val, retrieval.scorer, ease_fit, hp, log)
    timings["ranker_select_s"] = time.perf_counter() - mark

    mark = time.perf_counter()
    chosen = _Choices(best_lambda, ease_fit, retrieval, ranker)
    scorers, final = _final_models(data, val, hp, log, chosen, started + budget, strategy)
    timings["final_fit_s"] = time.perf_counter() - mark
    timings["train_total_s"] = time.perf_counter() - started
    return TrainedModels(
        item_ids=val.catalog.item_ids,
        user_histories=histories(data.train),
        scorers=scorers,
        default_model="tfrs",
        hyperparameters=hp.as_dict(),
        chosen={
            "ease_lambda": best_lambda,
            "retrieval_epochs": retrieval.best_epochs,
            **final,
            "validation_users": len(val.users),
            "ranker": ranker.use,
            "validation_ndcg_by_epoch": retrieval.epoch_scores,
        },
        validation_metrics={
            name: ranker.metrics[name] for name in ("tfrs", "retrieval", "ease", "mostpop")
        },
        timings=timings,
    )
