"""Helpers shared by every benchmark script: timing, percentiles, machine facts, result files.

A benchmark script lives at `benchmarks/<name>.py`, imports this module (`from common import ...`;
the script's own directory is on `sys.path`), and ends with `write_result(name, figures,
markdown)`, which writes `<bench dir>/results/<name>.json`. The bench dir is `RECS_BENCH_DIR`
when set (tests point it at a tmp dir), else this directory. Benchmarks that start the local
stack do it with the tests' harness, `tests/harness/` (importing this module puts `tests/`
on `sys.path`).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
# The one harness that starts the local stack (tests/harness/) serves the benchmarks too.
if str(REPO / "tests") not in sys.path:
    sys.path.append(str(REPO / "tests"))
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


def bench_dir() -> Path:
    """Where results/ and RESULTS.md go: `RECS_BENCH_DIR`, or benchmarks/ in the repo."""
    configured = os.environ.get("RECS_BENCH_DIR", "").strip()
    return Path(configured).expanduser().resolve() if configured else BENCHMARKS


def results_dir() -> Path:
    return bench_dir() / "results"


def argument_parser(description: str) -> argparse.ArgumentParser:
    """The command line every benchmark shares: `--quick` for a run of a few minutes at most."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="reduced sizes and repetitions so the whole bench suite runs in a few minutes",
    )
    return parser


def percentiles(
    samples: Iterable[float], points: Sequence[float] = (50, 90, 99)
) -> dict[str, float]:
    """Percentiles by linear interpolation between closest ranks (NumPy's default method).

    Returns `{"p50": ..., "p90": ..., "p99": ...}` in the unit of the samples.
    """
    values = sorted(float(value) for value in samples)
    if not values:
        raise ValueError("percentiles() needs at least one sample, got none")
    if any(math.isnan(value) for value in values):
        raise ValueError("percentiles() got a NaN sample; time every call before summarising")
    result: dict[str, float] = {}
    for point in points:
        if not 0 <= point <= 100:
            raise ValueError(f"percentile must be within 0..100, got {point}")
        rank = (len(values) - 1) * point / 100
        low = math.floor(rank)
        high = min(low + 1, len(values) - 1)
        value = values[low] + (values[high] - values[low]) * (rank - low)
        result[f"p{point:g}"] = value
    return result


def time_calls(
    call: Callable[[], object], repeat: int, warmup: int = 1, *, budget_s: float | None = None
) -> list[float]:
    """Wall time in seconds of each of `repeat` calls, after `warmup` untimed ones.

    With `budget_s`, stops early once that many seconds were spent timing (at least one sample).
    """
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, got {repeat}")
    for _ in range(warmup):
        call()
    samples: list[float] = []
    started = time.perf_counter()
    for _ in range(repeat):
        begin = time.perf_counter()
        call()
        samples.append(time.perf_counter() - begin)
        if budget_s is not None and time.perf_counter() - started > budget_s:
            break
    return samples


def rss_bytes() -> int:
    """This process's resident set size now (Linux /proc; 0 where unavailable)."""
    return _proc_status_kib("VmRSS") * 1024


def peak_rss_bytes() -> int:
    """This process's peak resident set size so far (Linux /proc; 0 where unavailable)."""
    return _proc_status_kib("VmHWM") * 1024


def release_freed_memory() -> None:
    """Hand freed heap pages back to the OS (glibc), so RSS deltas measure what is still held."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: RSS deltas may then include memory freed but kept by the allocator


def _proc_status_kib(field: str) -> int:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    match = re.search(rf"^{field}:\s+(\d+)\s+kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _command_version(command: list[str]) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    match = re.search(r"^MemTotal:\s+(\d+)\s+kB", text, re.MULTILINE)
    return round(int(match.group(1)) / 1024**2, 1) if match else None


def machine_info() -> dict[str, Any]:
    """Facts that make two runs comparable: cores, memory, CPU, software versions, date."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cores": usable,
        "memory_gib": _memory_gib(),
        "cpu": _cpu_model(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": _package_version("numpy"),
        "tensorflow": _package_version("tensorflow"),
        "tensorflow_recommenders": _package_version("tensorflow-recommenders"),
        "faiss_cpu": _package_version("faiss-cpu"),
        "node": _command_version(["node", "--version"]),
        # other work on a shared machine skews every timing; this says how busy it was
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "date": now_iso(),
    }


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub-flavoured markdown table; floats keep 4 significant digits."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(cell(h) for h in headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"table row has {len(row)} cells, headers have {len(headers)}: {row}")
        lines.append("| " + " | ".join(cell(value) for value in row) + " |")
    return "\n".join(lines)


def publish(name: str, figures: dict[str, Any], markdown: str) -> Path:
    """``write_result``, then the markdown and where it went on stdout."""
    path = write_result(name, figures, markdown)
    print(markdown)
    print(f"wrote {path}")
    return path


def write_result(
    name: str,
    figures: dict[str, Any],
    markdown: str,
    *,
    quick: bool | None = None,
) -> Path:
    """Write `results/<name>.json` = {name, figures, markdown, machine, quick, date}.

    `quick` defaults to whether `--quick` is on this process's command line.
    """
    if not NAME_PATTERN.match(name):
        raise ValueError(
            f"benchmark name {name!r} must be lowercase letters, digits and underscores "
            "(it names the file results/<name>.json)"
        )
    if not isinstance(figures, dict) or not figures:
        raise ValueError(f"figures for {name!r} must be a non-empty dict, got {figures!r}")
    if not isinstance(markdown, str) or not markdown.strip():
        raise ValueError(f"markdown for {name!r} must be a non-empty string")
    record = {
        "name": name,
        "figures": figures,
        "markdown": markdown.strip() + "\n",
        "machine": machine_info(),
        "quick": bool("--quick" in sys.argv[1:] if quick is None else quick),
        "date": now_iso(),
    }
    try:
        text = json.dumps(record, indent=2, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"figures for {name!r} must be JSON numbers, strings, lists and dicts "
            f"(no NaN/inf, no NumPy scalars: convert with float()/int()): {error}"
        ) from error
    target = results_dir() / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".json.tmp")
    partial.write_text(text + "\n")
    partial.replace(target)  # readers never see a half-written file
    return target
