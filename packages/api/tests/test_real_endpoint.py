"""Against the real local endpoint (`recs serve`) loading a registered, approved artifact:
tiny_model.py's SavedModels over the six test movies (``tfrs`` prefers high ids, ``ease`` low)."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from chalice.test import Client
from conftest import body, get, new_user, post

from chalicelib.models_info import model_info
from chalicelib.settings import get_settings

TINY_MODEL = Path(__file__).with_name("tiny_model.py")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def real_endpoint(tmp_path_factory):
    home = tmp_path_factory.mktemp("endpoint-home")
    env = {**os.environ, "RECS_HOME": str(home),
           "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}  # fmt: skip
    subprocess.run(
        [sys.executable, str(TINY_MODEL), str(home / "artifact"), "6"],
        env=env, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    port = _free_port()
    recs = Path(sys.executable).with_name("recs")
    log = open(home / "serve.log", "wb")  # closed once the server stops
    process = subprocess.Popen(
        [str(recs), "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", "4"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(url + "/ping", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log.close()
            raise RuntimeError("recs serve did not start:\n" + (home / "serve.log").read_text())
        time.sleep(0.5)
    yield url, home
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def real_api(home, real_endpoint, monkeypatch):
    url, endpoint_home = real_endpoint
    monkeypatch.setenv("RECS_ENDPOINT_URL", url)
    monkeypatch.setenv("RECS_ENDPOINT_TIMEOUT", "10")
    monkeypatch.setenv("RECS_REGISTRY_PATH", str(endpoint_home / "registry.db"))
    get_settings.cache_clear()
    from app import app

    with Client(app) as client:
        yield client


def test_recommendations_from_the_real_endpoint(real_api) -> None:
    result = body(real_api.http.get("/users/1/recommendations?k=2"))
    assert result["fallback"] is False
    assert result["model"] == {"name": "tfrs", "version": 1, **model_info("tfrs")}
    assert result["movies"] == [6, 5]  # high ids first, user 1's {1, 2, 3} excluded
    # The real SavedModel honours the exclude the filters send: only 4 is a comedy left.
    comedy = body(real_api.http.get("/users/1/recommendations?k=2&genres=Comedy"))
    assert comedy["movies"] == [4]
    assert body(real_api.http.get("/users/1/recommendations?k=1&offset=1"))["movies"] == [5]
    ease = body(real_api.http.get("/users/1/recommendations?k=2&model=ease"))
    assert ease["model"]["name"] == "ease" and ease["movies"] == [4, 5]
    unknown = real_api.http.get("/users/1/recommendations?model=mostpop")
    assert unknown.status_code == 400 and "unknown model" in body(unknown)["error"]["message"]


def test_new_user_history_reaches_the_real_endpoint(real_api) -> None:
    user_id, token = new_user(real_api, {"age": 25})
    post(real_api, f"/users/{user_id}/ratings", {"item_id": 6, "rating": 5}, token=token)
    result = body(get(real_api, f"/users/{user_id}/recommendations?k=3", token))
    assert result["fallback"] is False and result["movies"] == [5, 4, 3]


def test_models_and_health_from_the_real_registry_and_ping(real_api) -> None:
    models = body(real_api.http.get("/models"))
    assert models["endpoint"] == {"status": "ok", "version": 1, "default_model": "tfrs"}
    assert {(m["name"], m["default"], m["metrics"]["ndcg@10"]) for m in models["models"]} == {
        ("tfrs", True, 0.21),
        ("ease", False, 0.19),
    }
    assert [(v["version"], v["status"], v["serving"]) for v in models["versions"]] == [
        (1, "Approved", True)
    ]
    health = body(real_api.http.get("/health"))
    assert health["status"] == "ok" and health["endpoint"]["version"] == 1
    assert json.dumps(health)  # plain JSON all the way
