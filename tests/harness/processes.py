"""Processes of the local stack: free ports, environments, HTTP calls, services in their own
process groups, a script stopped as Ctrl-C stops it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WEB = REPO / "packages" / "web"
API = REPO / "packages" / "api"
VITE = WEB / "node_modules" / ".bin" / "vite"
LOOPBACK = "http://127.0.0.1"


class StackError(RuntimeError):
    """The local stack could not be set up or did not come up; the message says why."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def stack_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment for a process of the local stack living in ``home``. The parent's
    RECS_* and AWS_* settings are dropped: they could point it at the developer's stack or
    at an AWS account."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RECS_", "AWS_")) and key != "VITE_API_URL"
    }
    env.update(
        RECS_HOME=str(home),
        AWS_DEFAULT_REGION="us-east-1",
        TF_CPP_MIN_LOG_LEVEL="2",
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


# ------------------------------------------------------------------------------------ HTTP


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Reply:
    """One HTTP request; error statuses are answers, not exceptions."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), error.read())


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def post_json(url: str, payload: Any, timeout: float = 30.0, token: str | None = None) -> Reply:
    headers = {"Content-Type": "application/json", **bearer(token)}
    return call(url, "POST", json.dumps(payload).encode(), headers, timeout)


def http_status(url: str, timeout: float = 5.0) -> int | None:
    """The HTTP status ``url`` answers with, or None when nothing answers."""
    try:
        return call(url, timeout=timeout).status
    except (urllib.error.URLError, OSError):
        return None


# ------------------------------------------------------------------------------- processes


def run_checked(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: Path) -> None:
    """Run a setup command to completion, failing with the end of its log."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as handle:
        handle.write(f"$ {' '.join(argv)}\n".encode())
        handle.flush()
        code = subprocess.call(list(argv), cwd=cwd, env=dict(env), stdout=handle, stderr=handle)
    if code != 0:
        raise StackError(f"{' '.join(argv)} exited {code}; last lines of {log}:\n{tail(log)}")


def tail(log: Path, lines: int = 30) -> str:
    if not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


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

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 180.0, *, wait: bool = True) -> Service:
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
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 180.0) -> None:
        """Until ``ready_url`` answers 2xx; a process that exits or stays silent fails."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = http_status(self.ready_url)
            if status is not None and 200 <= status < 300:
                return
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.5)
        self.stop()
        raise StackError(
            f"{self.name} did not answer 2xx at {self.ready_url} within {timeout:.0f}s; "
            f"last lines of {self.log}:\n{tail(self.log)}"
        )

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash would."""
        process, self.process = self.process, None
        if process is not None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

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


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_interruptible(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: Path
) -> subprocess.Popen[bytes]:
    """Start a script (scripts/demo.sh) in its own session, logging to ``log``, so that
    ``interrupt`` can send it the Ctrl-C of a terminal."""
    with open(log, "wb") as handle:
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # A shell whose SIGINT was ignored on entry cannot trap it; a terminal's would not be.
            preexec_fn=_default_sigint,
        )


def wait_for_output(process: subprocess.Popen[bytes], log: Path, text: str, timeout: float) -> str:
    """The log once ``text`` appears in it; fails if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while text not in (output := log.read_text(errors="replace")):
        if process.poll() is not None:
            raise StackError(f"it exited {process.returncode} (log {log}):\n{output}")
        if time.monotonic() > deadline:
            raise StackError(f"it did not print {text!r} in {timeout:.0f}s (log {log}):\n{output}")
        time.sleep(0.2)
    return output


def interrupt(process: subprocess.Popen[bytes], timeout: float = 90.0) -> int:
    """Ctrl-C to the process group, then its exit code (SIGKILL if it ignores it)."""
    try:
        os.killpg(process.pid, signal.SIGINT)
        return process.wait(timeout)
    except ProcessLookupError:  # it had exited already
        return process.wait()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
