"""Training step:
``python -m recs_ml.pipeline.steps.train --data-dir DIR --model-dir DIR [--hp k=v ...]``.

Hyperparameters come from ``/opt/ml/input/config/hyperparameters.json`` (SageMaker) when it
exists, then ``--hp key=value`` and ``--key value`` arguments override them. Every
hyperparameter and the data are checked before training starts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="recs_ml.pipeline.steps.train", description=__doc__)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train")),
        help="the process step's output (default $SM_CHANNEL_TRAIN)",
    )
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model")),
        help="where the artifact directory is written (default $SM_MODEL_DIR)",
    )
    parser.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--hyperparameters", type=Path, default=None, help="a hyperparameters JSON file"
    )
    args, rest = parser.parse_known_args(argv)
    return args, rest


def extra_pairs(rest: list[str]) -> list[str]:
    """``--epochs 5`` style arguments (SageMaker script mode) as ``epochs=5`` pairs."""
    from recs_ml.models.hyperparameters import HyperparameterError

    pairs = []
    index = 0
    while index < len(rest):
        token = rest[index]
        if not token.startswith("--"):
            raise HyperparameterError(f"unexpected argument {token!r}; use --hp key=value")
        if "=" in token:
            pairs.append(token[2:])
            index += 1
            continue
        if index + 1 >= len(rest):
            raise HyperparameterError(f"{token} has no value")
        pairs.append(f"{token[2:]}={rest[index + 1]}")
        index += 2
    return pairs


def run(
    data_dir: Path, model_dir: Path, pairs: list[str], config: Path | None = None
) -> dict[str, object]:
    """Train and export. With several workers (TF_CONFIG, or SageMaker's SM_HOSTS when it
    lists several instances) the retrieval model trains under MultiWorkerMirroredStrategy;
    the chief (worker 0) writes ``model_dir``, the others a scratch directory."""
    import shutil
    import tempfile

    from recs_ml.models.distributed import (
        multi_worker_strategy,
        tf_config_from_sagemaker,
        worker_count,
    )

    if "TF_CONFIG" not in os.environ and (sagemaker := tf_config_from_sagemaker()):
        os.environ["TF_CONFIG"] = json.dumps(sagemaker)
    workers, index = worker_count()
    # The strategy must exist before any other TensorFlow op.
    strategy = multi_worker_strategy()

    from recs_ml.data.processed import read_processed
    from recs_ml.models.hyperparameters import load_hyperparameters
    from recs_ml.models.training import check_training_data, train_models
    from recs_ml.serving.export import export_models

    hp = load_hyperparameters(pairs, config)
    data = read_processed(data_dir)
    check_training_data(data)
    trained = train_models(data, hp, log=lambda line: print(line, flush=True), strategy=strategy)
    target = model_dir if index == 0 else Path(tempfile.mkdtemp(prefix=f"recs-worker-{index}-"))
    manifest = export_models(trained, target, data.data_checksum)
    if index != 0:
        shutil.rmtree(target, ignore_errors=True)
    return {
        "model_dir": str(model_dir),
        "workers": workers,
        "worker_index": index,
        "models": manifest.models,
        "chosen": trained.chosen,
        "validation": trained.validation_metrics,
        "timings": trained.timings,
    }


def main(argv: list[str] | None = None) -> int:
    from recs_ml.data.datasets import DataError
    from recs_ml.models.distributed import DistributedError
    from recs_ml.models.hyperparameters import HyperparameterError

    args, rest = parse_args(argv)
    try:
        summary = run(
            args.data_dir, args.model_dir, args.hp + extra_pairs(rest), args.hyperparameters
        )
    except (HyperparameterError, DataError, DistributedError) as exc:
        print(f"train: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
