"""The Spark processing engine beside the local one: time, peak RSS, and the same digest.

For each size a generated dataset (``recs data synth``) goes through the process step with
``--engine local`` and ``--engine spark`` (Spark local mode on this machine's cores, driver
heap 2 GB); the peak RSS is the whole process tree's (Python and the Spark JVM), sampled every
0.2 s; ``recs data digest`` of both outputs must be equal.

Full run: 1.5M and 10M ratings. ``--quick``: 300k.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import argument_parser, markdown_table, write_result

SIZES = {"1.5M": (1_500_000, 60_000, 20_000), "10M": (10_000_000, 250_000, 60_000)}
QUICK_SIZES = {"300k": (300_000, 6_000, 4_000)}
DRIVER_MEMORY = "2g"


def tree_rss(pid: int) -> int:
    """RSS in bytes of ``pid`` and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, []))
        try:
            with open(f"/proc/{current}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def run_measured(command: list[str], log: Path) -> tuple[float, int, str]:
    """Wall seconds, peak tree RSS and the last stdout line of ``command``."""
    started = time.perf_counter()
    with open(log, "w") as handle:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=handle)
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_rss(process.pid))
            time.sleep(0.2)
        out = process.stdout.read().decode() if process.stdout else ""
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}); see {log}")
    return seconds, peak, out.strip().splitlines()[-1]


def main() -> None:
    args = argument_parser(__doc__ or "").parse_args()
    sizes = QUICK_SIZES if args.quick else SIZES
    python = [sys.executable, "-m"]
    rows, figures = [], {}
    with tempfile.TemporaryDirectory(prefix="recs-bench-spark-") as scratch:
        base = Path(scratch)
        for label, (ratings, users, items) in sizes.items():
            data = base / f"ratings-{label}.csv"
            subprocess.run(
                [*python, "recs_ml.cli.main", "data", "synth", "--ratings", str(ratings),
                 "--users", str(users), "--items", str(items), "--seed", "7",
                 "--output", str(data)],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            size = {"ratings": ratings, "csv_mb": round(data.stat().st_size / 2**20, 1)}
            result: dict[str, dict[str, object]] = {}
            digests = {}
            for engine in ("local", "spark"):
                out = base / f"{engine}-{label}"
                command = [*python, "recs_ml.pipeline.steps.process", "--no-store",
                           "--engine", engine, "--data", str(data),
                           "--output", str(out)]  # fmt: skip
                if engine == "spark":
                    command += ["--driver-memory", DRIVER_MEMORY]
                seconds, peak, summary = run_measured(command, base / f"{engine}-{label}.log")
                digest = subprocess.run(
                    [*python, "recs_ml.cli.main", "data", "digest", str(out)],
                    check=True, capture_output=True, text=True,
                ).stdout.strip()  # fmt: skip
                digests[engine] = digest
                result[engine] = {
                    "seconds": round(seconds, 1),
                    "peak_rss_mb": round(peak / 2**20),
                    "rows_per_s": round(ratings / seconds),
                    "summary": json.loads(summary),
                }
                print(f"{label} {engine}: {seconds:.1f}s, peak RSS {peak / 2**20:.0f} MB",
                      flush=True)  # fmt: skip
            same = digests["local"] == digests["spark"]
            figures[label] = {**size, **result, "digest": digests["spark"], "same_digest": same}
            for engine in ("local", "spark"):
                entry = result[engine]
                rows.append(
                    [label, engine, entry["seconds"], entry["rows_per_s"], entry["peak_rss_mb"],
                     "yes" if same else "NO"]
                )  # fmt: skip
    markdown = (
        "Process step on generated ratings (CSV in, splits + shards + vocabularies out), "
        f"Spark local mode with a {DRIVER_MEMORY} driver heap. Peak RSS is the whole process "
        "tree (Python + Spark JVM). Times were taken on a shared 2-core machine under load "
        "from other jobs: upper bounds.\n\n"
        + markdown_table(
            ["ratings", "engine", "seconds", "ratings/s", "peak RSS MB", "same digest"], rows
        )
    )
    write_result("spark", figures, markdown)


if __name__ == "__main__":
    main()
