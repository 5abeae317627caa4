"""Data sizes: wall time and peak RSS of each pipeline step from 100k to 25M ratings.

Data comes from the synthetic generator (`recs data synth`, fixed seeds) in the shapes of
MovieLens-100K (100k), beer reviews (1.5M ratings, 33k users, 66k items) and MovieLens-25M
(5M/10M/25M ratings over 59k items, users in proportion). Each step runs as its own process
under `/usr/bin/time -v`:

- `synth`: writing the CSV; `process`: `python -m recs_ml.pipeline.steps.process` on it;
- `stream`: the retrieval model trained on the process step's shards streamed with tf.data
  for a fixed number of batches, RSS sampled over time: examples/s and the projected epoch;
- `train` and `evaluate` (sizes up to `--full-up-to`): the real steps, default
  hyperparameters for the size, with `--hp` passed through to training.

Results merge into `results/datasizes.json` cell by cell (size × step), so a long size can be
measured on its own (`--sizes 25M --steps process,stream`). A plot of the growth curve is
written beside RESULTS.md (`datasizes.png`).

    uv run --frozen --no-sync python benchmarks/datasizes.py [--quick] [--sizes 100k,1.5M]
        [--steps synth,process,stream,train,evaluate] [--full-up-to 1.5M] [--hp k=v ...]
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import (
    REPO,
    argument_parser,
    bench_dir,
    markdown_table,
    results_dir,
    rss_bytes,
    write_result,
)

NAME = "datasizes"
# label: (ratings, users, items)
SIZES: dict[str, tuple[int, int, int]] = {
    "100k": (100_000, 943, 1_682),
    "1.5M": (1_500_000, 33_000, 66_000),
    "5M": (5_000_000, 32_400, 59_000),
    "10M": (10_000_000, 64_800, 59_000),
    "25M": (25_000_000, 162_000, 59_000),
}
STEPS = ("synth", "process", "stream", "train", "evaluate", "serve")
SERVE_REQUESTS = 1000
STREAM_BATCHES = 100


def timed(command: list[str], log: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``command`` under /usr/bin/time -v: exit code, wall seconds, peak RSS MB."""
    started = time.perf_counter()
    with open(log, "w") as handle:
        proc = subprocess.run(
            ["/usr/bin/time", "-v", *command],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=REPO,
        )
    wall = time.perf_counter() - started
    text = log.read_text(errors="replace")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    return {
        "exit": proc.returncode,
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(int(peak.group(1)) / 1024, 0) if peak else None,
        "log": str(log),
    }


def stream_probe(data_dir: Path, batches: int, hp_pairs: list[str]) -> dict[str, Any]:
    """In this process: train the retrieval model on streamed shards for ``batches`` batches,
    sampling RSS every second. Prints one JSON line."""
    import numpy as np
    import tensorflow as tf

    from recs_ml.data.processed import read_item_ids, shard_paths
    from recs_ml.data.streaming import streamed_dataset, target_counts
    from recs_ml.models.baselines import Catalog
    from recs_ml.models.hyperparameters import load_hyperparameters
    from recs_ml.models.retrieval import SequenceRetrieval

    started = time.perf_counter()
    samples: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((round(time.perf_counter() - started, 1), round(rss_bytes() / 2**20, 0)))
            done.wait(1.0)

    threading.Thread(target=sample, daemon=True).start()
    paths = shard_paths(data_dir)
    catalog = Catalog(np.asarray(read_item_ids(data_dir), dtype=np.int64))
    counts = target_counts(paths, catalog, without_validation=False)
    examples = int(counts.sum())
    hp = load_hyperparameters(hp_pairs).for_size(examples)
    model = SequenceRetrieval(
        catalog.n,
        hp.embedding_dim,
        hp.history_length,
        np.maximum(counts, 1.0) / counts.sum(),
        dropout=hp.dropout,
    )
    model.compile(optimizer=tf.keras.optimizers.Adam(hp.learning_rate))
    # Repeated: small sizes have fewer batches in an epoch than the probe runs.
    dataset = streamed_dataset(
        paths, catalog, hp.history_length, False, hp.batch_size, hp.seed
    ).repeat()
    warm = 20
    model.fit(dataset.take(warm), verbose=0)
    begin = time.perf_counter()
    model.fit(dataset.skip(warm).take(batches), verbose=0)
    seconds = time.perf_counter() - begin
    done.set()
    rate = batches * hp.batch_size / seconds
    result = {
        "examples_per_epoch": examples,
        "batch_size": hp.batch_size,
        "batches": batches,
        "examples_per_s": round(rate, 0),
        "projected_epoch_min": round(examples / rate / 60, 1),
        "rss_mb_over_time": samples,
        "rss_mb_max": max(mb for _, mb in samples),
    }
    print(json.dumps(result))
    return result


