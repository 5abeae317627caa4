"""Export: one SavedModel per model in the SageMaker TFS multi-model layout + manifest.json.

```
manifest.json
tfrs/1/        served path (retrieval -> ranking -> top-k)
retrieval/1/   retrieval stage alone
ease/1/  mostpop/1/
```
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from recs_ml.artifact import Manifest, write_manifest

MODEL_NAME = "recs-movielens"
MODEL_ORDER = ("tfrs", "retrieval", "ease", "mostpop")


def export_models(
    trained: Any,
    directory: Path,
    data_checksum: str,
    metrics: dict[str, dict[str, float]] | None = None,
    model_name: str = MODEL_NAME,
) -> Manifest:
    """Write every scorer of ``trained`` (a :class:`recs_ml.training.TrainedModels`)."""
    from recs_ml.serving import Recommender

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    names = [name for name in MODEL_ORDER if name in trained.scorers]
    for name in names:
        target = directory / name / "1"
        if target.exists():
            shutil.rmtree(target)
        module = Recommender(
            trained.scorers[name], trained.item_ids, trained.user_histories, name=name
        )
        module.save(str(target))
    manifest = Manifest(
        model_name=model_name,
        default_model=trained.default_model,
        models=names,
        data_checksum=data_checksum,
        hyperparameters={**trained.hyperparameters, "chosen": trained.chosen},
        metrics=metrics if metrics is not None else trained.validation_metrics,
    )
    return write_manifest(directory, manifest)


def load_model(directory: Path, name: str | None = None) -> Any:
    """Load one exported model's ``serving_default`` (plain TensorFlow, no TFRS import)."""
    import tensorflow as tf

    from recs_ml.artifact import read_manifest, unpack, verify

    directory = Path(directory)
    if directory.is_file():
        directory = unpack(directory)
    manifest = verify(directory)
    chosen = name or manifest.default_model
    if chosen not in manifest.models:
        raise ValueError(f"model {chosen!r} is not in this artifact; it has {manifest.models}")
    del read_manifest
    return tf.saved_model.load(str(directory / chosen / "1")).signatures["serving_default"]
