"""Export: one SavedModel per model in the SageMaker TFS multi-model layout + manifest.json.

```
manifest.json
tfrs/1/        served path (retrieval -> ranking -> top-k)
retrieval/1/   retrieval stage alone
ease/1/  mostpop/1/
```

Below ``index_threshold`` catalog items every model scores the whole catalog. From it on,
the models with a retrieval stage search an IVF index built into their SavedModel
(:mod:`recs_ml.serving.ann`, TensorFlow ops only); ``manifest.indexes`` says which path each serves.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from recs_ml.serving.artifact import Manifest, write_manifest

MODEL_NAME = "recs-movielens"
MODEL_ORDER = ("tfrs", "retrieval", "ease", "mostpop")
# Stored users whose histories tune the index's nprobe at export.
TUNING_USERS = 500


def export_models(
    trained: Any,
    directory: Path,
    data_checksum: str,
    metrics: dict[str, dict[str, float]] | None = None,
    model_name: str = MODEL_NAME,
    index_threshold: int | None = None,
    target_recall: float | None = None,
    log: Callable[[str], None] = print,
) -> Manifest:
    """Write every scorer of ``trained`` (a :class:`recs_ml.models.training.TrainedModels`).

    ``index_threshold`` and ``target_recall`` default to the settings
    ``RECS_INDEX_THRESHOLD`` and ``RECS_INDEX_TARGET_RECALL``.
    """
    from recs_ml.serving.signature import Recommender
    from recs_ml.settings import get_settings

    settings = get_settings()
    threshold = settings.index_threshold if index_threshold is None else index_threshold
    recall = settings.index_target_recall if target_recall is None else target_recall
    if threshold < 1:
        raise ValueError(f"index_threshold must be at least 1 item, got {threshold}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    names = [name for name in MODEL_ORDER if name in trained.scorers]
    indexes: dict[str, dict[str, Any]] = {}
    built: dict[int, tuple[Any, dict[str, Any]]] = {}  # one index per retrieval scorer
    items = len(trained.item_ids)
    for name in names:
        target = directory / name / "1"
        if target.exists():
            shutil.rmtree(target)
        scorer = trained.scorers[name]
        module: Any
        index = _index_for(scorer, trained, built, recall, log) if items >= threshold else None
        if index is None:
            module = Recommender(scorer, trained.item_ids, trained.user_histories, name=name)
            indexes[name] = {"kind": "exact", "items": items, "threshold": threshold}
        else:
            from recs_ml.serving.ann import IndexedRecommender

            ivf, parameters = index
            module = IndexedRecommender(
                scorer, ivf, trained.item_ids, trained.user_histories, name=name
            )
            indexes[name] = {**parameters, "threshold": threshold}
        module.save(str(target))
    manifest = Manifest(
        model_name=model_name,
        default_model=trained.default_model,
        models=names,
        data_checksum=data_checksum,
        hyperparameters={**trained.hyperparameters, "chosen": trained.chosen},
        metrics=metrics if metrics is not None else trained.validation_metrics,
        indexes=indexes,
    )
    return write_manifest(directory, manifest)


def _index_for(
    scorer: Any,
    trained: Any,
    built: dict[int, tuple[Any, dict[str, Any]]],
    target_recall: float,
    log: Callable[[str], None],
) -> tuple[Any, dict[str, Any]] | None:
    """The IVF index over ``scorer``'s retrieval item vectors (None: it has none)."""
    from recs_ml.serving.ann import IvfIndex, retrieval_of
    from recs_ml.serving.ivf import build_ivf

    retrieval = retrieval_of(scorer)
    if retrieval is None:
        return None
    if id(retrieval) not in built:
        vectors = retrieval.candidates.numpy()[1:]  # row 0 is padding
        layout, parameters = build_ivf(
            vectors,
            tuning_queries(retrieval, trained.item_ids, trained.user_histories, vectors),
            target_recall=target_recall,
            log=log,
        )
        built[id(retrieval)] = (IvfIndex(layout, parameters.nprobe), parameters.as_dict())
    return built[id(retrieval)]


def tuning_queries(
    retrieval: Any,
    item_ids: np.ndarray,
    user_histories: dict[int, list[int]],
    vectors: np.ndarray,
    seed: int = 0,
) -> np.ndarray:
    """User vectors of up to ``TUNING_USERS`` stored users (item vectors when none are)."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    users = [u for u in sorted(user_histories) if user_histories[u]]
    if not users:
        return vectors[rng.choice(len(vectors), min(TUNING_USERS, len(vectors)), replace=False)]
    chosen = rng.choice(len(users), min(TUNING_USERS, len(users)), replace=False)
    catalog = np.asarray(sorted(int(i) for i in item_ids), dtype=np.int64)
    rows = [user_histories[users[i]] for i in sorted(chosen)]
    width = max(len(r) for r in rows)
    history = np.zeros((len(rows), width), dtype=np.int64)
    for row, items in enumerate(rows):
        wanted = np.asarray(items, dtype=np.int64)
        positions = np.minimum(np.searchsorted(catalog, wanted), len(catalog) - 1)
        known = positions[catalog[positions] == wanted] + 1  # an unknown id is padding
        history[row, : len(known)] = known
    found, _ = retrieval.user_vectors(tf.constant(history))
    return np.asarray(found.numpy(), dtype=np.float32)
