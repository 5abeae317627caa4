"""Shared fixtures for the cross-package tests: a trained RECS_HOME and its services."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import REPO, Service, ensure_trained

__all__ = ["REPO"]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def recs_home() -> Path:
    return Path(os.environ.get("RECS_HOME", REPO / ".recs"))


@pytest.fixture(scope="session")
def trained_home(tmp_path_factory: pytest.TempPathFactory, recs_home: Path) -> Path:
    """A temporary RECS_HOME with an approved model version (``harness.ensure_trained``).

    ``RECS_TEST_HOME=DIR`` keeps it in DIR instead and reuses it while its approved version
    is current, which saves the training run when iterating on the tests.
    """
    kept = os.environ.get("RECS_TEST_HOME", "").strip()
    home = Path(kept).resolve() if kept else tmp_path_factory.mktemp("recs-home")
    return ensure_trained(home, recs_home)


@pytest.fixture(scope="module")
def started_services() -> Iterator[list[Service]]:
    """Every Service a module's fixtures start is stopped after its tests, even on failure."""
    services: list[Service] = []
    yield services
    for service in reversed(services):
        service.stop()
