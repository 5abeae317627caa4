"""Pipeline wall time on MovieLens-100K: `recs pipeline run` cold, then again with every step
cached, in a scratch RECS_HOME.

Reference measured in the same run: the start-up cost of one step process (a Python process
importing TensorFlow), which each of the three step processes pays. `--quick` trains the
smallest configuration (1 epoch, 16-d, one EASE lambda, no ranker); the full run uses the
default hyperparameters.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import REPO, argument_parser, markdown_table, write_result

QUICK = {"epochs": "1", "embedding_dim": "16", "ease_lambdas": "500", "ranker": "off"}


STEPS = ("process", "train", "evaluate")


def timed_runs(quick: bool) -> tuple[dict[str, Any], float, dict[str, Any], float]:
    """The pipeline twice on the same RECS_HOME: (cold run, seconds, cached run, seconds)."""
    from recs_ml.pipeline.runner import run_pipeline

    params = dict(QUICK if quick else {})
    # Register whatever trains: the benchmark times the loop, not the model's quality.
    params["baseline"] = "0"
    started = time.perf_counter()
    cold = run_pipeline("ml-100k", params)
    cold_s = time.perf_counter() - started
    started = time.perf_counter()
    cached = run_pipeline("ml-100k", params)
    cached_s = time.perf_counter() - started
    return cold, cold_s, cached, cached_s


def tensorflow_start_seconds() -> float:
    """Wall time of a fresh Python process that imports TensorFlow (each step pays it)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import tensorflow"], check=True, capture_output=True)
    return time.perf_counter() - started


def render_markdown(figures: dict[str, Any]) -> str:
    rows = [
        [run, figures[f"{run}_seconds"], *figures[f"{run}_steps_seconds"].values()]
        for run in ("cold", "cached")
    ]
    return "\n".join(
        [
            "## Pipeline wall time (`recs pipeline run`, MovieLens-100K)",
            "",
            f"Configuration: {figures['configuration']}. Reference: starting one Python "
            "process that imports TensorFlow takes "
            f"{figures['tensorflow_process_start_seconds']:.1f} s (paid by each step).",
            "",
            markdown_table(["run", "total s", "process s", "train s", "evaluate s"], rows),
            ""
            if figures["all_cached"]
            else "\nThe second run was not fully cached: recs_ml's source changed between "
            "the runs (code version is part of every cache key).",
        ]
    )


def main() -> None:
    args = argument_parser(__doc__ or "").parse_args()
    real_home = Path(os.environ.get("RECS_HOME", REPO / ".recs"))
    scratch = Path(tempfile.mkdtemp(prefix="recs-bench-pipeline-"))
    try:
        (scratch / "data").mkdir(parents=True)
        source = real_home / "data" / "ml-100k"
        if not source.is_dir():
            raise SystemExit(f"{source} is missing; run `recs data fetch` first")
        shutil.copytree(source, scratch / "data" / "ml-100k")
        os.environ["RECS_HOME"] = str(scratch)
        from recs_ml.settings import get_settings

        get_settings.cache_clear()
        cold, cold_s, cached, cached_s = timed_runs(args.quick)
        tf_start_s = tensorflow_start_seconds()
        figures = {
            "configuration": "quick" if args.quick else "default hyperparameters",
            "cold_seconds": cold_s,
            "cached_seconds": cached_s,
            "cold_steps_seconds": {s: cold["steps"][s]["seconds"] for s in STEPS},
            "cached_steps_seconds": {s: cached["steps"][s]["seconds"] for s in STEPS},
            "all_cached": all(cached["steps"][s]["cached"] for s in STEPS),
            # Source edits between the runs change the code version and rightly invalidate.
            "code_changed_between_runs": cold["code_version"] != cached["code_version"],
            "tensorflow_process_start_seconds": tf_start_s,
            "tfrs_ndcg@10": cold["model_package"]["evaluation"]["metrics"]["tfrs"]["ndcg@10"],
        }
        markdown = render_markdown(figures)
        write_result("pipeline", figures, markdown)
        print(markdown)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
