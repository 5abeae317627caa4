"""Export → reload in a fresh process (plain TensorFlow) → the same top-k."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from test_models_retrieval import TINY, planted_data

from recs_ml.models.hyperparameters import Hyperparameters
from recs_ml.models.training import train_models
from recs_ml.serving.artifact import ArtifactError, pack, unpack, verify
from recs_ml.serving.export import export_models
from recs_ml.serving.recommend import load_serving
from recs_ml.serving.signature import Recommender, recommend_batch

USERS = [1, 2, 3, 4, 5, 6]
NEW_HISTORY = [21, 22, 23]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    data = planted_data(users=45)
    trained = train_models(
        data,
        Hyperparameters.parse({**TINY, "epochs": 2, "ease_lambdas": "50", "ranker": "on"}),
        log=lambda _: None,
    )
    directory = tmp_path_factory.mktemp("artifact")
    manifest = export_models(trained, directory, data.data_checksum)
    return trained, directory, manifest


def expected_lists(trained, name):
    module = Recommender(trained.scorers[name], trained.item_ids, trained.user_histories)
    stored = recommend_batch(module.serve, [[] for _ in USERS], 10, user_ids=USERS)
    new = recommend_batch(module.serve, [NEW_HISTORY], 10)
    return stored + new


def test_layout_and_manifest(exported):
    _, directory, manifest = exported
    assert manifest.models == ["tfrs", "retrieval", "ease", "mostpop"]
    assert manifest.default_model == "tfrs"
    for name in manifest.models:
        assert (directory / name / "1" / "saved_model.pb").is_file()
    assert set(manifest.metrics) == set(manifest.models)
    assert 0.0 <= manifest.metrics["tfrs"]["ndcg@10"] <= 1.0
    assert manifest.hyperparameters["embedding_dim"] == TINY["embedding_dim"]
    assert verify(directory).files == manifest.files
    # A catalog below the index threshold serves every model by exact search.
    assert {index["kind"] for index in manifest.indexes.values()} == {"exact"}
    assert set(manifest.indexes) == set(manifest.models)


def test_reload_in_fresh_process_gives_same_topk_without_tfrs(exported, tmp_path):
    trained, directory, manifest = exported
    tarball = pack(directory, tmp_path / "model.tar.gz")
    script = textwrap.dedent(
        f"""
        import json, os, sys
        import tensorflow as tf
        from recs_ml.serving.artifact import unpack
        from recs_ml.serving.signature import recommend_batch
        root = unpack({str(tarball)!r})
        out = {{}}
        for name in {manifest.models!r}:
            serve = tf.saved_model.load(str(root / name / "1")).signatures["serving_default"]
            stored = recommend_batch(serve, [[] for _ in {USERS!r}], 10, user_ids={USERS!r})
            out[name] = stored + recommend_batch(serve, [{NEW_HISTORY!r}], 10)
        out["tfrs_imported"] = "tensorflow_recommenders" in sys.modules
        print(json.dumps(out))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    reloaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert reloaded.pop("tfrs_imported") is False
    for name in manifest.models:
        assert reloaded[name] == expected_lists(trained, name), name


def test_tampered_artifact_is_rejected(exported, tmp_path):
    _, directory, _ = exported
    tarball = pack(directory, tmp_path / "model.tar.gz")
    copy = unpack(tarball, tmp_path / "copy")
    (copy / "ease" / "1" / "saved_model.pb").write_bytes(b"not a model")
    with pytest.raises(ArtifactError, match="checksum mismatch"):
        verify(copy)


def test_above_the_threshold_retrieval_models_search_an_index(exported, tmp_path):
    trained, _, _ = exported
    manifest = export_models(trained, tmp_path, "checksum", index_threshold=1, log=lambda _: None)
    kinds = {name: index["kind"] for name, index in manifest.indexes.items()}
    assert kinds == {"tfrs": "ivf", "retrieval": "ivf", "ease": "exact", "mostpop": "exact"}
    index = manifest.indexes["tfrs"]
    assert index["items"] == len(trained.item_ids)
    assert 1 <= index["nprobe"] <= index["nlist"]
    assert index["tuned_recall"] >= index["target_recall"]
    histories = [trained.user_histories[u] for u in USERS] + [NEW_HISTORY]
    for name in ("tfrs", "retrieval"):
        serve, _ = load_serving(tmp_path, name)
        answers = recommend_batch(serve, histories, 10)
        expected = expected_lists(trained, name)[: len(USERS)] + expected_lists(trained, name)[-1:]
        hits = sum(len(set(a) & set(b)) for a, b in zip(answers, expected, strict=True))
        assert hits / (10 * len(answers)) >= 0.9, name
        for history, answer in zip(histories, answers, strict=True):
            assert len(answer) == 10 and not set(answer) & set(history)
