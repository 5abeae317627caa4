"""Multi-worker training: TF_CONFIG from SageMaker's environment, and a real 2-worker run."""

from __future__ import annotations

import json

import pytest

from recs_ml.models.distributed import (
    DistributedError,
    check_global_batch,
    cluster_config,
    free_ports,
    tf_config_from_sagemaker,
    worker_count,
)


def test_tf_config_from_sagemaker_hosts():
    env = {"SM_HOSTS": '["algo-1", "algo-2", "algo-3"]', "SM_CURRENT_HOST": "algo-2"}
    assert tf_config_from_sagemaker(env) == {
        "cluster": {"worker": ["algo-1:2222", "algo-2:2222", "algo-3:2222"]},
        "task": {"type": "worker", "index": 1},
    }
    chief = tf_config_from_sagemaker({**env, "SM_CURRENT_HOST": "algo-1"}, port=7777)
    assert chief is not None and chief["task"]["index"] == 0
    assert chief["cluster"]["worker"][2] == "algo-3:7777"
    config = tf_config_from_sagemaker(env)
    assert worker_count({"TF_CONFIG": json.dumps(config)}) == (3, 1)


def test_one_instance_or_no_sagemaker_means_no_cluster():
    assert tf_config_from_sagemaker({}) is None
    assert tf_config_from_sagemaker({"SM_HOSTS": '["algo-1"]', "SM_CURRENT_HOST": "algo-1"}) is None
    assert worker_count({}) == (1, 0)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SM_HOSTS": "algo-1,algo-2", "SM_CURRENT_HOST": "algo-1"}, "not a JSON list"),
        ({"SM_HOSTS": '["algo-1", "algo-2"]', "SM_CURRENT_HOST": "algo-9"}, "not one of"),
        ({"SM_HOSTS": '{"a": 1}', "SM_CURRENT_HOST": "a"}, "list of host names"),
    ],
)
def test_bad_sagemaker_environment_is_a_clear_error(env, message):
    with pytest.raises(DistributedError, match=message):
        tf_config_from_sagemaker(env)


def test_global_batch_splits_evenly_and_ports_are_distinct():
    assert check_global_batch(1024, 2) == 512
    with pytest.raises(DistributedError, match="multiple of the 3 workers"):
        check_global_batch(1024, 3)
    with pytest.raises(DistributedError, match="task.index"):
        worker_count({"TF_CONFIG": '{"cluster": {}}'})
    with pytest.raises(DistributedError, match="outside"):
        cluster_config(["127.0.0.1:1"], 1)
    ports = free_ports(3)
    assert len(set(ports)) == 3 and all(port > 0 for port in ports)


def test_two_workers_train_and_the_chief_exports(tmp_path, monkeypatch, capsys):
    from recs_ml.cli.main import main
    from recs_ml.data.synth import SynthConfig, write_synthetic
    from recs_ml.serving.artifact import read_manifest
    from recs_ml.settings import get_settings

    monkeypatch.setenv("RECS_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    data = tmp_path / "ratings.csv"
    write_synthetic(SynthConfig(ratings=3000, users=120, items=150, seed=3), data)
    model_dir = tmp_path / "model"
    hps = ["epochs=1", "batch_size=256", "ranker=off", "ease_lambdas=100", "embedding_dim=8"]
    argv = ["train", "--data", str(data), "--no-store", "--workers", "2", "--json"]
    argv += ["--data-dir", str(tmp_path / "data"), "--model-dir", str(model_dir)]
    for pair in hps:
        argv += ["--hp", pair]
    try:
        assert main(argv) == 0
    finally:
        get_settings.cache_clear()
    summary = json.loads(capsys.readouterr().out)
    assert summary["workers"] == 2 and summary["worker_index"] == 0
    assert read_manifest(model_dir).models  # the chief's artifact, checked against its files
    worker_log = (tmp_path / "model-workers" / "worker-1.log").read_text()
    other = json.loads(next(line for line in worker_log.splitlines() if line.startswith("{")))
    assert other["workers"] == 2 and other["worker_index"] == 1
    assert other["model_dir"] == str(model_dir)
    # Both trained the same replicated model: the same validation choice on each worker.
    assert other["chosen"] == summary["chosen"]
