"""Quality: every model on the evaluation protocol of MovieLens-100K, in the same run.

process → train (TFRS retrieval + ranking, EASE, MostPop; choices on validation) → evaluate on
test, then the artifact's size and the in-process latency of top-10 for one user from the
exported default model. Targets: served NDCG@10 ≥ EASE's (stretch ≥ 1.10×), train + evaluate
within 5 minutes on 2 cores, artifact under 50 MB, top-10 p99 under 5 ms.

    uv run --frozen --no-sync python benchmarks/quality.py [--quick]
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from common import argument_parser, markdown_table, percentiles, time_calls, write_result

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

MB = 1024**2


def top10_latency_ms(root: Path, *, quick: bool) -> dict[str, dict[str, float]]:
    """In-process top-10 latency percentiles (ms) of the exported tfrs and EASE models."""
    import tensorflow as tf

    from recs_ml.data.processed import read_processed
    from recs_ml.models.evaluation import histories

    data = read_processed(root / "data")
    known = histories(data.train)
    user = 3
    history = tf.constant([known[user]], tf.int64)
    latency = {}
    for name in ("tfrs", "ease"):
        serve = tf.saved_model.load(str(root / "model" / name / "1")).signatures["serving_default"]
        request = {
            "user_id": tf.constant([user], tf.int64),
            "history": history,
            "exclude": tf.zeros([1, 1], tf.int64),
            "k": tf.constant([10], tf.int32),
        }
        samples = time_calls(lambda s=serve, r=request: s(**r), 200 if quick else 2000, 20)
        latency[name] = {key: value * 1000 for key, value in percentiles(samples).items()}

    return latency


def render_markdown(
    figures: dict[str, Any], *, artifact_bytes: int, chosen: dict[str, Any], quick: bool
) -> str:
    metrics = figures["metrics"]
    ratio = figures["tfrs_over_ease_ndcg"]
    latency = figures["latency_ms"]
    users = figures["users"]
    names = list(metrics)
    table = markdown_table(
        ["model", "NDCG@10", "Recall@10", "HitRate@10", "MRR@10", "coverage"],
        [
            [name, *(float(metrics[name][m]) for m in
                     ("ndcg@10", "recall@10", "hitrate@10", "mrr@10", "coverage"))]
            for name in names
        ],
    )  # fmt: skip
    total_s = figures["train_plus_evaluate_s"]
    p99 = latency["tfrs"]["p99"]
    targets = markdown_table(
        ["target", "measured", "goal", "met"],
        [
            ["served NDCG@10 / EASE", round(ratio, 3), "≥ 1.0 (stretch 1.10)", ratio >= 1.0],
            ["train + evaluate (s)", round(total_s, 1), "≤ 300", total_s <= 300],
            ["model.tar.gz (MB)", round(artifact_bytes / MB, 2), "< 50", artifact_bytes < 50 * MB],
            ["top-10 p99, tfrs (ms)", round(p99, 2), "< 5", p99 < 5],
        ],
    )  # fmt: skip
    markdown = (
        "## Recommendation quality (MovieLens-100K, test split)\n\n"
        f"{users} users; per-user temporal split, last 20% held out. Chosen on "
        f"validation: EASE λ = {chosen['ease_lambda']:g}, retrieval epochs = "
        f"{chosen['retrieval_epochs']}, ranking stage {'kept' if chosen['ranker'] else 'dropped'}."
        f"{' (--quick: fewer epochs)' if quick else ''}\n\n"
        f"{table}\n\n{targets}\n\n"
        f"Latency in-process, one user, k=10: tfrs p50 {latency['tfrs']['p50']:.2f} ms, "
        f"EASE p50 {latency['ease']['p50']:.2f} ms (shared 2-core machine).\n"
    )
    return markdown


def main() -> None:
    parser = argument_parser(__doc__ or "")
    parser.add_argument("--data", default="ml-100k", help="dataset (default ml-100k)")
    parser.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()

    import numpy as np

    from recs_ml.data.processing import process
    from recs_ml.pipeline.steps.evaluate import evaluate_artifact
    from recs_ml.pipeline.steps.train import run
    from recs_ml.serving.artifact import pack

    pairs = (["epochs=4", "ease_lambdas=200,500"] if args.quick else []) + args.hp
    with tempfile.TemporaryDirectory(prefix="recs-quality-") as tmp:
        root = Path(tmp)
        began = time.perf_counter()
        process(args.data, root / "data", store=None)
        process_s = time.perf_counter() - began

        began = time.perf_counter()
        trained = run(root / "data", root / "model", pairs)
        train_s = time.perf_counter() - began

        began = time.perf_counter()
        result = evaluate_artifact(root / "model", root / "data")
        evaluate_s = time.perf_counter() - began

        tarball = pack(root / "model", root / "model.tar.gz")
        artifact_bytes = tarball.stat().st_size
        directory_bytes = sum(p.stat().st_size for p in (root / "model").rglob("*") if p.is_file())

        latency = top10_latency_ms(root, quick=args.quick)

    metrics = result["metrics"]
    ratio = metrics["tfrs"]["ndcg@10"] / metrics["ease"]["ndcg@10"]
    figures = {
        "metrics": metrics,
        "validation_metrics": trained["validation"],
        "chosen": trained["chosen"],
        "tfrs_over_ease_ndcg": ratio,
        "process_s": process_s,
        "train_s": train_s,
        "evaluate_s": evaluate_s,
        "train_plus_evaluate_s": train_s + evaluate_s,
        "artifact_targz_mb": artifact_bytes / MB,
        "artifact_dir_mb": directory_bytes / MB,
        "latency_ms": latency,
        "users": result["users"],
    }
    markdown = render_markdown(
        figures, artifact_bytes=artifact_bytes, chosen=trained["chosen"], quick=args.quick
    )
    path = write_result("quality", figures, markdown)
    print(markdown)
    print(f"written: {path}")
    del np


if __name__ == "__main__":
    main()
