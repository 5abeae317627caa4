"""Load and faults against the real stack: concurrency 16 with zero errors, every accepted
rating stored exactly once, the endpoint killed (flagged fallback, then recovery), a model
approved under load, a corrupted artifact, and a registry locked by another process."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hardening_stack import ENDPOINT_TIMEOUT, GROUP, Reply, Stack, call, new_user, post_json

CONCURRENCY = 16
LOAD_SECONDS = 6.0
# A hung request fails the test: the API must answer within its endpoint timeout plus overhead.
CLIENT_TIMEOUT = ENDPOINT_TIMEOUT + 10


def _paths(base_users: int = 943) -> list[str]:
    rng = random.Random(7)
    paths = []
    for _ in range(200):
        user, movie = rng.randint(1, base_users), rng.randint(1, 1682)
        paths += [
            f"/users/{user}/recommendations?k={rng.randint(1, 20)}",
            f"/movies?query=the&limit={rng.randint(1, 50)}",
            f"/movies/{movie}",
            f"/users/{user}",
            f"/recommendEndpoint?user_id={user}&k=5",
        ]
    return paths


def run_load(api: str, seconds: float, during: threading.Event | None = None) -> list[Reply]:
    """``CONCURRENCY`` clients looping over a mix of reads for ``seconds`` (or until ``during``
    is set, whichever is later)."""
    paths = _paths()
    stop_at = time.monotonic() + seconds
    replies: list[Reply] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        position = index
        while time.monotonic() < stop_at or (during is not None and not during.is_set()):
            path = paths[position % len(paths)]
            position += CONCURRENCY
            try:
                reply = call(api + path, timeout=CLIENT_TIMEOUT)
            except OSError as exc:  # a refused or timed-out request is an error too
                reply = Reply(0, {}, repr(exc).encode())
            reply.headers["X-Path"] = path
            with lock:
                replies.append(reply)

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(client, range(CONCURRENCY)))
    return replies


def _failures(replies: list[Reply]) -> list[tuple[int, str, bytes]]:
    return [(r.status, r.headers["X-Path"], r.body[:200]) for r in replies if r.status != 200]


def _recommendations(replies: list[Reply]) -> list[dict]:
    return [r.json() for r in replies if "/recommendations" in r.headers["X-Path"]]


def test_api_at_concurrency_16_answers_every_request(healthy_endpoint: Stack) -> None:
    replies = run_load(healthy_endpoint.api, LOAD_SECONDS)
    assert len(replies) > CONCURRENCY * 5
    assert _failures(replies) == []
    recommendations = _recommendations(replies)
    assert recommendations and all(not r["fallback"] for r in recommendations)
    assert all(len(r["movies"]) >= 1 for r in recommendations)


def test_concurrent_ratings_are_stored_exactly_once(stack: Stack) -> None:
    tokens = dict(new_user(stack.api) for _ in range(6))
    users = list(tokens)
    # Every (user, movie) pair is sent three times at once: one 201, two 409s.
    attempts = [(u, m) for u in users for m in range(1, 16)] * 3
    random.Random(3).shuffle(attempts)
    ratings = {pair: 0.5 + (hash(pair) % 10) * 0.5 for pair in set(attempts)}

    def rate(pair: tuple[int, int]) -> tuple[tuple[int, int], int]:
        user, movie = pair
        payload = {"item_id": movie, "rating": ratings[pair]}
        reply = post_json(f"{stack.api}/users/{user}/ratings", payload, token=tokens[user])
        return pair, reply.status

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        results = list(pool.map(rate, attempts))
    assert {status for _, status in results} <= {201, 409}
    accepted = Counter(pair for pair, status in results if status == 201)
    assert set(accepted) == set(ratings) and set(accepted.values()) == {1}
    with sqlite3.connect(stack.store_path) as db:
        marks = ",".join("?" * len(users))
        stored = db.execute(
            f"SELECT user_id, item_id, rating, source FROM ratings WHERE user_id IN ({marks})",
            users,
        ).fetchall()
    assert len(stored) == len(ratings)
    assert {(u, i): r for u, i, r, _ in stored} == ratings
    assert {source for *_, source in stored} == {"api"}


def test_endpoint_killed_during_load_gives_flagged_fallback_then_recovers(
    healthy_endpoint: Stack,
) -> None:
    stack = healthy_endpoint
    killed = threading.Event()

    def kill_soon() -> None:
        time.sleep(1.5)
        stack.kill_endpoint()
        killed.set()

    killer = threading.Thread(target=kill_soon)
    killer.start()
    replies = run_load(stack.api, LOAD_SECONDS, during=killed)
    killer.join()
    # No request failed or hung while the endpoint died: the API answered every one.
    assert _failures(replies) == []
    after = [
        call(f"{stack.api}/users/{u}/recommendations?k=7", timeout=CLIENT_TIMEOUT) for u in (1, 2)
    ]
    for reply in after:
        assert reply.status == 200
        body = reply.json()
        assert body["fallback"] is True and body["reason"] == "endpoint_unavailable"
        model = body["model"]
        assert {key: model[key] for key in ("name", "version")} == {
            "name": "popularity",
            "version": None,
        }
        assert model["display_name"] == "Popular now (fallback)"
        assert len(body["movies"]) == 7
    health = call(stack.api + "/health").json()
    assert health["status"] == "degraded" and health["endpoint"]["status"] == "unavailable"

    stack.start_endpoint()
    back = call(f"{stack.api}/users/1/recommendations?k=7", timeout=CLIENT_TIMEOUT).json()
    assert back["fallback"] is False and back["model"]["version"] is not None
    assert call(stack.api + "/health").json()["status"] == "ok"


def test_model_approved_during_load_fails_no_request(
    healthy_endpoint: Stack, artifact: Path
) -> None:
    from recs_ml.ops.registry import Registry

    stack = healthy_endpoint
    before = call(stack.endpoint_url + "/ping").json()["version"]
    new = Registry(path=stack.registry_path).register(artifact, GROUP, description="under load")
    done = threading.Event()
    outcome: dict[str, subprocess.CompletedProcess] = {}

    def approve() -> None:
        time.sleep(1.0)
        outcome["approve"] = stack.recs("models", "approve", str(new.version), "--require-deploy")
        done.set()

    approver = threading.Thread(target=approve)
    approver.start()
    replies = run_load(stack.api, 3.0, during=done)
    approver.join()
    assert outcome["approve"].returncode == 0, outcome["approve"].stderr
    assert _failures(replies) == []
    assert call(stack.endpoint_url + "/ping").json()["version"] == new.version != before
    versions = {r["model"]["version"] for r in _recommendations(replies) if not r["fallback"]}
    assert versions <= {before, new.version}
    latest = call(f"{stack.api}/users/1/recommendations?k=5").json()
    assert latest["model"]["version"] == new.version


def test_corrupted_artifact_is_refused_and_the_served_version_stays(
    healthy_endpoint: Stack, artifact: Path, tmp_path: Path
) -> None:
    from recs_ml.ops.registry import Registry

    stack = healthy_endpoint
    # Altered after export: registration verifies every sha256 and refuses it.
    broken = tmp_path / "broken"
    subprocess.run(["cp", "-r", str(artifact), str(broken)], check=True)
    variables = next((broken / "ease" / "1" / "variables").glob("*.data-*"))
    variables.write_bytes(variables.read_bytes()[:-16] + b"\0" * 16)
    refused = stack.recs("models", "register", str(broken))
    assert refused.returncode != 0
    assert "sha256" in refused.stderr or "ease/1/variables" in refused.stderr, refused.stderr
    # Corrupted inside the registry after registration: the endpoint refuses to load it.
    serving = call(stack.endpoint_url + "/ping").json()["version"]
    package = Registry(path=stack.registry_path).register(artifact, GROUP, description="bad")
    package.tarball.write_bytes(package.tarball.read_bytes()[:4096])
    approved = stack.recs("models", "approve", str(package.version), "--require-deploy")
    assert approved.returncode != 0
    assert "not deployed" in approved.stderr
    assert call(stack.endpoint_url + "/ping").json()["version"] == serving
    reply = call(f"{stack.api}/users/1/recommendations?k=5").json()
    assert reply["fallback"] is False and reply["model"]["version"] == serving


LOCK_HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
"""


def _hold_lock(path: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_locked_registry_is_waited_for_then_a_clear_error(
    healthy_endpoint: Stack, artifact: Path
) -> None:
    from recs_ml.ops.registry import Registry

    stack = healthy_endpoint
    # Held for 3 s: the CLI waits on the lock (busy timeout) and then succeeds.
    holder = _hold_lock(stack.registry_path, 3.0)
    registered = stack.recs("models", "register", str(artifact), "--description", "after lock")
    holder.wait(timeout=30)
    assert registered.returncode == 0, registered.stderr
    assert "PendingManualApproval" in registered.stdout
    # The API's read-only view answers while another process holds the lock.
    holder = _hold_lock(stack.registry_path, 4.0)
    try:
        models = call(stack.api + "/models", timeout=CLIENT_TIMEOUT)
        assert models.status in (200, 503), models.body
        if models.status == 503:
            assert "registry" in models.json()["error"]["message"]
        # A writer whose patience is shorter than the lock gets an error naming the lock.
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            Registry(path=stack.registry_path, timeout=0.5).reject(1, GROUP)
    finally:
        holder.wait(timeout=30)
    assert Registry(path=stack.registry_path).describe(1, GROUP).status == "Approved"
