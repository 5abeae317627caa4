"""Answers of every model in an extracted model.tar.gz, under whatever TensorFlow runs this.

    python scripts/serving_compat.py answer ARTIFACT_DIR OUT.json
    python scripts/serving_compat.py compare EXPECTED.json ACTUAL.json
    python scripts/serving_compat.py indexed OUT.tar.gz [ITEMS]   (needs recs_ml)

`answer` loads each ``<model>/1`` SavedModel with plain ``tf.saved_model.load`` (no recs_ml,
no Keras: what TensorFlow Serving does) and calls its ``serving_default`` signature on fixed
requests, then on requests made of the item ids its own cold-start answer names (so a
catalog without the MovieLens ids is asked about real items too). `compare` exits 1 unless
both files hold the same models with the same item ids and scores within a relative 1e-4.
scripts/serving_compat.sh runs `answer` under this project's TensorFlow and under the
version of the SageMaker TF Serving image, then `compare`. `indexed` exports a synthetic
catalog above the index threshold, so the check covers the IVF path (recs_ml.serving.ann) too.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from pathlib import Path

# (history, exclude, k): a known user's history, an empty one (cold start), an exclusion.
REQUESTS = [
    ([50, 181, 1, 121, 258], [50, 181, 1, 121, 258], 10),
    ([0], [0], 10),
    ([172, 174, 210], [172, 174, 210, 100], 25),
]


def answer(artifact: Path, out: Path) -> int:
    import tensorflow as tf

    manifest = json.loads((artifact / "manifest.json").read_text(encoding="utf-8"))
    models = sorted(manifest["models"])
    answers: dict[str, list[dict[str, list]]] = {}
    for name in models:
        signature = tf.saved_model.load(str(artifact / name / "1")).signatures["serving_default"]
        rows = []

        def ask(
            history: list[int], exclude: list[int], k: int, signature=signature
        ) -> dict[str, list]:
            result = signature(
                user_id=tf.constant([0], tf.int64),
                history=tf.constant([history], tf.int64),
                exclude=tf.constant([exclude], tf.int64),
                k=tf.constant([k], tf.int32),
            )
            return {
                "item_ids": result["item_ids"].numpy()[0].tolist(),
                "scores": [float(s) for s in result["scores"].numpy()[0]],
            }

        for history, exclude, k in REQUESTS:
            rows.append(ask(history, exclude, k))
        known = ask([0], [0], 30)["item_ids"]
        for history, exclude, k in derived_requests(known):
            rows.append(ask(history, exclude, k))
        answers[name] = rows
    record = {"tensorflow": tf.__version__, "models": answers}
    out.write_text(json.dumps(record, indent=1), encoding="utf-8")
    print(f"TensorFlow {tf.__version__}: {len(models)} models answered ({', '.join(models)})")
    return 0


def derived_requests(known: list[int]) -> list[tuple[list[int], list[int], int]]:
    """Requests over ids the model knows: histories of 1 and 3 items, an exclusion."""
    if len(known) < 12:
        return []
    return [
        ([known[0]], [0], 10),
        (known[1:4], known[4:10], 10),
        (known[10:12], [known[0]], 100),
    ]


def indexed(out: Path, items: int) -> int:
    """A model.tar.gz whose models search an IVF index: a synthetic catalog of ``items``."""
    import numpy as np

    from recs_ml.models.training import TrainedModels
    from recs_ml.serving.ann import AverageHistoryScorer
    from recs_ml.serving.artifact import pack
    from recs_ml.serving.export import export_models

    rng = np.random.default_rng(0)
    centres = rng.standard_normal((max(10, items // 500), 32)).astype(np.float32)
    vectors = centres[rng.integers(0, len(centres), items)]
    vectors += 0.3 * rng.standard_normal(vectors.shape).astype(np.float32)
    item_ids = np.arange(1, items + 1, dtype=np.int64) * 3
    stored = {u: rng.choice(item_ids, 3, replace=False).tolist() for u in range(1, 301)}
    scorer = AverageHistoryScorer(vectors, length=3)
    trained = TrainedModels(
        item_ids=item_ids,
        user_histories=stored,
        scorers={"tfrs": scorer, "retrieval": scorer},
        default_model="tfrs",
        hyperparameters={"model": "average-history"},
        chosen={},
        validation_metrics={"tfrs": {}, "retrieval": {}},
    )
    with tempfile.TemporaryDirectory() as scratch:
        manifest = export_models(trained, Path(scratch), "synthetic", index_threshold=1)
        pack(Path(scratch), out)
    print(f"{out}: {items:,} items; indexes {manifest.indexes}")
    return 0


def compare(expected_path: Path, actual_path: Path) -> int:
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    actual = json.loads(actual_path.read_text(encoding="utf-8"))
    versions = f"TensorFlow {expected['tensorflow']} vs {actual['tensorflow']}"
    problems = []
    want_models, got_models = sorted(expected["models"]), sorted(actual["models"])
    if want_models != got_models:
        problems.append(f"models differ: {want_models} vs {got_models}")
    for name in sorted(set(expected["models"]) & set(actual["models"])):
        wanted, answered = expected["models"][name], actual["models"][name]
        if len(wanted) != len(answered):
            problems.append(f"{name}: {len(answered)} answers, expected {len(wanted)}")
            continue
        for number, (want, got) in enumerate(zip(wanted, answered, strict=True), start=1):
            if want["item_ids"] != got["item_ids"]:
                problems.append(f"{name} request {number}: item ids {got['item_ids']}")
            elif len(want["scores"]) != len(got["scores"]) or not all(
                math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-6)
                for a, b in zip(want["scores"], got["scores"], strict=True)
            ):
                problems.append(f"{name} request {number}: scores differ")
    if problems:
        print(f"serving_compat: {versions}: DIFFERENT", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print(f"serving_compat: {versions}: the same top-k for every model and request")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "answer":
        return answer(Path(argv[1]), Path(argv[2]))
    if len(argv) == 3 and argv[0] == "compare":
        return compare(Path(argv[1]), Path(argv[2]))
    if len(argv) in (2, 3) and argv[0] == "indexed":
        return indexed(Path(argv[1]), int(argv[2]) if len(argv) == 3 else 120_000)
    print(
        "usage: serving_compat.py answer ARTIFACT_DIR OUT.json | compare A.json B.json | "
        "indexed OUT.tar.gz [ITEMS]",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
