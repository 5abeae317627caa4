"""Against the real local endpoint (`recs serve`) loading a registered, approved artifact.

The artifact holds tiny SavedModels with the exact serving signature over the six test movies:
``tfrs`` prefers high ids, ``ease`` low ids, both skipping history and exclusions.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest
from chalice.test import Client
from conftest import body, post

from chalicelib.settings import get_settings

EXPORT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import tensorflow as tf
    from recs_ml.artifact import Manifest, write_manifest
    from recs_ml.registry import Registry

    class Tiny(tf.Module):
        def __init__(self, direction):
            super().__init__()
            self.items = tf.range(1, 7, dtype=tf.int64)
            self.direction = tf.constant(direction, tf.float32)

        @tf.function(input_signature=[
            tf.TensorSpec([None], tf.int64, name="user_id"),
            tf.TensorSpec([None, None], tf.int64, name="history"),
            tf.TensorSpec([None, None], tf.int64, name="exclude"),
            tf.TensorSpec([None], tf.int32, name="k"),
        ])
        def serve(self, user_id, history, exclude, k):
            batch = tf.shape(user_id)[0]
            scores = tf.tile(tf.cast(self.items, tf.float32)[None, :] * self.direction, [batch, 1])
            banned = tf.concat([history, exclude], axis=1)
            hit = tf.reduce_any(tf.equal(banned[:, :, None], self.items[None, None, :]), axis=1)
            scores = tf.where(hit, tf.fill(tf.shape(scores), -1e9), scores)
            top = tf.math.top_k(scores, k=tf.minimum(tf.reduce_max(k), 6))
            return {"item_ids": tf.gather(self.items, top.indices), "scores": top.values}

    root = Path(sys.argv[1])
    for name, direction in (("tfrs", 1.0), ("ease", -1.0)):
        module = Tiny(direction)
        tf.saved_model.save(module, str(root / name / "1"),
                            signatures={"serving_default": module.serve})
    write_manifest(root, Manifest(
        model_name="recs-movielens", default_model="tfrs", models=["tfrs", "ease"],
        data_checksum="tiny", hyperparameters={},
        metrics={"tfrs": {"ndcg@10": 0.21}, "ease": {"ndcg@10": 0.19}}))
    registry = Registry()
    package = registry.register(root)
    registry.approve(package.version)
    print(package.version)
    """
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def real_endpoint(tmp_path_factory):
    home = tmp_path_factory.mktemp("endpoint-home")
    env = {**os.environ, "RECS_HOME": str(home), "TF_USE_LEGACY_KERAS": "1",
           "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}  # fmt: skip
    subprocess.run(
        [sys.executable, "-c", EXPORT, str(home / "artifact")],
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
    assert result["model"] == {"name": "tfrs", "version": 1}
    assert result["movies"] == [6, 5]  # high ids first, user 1's {1, 2, 3} excluded
    ease = body(real_api.http.get("/users/1/recommendations?k=2&model=ease"))
    assert ease["model"]["name"] == "ease" and ease["movies"] == [4, 5]
    unknown = real_api.http.get("/users/1/recommendations?model=mostpop")
    assert unknown.status_code == 400 and "unknown model" in body(unknown)["error"]["message"]


def test_new_user_history_reaches_the_real_endpoint(real_api) -> None:
    user_id = body(post(real_api, "/users", {"age": 25}))["user_id"]
    post(real_api, f"/users/{user_id}/ratings", {"item_id": 6, "rating": 5})
    result = body(real_api.http.get(f"/users/{user_id}/recommendations?k=3"))
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
