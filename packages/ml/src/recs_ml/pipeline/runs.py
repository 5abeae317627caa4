"""One pipeline run's directory and record (``RECS_HOME/runs/<run_id>/run.json``): each step's
status, timing, cache key and log, and the records of past runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recs_ml.pipeline.cache import cache_key, code_version, copy_tree, tree_checksum, write_json
from recs_ml.pipeline.table import STEPS
from recs_ml.settings import get_settings

RUN_RECORD = "run.json"
_COMPLETE = ".complete"

Echo = Callable[[str], None]


class PipelineFailed(RuntimeError):
    """A step failed; the message names it and quotes the end of its log."""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Run:
    """One pipeline run: its directory, record and steps."""

    def __init__(
        self,
        params: dict[str, Any],
        commands: dict[str, list[str]],
        use_cache: bool,
        echo: Echo | None,
    ) -> None:
        settings = get_settings()
        self.run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
        self.directory = settings.runs_dir / self.run_id
        self.cache_dir = settings.home / "cache"
        self.directory.mkdir(parents=True)
        self.commands = commands
        self.use_cache = use_cache
        self.echo = echo or (lambda line: None)
        self.started = time.perf_counter()
        self.record: dict[str, Any] = {
            "run_id": self.run_id,
            "status": "Executing",
            "started_at": _now(),
            "params": params,
            "code_version": code_version(),
            "steps": {name: {"status": "NotStarted"} for name in STEPS},
        }
        self.save()

    def save(self) -> None:
        self.record["seconds"] = round(time.perf_counter() - self.started, 3)
        write_json(self.directory / RUN_RECORD, self.record)

    def step_dir(self, step: str) -> Path:
        return self.directory / step

    def run_step(
        self,
        step: str,
        args: list[str],
        inputs: dict[str, str],
        params: Any,
        outputs: dict[str, Path],
        env: dict[str, str] | None = None,
    ) -> None:
        """Run ``step`` as a process (or reuse its cached outputs) and record how it went."""
        command = self.commands[step]
        key = cache_key(step, command, inputs, params)
        entry = self.record["steps"][step]
        entry.update(
            {"status": "Executing", "started_at": _now(), "cache_key": key, "inputs": inputs}
        )
        self.save()
        started = time.perf_counter()
        cached = self.cache_dir / step / key
        log = self.step_dir(step) / "log.txt"
        log.parent.mkdir(parents=True, exist_ok=True)
        if self.use_cache and (cached / _COMPLETE).is_file():
            for name, target in outputs.items():
                copy_tree(cached / name, target)
            log.write_text(f"reused cached outputs of {cached}\n", encoding="utf-8")
            entry["cached"] = True
            self.echo(f"[{step}] cached ({key[:12]})")
        else:
            self._execute(step, [*command, *args], log, env or {})
            partial = self.cache_dir / step / (key + ".part")
            shutil.rmtree(partial, ignore_errors=True)
            for name, source in outputs.items():
                if not source.exists():
                    self._fail(step, f"step {step} succeeded but wrote no {source}", log)
                copy_tree(source, partial / name)
            (partial / _COMPLETE).write_text(self.run_id, encoding="utf-8")
            shutil.rmtree(cached, ignore_errors=True)
            os.replace(partial, cached)
            entry["cached"] = False
        entry.update(
            {
                "status": "Succeeded",
                "seconds": round(time.perf_counter() - started, 3),
                "log": str(log),
                "outputs": {name: str(path) for name, path in outputs.items()},
                "output_checksums": {name: tree_checksum(p) for name, p in outputs.items()},
            }
        )
        self.save()

    def _execute(self, step: str, argv: list[str], log: Path, env: dict[str, str]) -> None:
        full_env = {
            **os.environ,
            "RECS_HOME": str(get_settings().home),
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.echo(f"[{step}] {' '.join(argv)}")
        with open(log, "w", encoding="utf-8") as handle:
            handle.write("$ " + " ".join(argv) + "\n")
            handle.flush()
            process = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=full_env,
                text=True,
                errors="replace",
            )
            assert process.stdout is not None
            for line in process.stdout:
                handle.write(line)
                self.echo(f"[{step}] {line.rstrip()}")
            code = process.wait()
        self.record["steps"][step]["exit_code"] = code
        if code != 0:
            self._fail(step, f"step {step} failed with exit code {code}", log)

    def _fail(self, step: str, message: str, log: Path) -> None:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        entry = self.record["steps"][step]
        entry.update({"status": "Failed", "log": str(log), "error": message})
        self.finish("Failed", f"{message}; registered models are untouched")
        raise PipelineFailed(
            f"{message} (run {self.run_id}); last lines of {log}:\n" + "\n".join(tail)
        )

    def mark(self, step: str, status: str, **fields: Any) -> None:
        self.record["steps"][step].update({"status": status, **fields})
        self.save()

    def finish(self, status: str, outcome: str) -> None:
        self.record.update({"status": status, "outcome": outcome, "finished_at": _now()})
        self.save()


def list_runs() -> list[dict[str, Any]]:
    runs = []
    for record in sorted(get_settings().runs_dir.glob(f"*/{RUN_RECORD}")):
        try:
            runs.append(json.loads(record.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue
    return runs


def read_run(run_id: str) -> dict[str, Any]:
    path = get_settings().runs_dir / run_id / RUN_RECORD
    if not path.is_file():
        raise FileNotFoundError(f"no pipeline run {run_id!r} in {get_settings().runs_dir}")
    return json.loads(path.read_text(encoding="utf-8"))
