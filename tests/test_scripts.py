"""The quick-start scripts behave as the README promises."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from services import REPO


def default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def snapshot(paths: list[Path]) -> dict[str, float]:
    return {str(p): p.stat().st_mtime_ns for p in paths if p.exists()}


def test_second_setup_run_changes_nothing(recs_home):
    watched = [
        *sorted((recs_home / "data" / "ml-100k").glob("*")),
        REPO / "packages" / "web" / "node_modules" / ".recs-npm-ci",
        REPO / ".venv" / "pyvenv.cfg",
    ]
    subprocess.run(["bash", "scripts/setup.sh"], cwd=REPO, check=True, capture_output=True)
    before = snapshot(watched)
    result = subprocess.run(
        ["bash", "scripts/setup.sh"], cwd=REPO, check=True, capture_output=True, text=True
    )
    assert snapshot(watched) == before
    assert len(before) == len(watched)
    assert "already present and verified" in result.stdout
    assert "node_modules up to date" in result.stdout
    assert "==> setup done" in result.stdout


def test_setup_prints_each_step():
    result = subprocess.run(
        ["bash", "scripts/setup.sh"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    steps = [line for line in result.stdout.splitlines() if line.startswith("==> ")]
    assert len(steps) >= 5, result.stdout
