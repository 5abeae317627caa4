"""Training and serving TensorFlow are the same minor version: the training pin is the newest
TensorFlow SageMaker publishes a TF Serving image for, and the pipeline registers that image."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from recs_ml.pipeline.sagemaker_images import SERVING_TF_VERSION

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


def test_training_and_serving_use_the_same_minor_version():
    training = _minor(training_tf_pin())
    assert _minor(SERVING_TF_VERSION) == training, (
        f"training pins TensorFlow {training[0]}.{training[1]} but the pipeline registers the "
        f"TF Serving image {SERVING_TF_VERSION}: pin both to the same minor version"
    )
    assert training in sagemaker_tf_serving_versions(), (
        f"SageMaker has no TF Serving image for TensorFlow {training[0]}.{training[1]}"
    )


def test_the_pin_is_the_newest_serving_image():
    """When SageMaker publishes a newer image, both pins move to it together."""
    newest = sagemaker_tf_serving_versions()[-1]
    assert _minor(training_tf_pin()) == newest, (
        f"SageMaker now has a TF Serving image for {newest[0]}.{newest[1]}: move tensorflow and "
        f"tf-keras in packages/ml/pyproject.toml and SERVING_TF_VERSION to it (uv lock)"
    )
