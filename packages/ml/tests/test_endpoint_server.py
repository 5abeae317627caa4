"""The real endpoint (`recs serve`: gunicorn, gthread) driven over loopback: the hosting
contract, approval → hot swap under load with zero failed requests, and refused artifacts."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from recs_ml.ops.registry import Registry
from recs_ml.settings import get_settings

ROW = {"instances": [{"user_id": 7, "history": [20, 18], "exclude": [19], "k": 3}]}
# What the tiny artifacts answer for ROW (see test_endpoint_model.build_artifact).
ANSWERS = {1.0: [17, 16, 15], -1.0: [1, 2, 3]}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Endpoint:
    """`recs serve` in its own process on a free loopback port, with its own RECS_HOME."""

    def __init__(self, home: Path, artifacts: dict[float, Path]) -> None:
        self.home = home
        self.artifacts = artifacts
        self.answers: dict[int, list[int]] = {}
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "RECS_HOME": str(home), "RECS_ENDPOINT_URL": self.url}
        self.log = open(home / "endpoint.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "recs_ml.cli.main", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 240  # TensorFlow's import is slow on a busy machine
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (home / "endpoint.log").read_text()
            try:
                requests.get(self.url + "/ping", timeout=2)
                return
            except requests.RequestException:  # bound but still loading in the worker
                time.sleep(0.3)
        raise AssertionError("the endpoint did not start: " + (home / "endpoint.log").read_text())

    def register(self, direction: float) -> int:
        """A new pending version whose default model ranks by ``direction``."""
        version = Registry().register(self.artifacts[direction]).version
        self.answers[version] = ANSWERS[direction]
        return version

    def recs(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "recs_ml.cli.main", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )

    def approve(self, version: int) -> subprocess.CompletedProcess:
        return self.recs("models", "approve", str(version), "--require-deploy")

    def invoke(self, body=ROW, model: str | None = None, session=requests) -> requests.Response:
        headers = {"X-Amzn-SageMaker-Custom-Attributes": f"tfs-model-name={model}"} if model else {}
        return session.post(self.url + "/invocations", json=body, headers=headers, timeout=30)

    def serving_version(self) -> int:
        return int(requests.get(self.url + "/ping", timeout=5).json()["version"])

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory) -> Iterator[Endpoint]:
    """One server for the module: each test registers and approves the versions it needs."""
    from test_endpoint_model import build_artifact

    root = tmp_path_factory.mktemp("endpoint")
    artifacts = {d: build_artifact(root / f"artifact{d}", direction=d) for d in ANSWERS}
    home = root / "home"
    home.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RECS_HOME", str(home))
        get_settings.cache_clear()
        server = Endpoint(home, artifacts)
        try:
            yield server
        finally:
            server.stop()
            get_settings.cache_clear()


def test_nothing_is_served_before_an_approval(endpoint):
    assert Registry().latest_approved() is None
    ping = requests.get(endpoint.url + "/ping", timeout=5)
    assert ping.status_code == 503 and ping.json()["status"] == "no model loaded"
    assert endpoint.invoke().status_code == 503
    version = endpoint.register(1.0)
    pending = requests.post(endpoint.url + "/admin/load", json={"version": version}, timeout=30)
    assert pending.status_code == 409 and "PendingManualApproval" in pending.json()["error"]
    assert requests.get(endpoint.url + "/ping", timeout=5).status_code == 503


def test_approval_hot_swaps_under_load_with_zero_failed_requests(endpoint):
    old, new = endpoint.register(1.0), endpoint.register(-1.0)
    approved = endpoint.approve(old)
    assert approved.returncode == 0, approved.stderr
    assert "deployed" in approved.stdout
    assert endpoint.serving_version() == old

    stop = threading.Event()
    failures: list[str] = []
    seen: list[list[int]] = []

    def client() -> None:
        session = requests.Session()
        versions: list[int] = []
        seen.append(versions)
        deadline = time.monotonic() + 90  # bounded even if the swap never happened
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                response = endpoint.invoke(session=session)
            except requests.RequestException as exc:
                failures.append(repr(exc))
                continue
            if response.status_code != 200:
                failures.append(f"{response.status_code} {response.text}")
                continue
            version = int(response.headers["X-Recs-Model-Version"])
            if response.json()["predictions"][0]["item_ids"] != endpoint.answers[version]:
                failures.append(f"version {version} answered {response.text}")
            versions.append(version)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    swap = endpoint.approve(new)
    time.sleep(1.0)
    stop.set()
    for thread in threads:
        thread.join()

    assert swap.returncode == 0, swap.stderr
    assert failures == []
    total = sum(len(v) for v in seen)
    assert total > 20
    for versions in seen:
        assert versions == sorted(versions)  # never back to the old version after the swap
        assert versions[0] == old and versions[-1] == new
    ping = requests.get(endpoint.url + "/ping", timeout=5).json()
    assert (ping["version"], ping["default_model"]) == (new, "tfrs")


def test_a_corrupted_artifact_is_refused_and_the_previous_version_keeps_serving(endpoint):
    good, bad = endpoint.register(1.0), endpoint.register(-1.0)
    assert endpoint.approve(good).returncode == 0
    tarball = endpoint.home / "models" / "recs-movielens" / str(bad) / "model.tar.gz"
    data = bytearray(tarball.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tarball.write_bytes(bytes(data))

    refused = endpoint.approve(bad)
    assert refused.returncode == 1
    assert f"refused version {bad}" in refused.stderr and "checksum mismatch" in refused.stderr
    response = endpoint.invoke()
    assert response.status_code == 200
    assert response.headers["X-Recs-Model-Version"] == str(good)
    assert response.json()["predictions"][0]["item_ids"] == endpoint.answers[good]

    # A registry record that matches the tampered file still fails the manifest check.
    from recs_ml.data.embedded import sha256_file

    with sqlite3.connect(endpoint.home / "registry.db") as db:
        db.execute(
            "UPDATE model_packages SET sha256 = ? WHERE version = ?", (sha256_file(tarball), bad)
        )
    load = requests.post(endpoint.url + "/admin/load", json={"version": bad}, timeout=60)
    assert load.status_code == 409
    error = load.json()["error"]
    assert str(tarball) in error and load.json()["serving_version"] == good
    assert "manifest" in error or "not a readable model.tar.gz" in error
    assert endpoint.invoke().headers["X-Recs-Model-Version"] == str(good)


def test_the_hosting_contract_over_http(endpoint):
    assert endpoint.approve(endpoint.register(1.0)).returncode == 0

    ping = requests.get(endpoint.url + "/ping", timeout=5)
    assert ping.status_code == 200
    assert (
        ping.json()["models"] == ["ease", "tfrs"] and ping.json()["model_name"] == "recs-movielens"
    )

    default = endpoint.invoke()
    assert default.headers["X-Recs-Model-Name"] == "tfrs"
    ease = endpoint.invoke(model="ease")
    assert ease.headers["X-Recs-Model-Name"] == "ease"
    assert ease.json()["predictions"][0]["item_ids"] == [1, 2, 3]
    columnar = endpoint.invoke(
        {"inputs": {"user_id": [7, 0], "history": [[20], [1]], "exclude": [[0], [0]], "k": [2, 1]}}
    )
    assert columnar.json() == {
        "outputs": {"item_ids": [[19, 18], [20, 19]], "scores": [[19.0, 18.0], [20.0, 19.0]]}
    }

    unknown = endpoint.invoke(model="bpr")
    assert unknown.status_code == 400 and "unknown model 'bpr'" in unknown.json()["error"]
    bad_k = endpoint.invoke({"instances": [{"user_id": 1, "history": [1], "exclude": [0], "k": 0}]})
    assert bad_k.status_code == 400 and "k must be between 1 and 100" in bad_k.json()["error"]
    garbage = requests.post(
        endpoint.url + "/invocations",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert garbage.status_code == 400 and "not valid JSON" in garbage.json()["error"]
    assert requests.get(endpoint.url + "/invocations", timeout=5).status_code == 405
    assert requests.get(endpoint.url + "/nowhere", timeout=5).status_code == 404
