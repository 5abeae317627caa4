"""The README's quick start, exactly as printed, on a clean clone.

The two commands are read from README.md's "Quick start" block and run as written, through a
shell and without ``bash`` in front, so a script that lost its executable bit fails here as
it would for a newcomer. The demo runs until its URLs answer, then gets Ctrl-C (SIGINT).
The test command is what ``.ci/run`` executes: CI runs it verbatim on every submission.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from harness import (
    FAST_PIPELINE_PARAMS,
    REPO,
    ensure_trained,
    free_port,
    http_status,
    interrupt,
    port_is_open,
    stack_env,
    start_interruptible,
    wait_for_output,
)


def quick_start_commands(readme: Path = REPO / "README.md") -> list[str]:
    """The commands of the first shell block under "## Quick start", comments dropped."""
    text = readme.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)
    assert len(section) == 2, "README.md has no '## Quick start' section"
    block = re.search(r"```(?:bash|sh|console)?\n(.*?)```", section[1], re.S)
    assert block, "the Quick start section has no code block"
    commands = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    return [command for command in commands if command]


def test_the_quick_start_is_two_commands_and_ci_runs_the_second_verbatim() -> None:
    demo, test = quick_start_commands()  # exactly two
    assert (demo, test) == ("scripts/demo.sh", "scripts/test.sh")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(rf"^exec {re.escape(test)}$", ci, re.M), (
        f".ci/run must run the README's test command as printed ({test!r}), not through bash"
    )


def test_every_script_is_executable_in_git() -> None:
    listing = subprocess.run(
        ["git", "ls-files", "-s", "--", "scripts/*.sh", "scripts/**/*.sh", ".ci/run"],
        cwd=REPO, check=True, capture_output=True, text=True,
    ).stdout.splitlines()  # fmt: skip
    modes = {line.split("\t", 1)[1]: line.split()[0] for line in listing}
    assert {"scripts/demo.sh", "scripts/test.sh", "scripts/setup.sh", ".ci/run"} <= set(modes)
    not_executable = sorted(path for path, mode in modes.items() if mode != "100755")
    assert not not_executable, (
        f"not executable in git: {not_executable}; fix with git update-index --chmod=+x PATH"
    )


def test_scripts_named_in_the_readmes_exist_and_are_executable() -> None:
    readmes = [REPO / "README.md", *sorted((REPO / "packages").glob("*/README.md"))]
    named = {
        match
        for readme in readmes
        for match in re.findall(r"(?<![\w/.])(scripts/[\w./-]+\.sh)\b", readme.read_text())
    }
    assert "scripts/demo.sh" in named
    for script in sorted(named):
        path = REPO / script
        assert path.is_file(), f"a README names {script}, which does not exist"
        assert os.access(path, os.X_OK), f"{script} is not executable"


@pytest.mark.timeout(900)
def test_the_readme_demo_command_runs_as_written_on_a_clean_clone(
    trained_home: Path, recs_home: Path, tmp_path: Path
) -> None:
    demo_command = quick_start_commands()[0]
    ensure_trained(trained_home, recs_home)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    # The demo may write to its home (a retrain when the working tree differs from the last
    # commit): give it a copy so the shared trained home stays as the other tests expect.
    home = tmp_path / "home"
    shutil.copytree(trained_home, home, ignore=shutil.ignore_patterns("logs", "web"))
    ports = {name: free_port() for name in ("RECS_ENDPOINT_PORT", "RECS_API_PORT", "RECS_WEB_PORT")}
    env = stack_env(
        home,
        RECS_DEMO_PARAMS=" ".join(FAST_PIPELINE_PARAMS),
        **{name: str(port) for name, port in ports.items()},
    )
    log = tmp_path / "demo.log"
    # As printed in the README, no `bash` in front: the kernel runs the file itself, so a
    # missing executable bit fails here as it does in a terminal.
    demo = start_interruptible(shlex.split(demo_command), cwd=clone, env=env, log=log)
    try:
        output = wait_for_output(demo, log, "Recommendations are up", timeout=720)
        code_committed = not subprocess.run(
            ["git", "status", "--porcelain", "--", "packages/ml/src"],
            cwd=REPO, check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        if code_committed:  # the clone holds the code the approved version was trained with
            assert "skipping the pipeline" in output
            assert "==> pipeline:" not in output
        web = f"http://127.0.0.1:{ports['RECS_WEB_PORT']}/"
        api = f"http://127.0.0.1:{ports['RECS_API_PORT']}/health"
        assert f"web page   {web}" in output
        assert f"API        {api}" in output
        assert http_status(web) == 200
        assert http_status(api) == 200
        assert http_status(f"http://127.0.0.1:{ports['RECS_ENDPOINT_PORT']}/ping") == 200
    finally:
        code = interrupt(demo)  # what Ctrl-C in the terminal does
    assert code == 0, log.read_text()
    assert "stopping 3 process group(s)" in log.read_text()
    still_open = [port for port in ports.values() if port_is_open(port)]
    assert not still_open, f"ports still open after SIGINT: {still_open}\n{log.read_text()}"
