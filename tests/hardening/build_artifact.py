"""Export a real model artifact in seconds: EASE and MostPop fitted on all of MovieLens-100K.

The hardening suite serves it from ``recs serve``; it has the exact serving signature and
layout of a pipeline-trained artifact, without minutes of TFRS training.

    python tests/hardening/build_artifact.py DATA_DIR OUTPUT_DIR
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def build(data_dir: Path, output: Path) -> None:
    from recs_ml.data.datasets import load_recbole
    from recs_ml.models.baselines import Catalog, EaseScorer, MostPopScorer, fit_ease
    from recs_ml.serving.export import export_models

    dataset = load_recbole(data_dir)
    ratings = dataset.ratings
    catalog = Catalog(ratings.item_id)
    _, matrix = catalog.interactions(ratings)
    order: dict[int, list[tuple[int, int]]] = {}
    for user, item, stamp in zip(
        ratings.user_id.tolist(), ratings.item_id.tolist(), ratings.timestamp.tolist(), strict=True
    ):
        order.setdefault(int(user), []).append((int(stamp), int(item)))
    histories = {user: [item for _, item in sorted(rows)] for user, rows in order.items()}
    trained = SimpleNamespace(
        scorers={
            "ease": EaseScorer(fit_ease(matrix, 500.0)),
            "mostpop": MostPopScorer(catalog.popularity(ratings)),
        },
        item_ids=catalog.item_ids,
        user_histories=histories,
        default_model="ease",
        hyperparameters={"ease_lambda": 500.0},
        chosen={"ease_lambda": 500.0},
        validation_metrics={},
    )
    export_models(trained, output, data_checksum="ml-100k", metrics={"ease": {"ndcg@10": 0.19}})


if __name__ == "__main__":
    build(Path(sys.argv[1]), Path(sys.argv[2]))
