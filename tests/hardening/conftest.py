"""Session fixtures: the real local stack (``recs serve`` + ``chalice local``) in a temporary
RECS_HOME, seeded with MovieLens-100K and serving an approved real artifact."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hardening_stack import GROUP, Stack, cached_artifact
from harness import add_dataset, seed_store


@pytest.fixture(scope="session")
def artifact(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = getattr(pytestconfig, "cache", None)  # None under -p no:cacheprovider
    directory = cache.mkdir("hardening-artifact") if cache else tmp_path_factory.mktemp("artifact")
    return cached_artifact(Path(directory))


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, artifact: Path) -> Iterator[Stack]:
    from recs_ml.ops.registry import Registry

    home = tmp_path_factory.mktemp("recs-home")
    add_dataset(home)
    stack = Stack(home)
    try:
        seed_store(stack.env, home / "logs" / "seed.log")
        registry = Registry(path=stack.registry_path)
        registry.register(artifact, GROUP, description="hardening v1")
        registry.approve(1, GROUP)
        stack.start()
        yield stack
    finally:
        stack.close()


@pytest.fixture(scope="session")
def api(stack: Stack) -> str:
    return stack.api


@pytest.fixture
def healthy_endpoint(stack: Stack) -> Iterator[Stack]:
    """The endpoint answering before and after the test (restarted if a test killed it)."""
    if not stack.endpoint_server.running:
        stack.endpoint_server.start(240)
    yield stack
    if not stack.endpoint_server.running:
        stack.endpoint_server.start(240)