def serve_probe(model_dir: Path, data_dir: Path, requests: int) -> dict[str, Any]:
    """In this process: load the artifact the way the endpoint does (every model, verified,
    warmed up), then answer ``requests`` single-user requests of the default model with real
    train histories; RSS after load and after the requests. Prints one JSON line."""
    import numpy as np

    from recs_ml.data.processed import read_ratings
    from recs_ml.models.evaluation import histories
    from recs_ml.serving.artifact import pack
    from recs_ml.serving.endpoint.model import Batch, load_version

    with tempfile.TemporaryDirectory() as tmp:
        tarball = pack(model_dir, Path(tmp) / "model.tar.gz")
        artifact_mb = tarball.stat().st_size / 2**20
        # The request histories are read before the model, so they are not in the RSS delta.
        train = read_ratings(data_dir / "train" / "ratings.csv")
        known = histories(train)
        users = sorted(known)[:requests]
        rows = [known[u][-50:] for u in users]
        del train, known
        before = rss_bytes() / 2**20
        version = load_version(tarball, Path(tmp) / "loaded", group="bench", version=1)
        after_load = rss_bytes() / 2**20
        latencies = []
        for index in range(requests):
            row = rows[index % len(rows)]
            batch = Batch(
                user_id=np.zeros(1, np.int64),
                history=np.asarray([row], np.int64),
                exclude=np.zeros((1, 1), np.int64),
                k=np.full(1, 10, np.int32),
                columnar=False,
            )
            started = time.perf_counter()
            version.predict(version.default_model, batch)
            latencies.append(time.perf_counter() - started)
        after_requests = rss_bytes() / 2**20
    result = {
        "artifact_mb": round(artifact_mb, 1),
        "rss_mb_before_load": round(before, 0),
        "rss_mb_after_load": round(after_load, 0),
        "rss_mb_after_requests": round(after_requests, 0),
        "requests": requests,
        "p50_ms": round(1000 * float(np.percentile(latencies, 50)), 1),
        "p99_ms": round(1000 * float(np.percentile(latencies, 99)), 1),
    }
    print(json.dumps(result))
    return result


def pipeline_cell(run_dir: Path, time_log: Path, data: str) -> dict[str, Any]:
    """A whole `recs pipeline run` measured under `/usr/bin/time -v` (run by hand, as
    benchmarks/README.md shows): wall time, peak RSS of its largest step, each step's seconds
    and the test-split NDCG@10 of every model from its evaluation.json."""
    record = json.loads((run_dir / "run.json").read_text())
    text = time_log.read_text(errors="replace")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text)
    seconds = 0.0
    if wall:
        for part in wall.group(1).split(":"):
            seconds = seconds * 60 + float(part)
    report = run_dir / "evaluate" / "evaluation" / "evaluation.json"
    evaluation = json.loads(report.read_text()) if report.is_file() else {}
    load = re.search(r"load average: ([\d.]+), ([\d.]+), ([\d.]+)", text)
    return {
        "exit": 0 if record.get("status") == "Succeeded" else 1,
        "status": record.get("status"),
        "wall_s": round(seconds, 1),
        "peak_rss_mb": round(int(peak.group(1)) / 1024, 0) if peak else None,
        "steps_s": {
            name: round(step["seconds"], 1)
            for name, step in record["steps"].items()
            if "seconds" in step
        },
        "hp": [f"{k}={v}" for k, v in record["params"].get("hyperparameters", {}).items()],
        "data": data,
        "load_average_15m": float(load.group(3)) if load else None,
        "metrics": {
            name: values["ndcg@10"] for name, values in evaluation.get("metrics", {}).items()
        },
        "users": evaluation.get("users"),
        "ci95": evaluation.get("sample", {}).get("ci95"),
    }


def load_previous() -> dict[str, Any]:
    path = results_dir() / f"{NAME}.json"
    try:
        return json.loads(path.read_text())["figures"]
    except (OSError, ValueError, KeyError):
        return {"sizes": {}}


