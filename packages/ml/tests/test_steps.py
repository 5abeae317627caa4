"""The pipeline's step scripts and the `recs` model commands, as separate processes."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys

import pytest
from test_models_retrieval import TINY, planted_rows

from recs_ml.cli.main import main
from recs_ml.pipeline.steps import evaluate as evaluate_step
from recs_ml.pipeline.steps import train as train_step

HP = [f"--hp={key}={value}" for key, value in {**TINY, "epochs": 2, "ease_lambdas": "50"}.items()]


def run(*args, env=None, timeout=600):
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    home = tmp_path_factory.mktemp("recs-home")
    return {**os.environ, "RECS_HOME": str(home)}


@pytest.fixture(scope="module")
def ratings_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "planted.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "rating", "timestamp"])
        writer.writerows(planted_rows(users=45))
    return path


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, env, ratings_csv):
    root = tmp_path_factory.mktemp("run")
    steps = {
        "process": ["--data", str(ratings_csv), "--output", str(root / "process")],
        "train": ["--data-dir", str(root / "process"), "--model-dir", str(root / "model"), *HP],
        "evaluate": [
            "--model-dir", str(root / "model"), "--data-dir", str(root / "process"),
            "--output", str(root / "evaluation"),
        ],
    }  # fmt: skip
    # process runs as its own process (as in the pipeline); train and evaluate in-process,
    # since a TensorFlow start per process costs more than the tiny training itself.
    done = run("-m", "recs_ml.pipeline.steps.process", *steps["process"], env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert train_step.main(steps["train"]) == 0
    assert evaluate_step.main(steps["evaluate"]) == 0
    return root


def test_steps_write_contract_outputs(pipeline):
    for name in ("train", "validation", "test"):
        assert (pipeline / "process" / name / "ratings.csv").is_file()
    assert (pipeline / "model" / "manifest.json").is_file()
    report = json.loads((pipeline / "evaluation" / "evaluation.json").read_text())
    assert report["default_model"] == "tfrs" and report["split"] == "test"
    assert report["users"] == 45
    assert set(report["metrics"]) == {"tfrs", "retrieval", "ease", "mostpop"}
    for metrics in report["metrics"].values():
        assert set(metrics) == {"ndcg@10", "recall@10", "hitrate@10", "mrr@10", "coverage"}
    # The planted preference is learnable: the model beats popularity on the test split.
    assert report["metrics"]["tfrs"]["ndcg@10"] > report["metrics"]["mostpop"]["ndcg@10"]
    assert "| tfrs |" in (pipeline / "evaluation" / "evaluation.md").read_text()


def test_recommend_all_users_never_returns_train_items(pipeline, tmp_path, capsys):
    out = tmp_path / "recs.jsonl"
    paths = ["--model-dir", str(pipeline / "model"), "--data-dir", str(pipeline / "process")]
    assert main(["recommend", "--all-users", "--k", "10", "--output", str(out), *paths]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 45
    train = {}
    with open(pipeline / "process" / "train" / "ratings.csv") as handle:
        for row in csv.DictReader(handle):
            train.setdefault(int(row["user_id"]), set()).add(int(row["item_id"]))
    for line in lines:
        assert len(line["items"]) == 10
        assert not set(line["items"]) & train[line["user_id"]]

    capsys.readouterr()
    argv = ["recommend", "--user-id", "3", "--k", "5", "--model", "ease", "--json", *paths]
    assert main(argv) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["model"] == "ease" and len(answer["items"]) == 5
    assert not {item["item_id"] for item in answer["items"]} & train[3]


def test_recommend_rejects_bad_requests(pipeline, capsys):
    paths = ["--model-dir", str(pipeline / "model"), "--data-dir", str(pipeline / "process")]
    assert main(["recommend", "--user-id", "3", "--k", "0", *paths]) == 2
    assert "--k must be between 1 and 100" in capsys.readouterr().err
    assert main(["recommend", "--user-id", "999", *paths]) == 2
    assert "has no ratings in the training data" in capsys.readouterr().err
    assert main(["recommend", "--history", "1,x", *paths]) == 2
    assert "comma-separated item ids" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("hp", "message"),
    [
        ("epochs=abc", "epochs='abc': expected an integer"),
        ("learning_rate=-1", "learning_rate=-1.0 is out of range"),
        ("embeding_dim=8", "unknown hyperparameter 'embeding_dim'"),
        ("ease_lambdas=a,b", "ease_lambdas='a,b'"),
        ("novalue", "expected key=value"),
    ],
)
def test_malformed_hyperparameters_fail_before_training(pipeline, env, tmp_path, hp, message):
    done = run(
        "-m", "recs_ml.pipeline.steps.train", "--data-dir", str(pipeline / "process"),
        "--model-dir", str(tmp_path / "model"), "--hp", hp, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert message in done.stderr
    assert not (tmp_path / "model").exists()
    assert "tensorflow" not in done.stderr.lower()


def test_malformed_data_fails_before_training(env, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,item_id,rating,timestamp\n1,2,5,10\n1,x,4,11\n")
    done = run("-m", "recs_ml.pipeline.steps.process", "--data", str(bad),
               "--output", str(tmp_path / "o"), env=env)  # fmt: skip
    assert done.returncode == 2
    assert "line 3" in done.stderr and "item_id 'x' is not an integer" in done.stderr
    done = run("-m", "recs_ml.pipeline.steps.train", "--data-dir", str(tmp_path / "nothing"),
               "--model-dir", str(tmp_path / "m"), env=env)  # fmt: skip
    assert done.returncode == 2 and "not a process step output" in done.stderr
    assert not (tmp_path / "m").exists()


def test_sagemaker_hyperparameters_json(tmp_path):
    from recs_ml.models.hyperparameters import HyperparameterError, load_hyperparameters

    config = tmp_path / "hyperparameters.json"
    config.write_text(json.dumps({"epochs": "7", "logq": "false", "sagemaker_program": "x"}))
    hp = load_hyperparameters(["epochs=8"], config)
    assert hp.epochs == 8 and hp.logq is False
    config.write_text("[1, 2]")
    with pytest.raises(HyperparameterError, match="expected a JSON object"):
        load_hyperparameters([], config)


@pytest.fixture
def approved_home(pipeline, tmp_path, monkeypatch):
    """A RECS_HOME where the pipeline's artifact is approved version 1 of a recorded run, as
    `recs pipeline run` and `recs models approve 1` leave it; no endpoint is running."""
    from recs_ml.ops.registry import Registry
    from recs_ml.settings import get_settings

    home = tmp_path / "home"
    monkeypatch.setenv("RECS_HOME", str(home))
    monkeypatch.setenv("RECS_ENDPOINT_URL", "http://127.0.0.1:9")
    get_settings.cache_clear()
    run_dir = home / "runs" / "run1"
    run_dir.mkdir(parents=True)
    steps = {"process": {"outputs": {"output": str(pipeline / "process")}}}
    (run_dir / "run.json").write_text(json.dumps({"run_id": "run1", "steps": steps}))
    registry = Registry()
    registry.approve(registry.register(pipeline / "model", run_id="run1").version)
    yield home
    get_settings.cache_clear()


def test_recommend_answers_from_the_approved_version_as_a_table(approved_home, pipeline, capsys):
    assert main(["recommend", "--user-id", "3", "--k", "5", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["model_version"] == 1 and answer["model"] == "tfrs"
    assert answer["model_source"]["data_dir"] == str(pipeline / "process")
    assert len(answer["items"]) == 5
    # The same artifact given by path answers the same.
    paths = ["--model-dir", str(pipeline / "model"), "--data-dir", str(pipeline / "process")]
    assert main(["recommend", "--user-id", "3", "--k", "5", "--json", *paths]) == 0
    assert json.loads(capsys.readouterr().out)["items"] == answer["items"]

    assert main(["recommend", "--user-id", "3", "--k", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert (
        lines[0] == "top-5 for user 3 from recs-movielens/1 (Approved, newest approved), model tfrs"
    )
    header = next(line for line in lines if line.lstrip().startswith("rank"))
    assert header.split() == ["rank", "id", "title", "year", "genres"]
    rows = [line.split() for line in lines if line.strip()[:1].isdigit()]
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5]
    assert [int(r[1]) for r in rows] == [item["item_id"] for item in answer["items"]]


def test_evaluate_scores_the_approved_version_like_the_pipeline_did(
    approved_home, pipeline, capsys
):
    assert main(["evaluate", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    expected = json.loads((pipeline / "evaluation" / "evaluation.json").read_text())
    assert report["metrics"].keys() == expected["metrics"].keys()
    for name, metrics in expected["metrics"].items():
        assert report["metrics"][name] == pytest.approx(metrics)
    written = approved_home / "evaluations" / "recs-movielens" / "1" / "test" / "evaluation.json"
    assert report["written"] == str(written.parent) and written.is_file()
    assert main(["evaluate", "--split", "validation"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("recs-movielens/1 (Approved, newest approved) on the validation")
    assert any(line.split()[:2] == ["tfrs", "(default)"] for line in lines)


def test_a_model_is_never_paired_with_other_data(approved_home, pipeline, tmp_path, capsys):
    other = tmp_path / "other"
    shutil.copytree(pipeline / "process", other)
    (other / "meta" / "data_checksum").write_text("f" * 64 + "\n")
    assert main(["recommend", "--user-id", "3", "--data-dir", str(other)]) == 2
    assert "pass the --data-dir it was trained on" in capsys.readouterr().err
    assert main(["recommend", "--user-id", "3", "--version", "2"]) == 2
    assert "`recs models list`" in capsys.readouterr().err
