"""``recs train --workers 1`` vs ``--workers 2`` on ML-100K at the same global batch.

Both runs train the same hyperparameters (``batch_size`` is the global batch: each of two
workers takes half of every step, and the learning rate stays). Figures: the retrieval
model's validation NDCG@10 (best epoch, the training step's own choice) and the final fit's
examples/s from the training log. Two workers on one 2-core machine share those cores, so
examples/s here measures the synchronisation cost, not a cluster's speed-up.

``--quick``: 2 epochs instead of 5.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import argument_parser, markdown_table, write_result

RATE = re.compile(
    r"train retrieval \(final\): ([\d,]+)/[\d,]+ examples \(100%\) ([\d,.]+) examples/s"
)


def final_rate(text: str) -> float | None:
    rates = [float(match.group(2).replace(",", "")) for match in RATE.finditer(text)]
    return rates[-1] if rates else None


def main() -> None:
    args = argument_parser(__doc__ or "").parse_args()
    epochs = 2 if args.quick else 5
    hps = [f"epochs={epochs}", "batch_size=1024", "learning_rate=0.002", "ranker=off"]
    figures: dict[str, object] = {"epochs": epochs, "global_batch": 1024}
    rows = []
    with tempfile.TemporaryDirectory(prefix="recs-bench-workers-") as scratch:
        base = Path(scratch)
        for workers in (1, 2):
            model_dir = base / f"model-{workers}"
            command = [sys.executable, "-m", "recs_ml.cli.main", "train", "--data", "ml-100k",
                       "--no-store", "--json", "--workers", str(workers),
                       "--data-dir", str(base / "data"), "--model-dir", str(model_dir)]  # fmt: skip
            for pair in hps:
                command += ["--hp", pair]
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True)
            seconds = time.perf_counter() - started
            if done.returncode != 0:
                raise SystemExit(f"--workers {workers} failed:\n{done.stderr[-3000:]}")
            summary = json.loads(done.stdout)
            log = done.stderr
            if workers > 1:
                log = (base / f"model-{workers}-workers" / "worker-0.log").read_text()
            by_epoch = summary["chosen"]["validation_ndcg_by_epoch"]
            ndcg = max(float(value) for value in by_epoch.values())
            rate = final_rate(log)
            figures[f"workers_{workers}"] = {
                "validation_ndcg_at_10": round(ndcg, 4),
                "ndcg_by_epoch": by_epoch,
                "examples_per_s": rate,
                "wall_seconds": round(seconds, 1),
            }
            rows.append([workers, f"{ndcg:.4f}", rate, round(seconds)])
            print(f"workers={workers}: ndcg@10 {ndcg:.4f}, {rate} examples/s, {seconds:.0f}s",
                  flush=True)  # fmt: skip
    one, two = (float(row[1]) for row in rows)
    difference = round(abs(two - one) / one, 4)
    figures["relative_ndcg_difference"] = difference
    headers = ["workers", "validation NDCG@10", "examples/s (final fit)", "wall s"]
    markdown = (
        f"ML-100K, retrieval model, {epochs} epochs, global batch 1024, Adam 0.002, both runs "
        "on this one 2-core machine (shared with other jobs: times are upper bounds). "
        f"Validation NDCG@10 differs by {100 * difference:.1f}% (target: within 3%).\n\n"
        + markdown_table(headers, rows)
    )
    write_result("multiworker", figures, markdown)


if __name__ == "__main__":
    main()
