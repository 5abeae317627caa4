"""packages/ml/README.md's commands run as written right after scripts/demo.sh.

The state the demo leaves is rebuilt the way the other stack tests do: a RECS_HOME with the
dataset, the seeded ratings store and an approved version trained by the real pipeline
(``trained_home``), and `recs serve` answering on a free port. Then every line of the
README's ``bash`` blocks runs in bash from the repository root, except the blocks marked
``<!-- replay: skip (reason) -->``. `recs train` lines get the fast training parameters of
the fixture's pipeline run, so the test does not train a second full model.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from harness import (
    BIN,
    FAST_PIPELINE_PARAMS,
    REPO,
    Service,
    endpoint_service,
    ensure_trained,
    free_port,
    stack_env,
)

README = REPO / "packages" / "ml" / "README.md"
SKIP = re.compile(r"<!-- replay: skip \((?P<reason>[^)]+)\) -->")
FAST_TRAIN = [f"--hp {pair}" for pair in FAST_PIPELINE_PARAMS if not pair.startswith("baseline=")]


def readme_commands(text: str) -> list[str]:
    """Every command line of the ``bash`` blocks (comments and blank lines left out), except
    the blocks right after a skip marker, which must give a reason."""
    commands: list[str] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].strip() != "```bash":
            index += 1
            continue
        previous = lines[index - 1].strip() if index else ""
        skipped = SKIP.fullmatch(previous) is not None
        assert skipped or not previous.startswith("<!-- replay"), f"malformed marker: {previous}"
        index += 1
        while lines[index].strip() != "```":
            line = lines[index].split("  #")[0].strip()
            if line and not line.startswith("#") and not skipped:
                commands.append(line)
            index += 1
        index += 1
    return commands


def test_the_readme_blocks_hold_the_commands_people_run_after_the_demo() -> None:
    commands = readme_commands(README.read_text(encoding="utf-8"))
    for expected in (
        "recs recommend --user-id 3 --k 10",
        "recs evaluate",
        "recs models list",
        "recs train",
        'eval "$(recs completion bash)"',
    ):
        assert expected in commands, f"{expected!r} is not a replayed README command"
    assert not any(
        c.startswith(("uv sync", "pytest", "uv run --frozen --no-sync pytest")) for c in commands
    )


@pytest.fixture(scope="module")
def after_demo(
    trained_home: Path, recs_home: Path, started_services: list[Service]
) -> Iterator[tuple[Path, dict[str, str], str]]:
    """The trained home with its approved version served by `recs serve`, as the demo leaves
    it, and the environment of a shell at the repository root with the venv active."""
    ensure_trained(trained_home, recs_home)
    port = free_port()
    env = stack_env(
        trained_home, RECS_ENDPOINT_PORT=str(port), PATH=f"{BIN}:{os.environ.get('PATH', '')}"
    )
    endpoint = endpoint_service(env, port, trained_home / "logs" / "readme-endpoint.log")
    started_services.append(endpoint.start())
    yield trained_home, env, f"http://127.0.0.1:{port}"


def _table_rows(out: str) -> list[list[str]]:
    return [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]


def _check_models_list(out: str, home: Path, url: str) -> None:
    assert any(row[1] == "Approved" and row[2] == "yes" for row in _table_rows(out)), out


def _check_recommend_table(out: str, home: Path, url: str) -> None:
    assert out.splitlines()[0].startswith("top-10 for user 3 from recs-movielens/"), out
    assert f"(Approved, served at {url})" in out.splitlines()[0]
    assert [int(row[0]) for row in _table_rows(out)] == list(range(1, 11))


def _check_recommend_json(out: str, home: Path, url: str) -> None:
    answer = json.loads(out)
    assert answer["user_id"] == 3 and answer["model_source"]["served"] is True
    assert len(answer["items"]) == 10 and all(item["title"] for item in answer["items"])


def _check_new_user(out: str, home: Path, url: str) -> None:
    assert out.splitlines()[0].startswith("top-10 for a new user with 3 rating(s)"), out
    ids = {int(row[1]) for row in _table_rows(out)}
    assert len(ids) == 10 and not ids & {50, 181, 258}


def _check_all_users(out: str, home: Path, url: str) -> None:
    lines = (home / "recs.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 943 and len(json.loads(lines[0])["items"]) == 10


def _check_evaluate(out: str, home: Path, url: str) -> None:
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert rows["tfrs"][0] == "(default)" and {"retrieval", "ease", "mostpop"} <= set(rows), out
    assert all(0 < float(rows[name][0]) < 1 for name in ("retrieval", "ease", "mostpop"))
    first = out.splitlines()[0]
    assert f"(Approved, served at {url}) on the test split (943 users)" in first, out


def _check_trained(out: str, home: Path, url: str) -> None:
    assert (home / "trained" / "model" / "manifest.json").is_file()
    assert "next: `recs evaluate --trained`" in out


def _check_recommend_trained(out: str, home: Path, url: str) -> None:
    assert "from trained by `recs train`" in out.splitlines()[0]
    assert len(_table_rows(out)) == 10


# What a command's output must show beyond exiting 0 (by its exact README line).
CHECKS: dict[str, Callable[[str, Path, str], None]] = {
    "recs models list": _check_models_list,
    "recs recommend --user-id 3 --k 10": _check_recommend_table,
    "recs recommend --user-id 3 --k 10 --json": _check_recommend_json,
    "recs recommend --history 50,181,258 --k 10": _check_new_user,
    'recs recommend --all-users --k 10 --output "$RECS_HOME/recs.jsonl"': _check_all_users,
    "recs evaluate": _check_evaluate,
    "recs train": _check_trained,
    "recs recommend --trained --user-id 3 --k 10": _check_recommend_trained,
}


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.timeout(1500)
def test_every_command_of_the_ml_readme_runs_after_the_demo(
    after_demo: tuple[Path, dict[str, str], str],
) -> None:
    home, env, url = after_demo
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert set(CHECKS) <= set(commands), set(CHECKS) - set(commands)
    for command in commands:
        line = command
        if command.split()[:2] == ["recs", "train"]:
            line = " ".join([command, *FAST_TRAIN])
        done = subprocess.run(
            ["bash", "-c", f"set -euo pipefail\n{line}"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, f"{line!r} exited {done.returncode}:\n{done.stderr[-3000:]}"
        assert "Traceback" not in done.stderr, f"{line!r}:\n{done.stderr[-3000:]}"
        if command in CHECKS:
            CHECKS[command](done.stdout, home, url)
