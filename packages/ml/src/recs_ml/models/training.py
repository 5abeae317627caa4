"""Training: hyperparameters, choice on validation, and the final fit on all of train.

1. Fit on train minus validation: EASE for each lambda, the retrieval model epoch by epoch;
   keep the lambda and epoch count with the best validation NDCG@10.
2. Ranking stage: trained on half the validation users (their next items vs the other
   retrieved candidates), measured on the other half; kept only when it raises NDCG@10 of
   the served top-k there.
3. Final models fitted on all of train with the chosen hyperparameters.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from recs_ml.data.datasets import Ratings
from recs_ml.data.processing import ProcessedData, take

SAGEMAKER_HYPERPARAMETERS = Path("/opt/ml/input/config/hyperparameters.json")


class HyperparameterError(ValueError):
    """A hyperparameter that is unknown, malformed or out of range."""


@dataclass
class Hyperparameters:
    seed: int = 42
    embedding_dim: int = 64
    history_length: int = 30
    epochs: int = 6
    batch_size: int = 1024
    learning_rate: float = 0.002
    dropout: float = 0.1
    logq: bool = True
    item_features: bool = True
    ease_lambdas: str = "100,200,500,1000"
    candidates: int = 100
    ranker: str = "auto"
    ranker_epochs: int = 10
    ranker_hidden: int = 32
    ease_max_items: int = 5000
    eval_users: int = 5000
    max_train_minutes: float = 0.0
    # The final retrieval fit on all of train: "refit" trains a new model for the chosen
    # epoch count; "continue" starts from the model chosen on validation and trains one more
    # epoch on all of train (half the training time; the size defaults use it for big data).
    final_fit: str = "refit"
    # Stream training examples from the process step's shards (when it wrote them); the
    # size defaults turn it off for small data.
    stream: bool = True
    # Names set explicitly (CLI, SageMaker JSON): size defaults never override them.
    explicit: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    _ranges = {
        "embedding_dim": (1, 1024),
        "history_length": (1, 500),
        "epochs": (1, 200),
        "batch_size": (2, 65536),
        "learning_rate": (1e-6, 1.0),
        "dropout": (0.0, 0.9),
        "candidates": (10, 1000),
        "ranker_epochs": (1, 100),
        "ranker_hidden": (2, 1024),
        "seed": (0, 2**31 - 1),
        "ease_max_items": (1, 100_000),
        "eval_users": (100, 10_000_000),
        "max_train_minutes": (0.0, 100_000.0),
    }

    def __post_init__(self) -> None:
        for name, (low, high) in self._ranges.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise HyperparameterError(f"{name}={value} is out of range [{low}, {high}]")
        if self.ranker not in ("auto", "on", "off"):
            raise HyperparameterError(f"ranker={self.ranker!r}: expected auto, on or off")
        if self.final_fit not in ("refit", "continue"):
            raise HyperparameterError(f"final_fit={self.final_fit!r}: expected refit or continue")
        self.lambdas()

    def lambdas(self) -> list[float]:
        try:
            values = [float(part) for part in str(self.ease_lambdas).split(",") if part.strip()]
        except ValueError:
            raise HyperparameterError(
                f"ease_lambdas={self.ease_lambdas!r}: expected comma-separated numbers"
            ) from None
        if not values or any(not np.isfinite(v) or v <= 0 for v in values):
            raise HyperparameterError(
                f"ease_lambdas={self.ease_lambdas!r}: expected positive numbers, e.g. 200,500"
            )
        return values

    def as_dict(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.init and f.name != "explicit"
        }

    def for_size(self, ratings: int) -> Hyperparameters:
        """These hyperparameters with the defaults for ``ratings`` training ratings (see
        :data:`SIZE_DEFAULTS`) in place of every value that was not set explicitly."""
        chosen: dict[str, Any] = {}
        for limit, values in SIZE_DEFAULTS:
            if ratings <= limit:
                chosen = values
                break
        changes = {k: v for k, v in chosen.items() if k not in self.explicit}
        return dataclasses.replace(self, **changes) if changes else self

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Hyperparameters:
        """Typed values from strings (CLI, SageMaker's JSON) or JSON values."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, value in raw.items():
            name = key.replace("-", "_")
            if name not in fields:
                raise HyperparameterError(
                    f"unknown hyperparameter {key!r}; known: {', '.join(sorted(fields))}"
                )
            if name == "explicit":
                raise HyperparameterError("'explicit' is not a hyperparameter")
            kind = type(getattr(cls(), name))
            values[name] = _convert(name, value, kind)
        return cls(**values, explicit=frozenset(values))


# Defaults by the number of training ratings: (up to this many ratings, values). Larger data
# gets fewer epochs (each epoch holds more examples); the largest gets bigger batches (more
# in-batch negatives per step: the retrieval loss samples its negatives from the batch).
SIZE_DEFAULTS: list[tuple[float, dict[str, Any]]] = [
    # Small data trains from memory (examples are a few MB), the way its figures were set.
    (500_000, {"stream": False}),
    # Big catalogs: each item is a target only a few times an epoch, so the embeddings need a
    # higher learning rate to learn in the few epochs there is time for (on 300k generated
    # ratings, 0.006 reached in 2 epochs the validation NDCG@10 that 0.002 reached in 4); a 15-item
    # history halves the GRU's cost per example; the final fit continues the validated model
    # for one epoch on all of train instead of refitting it from scratch.
    (
        5_000_000,
        {
            "epochs": 3,
            "learning_rate": 0.006,
            "history_length": 15,
            "final_fit": "continue",
            "candidates": 50,
            "ranker_epochs": 5,
        },
    ),
    (
        float("inf"),
        {
            "epochs": 2,
            "batch_size": 4096,
            "learning_rate": 0.006,
            "history_length": 15,
            "final_fit": "continue",
            "candidates": 50,
            "ranker_epochs": 3,
            "ease_max_items": 4000,
        },
    ),
]


def _convert(name: str, value: Any, kind: type) -> Any:
    text = str(value).strip()
    if kind is bool:
        if isinstance(value, bool):
            return value
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise HyperparameterError(f"{name}={value!r}: expected true or false")
    if kind is int:
        try:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(text)
        except ValueError:
            raise HyperparameterError(f"{name}={value!r}: expected an integer") from None
    if kind is float:
        try:
            number = float(text)
        except ValueError:
            raise HyperparameterError(f"{name}={value!r}: expected a number") from None
        if not np.isfinite(number):
            raise HyperparameterError(f"{name}={value!r}: expected a finite number")
        return number
    return text


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """``["epochs=5", "learning_rate=0.01"]`` → dict; malformed pairs are an error."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise HyperparameterError(f"{pair!r}: expected key=value")
        out[key.strip()] = value.strip()
    return out


def load_hyperparameters(pairs: list[str], config: Path | None = None) -> Hyperparameters:
    """``--hp key=value`` pairs over SageMaker's hyperparameters JSON (when the file exists)."""
    raw: dict[str, Any] = {}
    path = config if config is not None else SAGEMAKER_HYPERPARAMETERS
    if path.is_file():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise HyperparameterError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(loaded, dict):
            raise HyperparameterError(f"{path}: expected a JSON object of hyperparameters")
        # SageMaker adds its own sagemaker_* keys (program, region, ...); they are not ours.
        raw.update({k: v for k, v in loaded.items() if not k.startswith("sagemaker_")})
    elif config is not None:
        raise HyperparameterError(f"{config}: hyperparameters file not found")
    raw.update(parse_assignments(pairs))
    return Hyperparameters.parse(raw)


# --------------------------------------------------------------------------- data checks


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


# --------------------------------------------------------------------------- training


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


def _sequences(catalog: Any, ratings: Ratings) -> tuple[list[int], list[np.ndarray]]:
    from recs_ml.models.evaluation import histories

    per_user = histories(ratings)
    users = sorted(per_user)
    return users, [catalog.index(np.asarray(per_user[u])) for u in users]


def _item_features(catalog: Any, items: dict[int, Any]) -> np.ndarray | None:
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


def _fit_retrieval(
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
    import contextlib

    import tensorflow as tf

    from recs_ml.models.retrieval import SequenceRetrieval, next_item_examples

    tf.keras.utils.set_random_seed(hp.seed)
    if shards:
        # Streamed from the Parquet shards: memory is one shard's examples, not all of them.
        from recs_ml.data.streaming import streamed_dataset, target_counts

        counts = target_counts(shards, catalog, without_validation)
        examples = int(counts.sum())
        dataset = streamed_dataset(
            shards, catalog, hp.history_length, without_validation, hp.batch_size, hp.seed
        )
    else:
        _, sequences = _sequences(catalog, ratings)
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
    probability = np.maximum(counts, 1.0) / counts.sum()
    if strategy is not None:
        from recs_ml.models.distributed import check_global_batch

        check_global_batch(hp.batch_size, strategy.num_replicas_in_sync)
        # Each worker keeps every N-th global batch's share: same batches as one worker.
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        dataset = dataset.with_options(options)
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
    from recs_ml.progress import progress

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


def _ranker_data(
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


def _fit_ranker(
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


def train_models(
    data: ProcessedData,
    hp: Hyperparameters,
    log: Callable[[str], None] = print,
    strategy: Any | None = None,
) -> TrainedModels:
    """Choose hyperparameters on validation and fit the final models. ``strategy``: a
    ``MultiWorkerMirroredStrategy`` (every worker runs this same function; the retrieval
    model trains across them, the rest is computed identically on each)."""
    import tensorflow as tf

    from recs_ml.models.baselines import (
        CappedEase,
        CappedEaseScorer,
        Catalog,
        MostPopScorer,
        ease_columns,
    )
    from recs_ml.models.evaluation import evaluate_serving, histories, holdout_sets, take_users
    from recs_ml.models.ranking import RankedScorer
    from recs_ml.models.retrieval import RetrievalScorer
    from recs_ml.serving.signature import Recommender

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
    item_ids = np.unique(
        np.concatenate(
            [data.train.item_id, data.test.item_id, np.asarray(list(data.items), np.int64)]
        )
    )
    catalog = Catalog(item_ids)
    size = catalog.n - 1
    features = _item_features(catalog, data.items)
    fit = data.fit
    # Validation users: every one up to eval_users, above that a fixed-seed sample.
    from recs_ml.models.evaluation import sample_users

    val_sample = np.asarray(
        sample_users(np.unique(data.validation.user_id).tolist(), hp.eval_users, hp.seed),
        dtype=np.int64,
    )
    validation_rows = take_users(data.validation, val_sample)
    fit_known = take_users(fit, val_sample)
    fit_histories = histories(fit_known)
    validation = holdout_sets(validation_rows)
    log(
        f"training on {len(data.train):,} ratings, {size:,} items; validation on "
        f"{len(val_sample):,} users; hyperparameters {hp.as_dict()}"
    )

    # Validation users split in two: the ranker learns on one half and is judged on the other.
    rng = np.random.default_rng(hp.seed)
    val_users = np.array(sorted(validation))
    rng.shuffle(val_users)
    half = max(1, len(val_users) // 2)
    ranker_users = sorted(val_users[:half].tolist())
    judge_users = sorted(val_users[half:].tolist()) or ranker_users
    judge_set = set(judge_users)
    judge_rows = np.flatnonzero(np.isin(validation_rows.user_id, list(judge_set)))
    judge_holdout = take(validation_rows, judge_rows)

    def judge(scorer: Any) -> dict[str, float]:
        module = Recommender(scorer, catalog.item_ids, fit_histories)
        return evaluate_serving(module.serve, fit_known, judge_holdout, size)

    # Baselines on train minus validation; EASE's lambda chosen on validation. EASE is
    # capped to the most popular ease_max_items items; the rest fall back to popularity.
    _, fit_matrix = catalog.sparse_interactions(fit)
    fit_popularity = catalog.popularity(fit)
    mostpop_fit = MostPopScorer(fit_popularity)
    fit_columns = ease_columns(fit_popularity, hp.ease_max_items)
    fit_gram = CappedEase(fit_matrix, fit_columns)
    del fit_matrix
    capped = fit_columns.shape[0]
    log(
        f"EASE on the {capped:,} most popular of {size:,} items "
        f"({4 * (capped + 1) ** 2 / 2**20:,.0f} MB float32); the rest by popularity"
    )
    best_lambda, best_ease, best_weights = 0.0, -1.0, None
    # One module for the whole grid: assigning new weights avoids re-tracing.
    ease_module = Recommender(
        CappedEaseScorer(
            np.zeros((capped + 1, capped + 1), np.float32), fit_columns, catalog.n, fit_popularity
        ),
        catalog.item_ids,
        fit_histories,
    )
    for lam in hp.lambdas():
        weights = fit_gram.weights(lam)
        ease_module.scorer.ease.weights.assign(weights)
        ndcg = evaluate_serving(ease_module.serve, fit_known, validation_rows, size)["ndcg@10"]
        log(f"validation: EASE lambda={lam:g} ndcg@10={ndcg:.4f}")
        if ndcg > best_ease:
            best_lambda, best_ease, best_weights = lam, ndcg, weights
        del weights
    assert best_weights is not None
    del fit_gram, ease_module
    ease_fit = CappedEaseScorer(best_weights, fit_columns, catalog.n, fit_popularity)
    del best_weights
    timings["ease_select_s"] = time.perf_counter() - started

    # Retrieval on train minus validation; the epoch count chosen on validation.
    epoch_scores: dict[int, float] = {}
    snapshots: dict[int, list[np.ndarray]] = {}

    # One serving module for every epoch: refreshing its item vectors avoids re-tracing.
    epoch_module: list[Any] = []

    def on_epoch(epoch: int, model: Any) -> None:
        if not epoch_module:
            scorer = RetrievalScorer(model, catalog.n, hp.history_length, fit_popularity)
            epoch_module.append(Recommender(scorer, catalog.item_ids, fit_histories))
        epoch_module[0].scorer.refresh(model)
        serve = epoch_module[0].serve
        epoch_scores[epoch] = evaluate_serving(serve, fit_known, validation_rows, size)["ndcg@10"]
        snapshots[epoch] = model.get_weights()
        log(f"validation: retrieval epoch {epoch} ndcg@10={epoch_scores[epoch]:.4f}")

    mark = time.perf_counter()
    # With a time budget, choosing epochs may use half of what is left; the final fit the rest.
    select_deadline = time.perf_counter() + (budget - (mark - started)) / 2
    epoch_seconds: list[float] = []
    retrieval_model = _fit_retrieval(
        catalog, fit, hp, features, hp.epochs, on_epoch, select_deadline, log, epoch_seconds,
        shards=data.train_shards if hp.stream else None, without_validation=True,
        stage="retrieval (validation)", strategy=strategy,
    )  # fmt: skip
    best_epochs = max(epoch_scores, key=lambda e: epoch_scores[e])
    retrieval_model.set_weights(snapshots[best_epochs])
    retrieval_fit = RetrievalScorer(retrieval_model, catalog.n, hp.history_length, fit_popularity)
    timings["retrieval_select_s"] = time.perf_counter() - mark

    # Ranking stage: learn on half the validation users, judge on the other half.
    mark = time.perf_counter()
    popularity_fit = tf.constant(np.log1p(fit_popularity).astype(np.float32))
    candidates = min(hp.candidates, size)
    x_rank, valid_rank, y_rank = _ranker_data(
        retrieval_fit, ease_fit, popularity_fit, catalog, fit_histories, validation,
        ranker_users, candidates,
    )  # fmt: skip
    metrics = {
        "retrieval": judge(retrieval_fit),
        "ease": judge(ease_fit),
        "mostpop": judge(mostpop_fit),
    }
    use_ranker = hp.ranker == "on"
    if hp.ranker != "off" and y_rank.sum() > 0:
        ranker = _fit_ranker(x_rank, valid_rank, y_rank, hp)
        ranked = RankedScorer(retrieval_fit, ease_fit, popularity_fit, ranker, candidates)
        metrics["ranked"] = judge(ranked)
        if hp.ranker == "auto":
            use_ranker = metrics["ranked"]["ndcg@10"] > metrics["retrieval"]["ndcg@10"]
        log(
            f"validation: ranker ndcg@10={metrics['ranked']['ndcg@10']:.4f} vs retrieval "
            f"{metrics['retrieval']['ndcg@10']:.4f} -> {'kept' if use_ranker else 'dropped'}"
        )
    metrics["tfrs"] = metrics.pop("ranked") if use_ranker else dict(metrics["retrieval"])
    metrics.pop("ranked", None)
    timings["ranker_select_s"] = time.perf_counter() - mark

    # Final models on all of train with the chosen hyperparameters.
    mark = time.perf_counter()
    train_histories = histories(data.train)
    popularity = catalog.popularity(data.train)
    train_columns = ease_columns(popularity, hp.ease_max_items)
    _, train_matrix = catalog.sparse_interactions(data.train)
    train_gram = CappedEase(train_matrix, train_columns)
    del train_matrix
    ease = CappedEaseScorer(train_gram.weights(best_lambda), train_columns, catalog.n, popularity)
    del train_gram
    per_epoch = left = float("inf")
    if budget < float("inf") and epoch_seconds:
        # Train has more examples than fit: scale the measured epoch time.
        per_epoch = float(np.mean(epoch_seconds)) * len(data.train) / max(len(fit), 1)
        left = budget - (time.perf_counter() - started)
    continue_fit, final_epochs = final_fit_plan(hp.final_fit, best_epochs, per_epoch, left)
    if continue_fit and hp.final_fit == "refit":
        log(
            f"time budget: {max(left, 0) / 60:.1f} min left, a refit of {best_epochs} epochs "
            f"needs {best_epochs * per_epoch / 60:.1f}: continuing the validated model on all "
            "of train instead"
        )
    start_from = snapshots[best_epochs] if continue_fit else None
    final_retrieval_model = _fit_retrieval(
        catalog, data.train, hp, features, final_epochs,
        deadline=started + budget, log=log,
        shards=data.train_shards if hp.stream else None, stage="retrieval (final)",
        initial_weights=start_from,
        strategy=strategy,
    )  # fmt: skip
    retrieval = RetrievalScorer(final_retrieval_model, catalog.n, hp.history_length, popularity)
    scorers: dict[str, Any] = {
        "retrieval": retrieval,
        "ease": ease,
        "mostpop": MostPopScorer(popularity),
    }
    if use_ranker:
        # The final ranker learns from every validation user.
        x_all, valid_all, y_all = _ranker_data(
            retrieval_fit, ease_fit, popularity_fit, catalog, fit_histories, validation,
            sorted(validation), candidates,
        )  # fmt: skip
        ranker = _fit_ranker(x_all, valid_all, y_all, hp)
        popularity_var = tf.Variable(np.log1p(popularity).astype(np.float32), trainable=False)
        scorers["tfrs"] = RankedScorer(retrieval, ease, popularity_var, ranker, candidates)
    else:
        scorers["tfrs"] = retrieval
    timings["final_fit_s"] = time.perf_counter() - mark
    timings["train_total_s"] = time.perf_counter() - started
    return TrainedModels(
        item_ids=catalog.item_ids,
        user_histories=train_histories,
        scorers=scorers,
        default_model="tfrs",
        hyperparameters=hp.as_dict(),
        chosen={
            "ease_lambda": best_lambda,
            "retrieval_epochs": best_epochs,
            # "continue": the validated model plus one epoch on all of train.
            "final_fit": "continue" if continue_fit else "refit",
            "final_epochs": final_epochs,
            "ease_items": int(train_columns.shape[0]),
            "validation_users": len(val_sample),
            "ranker": use_ranker,
            "validation_ndcg_by_epoch": epoch_scores,
        },
        validation_metrics={
            name: metrics[name] for name in ("tfrs", "retrieval", "ease", "mostpop")
        },
        timings=timings,
    )
