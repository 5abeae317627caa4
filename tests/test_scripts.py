"""The quick-start scripts behave as the README promises."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from services import REPO, ensure_trained, free_port, http_status, port_is_open, stack_env


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


@pytest.mark.timeout(900)
def test_demo_reuses_the_approved_model_prints_the_urls_and_stops_on_sigint(
    trained_home: Path, recs_home: Path
) -> None:
    # Others may change recs_ml while the session runs; the model must be current for it.
    ensure_trained(trained_home, recs_home)
    ports = {name: free_port() for name in ("RECS_ENDPOINT_PORT", "RECS_API_PORT", "RECS_WEB_PORT")}
    env = stack_env(trained_home, **{name: str(port) for name, port in ports.items()})
    log = trained_home / "logs" / "demo-test.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as handle:
        demo = subprocess.Popen(
            ["bash", "scripts/demo.sh"],
            cwd=REPO,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # A shell whose SIGINT was ignored on entry cannot trap it; a terminal's would not be.
            preexec_fn=default_sigint,
        )
    try:
        deadline = time.monotonic() + 420
        while "Recommendations are up" not in log.read_text(errors="replace"):
            assert demo.poll() is None, f"demo.sh exited {demo.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"demo.sh not up in time:\n{log.read_text()}"
            time.sleep(0.5)
        output = log.read_text()
        assert "skipping the pipeline" in output
        assert "==> pipeline:" not in output
        web = f"http://127.0.0.1:{ports['RECS_WEB_PORT']}/"
        api = f"http://127.0.0.1:{ports['RECS_API_PORT']}/health"
        assert f"web page   {web}" in output
        assert f"API        {api}" in output
        assert http_status(web) == 200
        assert http_status(api) == 200
        assert http_status(f"http://127.0.0.1:{ports['RECS_ENDPOINT_PORT']}/ping") == 200

        os.killpg(demo.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        assert demo.wait(90) == 0, log.read_text()
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
    assert "stopping 3 process group(s)" in log.read_text()
    still_open = [port for port in ports.values() if port_is_open(port)]
    assert not still_open, f"ports still open after SIGINT: {still_open}\n{log.read_text()}"
