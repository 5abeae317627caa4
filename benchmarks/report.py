"""Aggregate `results/<name>.json` into RESULTS.md: machine, run status, then each section.

    uv run --frozen --no-sync python benchmarks/report.py \\
        [--since EPOCH] [--status NAME=CODE ...] [--log-dir DIR]

`scripts/bench.sh` passes the exit code of every benchmark it ran (`missing` when
`benchmarks/<name>.py` does not exist), the time the run started (a result file older than
that was not rewritten by this run) and where each benchmark's output was logged, so that a
failure is recorded with the end of its output.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import bench_dir, machine_info, markdown_table, now_iso, results_dir

# bench.sh runs them in this order; the report keeps it, then any others by name
ORDER = (
    "quality", "newusers", "pipeline", "endpoint", "api", "ui", "scale", "datasizes", "spark",
    "multiworker", "demo",
)  # fmt: skip
LOG_TAIL_LINES = 25
EXIT_MEANINGS = {124: "timed out", 137: "killed (out of time or memory)"}


@dataclass
class Entry:
    name: str
    status: str  # "ok", "stale", "failed", "invalid", "missing", "not run"
    detail: str
    result: dict[str, Any] | None
    log_tail: str | None = None


def load_result(path: Path) -> tuple[dict[str, Any] | None, str]:
    """The parsed result, or None and what is wrong with the file."""
    try:
        record = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return None, f"{path.name} is not readable JSON: {error}"
    if not isinstance(record, dict):
        return None, f"{path.name} holds {type(record).__name__}, expected an object"
    problems = []
    if record.get("name") != path.stem:
        problems.append(f"name is {record.get('name')!r}, expected {path.stem!r}")
    if not isinstance(record.get("figures"), dict):
        problems.append("figures is not an object")
    if not isinstance(record.get("markdown"), str) or not record["markdown"].strip():
        problems.append("markdown is missing or empty")
    if problems:
        return None, f"{path.name}: " + "; ".join(problems)
    return record, ""


def parse_statuses(pairs: list[str]) -> dict[str, str]:
    statuses: dict[str, str] = {}
    for pair in pairs:
        name, sep, code = pair.partition("=")
        if not sep or not name or not (code.isdigit() or code == "missing"):
            raise SystemExit(
                f"report.py: --status takes NAME=EXIT_CODE or NAME=missing, got {pair!r}"
            )
        statuses[name] = code
    return statuses


def read_tail(log_dir: Path | None, name: str) -> str | None:
    if log_dir is None:
        return None
    path = log_dir / f"{name}.log"
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return None
    return "\n".join(lines[-LOG_TAIL_LINES:])


def collect(statuses: dict[str, str], since: float | None, log_dir: Path | None) -> list[Entry]:
    folder = results_dir()
    found = {path.stem: path for path in sorted(folder.glob("*.json"))} if folder.is_dir() else {}
    names = [*ORDER, *sorted((set(statuses) | set(found)) - set(ORDER))]
    entries = []
    for name in names:
        path = found.get(name)
        result, problem = load_result(path) if path else (None, "")
        code = statuses.get(name)
        if code == "missing":
            entry = Entry(name, "missing", f"benchmarks/{name}.py does not exist yet", result)
        elif code is not None and code != "0":
            meaning = EXIT_MEANINGS.get(int(code), f"exit code {code}")
            entry = Entry(name, "failed", meaning, result, read_tail(log_dir, name))
        elif path is None:
            detail = f"exited 0 but wrote no results/{name}.json" if code else "no result yet"
            entry = Entry(name, "failed" if code else "not run", detail, None)
        elif result is None:
            entry = Entry(name, "invalid", problem, None, read_tail(log_dir, name))
        elif since is not None and path.stat().st_mtime < since:
            entry = Entry(
                name, "stale", f"results/{name}.json was not rewritten by this run", result
            )
        else:
            entry = Entry(name, "ok", "", result)
        entries.append(entry)
    return entries


def machine_table(machine: dict[str, Any]) -> str:
    memory = machine.get("memory_gib")
    return markdown_table(
        ["cores", "memory", "CPU", "OS", "Python", "NumPy", "TensorFlow", "TFRS", "faiss", "Node"],
        [
            [
                machine.get("cores", "?"),
                f"{memory} GiB" if memory is not None else "?",
                machine.get("cpu", "?"),
                machine.get("os", "?"),
                machine.get("python", "?"),
                machine.get("numpy") or "—",
                machine.get("tensorflow") or "—",
                machine.get("tensorflow_recommenders") or "—",
                machine.get("faiss_cpu") or "—",
                machine.get("node") or "—",
            ]
        ],
    )


def status_cell(entry: Entry) -> str:
    words = {"ok": "ok", "stale": "stale", "failed": "**FAILED**", "invalid": "**INVALID**"}
    text = words.get(entry.status, entry.status)
    return f"{text} ({entry.detail})" if entry.detail else text


def render(entries: list[Entry]) -> str:
    machine = machine_info()
    lines = [
        "# Benchmark results",
        "",
        f"Regenerated {now_iso()} by `benchmarks/report.py` (run everything with "
        "`scripts/bench.sh`; see [README.md](README.md)). Speed figures stand beside a "
        "reference measured in the same run, because this machine is shared and noisy.",
        "",
        "## Machine",
        "",
        machine_table(machine),
        "",
        "## Runs",
        "",
    ]
    rows = []
    for entry in entries:
        result = entry.result or {}
        mode = "—" if not result else ("quick" if result.get("quick") else "full")
        produced = result.get("machine", {}) if isinstance(result.get("machine"), dict) else {}
        load = produced.get("load_average_1m")
        rows.append(
            [
                entry.name,
                status_cell(entry),
                mode,
                result.get("date", "—"),
                load if load is not None else "—",
            ]
        )
    lines += [
        markdown_table(["benchmark", "status", "mode", "measured", "load avg (1 min)"], rows),
        "",
    ]
    for entry in entries:
        if entry.status in ("failed", "invalid"):
            lines += [f"## {entry.name}: {entry.status}", "", f"{entry.detail}."]
            if entry.log_tail:
                lines += ["", "Last lines of its output:", "", "```text", entry.log_tail, "```"]
            if entry.result:
                lines += [
                    "",
                    f"The figures below are from an earlier run ({entry.result['date']}).",
                ]
            lines.append("")
        if entry.result:
            section = entry.result["markdown"].strip()
            if not section.startswith("#"):
                section = f"## {entry.name}\n\n{section}"
            other = _different_machine(entry.result.get("machine"), machine)
            if other:
                section += f"\n\n_Measured on a different machine: {other}._"
            lines += [section, ""]
    return "\n".join(lines).rstrip() + "\n"


def _different_machine(produced: Any, current: dict[str, Any]) -> str:
    if not isinstance(produced, dict):
        return ""
    keys = ("cores", "memory_gib", "cpu")
    if all(produced.get(key) == current.get(key) for key in keys):
        return ""
    return ", ".join(f"{key} {produced.get(key)}" for key in keys)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--status", action="append", default=[], metavar="NAME=CODE")
    parser.add_argument("--since", type=float, help="epoch seconds when the bench run started")
    parser.add_argument("--log-dir", type=Path, help="where bench.sh logged <name>.log")
    args = parser.parse_args(argv)
    statuses = parse_statuses(args.status)
    entries = collect(statuses, args.since, args.log_dir)
    target = bench_dir() / "RESULTS.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(entries))
    for entry in entries:
        print(f"  {entry.name:<10} {status_cell(entry)}")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
