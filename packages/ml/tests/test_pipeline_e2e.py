"""The whole loop with the real step scripts: run → pending → approve → the endpoint serves it.

Trains on a 60-user slice of MovieLens-100K with the smallest configuration; marked slow
because three TensorFlow processes and a server start take minutes on a busy machine.
"""

from __future__ import annotations

import pytest
import requests

from recs_ml.data.datasets import load_dataset
from recs_ml.data.embedded import embedded_is_ready
from recs_ml.ops.registry import PENDING, Registry
from recs_ml.pipeline.runner import run_pipeline
from recs_ml.settings import get_settings, repo_root

FAST = {
    "baseline": "0",  # any positive NDCG registers: this test is about the loop, not quality
    "epochs": "1",
    "embedding_dim": "8",
    "ease_lambdas": "500",
    "ranker": "off",
    "batch_size": "256",
}


@pytest.fixture
def slice_csv(tmp_path):
    real_home = (repo_root() or tmp_path) / ".recs"
    if not embedded_is_ready(real_home):
        pytest.skip("MovieLens-100K is not fetched; run `recs data fetch`")
    ratings = load_dataset("ml-100k", home=real_home).ratings
    path = tmp_path / "ml-slice.csv"
    lines = ["user_id,item_id,rating,timestamp"]
    for u, i, r, t in zip(
        ratings.user_id, ratings.item_id, ratings.rating, ratings.timestamp, strict=True
    ):
        if u <= 60:
            lines.append(f"{u},{i},{r:g},{t}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.slow
def test_run_register_approve_and_serve_with_the_real_steps(slice_csv, tmp_path, monkeypatch):
    from test_endpoint_server import Endpoint

    home = tmp_path / "home"
    monkeypatch.setenv("RECS_HOME", str(home))
    get_settings.cache_clear()
    try:
        record = run_pipeline(str(slice_csv), FAST)
        assert record["status"] == "Succeeded", record
        version = record["model_package"]["version"]
        assert Registry().describe(version).status == PENDING
        evaluation = Registry().describe(version).evaluation
        assert set(evaluation["metrics"]) >= {"tfrs", "ease", "mostpop"}

        endpoint = Endpoint(home, {})
        try:
            assert requests.get(endpoint.url + "/ping", timeout=5).status_code == 503
            approved = endpoint.approve(version)
            assert approved.returncode == 0, approved.stderr
            history = [50, 172, 181]  # Star Wars trilogy
            response = endpoint.invoke(
                {"instances": [{"user_id": 0, "history": history, "exclude": [0], "k": 10}]}
            )
            assert response.status_code == 200, response.text
            assert response.headers["X-Recs-Model-Version"] == str(version)
            (prediction,) = response.json()["predictions"]
            assert len(prediction["item_ids"]) == 10
            assert not set(prediction["item_ids"]) & set(history)
            assert prediction["scores"] == sorted(prediction["scores"], reverse=True)
        finally:
            endpoint.stop()
    finally:
        get_settings.cache_clear()
