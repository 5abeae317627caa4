"""Schemathesis against `chalice local`, every check and every phase, from the committed
``packages/api/openapi.json``.

It generates valid and invalid parameters and bodies and checks each answer: no 5xx, a
documented status code and content type, a body matching the documented schema, invalid input
rejected and valid input accepted, undeclared HTTP methods refused (TRACE and QUERY included:
a JSON 405, as API Gateway refuses them). The stateful phase follows the document's links:
create a user, then read, rate and ask for recommendations as that user. Seeded and
deterministic, so every CI run sends the same cases; exceptions to a check are listed, with
their reasons, in schemathesis.toml beside this file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hardening_stack import bearer, call, post_json

OPENAPI = Path(__file__).resolve().parents[2] / "packages" / "api" / "openapi.json"
CONFIG_FILE = Path(__file__).with_name("schemathesis.toml")
EXAMPLES_PER_ROUTE = 20
SEED = 20261202


def test_api_honours_its_openapi_document(api: str, tmp_path: Path) -> None:
    """The schemathesis CLI as a person runs it: every check, every phase (examples, coverage,
    fuzzing, stateful over the document's links), a fixed seed, zero failures."""
    report = tmp_path / "schemathesis.xml"
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file", str(CONFIG_FILE),
            "run", str(OPENAPI),
            "--url", api,
            "--checks", "all",
            "--phases", "examples,coverage,fuzzing,stateful",
            "--seed", str(SEED),
            "--max-examples", str(EXAMPLES_PER_ROUTE),
            "--request-timeout", "30",
            "--workers", "1",
            "--report", "junit",
            "--report-junit-path", str(report),
        ],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    # Kept for CI's artifact: what each phase covered and any failure with its curl command.
    kept = Path(__file__).resolve().parents[2] / "test-results" / "schemathesis.txt"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(result.stdout + result.stderr, encoding="utf-8")
    summary = result.stdout[-6000:]
    assert result.returncode == 0, (
        f"schemathesis found failures:\n{summary}\n{result.stderr[-2000:]}"
    )
    for phase in ("Coverage", "Fuzzing", "Stateful"):  # each phase ran and passed
        assert f"✅ {phase}" in summary, summary
    assert "No issues found" in summary, summary


def test_a_created_user_can_rate_read_and_get_recommendations(api: str) -> None:
    """The links' workflow with real data and the user's token (the stateful phase rates
    random movie ids and, holding no token, gets the documented 401 for an API user)."""
    created = post_json(f"{api}/users", {"age": 30})
    assert created.status == 201, created.body
    user, token = created.json()["user_id"], created.json()["token"]
    rated = post_json(f"{api}/users/{user}/ratings", {"item_id": 1, "rating": 4.5}, token=token)
    assert rated.status == 201, rated.body
    detail = call(f"{api}/users/{user}", headers=bearer(token))
    assert detail.status == 200 and [r["item_id"] for r in detail.json()["history"]] == [1]
    recommended = call(f"{api}/users/{user}/recommendations?k=5", headers=bearer(token))
    assert recommended.status == 200
    assert 1 not in recommended.json()["movies"]


def test_a_created_user_can_mark_a_movie_not_interested_and_undo_it(api: str) -> None:
    """The feedback links' workflow with a real movie and the user's token (the schemathesis
    run above mostly meets generated ids of movies and users that do not exist)."""
    created = post_json(f"{api}/users", {})
    user, token = created.json()["user_id"], created.json()["token"]
    mark = {"item_id": 1, "kind": "not_interested"}
    assert post_json(f"{api}/users/{user}/feedback", mark, token=token).status == 201
    listed = call(f"{api}/users/{user}/feedback", headers=bearer(token))
    assert [item["item_id"] for item in listed.json()["items"]] == [1]
    undone = call(f"{api}/users/{user}/feedback/1", method="DELETE", headers=bearer(token))
    assert undone.status == 200 and undone.json()["deleted"] is True
