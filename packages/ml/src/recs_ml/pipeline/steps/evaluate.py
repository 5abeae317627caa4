"""Evaluation step: every model of the artifact on the test split, in the same run.

``python -m recs_ml.pipeline.steps.evaluate --model-dir DIR|model.tar.gz --data-dir DIR
--output DIR`` writes ``evaluation.json`` (a SageMaker PropertyFile) and ``evaluation.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

DEFAULT_MAX_USERS = 10_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="recs_ml.pipeline.steps.evaluate", description=__doc__)
    parser.add_argument("--model-dir", type=Path, default=Path("/opt/ml/processing/model"))
    parser.add_argument("--data-dir", type=Path, default=Path("/opt/ml/processing/data"))
    parser.add_argument("--output", type=Path, default=Path("/opt/ml/processing/evaluation"))
    parser.add_argument("--split", choices=("test", "validation"), default="test")
    parser.add_argument(
        "--max-users",
        type=int,
        default=DEFAULT_MAX_USERS,
        help="above this many users, evaluate a fixed-seed sample of this many "
        f"(default {DEFAULT_MAX_USERS}); the report gives the sample size and 95%% intervals",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the user sample")
    args = parser.parse_args(argv)
    if args.max_users < 100:
        parser.error(f"--max-users must be at least 100, got {args.max_users}")
    return args


def resolve_artifact(model_dir: Path) -> Path:
    """A verified artifact directory from a directory, ``model.tar.gz`` or a dir holding one."""
    from recs_ml.serving.artifact import MANIFEST, ArtifactError, unpack, verify

    model_dir = Path(model_dir)
    if model_dir.is_file():
        return unpack(model_dir)
    if not model_dir.is_dir():
        raise ArtifactError(f"{model_dir}: no such model directory or model.tar.gz")
    if not (model_dir / MANIFEST).is_file() and (model_dir / "model.tar.gz").is_file():
        return unpack(model_dir / "model.tar.gz")
    verify(model_dir)
    return model_dir


def evaluate_artifact(
    model_dir: Path,
    data_dir: Path,
    split: str = "test",
    max_users: int | None = DEFAULT_MAX_USERS,
    seed: int = 0,
) -> dict[str, Any]:
    """Metrics of every model in the artifact; known history = train (or fit for validation).

    Every model is measured on the same users: all of them, or above ``max_users`` the same
    fixed-seed sample."""
    import tensorflow as tf

    from recs_ml.data.processed import read_item_ids, read_processed
    from recs_ml.models.evaluation import evaluate_sample
    from recs_ml.progress import progress
    from recs_ml.serving.artifact import read_manifest

    directory = resolve_artifact(model_dir)
    manifest = read_manifest(directory)
    data = read_processed(data_dir)
    known, holdout = (data.train, data.test) if split == "test" else (data.fit, data.validation)
    catalog_size = len(read_item_ids(data_dir))
    metrics = {}
    sample: dict[str, Any] = {}
    with progress("evaluate models", total=len(manifest.models), unit="models") as bar:
        for name in manifest.models:
            loaded = tf.saved_model.load(str(directory / name / "1"))
            serve = loaded.signatures["serving_default"]
            metrics[name], info = evaluate_sample(
                serve, known, holdout, catalog_size, max_users=max_users, seed=seed
            )
            sample.setdefault("ci95", {})[name] = info["ci95"]
            sample.update({key: info[key] for key in ("users", "users_total", "sampled")})
            sample["seed"] = seed
            del loaded, serve
            bar.advance(1)
    return {
        "default_model": manifest.default_model,
        "metrics": metrics,
        "users": sample["users"],
        "sample": sample,
    }


def main(argv: list[str] | None = None) -> int:
    from recs_ml.data.datasets import DataError
    from recs_ml.models.evaluation import write_report
    from recs_ml.serving.artifact import ArtifactError

    args = parse_args(argv)
    try:
        result = evaluate_artifact(
            args.model_dir, args.data_dir, args.split, args.max_users, args.seed
        )
    except (ArtifactError, DataError) as exc:
        print(f"evaluate: error: {exc}", file=sys.stderr)
        return 2
    report = write_report(
        args.output,
        result["metrics"],
        result["default_model"],
        result["users"],
        args.split,
        result["sample"],
    )
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
