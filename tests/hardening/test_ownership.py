"""Who may write, and who may read an API user, over HTTP against `chalice local`.

Each user the API creates comes with a token (shown once); writes need it, an API user's data
is private to it, dataset users are read-only, and the caps answer 429 with Retry-After.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hardening_stack import (
    API_DIR,
    BIN,
    Stack,
    bearer,
    call,
    free_port,
    new_user,
    post_json,
    stop,
    wait_until,
)

RATING = {"item_id": 50, "rating": 4}


def _status_and_code(reply) -> tuple[int, str]:
    assert reply.headers.get("Content-Type", "").startswith("application/json"), reply.headers
    return reply.status, reply.json()["error"]["code"]


def test_writes_on_a_dataset_user_are_403(stack: Stack) -> None:
    _, token = new_user(stack.api)
    for given in (token, "3." + "A" * 43):  # any token: the dataset is read-only
        reply = post_json(f"{stack.api}/users/3/ratings", RATING, token=given)
        assert _status_and_code(reply) == (403, "forbidden")
        gone = call(f"{stack.api}/users/3", "DELETE", headers=bearer(given))
        assert _status_and_code(gone) == (403, "forbidden")
    # Without a token every write is 401 first, dataset user or not.
    assert _status_and_code(post_json(f"{stack.api}/users/3/ratings", RATING)) == (
        401,
        "unauthorized",
    )
    with sqlite3.connect(stack.store_path) as db:
        assert db.execute("SELECT COUNT(*) FROM ratings WHERE user_id = 3").fetchone() == (54,)


def test_a_new_user_without_with_wrong_and_with_right_token(stack: Stack) -> None:
    user, token = new_user(stack.api)
    other_user, other_token = new_user(stack.api)
    path = f"{stack.api}/users/{user}/ratings"
    assert _status_and_code(post_json(path, RATING)) == (401, "unauthorized")
    wrong = f"{user}.{'x' * 43}"
    for bad in (wrong, other_token):
        assert _status_and_code(post_json(path, RATING, token=bad)) == (403, "forbidden")
    right = post_json(path, RATING, token=token)
    assert right.status == 201, right.body
    assert (
        call(f"{stack.api}/users/{other_user}", headers=bearer(other_token)).json()["ratings_count"]
        == 0
    )


def test_the_token_is_never_stored_or_logged_in_clear(stack: Stack) -> None:
    user, token = new_user(stack.api)
    post_json(f"{stack.api}/users/{user}/ratings", RATING, token=token)
    call(f"{stack.api}/users/{user}", headers=bearer(token))
    secret = token.split(".", 1)[1]
    with sqlite3.connect(stack.store_path) as db:
        db.execute("PRAGMA wal_checkpoint(FULL)")
        salt, digest = db.execute(
            "SELECT token_salt, token_digest FROM users WHERE user_id = ?", (user,)
        ).fetchone()
    assert len(salt) == 32 and len(digest) == 64 and secret not in digest
    # The store, its WAL and every log of the stack, searched by another process: opening and
    # closing the database's files here would drop this process's SQLite locks on them.
    search = (
        "import pathlib, sys\n"
        "home, secret = pathlib.Path(sys.argv[1]), sys.argv[2].encode()\n"
        "found = [str(p) for p in home.rglob('*') if p.is_file() and p.stat().st_size < 200 << 20\n"
        "         and secret in p.read_bytes()]\n"
        "print(len(list(home.rglob('store.db*'))), found)\n"
    )
    scanned = subprocess.run(
        [sys.executable, "-c", search, str(stack.home), secret],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    files, found = scanned.stdout.split(" ", 1)
    assert int(files) >= 1 and found.strip() == "[]", scanned.stdout


def test_another_users_profile_is_unreadable_without_its_token(stack: Stack) -> None:
    user, token = new_user(stack.api)
    post_json(stack.api + "/users", {})  # a neighbour
    _, other_token = new_user(stack.api)
    for route in (f"/users/{user}", f"/users/{user}/recommendations",
                  f"/recommendEndpoint?user_id={user}"):  # fmt: skip
        assert _status_and_code(call(stack.api + route)) == (401, "unauthorized")
        forbidden = call(stack.api + route, headers=bearer(other_token))
        assert _status_and_code(forbidden) == (403, "forbidden")
        assert call(stack.api + route, headers=bearer(token)).status == 200
    listed = call(f"{stack.api}/users?limit=100&offset=900").json()
    assert [u["source"] for u in listed["users"]] == ["base"] * 43 and listed["total"] == 943
    mine = call(f"{stack.api}/users?limit=100&offset=900", headers=bearer(token)).json()
    assert [u["user_id"] for u in mine["users"] if u["source"] == "api"] == [user]


def test_delete_removes_everything_of_that_user_and_only_that(stack: Stack) -> None:
    from recs_ml.data.store import read_api_ratings

    user, token = new_user(stack.api)
    keep, keep_token = new_user(stack.api)
    for item in (1, 2, 3):
        post_json(f"{stack.api}/users/{user}/ratings", {"item_id": item, "rating": 5}, token=token)
    post_json(f"{stack.api}/users/{keep}/ratings", {"item_id": 1, "rating": 2}, token=keep_token)
    with sqlite3.connect(stack.store_path) as db:
        others_before = db.execute(
            "SELECT * FROM ratings WHERE user_id != ? ORDER BY user_id, item_id", (user,)
        ).fetchall()
    assert call(f"{stack.api}/users/{user}", "DELETE").status == 401
    assert call(f"{stack.api}/users/{user}", "DELETE", headers=bearer(keep_token)).status == 403
    gone = call(f"{stack.api}/users/{user}", "DELETE", headers=bearer(token))
    assert gone.status == 200 and gone.json()["ratings_removed"] == 3
    with sqlite3.connect(stack.store_path) as db:
        assert db.execute("SELECT COUNT(*) FROM users WHERE user_id = ?", (user,)).fetchone() == (
            0,
        )
        others_after = db.execute(
            "SELECT * FROM ratings WHERE user_id != ? ORDER BY user_id, item_id", (user,)
        ).fetchall()
    assert others_after == others_before  # nothing else touched
    training = read_api_ratings(stack.store_path)  # what the next pipeline run reads
    assert user not in set(training.ratings.user_id.tolist()) and user not in training.users
    assert keep in set(training.ratings.user_id.tolist())
    assert call(f"{stack.api}/users/{user}", headers=bearer(token)).status == 404


@pytest.fixture
def capped_api(stack: Stack, tmp_path: Path) -> Iterator[str]:
    """A second `chalice local` with small caps, on a copy of the stack's store."""
    store = tmp_path / "store.db"
    with sqlite3.connect(stack.store_path) as source, sqlite3.connect(store) as target:
        source.backup(target)
        target.execute("DELETE FROM client_quota")  # this test's address starts afresh
    port = free_port()
    env = {
        **stack.env,
        "RECS_STORE_PATH": str(store),
        "RECS_MAX_USERS_PER_CLIENT_PER_HOUR": "3",
        "RECS_MAX_RATINGS_PER_USER_PER_DAY": "2",
    }
    with open(tmp_path / "api.log", "wb") as log:
        process = subprocess.Popen(
            [str(BIN / "chalice"), "local", "--no-autoreload", "--host", "127.0.0.1",
             "--port", str(port)],
            cwd=API_DIR, env=env, stdout=log, stderr=log,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: call(url + "/openapi.json", timeout=2).status == 200,
                       "chalice local (capped)", process, 120)  # fmt: skip
            yield url
        finally:
            stop(process)


def test_caps_answer_429_with_retry_after(capped_api: str) -> None:
    users = [new_user(capped_api) for _ in range(3)]
    too_many = post_json(capped_api + "/users", {})
    assert _status_and_code(too_many) == (429, "too_many_requests")
    assert 1 <= int(too_many.headers["Retry-After"]) <= 3600
    user, token = users[0]
    path = f"{capped_api}/users/{user}/ratings"
    for item in (1, 2):
        assert post_json(path, {"item_id": item, "rating": 3}, token=token).status == 201
    daily = post_json(path, {"item_id": 3, "rating": 3}, token=token)
    assert _status_and_code(daily) == (429, "too_many_requests")
    assert 1 <= int(daily.headers["Retry-After"]) <= 86400
