"""One synthesis of the whole app per test session; every test reads its cloud assembly."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("SAGEMAKER_VALIDATE_ROLE", "false")

from aws_cdk.assertions import Template  # noqa: E402

from recs_infra import paths  # noqa: E402
from recs_infra.stacks import COMPONENTS, RecsStacks, build  # noqa: E402

INFRA_DIR = Path(__file__).resolve().parents[1]
CDK_CONTEXT: dict[str, Any] = json.loads((INFRA_DIR / "cdk.json").read_text())["context"]


def missing_components() -> dict[str, str]:
    """Components whose code from another package has not landed, with the reason."""
    missing = {}
    try:
        pipeline_module = importlib.util.find_spec("recs_ml.pipeline.sagemaker")
    except ModuleNotFoundError:
        pipeline_module = None
    if pipeline_module is None:
        missing["training"] = "recs_ml.pipeline.sagemaker (get_pipeline) is not in packages/ml yet"
    if not paths.DEPLOYER_MODULE.is_file():
        missing["serving"] = "recs_ml/deployer.py is not in packages/ml yet"
    elif "training" in missing:
        missing["serving"] = "the inference image comes from recs_ml.pipeline.sagemaker (missing)"
    if not paths.AMPLIFY_BUILD_SPEC.is_file():
        missing["web"] = "amplify.yml is not at the repository root yet"
    return missing


@dataclass
class Synthesized:
    stacks: RecsStacks
    outdir: Path
    missing: dict[str, str]

    def stack(self, component: str) -> Any:
        if component in self.missing:
            pytest.skip(self.missing[component])
        return getattr(self.stacks, component)

    def template(self, component: str) -> Template:
        return Template.from_stack(self.stack(component))

    def template_file(self, component: str) -> Path:
        return self.outdir / f"{self.stack(component).artifact_id}.template.json"


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    """The dev stage as cdk.json configures it, synthesized with cdk-nag checks enabled."""
    workdir = tmp_path_factory.mktemp("synth")
    previous = Path.cwd()
    # chalice.cdk writes its package into ./chalice.out; keep that out of the repo.
    os.chdir(workdir)
    try:
        missing = missing_components()
        components = tuple(c for c in COMPONENTS if c not in missing)
        outdir = workdir / "cdk.out"
        app, stacks = build(CDK_CONTEXT, outdir=str(outdir), components=components)
        app.synth()
        yield Synthesized(stacks=stacks, outdir=outdir, missing=missing)
    finally:
        os.chdir(previous)
