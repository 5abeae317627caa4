"""A tiny artifact with the exact serving signature, plus the request parsing tests.

``build_artifact`` is imported by the other registry/endpoint/deployer tests: it exports
``tf.Module`` SavedModels that score item ``i`` as ``direction * i`` over a catalog of
``ITEMS`` items, excluding history and ``exclude`` — answers checkable by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recs_ml.serving.artifact import Manifest, write_manifest
from recs_ml.serving.endpoint.model import (
    MAX_K,
    Batch,
    RequestError,
    format_response,
    parse_request,
)

ITEMS = 20


def export_tiny_model(path: Path, direction: float) -> None:
    import tensorflow as tf

    class Tiny(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            self.items = tf.range(1, ITEMS + 1, dtype=tf.int64)
            self.direction = tf.Variable(direction, dtype=tf.float32)

        @tf.function(
            input_signature=[
                tf.TensorSpec([None], tf.int64, name="user_id"),
                tf.TensorSpec([None, None], tf.int64, name="history"),
                tf.TensorSpec([None, None], tf.int64, name="exclude"),
                tf.TensorSpec([None], tf.int32, name="k"),
            ]
        )
        def serve(self, user_id, history, exclude, k):
            batch = tf.shape(user_id)[0]
            scores = tf.cast(self.items, tf.float32)[None, :] * self.direction
            scores = tf.tile(scores, [batch, 1])
            banned = tf.concat([history, exclude], axis=1)
            hit = tf.reduce_any(tf.equal(banned[:, :, None], self.items[None, None, :]), axis=1)
            scores = tf.where(hit, tf.fill(tf.shape(scores), -1e9), scores)
            top = tf.math.top_k(scores, k=tf.reduce_max(k))
            return {"item_ids": tf.gather(self.items, top.indices), "scores": top.values}

    module = Tiny()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})


def build_artifact(root: Path, direction: float = 1.0, ndcg: float = 0.2) -> Path:
    """An artifact directory: ``tfrs`` prefers high ids (times ``direction``), ``ease`` low."""
    root = Path(root)
    export_tiny_model(root / "tfrs" / "1", direction)
    export_tiny_model(root / "ease" / "1", -1.0)
    manifest = Manifest(
        model_name="recs-movielens",
        default_model="tfrs",
        models=["tfrs", "ease"],
        data_checksum="tiny",
        hyperparameters={"direction": direction},
        metrics={"tfrs": {"ndcg@10": ndcg}, "ease": {"ndcg@10": 0.19}},
    )
    write_manifest(root, manifest)
    return root


def test_row_and_columnar_requests_parse_to_the_same_batch():
    rows = parse_request(
        {
            "instances": [
                {"user_id": 3, "history": [181, 258, 0], "exclude": [0], "k": 10},
                {"user_id": 0, "history": [1, 0, 0], "exclude": [5], "k": 2},
            ]
        }
    )
    columns = parse_request(
        {
            "inputs": {
                "user_id": [3, 0],
                "history": [[181, 258, 0], [1, 0, 0]],
                "exclude": [[0], [5]],
                "k": [10, 2],
            }
        }
    )
    for name in ("user_id", "history", "exclude", "k"):
        np.testing.assert_array_equal(getattr(rows, name), getattr(columns, name))
    assert rows.history.dtype == np.int64 and rows.k.dtype == np.int32
    assert rows.history.shape == (2, 3) and not rows.columnar and columns.columnar


def test_responses_follow_tf_serving_row_and_columnar_forms():
    outputs = {"item_ids": np.array([[3, 2]]), "scores": np.array([[0.5, 0.25]], np.float32)}
    row = Batch(np.zeros(1), np.zeros((1, 1)), np.zeros((1, 1)), np.ones(1), columnar=False)
    assert format_response(row, outputs) == {
        "predictions": [{"item_ids": [3, 2], "scores": [0.5, 0.25]}]
    }
    row.columnar = True
    assert format_response(row, outputs) == {
        "outputs": {"item_ids": [[3, 2]], "scores": [[0.5, 0.25]]}
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "exactly one of"),
        ({"instances": [], "inputs": {}}, "exactly one of"),
        ({"instances": []}, "non-empty"),
        ({"instances": [{"user_id": 1, "history": [1], "k": 3}]}, "lacks exclude"),
        ({"instances": [{"user_id": 1, "history": [1], "exclude": [0], "k": 0}]}, "between 1"),
        (
            {"instances": [{"user_id": 1, "history": [1], "exclude": [0], "k": MAX_K + 1}]},
            "between 1",
        ),
        ({"instances": [{"user_id": 1, "history": ["a"], "exclude": [0], "k": 3}]}, "integers"),
        ({"instances": [{"user_id": -1, "history": [1], "exclude": [0], "k": 3}]}, "user_id"),
        (
            {
                "instances": [
                    {"user_id": 1, "history": [1, 2], "exclude": [0], "k": 3},
                    {"user_id": 2, "history": [1], "exclude": [0], "k": 3},
                ]
            },
            "pad them with 0",
        ),
        (
            {"inputs": {"user_id": [1, 2], "history": [[1]], "exclude": [[0]], "k": [3]}},
            "same batch size",
        ),
    ],
)
def test_malformed_requests_are_rejected_with_the_reason(body, message):
    with pytest.raises(RequestError, match=message):
        parse_request(body)


def test_tiny_artifact_answers_by_hand_checkable_top_k(tmp_path):
    from recs_ml.serving.artifact import pack
    from recs_ml.serving.endpoint.model import load_version

    tarball = pack(build_artifact(tmp_path / "a"), tmp_path / "model.tar.gz")
    loaded = load_version(tarball, tmp_path / "loaded", group="g", version=1)
    batch = parse_request(
        {"instances": [{"user_id": 7, "history": [20, 18], "exclude": [19], "k": 3}]}
    )
    assert loaded.predict("tfrs", batch)["item_ids"].tolist() == [[17, 16, 15]]
    assert loaded.predict("ease", batch)["item_ids"].tolist() == [[1, 2, 3]]
    assert loaded.describe()["models"] == ["ease", "tfrs"]


def test_admin_load_is_refused_to_non_loopback_clients(tmp_path, monkeypatch):
    import io
    import json

    from recs_ml.ops.registry import Registry
    from recs_ml.serving.endpoint.app import EndpointApp
    from recs_ml.settings import get_settings

    monkeypatch.setenv("RECS_HOME", str(tmp_path))
    get_settings.cache_clear()
    app = EndpointApp(registry=Registry())
    statuses = []
    body = json.dumps({"version": 1}).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/admin/load",
        "REMOTE_ADDR": "10.0.0.7",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    answer = app(environ, lambda status, headers: statuses.append(status))
    assert statuses == ["403 Forbidden"]
    assert b"loopback only" in b"".join(answer)
    get_settings.cache_clear()


def test_serving_a_version_clears_its_recorded_deploy_failure(tmp_path, monkeypatch):
    """A version approved while no endpoint ran is recorded as not deployed; once the endpoint
    serves it (at start, or on a later load), that record goes."""
    from types import SimpleNamespace

    from recs_ml.ops.registry import Registry
    from recs_ml.serving.endpoint.app import EndpointApp
    from recs_ml.settings import get_settings

    monkeypatch.setenv("RECS_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        registry = Registry()
        version = registry.register(build_artifact(tmp_path / "artifact")).version
        registry.approve(version)
        registry.record_deployment(version, error="the local endpoint is not reachable")
        app = EndpointApp(registry=registry)
        fake = SimpleNamespace(
            directory=tmp_path / "loaded", signatures={"tfrs": None}, load_seconds=0.1
        )
        monkeypatch.setattr(app, "_build", lambda *args: fake)
        assert app.load_latest_approved() is fake
        assert registry.describe(version).deploy_error is None
    finally:
        get_settings.cache_clear()
