"""One synthesis of the whole app per test session; every test reads its cloud assembly."""

from __future__ import annotations

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
from infra_template import CDK_CONTEXT, missing_components  # noqa: E402

from recs_infra.stacks import COMPONENTS, RecsStacks, build  # noqa: E402


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
