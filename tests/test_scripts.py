"""The quick-start scripts behave as the README promises."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from harness import REPO


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


def test_apt_install_takes_no_recommended_extras(tmp_path: Path) -> None:
    """A fresh setup installs what Chromium depends on, not ~500 recommended packages."""
    calls = tmp_path / "calls"
    fake = tmp_path / "bin" / "apt-get"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    fake.chmod(0o755)
    script = (
        f'source scripts/lib.sh; PATH="{fake.parent}:$PATH" apt_install chromium fonts-liberation'
    )
    subprocess.run(["bash", "-c", script], cwd=REPO, check=True, capture_output=True)
    update, install = calls.read_text().splitlines()
    assert update.startswith("update")
    assert install.split() == [
        "install", "-y", "-qq", "--no-install-recommends", "chromium", "fonts-liberation"
    ]  # fmt: skip


def test_without_apt_setup_says_what_to_install_by_hand() -> None:
    script = "source scripts/lib.sh; PATH=/nonexistent apt_install chromium fonts-liberation"
    result = subprocess.run(["bash", "-c", script], cwd=REPO, capture_output=True, text=True)
    assert result.returncode != 0
    assert "no apt-get" in result.stderr
    assert "install these by hand" in result.stderr and "chromium fonts-liberation" in result.stderr
