"""Processes of the local stack for the cross-package tests: ports, environment, services."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WEB = REPO / "packages" / "web"
API = REPO / "packages" / "api"

# A fast but real training run on the full ML-100K: one epoch of a small tower, one EASE
# lambda, no ranker; baseline=0 so the condition step always registers (quality is measured
# by the benchmarks, not here).
FAST_PIPELINE_PARAMS = (
    "epochs=1",
    "embedding_dim=32",
    "history_length=10",
    "batch_size=4096",
    "ranker=off",
    "ease_lambdas=500",
    "baseline=0",
)

# Settings the parent shell may carry that would point a test's processes at the real stack.
_LEAKY = (
    "RECS_ENDPOINT_URL",
    "RECS_ENDPOINT_NAME",
    "RECS_ENDPOINT_PORT",
    "RECS_STORE",
    "RECS_STORE_PATH",
    "RECS_REGISTRY_PATH",
    "RECS_WEB_ORIGIN",
    "RECS_API_PORT",
    "RECS_WEB_PORT",
    "RECS_DEMO_PARAMS",
    "RECS_DEMO_RETRAIN",
    "VITE_API_URL",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def stack_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment for a process of the local stack living in ``home``."""
    env = {key: value for key, value in os.environ.items() if key not in _LEAKY}
    env.update(
        RECS_HOME=str(home),
        TF_CPP_MIN_LOG_LEVEL="2",
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def http_status(url: str, timeout: float = 5.0) -> int | None:
    """The HTTP status ``url`` answers with, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (urllib.error.URLError, OSError):
        return None


def run_checked(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: Path) -> None:
    """Run a setup command to completion, failing with the end of its log."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as handle:
        handle.write(f"$ {' '.join(argv)}\n".encode())
        handle.flush()
        code = subprocess.call(list(argv), cwd=cwd, env=dict(env), stdout=handle, stderr=handle)
    if code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"{' '.join(argv)} exited {code}; last lines of {log}:\n{tail}")


class Service:
    """A long-running process of the stack in its own process group, logging to a file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        log: Path,
        ready_url: str,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.cwd = cwd
        self.env = dict(env)
        self.log = log
        self.ready_url = ready_url
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 180.0) -> Service:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.log, "ab")  # noqa: SIM115 - the child owns it for its lifetime
        handle.write(f"$ {' '.join(self.argv)}\n".encode())
        handle.flush()
        self.process = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = http_status(self.ready_url)
            if status is not None and 200 <= status < 300:
                return
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(
            f"{self.name} did not answer 2xx at {self.ready_url} within {timeout:.0f}s; "
            f"last lines of {self.log}:\n{self.tail()}"
        )

    def tail(self, lines: int = 30) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM the whole process group (uv/npx wrap the real server), SIGKILL if stuck."""
        process, self.process = self.process, None
        if process is None:
            return
        for sig, grace in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(grace)
                _wait_group_gone(process.pid, grace)
                break
            except (subprocess.TimeoutExpired, TimeoutError):
                continue


def _wait_group_gone(pgid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise TimeoutError(f"process group {pgid} still alive")


def link_dataset(source_home: Path, home: Path) -> None:
    """Copy the fetched ML-100K files into ``home`` (a few MB) instead of fetching again."""
    source = source_home / "data" / "ml-100k"
    if not (source / "ml-100k.inter").is_file():
        pytest.fail(f"MovieLens-100K is not in {source}; run scripts/setup.sh first")
    target = home / "data" / "ml-100k"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target, dirs_exist_ok=True)


def approved_is_current(home: Path) -> bool:
    """Does ``home`` hold an approved version trained on this dataset with this code?
    (The same question scripts/demo.sh asks before it skips the pipeline.)"""
    from recs_ml.pipeline.runner import code_version, tree_checksum

    registry = home / "registry.db"
    if not registry.is_file():
        return False
    with sqlite3.connect(registry) as db:
        row = db.execute(
            "SELECT run_id FROM model_packages WHERE approval_status = 'Approved' "
            "ORDER BY version DESC LIMIT 1"
        ).fetchone()
    record = home / "runs" / str(row[0] if row else None) / "run.json"
    if not record.is_file():
        return False
    run = json.loads(record.read_text(encoding="utf-8"))
    data = run.get("steps", {}).get("process", {}).get("inputs", {}).get("data")
    return bool(
        run.get("code_version") == code_version()
        and data == tree_checksum(home / "data" / "ml-100k")
    )


def ensure_trained(home: Path, source_home: Path) -> Path:
    """Make ``home`` hold the dataset, a seeded ratings store and an approved model version
    trained by the real pipeline (fast parameters) on the current data and code."""
    if approved_is_current(home):
        return home
    link_dataset(source_home, home)
    logs = home / "logs"
    # Approval fires the deployer; point it at a closed port so no running endpoint is touched.
    env = stack_env(home, RECS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")
    run_checked(
        [str(BIN / "python"), "-m", "chalicelib.seed"], cwd=API, env=env, log=logs / "seed.log"
    )
    params = [arg for pair in FAST_PIPELINE_PARAMS for arg in ("--param", pair)]
    run_checked(
        [str(BIN / "recs"), "pipeline", "run", *params],
        cwd=REPO,
        env=env,
        log=logs / "pipeline.log",
    )
    with sqlite3.connect(home / "registry.db") as db:
        (version,) = db.execute("SELECT MAX(version) FROM model_packages").fetchone()
    run_checked(
        [str(BIN / "recs"), "models", "approve", str(version), "--description", "test fixture"],
        cwd=REPO,
        env=env,
        log=logs / "approve.log",
    )
    return home
