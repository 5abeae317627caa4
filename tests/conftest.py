"""Shared fixtures for the cross-package tests: a trained RECS_HOME and its services."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from services import (
    API,
    BIN,
    FAST_PIPELINE_PARAMS,
    REPO,
    Service,
    free_port,
    link_dataset,
    run_checked,
    stack_env,
)

__all__ = ["REPO"]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def recs_home() -> Path:
    return Path(os.environ.get("RECS_HOME", REPO / ".recs"))


def approved_is_current(home: Path) -> bool:
    """Does ``home`` hold an approved version trained on this dataset with this code?
    (The same question scripts/demo.sh asks before it skips the pipeline.)"""
    from recs_ml.pipeline.runner import code_version, tree_checksum

    registry = home / "registry.db"
    if not registry.is_file():
        return False
    with sqlite3.connect(registry) as db:
        row = db.execute(
            "SELECT run_id FROM model_packages WHERE approval_status = 'Approved' "
            "ORDER BY version DESC LIMIT 1"
        ).fetchone()
    record = home / "runs" / str(row[0] if row else None) / "run.json"
    if not record.is_file():
        return False
    run = json.loads(record.read_text(encoding="utf-8"))
    data = run.get("steps", {}).get("process", {}).get("inputs", {}).get("data")
    return bool(
        run.get("code_version") == code_version()
        and data == tree_checksum(home / "data" / "ml-100k")
    )


@pytest.fixture(scope="session")
def trained_home(tmp_path_factory: pytest.TempPathFactory, recs_home: Path) -> Path:
    """A temporary RECS_HOME holding the dataset, a seeded ratings store and one approved
    model version trained by the real pipeline (fast parameters).

    ``RECS_TEST_HOME=DIR`` keeps it in DIR instead and reuses it while its approved version
    is current, which saves the training run when iterating on the tests.
    """
    kept = os.environ.get("RECS_TEST_HOME", "").strip()
    home = Path(kept).resolve() if kept else tmp_path_factory.mktemp("recs-home")
    if kept and approved_is_current(home):
        return home
    link_dataset(recs_home, home)
    logs = home / "logs"
    # Approval fires the deployer; point it at a closed port so no running endpoint is touched.
    env = stack_env(home, RECS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")
    run_checked(
        [str(BIN / "python"), "-m", "chalicelib.seed"], cwd=API, env=env, log=logs / "seed.log"
    )
    params = [arg for pair in FAST_PIPELINE_PARAMS for arg in ("--param", pair)]
    run_checked(
        [str(BIN / "recs"), "pipeline", "run", *params],
        cwd=REPO,
        env=env,
        log=logs / "pipeline.log",
    )
    with sqlite3.connect(home / "registry.db") as db:
        (version,) = db.execute("SELECT MAX(version) FROM model_packages").fetchone()
    run_checked(
        [str(BIN / "recs"), "models", "approve", str(version), "--description", "test fixture"],
        cwd=REPO,
        env=env,
        log=logs / "approve.log",
    )
    return home


@pytest.fixture(scope="module")
def started_services() -> Iterator[list[Service]]:
    """Every Service a module's fixtures start is stopped after its tests, even on failure."""
    services: list[Service] = []
    yield services
    for service in reversed(services):
        service.stop()
