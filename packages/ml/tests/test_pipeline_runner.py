"""The local pipeline runner, driven with the contract-shaped fixture step scripts."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

from recs_ml.ops.registry import PENDING, Registry
from recs_ml.pipeline.runner import PipelineFailed, list_runs, read_run, run_pipeline
from recs_ml.settings import get_settings

FIXTURE = Path(__file__).with_name("test_pipeline_fixture_steps.py")
COMMANDS = {step: [sys.executable, str(FIXTURE), step] for step in ("process", "train", "evaluate")}


@pytest.fixture(scope="module")
def tiny_artifact(tmp_path_factory):
    from test_endpoint_model import build_artifact

    return build_artifact(tmp_path_factory.mktemp("tiny") / "artifact")


@pytest.fixture
def home(tmp_path, monkeypatch, tiny_artifact):
    monkeypatch.setenv("RECS_TEST_TINY_ARTIFACT", str(tiny_artifact))
    monkeypatch.setenv("RECS_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


@pytest.fixture
def ratings(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("user_id,item_id,rating,timestamp\n1,2,5,10\n1,3,4,11\n2,2,3,12\n")
    return path


def run(ratings, **params):
    return run_pipeline(str(ratings), {k: str(v) for k, v in params.items()}, commands=COMMANDS)


def test_run_registers_a_pending_version_and_records_every_step(home, ratings):
    record = run(ratings, ndcg=0.3)
    assert record["status"] == "Succeeded"
    steps = record["steps"]
    assert [steps[s]["status"] for s in steps] == ["Succeeded"] * 5
    assert steps["condition"]["reason"] == "tfrs ndcg@10 0.3000 > mostpop 0.1100"
    assert "trained" in Path(steps["train"]["log"]).read_text()
    assert all(steps[s]["seconds"] >= 0 for s in ("process", "train", "evaluate"))
    # SageMaker container paths mapped into the run directory.
    run_dir = home / "runs" / record["run_id"]
    assert (run_dir / "process" / "output" / "train" / "ratings.csv").is_file()
    assert (run_dir / "evaluate" / "evaluation" / "evaluation.json").is_file()
    package = Registry().describe(1)
    assert package.status == PENDING and package.run_id == record["run_id"]
    assert package.evaluation["metrics"]["tfrs"]["ndcg@10"] == 0.3
    assert read_run(record["run_id"])["model_package"]["version"] == 1
    assert [r["run_id"] for r in list_runs()] == [record["run_id"]]


def test_unchanged_inputs_reuse_cached_steps_and_changes_invalidate_downstream(home, ratings):
    first = run(ratings, ndcg=0.3)
    assert not any(first["steps"][s]["cached"] for s in ("process", "train", "evaluate"))
    second = run(ratings, ndcg=0.3)
    assert all(second["steps"][s]["cached"] for s in ("process", "train", "evaluate"))
    assert (
        second["steps"]["train"]["output_checksums"] == first["steps"]["train"]["output_checksums"]
    )
    third = run(ratings, ndcg=0.4)  # a new hyperparameter: process still cached, train re-runs
    assert third["steps"]["process"]["cached"] and not third["steps"]["train"]["cached"]
    with ratings.open("a") as handle:
        handle.write("3,4,5,13\n")
    fourth = run(ratings, ndcg=0.4)  # new data: nothing cached
    assert not fourth["steps"]["process"]["cached"]
    assert [p.version for p in Registry().versions()] == [1, 2, 3, 4]


def test_new_api_ratings_in_the_store_invalidate_processing(home, ratings):
    store = home / "store.db"
    store.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(store) as db:
        db.executescript(
            "CREATE TABLE users (user_id INTEGER PRIMARY KEY, age INTEGER, gender TEXT, "
            "occupation TEXT, source TEXT NOT NULL, created_at INTEGER NOT NULL);"
            "CREATE TABLE ratings (user_id INTEGER NOT NULL, item_id INTEGER NOT NULL, "
            "rating REAL NOT NULL, timestamp INTEGER NOT NULL, source TEXT NOT NULL, "
            "PRIMARY KEY (user_id, item_id));"
        )
    first = run(ratings)
    assert first["params"]["store"] == str(store.resolve())
    with sqlite3.connect(store) as db:
        db.execute("INSERT INTO ratings VALUES (944, 2, 5.0, 99, 'api')")
    second = run(ratings)
    assert not second["steps"]["process"]["cached"]
    assert (
        second["steps"]["process"]["inputs"]["store"]
        != first["steps"]["process"]["inputs"]["store"]
    )


def test_a_failing_step_stops_the_run_with_its_log_and_registers_nothing(home, ratings):
    run(ratings, ndcg=0.3)
    with pytest.raises(PipelineFailed, match=r"step train failed with exit code 3") as failure:
        run(ratings, fail=1)
    assert "training diverged: loss is NaN" in str(failure.value)
    failed = [r for r in list_runs() if r["status"] == "Failed"]
    assert len(failed) == 1
    assert failed[0]["steps"]["train"]["status"] == "Failed"
    assert failed[0]["steps"]["evaluate"]["status"] == "NotStarted"
    assert [p.version for p in Registry().versions()] == [1]


def test_a_model_that_does_not_beat_the_baseline_is_not_registered(home, ratings):
    record = run(ratings, ndcg=0.05)
    assert record["status"] == "Succeeded"
    assert record["steps"]["register"]["status"] == "Skipped"
    assert "tfrs ndcg@10 0.0500 <= mostpop 0.1100" in record["outcome"]
    assert Registry().versions() == []
    # The baseline is a parameter: against EASE even 0.15 falls short.
    assert run(ratings, ndcg=0.15)["steps"]["register"]["status"] == "Succeeded"
    assert run(ratings, ndcg=0.15, baseline="ease")["steps"]["register"]["status"] == "Skipped"


def test_unknown_baseline_and_missing_data_are_clear_errors(home, ratings, tmp_path):
    with pytest.raises(PipelineFailed, match=r"no metrics.popular.ndcg@10"):
        run(ratings, baseline="popular")
    with pytest.raises(PipelineFailed, match="no such file"):
        run_pipeline(str(tmp_path / "missing.csv"), commands=COMMANDS)
    record = json.loads(sorted((home / "runs").glob("*/run.json"))[0].read_text())
    assert record["steps"]["condition"]["status"] == "Failed"


def test_engine_parameter_reaches_the_process_step(home, ratings):
    record = run(ratings, engine="spark")
    processed = Path(record["steps"]["process"]["outputs"]["output"])
    assert (processed / "meta" / "engine").read_text() == "spark"
    assert record["params"]["engine"] == "spark"
    with pytest.raises(PipelineFailed, match="engine='hadoop'"):
        run(ratings, engine="hadoop")
