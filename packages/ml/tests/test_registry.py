"""The SQLite registry: register, approve/reject, events, and concurrent CLI processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from concurrent.futures import ThreadPoolExecutor

import pytest

from recs_ml.ops.registry import (
    APPROVED,
    PENDING,
    REJECTED,
    Registry,
    RegistryError,
    state_change_event,
)
from recs_ml.serving.artifact import ArtifactError, pack
from recs_ml.settings import get_settings


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("RECS_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    """A small artifact whose files need no TensorFlow: the registry only checks checksums."""
    from recs_ml.serving.artifact import Manifest, write_manifest

    root = tmp_path_factory.mktemp("artifact")
    for name in ("tfrs", "mostpop"):
        (root / name / "1" / "variables").mkdir(parents=True)
        (root / name / "1" / "saved_model.pb").write_bytes(name.encode() * 100)
    write_manifest(
        root,
        Manifest(
            model_name="recs-movielens",
            default_model="tfrs",
            models=["tfrs", "mostpop"],
            data_checksum="d" * 64,
            metrics={"tfrs": {"ndcg@10": 0.21}, "mostpop": {"ndcg@10": 0.11}},
        ),
    )
    return root


def test_register_copies_the_verified_artifact_and_numbers_versions(home, artifact, tmp_path):
    registry = Registry()
    first = registry.register(artifact)
    second = registry.register(pack(artifact, tmp_path / "model.tar.gz"), description="from tar")
    assert (first.version, second.version) == (1, 2)
    assert first.status == PENDING and first.metrics["tfrs"]["ndcg@10"] == 0.21
    assert first.tarball == home / "models" / "recs-movielens" / "1" / "model.tar.gz"
    assert first.artifact_uri == f"file://{first.tarball}"
    sidecar = json.loads((first.directory / "manifest.json").read_text())
    assert sidecar["version"] == 1 and sidecar["data_checksum"] == "d" * 64
    with tarfile.open(first.tarball) as archive:
        assert "tfrs/1/saved_model.pb" in archive.getnames()
    assert first.arn == "arn:aws:sagemaker:us-east-1:000000000000:model-package/recs-movielens/1"
    assert second.description == "from tar"
    assert [p.version for p in registry.versions()] == [1, 2]
    assert registry.groups() == ["recs-movielens"]


def test_an_artifact_that_does_not_match_its_manifest_is_not_registered(home, artifact, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(artifact, broken)
    (broken / "tfrs" / "1" / "saved_model.pb").write_bytes(b"tampered")
    registry = Registry()
    with pytest.raises(ArtifactError, match="checksum mismatch"):
        registry.register(broken)
    with pytest.raises(ArtifactError, match="no such artifact"):
        registry.register(tmp_path / "nowhere")
    assert registry.versions() == []
    assert not any((home / "models" / "recs-movielens").iterdir())


def test_approve_and_reject_follow_the_sagemaker_statuses(home, artifact):
    registry = Registry()
    registry.register(artifact)
    registry.register(artifact)
    assert registry.latest_approved() is None
    approved = registry.approve(1, description="looks good")
    assert approved.status == APPROVED and approved.description == "looks good"
    assert approved.updated_at >= approved.created_at
    assert registry.latest_approved().version == 1
    registry.approve(2)
    assert registry.latest_approved().version == 2
    assert registry.reject(2).status == REJECTED
    assert registry.latest_approved().version == 1
    assert [p.version for p in registry.versions(status=APPROVED)] == [1]
    with pytest.raises(RegistryError, match="already Approved"):
        registry.approve(1)
    with pytest.raises(RegistryError, match="does not exist; versions: \\[1, 2\\]"):
        registry.approve(7)
    with pytest.raises(RegistryError, match="unknown status"):
        registry.versions(status="Deployed")
    with pytest.raises(RegistryError, match="must be Approved or Rejected"):
        registry.set_status(1, PENDING)


def test_state_change_event_has_the_eventbridge_shape(home, artifact):
    package = Registry().register(artifact)
    package = Registry().approve(package.version)
    event = state_change_event(package)
    assert event["source"] == "aws.sagemaker"
    assert event["detail-type"] == "SageMaker Model Package State Change"
    assert event["resources"] == [package.arn]
    detail = event["detail"]
    assert detail["ModelPackageGroupName"] == "recs-movielens"
    assert detail["ModelPackageVersion"] == 1
    assert detail["ModelApprovalStatus"] == "Approved"
    assert detail["ModelPackageArn"] == package.arn
    assert detail["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == package.artifact_uri
    assert detail["CreationTime"] == package.created_at
    json.dumps(event)  # serialisable as EventBridge sends it


def _recs(*args, home):
    env = {**os.environ, "RECS_HOME": str(home), "RECS_ENDPOINT_URL": "http://127.0.0.1:9"}
    return subprocess.run(
        [sys.executable, "-m", "recs_ml.cli.main", *args], env=env, capture_output=True, text=True
    )


def test_concurrent_cli_processes_get_distinct_versions_and_consistent_statuses(home, artifact):
    Registry()  # create the database before the race, as `recs` would on first use
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(
            pool.map(lambda _: _recs("models", "register", str(artifact), home=home), range(6))
        )
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    registry = Registry()
    assert [p.version for p in registry.versions()] == [1, 2, 3, 4, 5, 6]
    assert sorted(int(r.stdout.split("/")[1].split()[0]) for r in results) == [1, 2, 3, 4, 5, 6]
    # Approve every version at once (and one twice): each lands exactly once.
    commands = [("approve", v) for v in range(1, 7)] + [("approve", 3)]
    with ThreadPoolExecutor(max_workers=7) as pool:
        outcomes = list(pool.map(lambda c: _recs("models", c[0], str(c[1]), home=home), commands))
    assert sum("is now Approved" in o.stdout for o in outcomes) == 6
    assert sum("already Approved" in o.stderr for o in outcomes) == 1
    assert all(p.status == APPROVED for p in registry.versions())
    # Nobody was deploying: the CLI says so and still exits 0 (the approval stands).
    assert "not deployed" in outcomes[0].stderr


def test_models_cli_lists_and_describes(home, artifact):
    Registry().register(artifact)
    listing = _recs("models", "list", home=home)
    assert listing.returncode == 0
    assert "PendingManualApproval" in listing.stdout and "tfrs 0.2100" in listing.stdout
    described = json.loads(_recs("models", "describe", "1", home=home).stdout)
    assert described["version"] == 1 and described["status"] == PENDING
    missing = _recs("models", "describe", "9", home=home)
    assert missing.returncode == 2 and "recs-movielens/9 does not exist" in missing.stderr


def test_a_failed_deployment_is_recorded_on_the_version_and_cleared_by_a_success(home, artifact):
    Registry().register(artifact)
    approved = _recs("models", "approve", "1", home=home)  # nothing listens on port 9
    assert approved.returncode == 0 and "not deployed" in approved.stderr
    package = Registry().describe(1)
    assert package.deploy_error is not None and "start it with `recs serve`" in package.deploy_error
    described = json.loads(_recs("models", "describe", "1", home=home).stdout)
    assert described["deploy_error"] == package.deploy_error
    assert Registry().record_deployment(1, error=None).deploy_error is None
    assert len(Registry().record_deployment(1, error="x" * 1000).deploy_error) == 256
    with pytest.raises(RegistryError, match="recs-movielens/7 does not exist"):
        Registry().record_deployment(7, error="boom")


def test_a_registry_file_from_before_deploy_records_is_upgraded_in_place(home, artifact):
    import sqlite3

    Registry().register(artifact)
    path = get_settings().registry_path
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE model_packages DROP COLUMN deploy_error")
    upgraded = Registry()
    assert upgraded.describe(1).deploy_error is None
    assert upgraded.record_deployment(1, error="boom").deploy_error == "boom"
