"""Session fixtures: the real local stack (``recs serve`` + ``chalice local``) in a temporary
RECS_HOME, seeded with MovieLens-100K and serving an approved real artifact."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hardening_stack import (
    API_DIR,
    GROUP,
    Stack,
    cached_artifact,
    dataset_dir,
    free_port,
    stack_env,
)


@pytest.fixture(scope="session")
def artifact(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = getattr(pytestconfig, "cache", None)  # None under -p no:cacheprovider
    directory = cache.mkdir("hardening-artifact") if cache else tmp_path_factory.mktemp("artifact")
    return cached_artifact(Path(directory))


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, artifact: Path) -> Iterator[Stack]:
    from recs_ml.ops.registry import Registry

    home = tmp_path_factory.mktemp("recs-home")
    (home / "logs").mkdir()
    shutil.copytree(dataset_dir(), home / "data" / "ml-100k")
    endpoint_port = free_port()
    stack = Stack(home, stack_env(home, endpoint_port), endpoint_port, free_port())
    try:
        subprocess.run(
            [sys.executable, "-m", "chalicelib.seed"],
            cwd=API_DIR,
            env=stack.env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        registry = Registry(path=stack.registry_path)
        registry.register(artifact, GROUP, description="hardening v1")
        registry.approve(1, GROUP)
        stack.start_endpoint(wait=False)
        stack.start_api()
        stack.wait_endpoint()
        yield stack
    finally:
        stack.close()


@pytest.fixture(scope="session")
def api(stack: Stack) -> str:
    return stack.api


@pytest.fixture
def healthy_endpoint(stack: Stack) -> Iterator[Stack]:
    """The endpoint answering before and after the test (restarted if a test killed it)."""
    if stack.endpoint is None or stack.endpoint.poll() is not None:
        stack.start_endpoint()
    yield stack
    if stack.endpoint is None or stack.endpoint.poll() is not None:
        stack.start_endpoint()
