"""Training and serving TensorFlow stay on the same minor version whenever SageMaker has a TF
Serving image for it; otherwise serving runs the newest image there is, never an older one."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from recs_ml.pipeline.sagemaker import SERVING_TF_VERSION

ROOT = Path(__file__).resolve().parents[3]


def _minor(version: str) -> tuple[int, int]:
    major, minor = re.match(r"^(\d+)\.(\d+)", version).groups()  # type: ignore[union-attr]
    return int(major), int(minor)


def training_tf_pin() -> str:
    """The ``tensorflow==X.Y.*`` pin of recs-ml, checked against the lock file's version."""
    project = tomllib.loads((ROOT / "packages/ml/pyproject.toml").read_text())
    dependencies = project["project"]["dependencies"]
    (pin,) = [d for d in dependencies if re.match(r"tensorflow\s*[=<>~!]", d)]
    version = re.fullmatch(r"tensorflow==(\d+\.\d+)\.\*", pin)
    assert version, f"recs-ml pins {pin!r}; expected tensorflow==X.Y.*"
    lock = (ROOT / "uv.lock").read_text()
    locked = re.search(r'\[\[package\]\]\nname = "tensorflow"\nversion = "([^"]+)"', lock)
    assert locked and _minor(locked.group(1)) == _minor(version.group(1)), "uv.lock disagrees"
    return version.group(1)


def sagemaker_tf_serving_versions() -> list[tuple[int, int]]:
    """The TensorFlow inference image versions the installed SageMaker SDK knows."""
    from importlib.metadata import distribution

    # Read from the installed files: importing the SDK takes seconds.
    (config,) = [
        f
        for f in distribution("sagemaker-core").files or []
        if str(f).endswith("image_uri_config/tensorflow.json")
    ]
    versions = json.loads(Path(str(config.locate())).read_text())["inference"]["versions"]
    return sorted({_minor(v) for v in versions})


def test_serving_runs_the_training_minor_or_the_newest_image_below_it():
    training = _minor(training_tf_pin())
    available = sagemaker_tf_serving_versions()
    expected = max(v for v in available if v <= training)
    assert _minor(SERVING_TF_VERSION) == expected, (
        f"training uses TensorFlow {training}, SageMaker has TF Serving images up to "
        f"{available[-1]}: set SERVING_TF_VERSION to {expected[0]}.{expected[1]}"
    )
    # Today no 2.21 image exists; the gap stays one minor at most (serving_compat.sh checks it).
    assert training[0] == expected[0] and training[1] - expected[1] <= 1
