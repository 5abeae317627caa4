"""Evaluation step: every model of the artifact on the test split, in the same run.

``python -m recs_ml.steps.evaluate --model-dir DIR|model.tar.gz --data-dir DIR --output DIR``
writes ``evaluation.json`` (a SageMaker PropertyFile) and ``evaluation.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="recs_ml.steps.evaluate", description=__doc__)
    parser.add_argument("--model-dir", type=Path, default=Path("/opt/ml/processing/model"))
    parser.add_argument("--data-dir", type=Path, default=Path("/opt/ml/processing/data"))
    parser.add_argument("--output", type=Path, default=Path("/opt/ml/processing/evaluation"))
    parser.add_argument("--split", choices=("test", "validation"), default="test")
    return parser.parse_args(argv)


def resolve_artifact(model_dir: Path) -> Path:
    """A verified artifact directory from a directory, ``model.tar.gz`` or a dir holding one."""
    from recs_ml.artifact import MANIFEST, ArtifactError, unpack, verify

    model_dir = Path(model_dir)
    if model_dir.is_file():
        return unpack(model_dir)
    if not model_dir.is_dir():
        raise ArtifactError(f"{model_dir}: no such model directory or model.tar.gz")
    if not (model_dir / MANIFEST).is_file() and (model_dir / "model.tar.gz").is_file():
        return unpack(model_dir / "model.tar.gz")
    verify(model_dir)
    return model_dir


def evaluate_artifact(model_dir: Path, data_dir: Path, split: str = "test") -> dict[str, Any]:
    """Metrics of every model in the artifact; known history = train (or fit for validation)."""
    import tensorflow as tf

    from recs_ml.artifact import read_manifest
    from recs_ml.evaluation import evaluate_serving
    from recs_ml.processing import read_item_ids, read_processed

    directory = resolve_artifact(model_dir)
    manifest = read_manifest(directory)
    data = read_processed(data_dir)
    known, holdout = (data.train, data.test) if split == "test" else (data.fit, data.validation)
    catalog_size = len(read_item_ids(data_dir))
    metrics = {}
    for name in manifest.models:
        serve = tf.saved_model.load(str(directory / name / "1")).signatures["serving_default"]
        metrics[name] = evaluate_serving(serve, known, holdout, catalog_size)
    return {
        "default_model": manifest.default_model,
        "metrics": metrics,
        "users": len(set(holdout.user_id.tolist())),
    }


def main(argv: list[str] | None = None) -> int:
    from recs_ml.artifact import ArtifactError
    from recs_ml.data import DataError
    from recs_ml.evaluation import write_report

    args = parse_args(argv)
    try:
        result = evaluate_artifact(args.model_dir, args.data_dir, args.split)
    except (ArtifactError, DataError) as exc:
        print(f"evaluate: error: {exc}", file=sys.stderr)
        return 2
    report = write_report(
        args.output, result["metrics"], result["default_model"], result["users"], args.split
    )
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