def markdown(figures: dict[str, Any]) -> str:
    rows = []
    for label in SIZES:
        cells = figures["sizes"].get(label)
        if not cells:
            continue
        row: list[object] = [label, f"{SIZES[label][0]:,}"]
        for step in ("synth", "process", "train", "evaluate"):
            cell = cells.get(step)
            if not cell:
                row.append("–")
            elif cell["exit"] != 0:
                row.append(f"failed (exit {cell['exit']})")
            else:
                row.append(f"{cell['wall_s']:,.0f} s / {cell['peak_rss_mb']:,.0f} MB")
        stream = cells.get("stream")
        if stream and stream.get("exit", 0) == 0 and "examples_per_s" in stream:
            series = [mb for _, mb in stream.get("rss_mb_over_time", [])]
            # RSS once training runs (second half of the samples): flat means streamed.
            late = series[len(series) // 2 :] or [0]
            row.append(
                f"{stream['examples_per_s']:,.0f} ex/s, epoch ≈ {stream['projected_epoch_min']} "
                f"min; RSS {min(late):,.0f}–{max(late):,.0f} MB while training"
            )
        else:
            row.append("–")
        rows.append(row)
        user = cells.get("process_user_csv")
        if user and user.get("exit") == 0:
            # The same ratings exported as a user would (benchmarks/README.md).
            rows.append(
                [f"{label}, user CSV", f"{SIZES[label][0]:,}", "–",
                 f"{user['wall_s']:,.0f} s / {user['peak_rss_mb']:,.0f} MB", "–", "–", "–"]
            )  # fmt: skip
    text = (
        "## Data sizes\n\nWall time / peak RSS of each step by data size "
        "(synthetic data in the shape of ML-100K, beer reviews and ML-25M; "
        "each step a process under `/usr/bin/time -v`, "
        "2 shared cores).\n\n"
    )
    text += markdown_table(
        ["size", "ratings", "synth", "process", "train", "evaluate", "streamed training"], rows
    )
    quality = {
        label: cells["evaluate"]["metrics"]
        for label, cells in figures["sizes"].items()
        if cells.get("evaluate", {}).get("metrics")
    }
    if quality:
        text += "\n\nTest-split NDCG@10 from the evaluate step (served model vs capped EASE):\n\n"
        text += markdown_table(
            ["size", "served", "EASE (capped)", "MostPop", "served / EASE", "users (sample)"],
            [
                [
                    label,
                    f"{m['tfrs']:.4f}",
                    f"{m['ease']:.4f}",
                    f"{m['mostpop']:.4f}",
                    f"{m['tfrs'] / m['ease']:.2f}×",
                    m.get("users", ""),
                ]
                for label, m in quality.items()
            ],
        )
        for label in quality:
            train = figures["sizes"][label].get("train", {})
            if train.get("hp"):
                text += (
                    f"\n\n{label} trained with `--hp {' '.join(train['hp'])}`"
                    + (f" on {train['data']}" if train.get("data") else "")
                    + "."
                )
    runs = [
        (label, key, cells[key])
        for label, cells in figures["sizes"].items()
        for key in ("pipeline", "pipeline_user_csv")
        if cells.get(key)
    ]
    if runs:
        text += (
            "\n\nThe whole `recs pipeline run` (process → train → evaluate → condition → "
            "register) under `/usr/bin/time -v`; peak RSS is its largest step's; test-split "
            "NDCG@10 from its evaluate step:\n\n"
        )
        text += markdown_table(
            ["size", "data", "status", "wall", "peak RSS", "steps (s)", "served", "EASE",
             "MostPop", "served / EASE", "--param", "load (15 min)"],
            [
                [
                    label,
                    run["data"],
                    run["status"],
                    f"{run['wall_s'] / 60:.1f} min",
                    f"{run['peak_rss_mb']:,.0f} MB",
                    ", ".join(f"{k} {v:,.0f}" for k, v in run["steps_s"].items()),
                    f"{run['metrics'].get('tfrs', float('nan')):.4f}",
                    f"{run['metrics'].get('ease', float('nan')):.4f}",
                    f"{run['metrics'].get('mostpop', float('nan')):.4f}",
                    f"{run['metrics']['tfrs'] / run['metrics']['ease']:.2f}×"
                    if run["metrics"].get("ease")
                    else "–",
                    " ".join(run["hp"]) or "defaults",
                    run.get("load_average_15m") or "",
                ]
                for label, key, run in runs
            ],
        )  # fmt: skip
    served = {
        label: cells["serve"]
        for label, cells in figures["sizes"].items()
        if "rss_mb_after_load" in cells.get("serve", {})
    }
    if served:
        text += (
            "\n\nEndpoint memory: the artifact loaded as the endpoint loads it (every model, "
            "warmed up), then 1,000 single-user requests (budget: 2,048 MB serverless):\n\n"
        )
        text += markdown_table(
            ["size", "artifact", "RSS after load", "after 1,000 requests", "p50", "p99"],
            [
                [
                    label,
                    f"{c['artifact_mb']:,.0f} MB",
                    f"{c['rss_mb_after_load']:,.0f} MB",
                    f"{c['rss_mb_after_requests']:,.0f} MB",
                    f"{c['p50_ms']} ms",
                    f"{c['p99_ms']} ms",
                ]
                for label, c in served.items()
            ],
        )
    text += (
        "\n\nThe machine was shared while measuring (see the load average above): times are "
        "upper bounds; memory is not affected.\n\n![growth curve](datasizes.png)\n\n"
        "Resident memory of the streamed-training probe over time (the same 1-second samples "
        "as the table's RSS column; setup, then the fixed number of batches): it levels off at "
        "the same height for 5M, 10M and 25M ratings.\n\n"
        "![training RSS over time](training_rss.png)\n"
    )
    return text


def plot(figures: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for step in ("synth", "process", "train", "evaluate"):
        points = [
            (SIZES[label][0], cells[step]["wall_s"], cells[step]["peak_rss_mb"])
            for label, cells in figures["sizes"].items()
            if label in SIZES and cells.get(step, {}).get("exit") == 0
        ]
        if points:
            points.sort()
            left.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=step)
            right.plot([p[0] for p in points], [p[2] for p in points], marker="o", label=step)
    for axis, title in ((left, "wall time (s)"), (right, "peak RSS (MB)")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("ratings")
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_training_rss(figures: dict[str, Any], path: Path) -> None:
    """RSS over time of the streamed-training probe, one line per size: flat lines at the
    same height whatever the ratings count is what "memory bounded by design" means."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(8, 4))
    for label in SIZES:
        stream = figures["sizes"].get(label, {}).get("stream", {})
        series = stream.get("rss_mb_over_time") or []
        if stream.get("exit", 0) != 0 or not series:
            continue
        axis.plot(
            [t for t, _ in series],
            [mb for _, mb in series],
            label=f"{label} ratings ({stream['batches']} batches of {stream['batch_size']})",
        )
    axis.set_xlabel("seconds since the training process started")
    axis.set_ylabel("RSS (MB)")
    axis.set_ylim(bottom=0)
    axis.set_title("Streamed training: resident memory over time")
    axis.grid(True, alpha=0.3)
    axis.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_plots(figures: dict[str, Any]) -> None:
    plot(figures, bench_dir() / "datasizes.png")
    plot_training_rss(figures, bench_dir() / "training_rss.png")


def main() -> None:
    parser = argument_parser(__doc__ or "")
    parser.add_argument("--sizes", default="", help=f"comma-separated of {', '.join(SIZES)}")
    parser.add_argument("--steps", default=",".join(STEPS), help="comma-separated steps")
    parser.add_argument("--full-up-to", default="1.5M", help="train/evaluate up to this size")
    parser.add_argument("--hp", action="append", default=[], help="training key=value")
    parser.add_argument("--work", type=Path, default=None, help="keep data here (default tmp)")
    parser.add_argument("--stream-probe", type=Path, default=None, help=argparse_hidden())
    parser.add_argument("--batches", type=int, default=STREAM_BATCHES)
    parser.add_argument("--serve-probe", type=Path, nargs=2, default=None, help=argparse_hidden())
    parser.add_argument(
        "--merge-from",
        type=Path,
        default=None,
        help="add the size × step cells of another datasizes.json (e.g. measured in a "
        "separate run) to the results, then rewrite them; nothing is measured",
    )
    parser.add_argument(
        "--record-pipeline",
        nargs=4,
        metavar=("SIZE", "RUN_DIR", "TIME_LOG", "DATA"),
        default=None,
        help="record a `recs pipeline run` measured by hand under /usr/bin/time -v "
        "(RUN_DIR = RECS_HOME/runs/<id>; DATA describes the input, e.g. the synth command); "
        "add --user-csv when DATA is a user-format CSV",
    )
    parser.add_argument("--user-csv", action="store_true", help=argparse_hidden())
    args = parser.parse_args()
    if args.record_pipeline is not None:
        label, run_dir, time_log, data = args.record_pipeline
        figures = load_previous()
        key = "pipeline_user_csv" if args.user_csv else "pipeline"
        cell = pipeline_cell(Path(run_dir), Path(time_log), data)
        figures["sizes"].setdefault(label, {})[key] = cell
        print(json.dumps(cell))
        write_plots(figures)
        write_result(NAME, figures, markdown(figures))
        return
    if args.merge_from is not None:
        figures = load_previous()
        other = json.loads(args.merge_from.read_text())["figures"]["sizes"]
        for label, cells in other.items():
            figures["sizes"].setdefault(label, {}).update(cells)
        write_plots(figures)
        write_result(NAME, figures, markdown(figures))
        return
    if args.stream_probe is not None:
        stream_probe(args.stream_probe, args.batches, args.hp)
        return
    if args.serve_probe is not None:
        serve_probe(args.serve_probe[0], args.serve_probe[1], SERVE_REQUESTS)
        return
    sizes = [s for s in args.sizes.split(",") if s] or (
        ["100k", "1.5M"] if args.quick else list(SIZES)
    )
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        raise SystemExit(f"unknown size(s) {unknown}; expected {list(SIZES)}")
    steps = [s for s in args.steps.split(",") if s]
    if [s for s in steps if s not in STEPS]:
        raise SystemExit(f"unknown step in {steps}; expected {list(STEPS)}")
    full_limit = SIZES[args.full_up_to][0]
    work = args.work or Path(tempfile.mkdtemp(prefix="recs-bench-datasizes-"))
    work.mkdir(parents=True, exist_ok=True)
    figures = load_previous()
    python = [sys.executable]
    for label in sizes:
        ratings, users, items = SIZES[label]
        cells = figures["sizes"].setdefault(label, {})
        base = work / label
        base.mkdir(exist_ok=True)
        data = base / "ratings.csv"
        processed, model, evaluation = base / "processed", base / "model", base / "evaluation"
        print(f"== {label}: {ratings:,} ratings, {users:,} users, {items:,} items", flush=True)
        if "synth" in steps or not data.is_file():
            cells["synth"] = timed(
                [*python, "-m", "recs_ml.cli.main", "data", "synth", "--ratings", str(ratings),
                 "--users", str(users), "--items", str(items), "--seed", "16",
                 "--output", str(data)],
                base / "synth.log",
            )  # fmt: skip
        if "process" in steps:
            cells["process"] = timed(
                [*python, "-m", "recs_ml.pipeline.steps.process", "--data", str(data), "--no-store",
                 "--output", str(processed)],
                base / "process.log",
            )  # fmt: skip
        if "stream" in steps:
            batches = 50 if args.quick else args.batches
            cell = timed(
                [*python, str(Path(__file__).resolve()), "--stream-probe", str(processed),
                 "--batches", str(batches), *[f"--hp={pair}" for pair in args.hp]],
                base / "stream.log",
            )  # fmt: skip
            lines = [
                line for line in Path(cell["log"]).read_text().splitlines() if line.startswith("{")
            ]
            if cell["exit"] == 0 and lines:
                cell.update(json.loads(lines[-1]))
            cells["stream"] = cell
        if ratings <= full_limit and "train" in steps:
            cells["train"] = timed(
                [*python, "-m", "recs_ml.pipeline.steps.train", "--data-dir", str(processed),
                 "--model-dir", str(model), *[f"--hp={pair}" for pair in args.hp]],
                base / "train.log",
            )  # fmt: skip
            tarball = model / "model.tar.gz"
            size = sum(p.stat().st_size for p in model.rglob("*") if p.is_file())
            cells["train"]["artifact_mb"] = round(size / 2**20, 1) if model.is_dir() else None
            cells["train"]["tarball"] = str(tarball)
            cells["train"]["hp"] = list(args.hp)
        if ratings <= full_limit and "evaluate" in steps:
            cell = timed(
                [*python, "-m", "recs_ml.pipeline.steps.evaluate", "--model-dir", str(model),
                 "--data-dir", str(processed), "--output", str(evaluation)],
                base / "evaluate.log",
            )  # fmt: skip
            report = evaluation / "evaluation.json"
            if cell["exit"] == 0 and report.is_file():
                result = json.loads(report.read_text())
                cell["metrics"] = {
                    name: values["ndcg@10"] for name, values in result["metrics"].items()
                }
                cell["metrics"]["users"] = result["users"]
                cell["ci95"] = result.get("sample", {}).get("ci95")
            cells["evaluate"] = cell
        if ratings <= full_limit and "serve" in steps:
            cell = timed(
                [*python, str(Path(__file__).resolve()), "--serve-probe", str(model),
                 str(processed)],
                base / "serve.log",
            )  # fmt: skip
            lines = [
                line for line in Path(cell["log"]).read_text().splitlines() if line.startswith("{")
            ]
            if cell["exit"] == 0 and lines:
                cell.update(json.loads(lines[-1]))
            cells["serve"] = cell
        summary = {
            step: {k: v for k, v in cell.items() if k != "rss_mb_over_time"}
            for step, cell in cells.items()
        }
        print(json.dumps({label: summary}), flush=True)
        # Written after every size: a long run that is stopped keeps what it measured.
        write_plots(figures)
        write_result(NAME, figures, markdown(figures))


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
