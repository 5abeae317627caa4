"""Helpers for the hardening suite: the real local stack in a temporary home, HTTP calls.

``recs serve`` (gunicorn + TensorFlow) serves an approved version of a real EASE/MostPop
artifact fitted on MovieLens-100K; ``chalice local`` serves the API over a SQLite store seeded
with the same dataset. Nothing touches the developer's ``RECS_HOME``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
API_DIR = REPO / "packages" / "api"
BIN = Path(sys.executable).parent
ORIGIN = "http://127.0.0.1:4173"
GROUP = "recs-movielens"
ENDPOINT_TIMEOUT = 2.0  # seconds the API waits for the endpoint before its fallback


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    return call(
        url,
        "POST",
        json.dumps(payload).encode(),
        {"Content-Type": "application/json", **bearer(token)},
        timeout,
    )


def wait_until(check: Any, what: str, process: subprocess.Popen | None, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if check():
                return
        except OSError:
            pass
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}; see its log")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready after {seconds:.0f}s")
        time.sleep(0.25)


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@dataclass
class Stack:
    home: Path
    env: dict[str, str]
    endpoint_port: int
    api_port: int
    endpoint: subprocess.Popen | None = None
    api_process: subprocess.Popen | None = None
    logs: list[Any] = field(default_factory=list)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.endpoint_port}"

    @property
    def store_path(self) -> Path:
        return self.home / "store.db"

    @property
    def registry_path(self) -> Path:
        return self.home / "registry.db"

    def _log(self, name: str) -> Any:
        handle = open(self.home / "logs" / f"{name}.log", "ab")  # noqa: SIM115
        self.logs.append(handle)
        return handle

    def start_endpoint(self, wait: bool = True) -> None:
        log = self._log("endpoint")
        self.endpoint = subprocess.Popen(
            [str(BIN / "recs"), "serve", "--port", str(self.endpoint_port), "--threads", "16"],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,  # own process group: a kill takes the worker too
        )
        if wait:
            self.wait_endpoint()

    def wait_endpoint(self, seconds: float = 240) -> None:
        wait_until(
            lambda: call(self.endpoint_url + "/ping", timeout=2).status == 200,
            "recs serve",
            self.endpoint,
            seconds,
        )

    def kill_endpoint(self) -> None:
        """SIGKILL the whole gunicorn tree, as a crash would."""
        assert self.endpoint is not None
        os.killpg(self.endpoint.pid, signal.SIGKILL)
        self.endpoint.wait(timeout=10)

    def start_api(self) -> None:
        log = self._log("api")
        self.api_process = subprocess.Popen(
            [str(BIN / "chalice"), "local", "--no-autoreload", "--host", "127.0.0.1",
             "--port", str(self.api_port)],
            cwd=API_DIR,
            env=self.env,
            stdout=log,
            stderr=log,
        )  # fmt: skip
        wait_until(
            lambda: call(self.api + "/openapi.json", timeout=2).status == 200,
            "chalice local",
            self.api_process,
            120,
        )

    def recs(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "recs"), *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def close(self) -> None:
        stop(self.api_process)
        if self.endpoint is not None and self.endpoint.poll() is None:
            os.killpg(self.endpoint.pid, signal.SIGTERM)
            try:
                self.endpoint.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.endpoint.pid, signal.SIGKILL)
        for handle in self.logs:
            handle.close()


def stack_env(home: Path, endpoint_port: int) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("RECS_") and not key.startswith("AWS_")
    }
    env.update(
        RECS_HOME=str(home),
        RECS_ENDPOINT_URL=f"http://127.0.0.1:{endpoint_port}",
        RECS_ENDPOINT_PORT=str(endpoint_port),
        RECS_ENDPOINT_TIMEOUT=str(ENDPOINT_TIMEOUT),
        RECS_WEB_ORIGIN=ORIGIN,
        RECS_DEPLOY_BACKEND="local",
        RECS_CACHE_SECONDS="5",
        # Every test here calls from 127.0.0.1: the per-client user cap is tested on its own.
        RECS_MAX_USERS_PER_CLIENT_PER_HOUR="100000",
        AWS_DEFAULT_REGION="us-east-1",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONUNBUFFERED="1",
    )
    return env


def dataset_dir() -> Path:
    home = Path(os.environ.get("RECS_HOME") or REPO / ".recs")
    source = home / "data" / "ml-100k"
    if not (source / "ml-100k.inter").is_file():
        pytest.fail(f"MovieLens-100K is not in {source}; run `recs data fetch` (scripts/setup.sh)")
    return source


def cached_artifact(cache_dir: Path) -> Path:
    """The EASE/MostPop artifact, exported once and kept in ``cache_dir`` between sessions."""
    from recs_ml.serving.artifact import ArtifactError, verify

    target = cache_dir / "model"
    try:
        verify(target)
        return target
    except (ArtifactError, OSError):
        shutil.rmtree(target, ignore_errors=True)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    subprocess.run(
        [sys.executable, str(Path(__file__).with_name("build_artifact.py")),
         str(dataset_dir()), str(target)],
        check=True,
        env=env,
        timeout=600,
    )  # fmt: skip
    verify(target)
    return target


def new_user(api: str) -> tuple[int, str]:
    """A new API user: (its id, the token that writes on it)."""
    reply = post_json(api + "/users", {})
    assert reply.status == 201, reply.body
    return int(reply.json()["user_id"]), str(reply.json()["token"])
