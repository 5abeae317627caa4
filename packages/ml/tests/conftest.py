"""Fixtures every recs_ml test file may use: an empty RECS_HOME, a small registrable artifact."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The package sets TF_USE_LEGACY_KERAS: import it before any test module imports TensorFlow.
import recs_ml  # noqa: E402, F401


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty RECS_HOME whose endpoint URL points at a port nothing listens on."""
    from recs_ml.settings import get_settings

    monkeypatch.setenv("RECS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RECS_ENDPOINT_URL", "http://127.0.0.1:9")
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
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
