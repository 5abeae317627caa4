"""scripts/serving_compat.sh: an artifact's answers under two TensorFlow installs, compared.

CI has one TensorFlow, so the "other" Python is this one (RECS_COMPAT_PYTHON): the run must
agree with itself, and a changed answer must be reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from services import REPO

COMPAT = REPO / "scripts" / "serving_compat.py"


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory, recs_home: Path) -> Path:
    data = recs_home / "data" / "ml-100k"
    if not (data / "ml-100k.inter").is_file():
        pytest.fail(f"MovieLens-100K is not in {data}; run scripts/setup.sh")
    root = tmp_path_factory.mktemp("compat")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    builder = REPO / "tests" / "hardening" / "build_artifact.py"
    subprocess.run(
        [sys.executable, str(builder), str(data), str(root / "model")],
        check=True, env=env, timeout=600,
    )  # fmt: skip
    path = root / "model.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for child in sorted((root / "model").iterdir()):
            archive.add(child, arcname=child.name)
    return path


def test_an_artifact_answers_the_same_under_both_pythons(tarball: Path):
    env = {**os.environ, "RECS_COMPAT_PYTHON": sys.executable, "RECS_TFS_VERSION": "2.19"}
    done = subprocess.run(
        ["bash", "scripts/serving_compat.sh", str(tarball)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 models answered (ease, mostpop)" in done.stdout
    assert "the same top-k for every model and request" in done.stdout


def _answers(tmp_path: Path, tarball: Path) -> Path:
    artifact = tmp_path / "artifact"
    with tarfile.open(tarball) as archive:
        archive.extractall(artifact, filter="data")
    out = tmp_path / "answers.json"
    done = subprocess.run(
        [sys.executable, str(COMPAT), "answer", str(artifact), str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


def _compare(expected: Path, actual: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(COMPAT), "compare", str(expected), str(actual)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_a_changed_answer_is_reported(tmp_path: Path, tarball: Path):
    expected = _answers(tmp_path, tarball)
    answers = json.loads(expected.read_text())
    # The fixed requests, then those derived from the model's own item ids (k 10, 10, 100).
    assert [len(row["item_ids"]) for row in answers["models"]["ease"]] == [10, 10, 25, 10, 10, 100]
    answers["tensorflow"] = "2.19.1"

    swapped = json.loads(json.dumps(answers))
    ids = swapped["models"]["ease"][0]["item_ids"]
    ids[0], ids[1] = ids[1], ids[0]
    (tmp_path / "swapped.json").write_text(json.dumps(swapped))
    done = _compare(expected, tmp_path / "swapped.json")
    assert done.returncode == 1
    assert "vs 2.19.1: DIFFERENT" in done.stderr and "ease request 1: item ids" in done.stderr

    drifted = json.loads(json.dumps(answers))
    drifted["models"]["mostpop"][2]["scores"][3] *= 1.01
    (tmp_path / "drifted.json").write_text(json.dumps(drifted))
    done = _compare(expected, tmp_path / "drifted.json")
    assert done.returncode == 1 and "mostpop request 3: scores differ" in done.stderr

    shorter = json.loads(json.dumps(answers))
    shorter["models"]["ease"].pop()
    (tmp_path / "shorter.json").write_text(json.dumps(shorter))
    done = _compare(expected, tmp_path / "shorter.json")
    assert done.returncode == 1 and "ease: 5 answers, expected 6" in done.stderr

    del answers["models"]["mostpop"]
    (tmp_path / "fewer.json").write_text(json.dumps(answers))
    done = _compare(expected, tmp_path / "fewer.json")
    assert done.returncode == 1 and "models differ" in done.stderr


def test_usage_errors_exit_2():
    done = subprocess.run(
        [sys.executable, str(COMPAT), "answers"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "usage: serving_compat.py answer" in done.stderr
    done = subprocess.run(
        ["bash", "scripts/serving_compat.sh", "/nonexistent/model.tar.gz"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "no such file" in done.stderr
