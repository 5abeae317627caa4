"""Ownership without accounts, privacy and abuse caps, on both stores (SQLite and DynamoDB)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client
from conftest import body, get, moto_table, new_user, post, seeded_home, write_dataset

from chalicelib import wiring
from chalicelib.dynamodb_store import DynamoStore
from chalicelib.endpoint import LocalEndpoint
from chalicelib.limits import Caps, WriteCap
from chalicelib.registry import LocalRegistry
from chalicelib.seed import seed
from chalicelib.service import RecsService
from chalicelib.sqlite_store import SqliteStore

CAPS = Caps(
    ratings=WriteCap("ratings", total=4, per_day=3),
    feedback=WriteCap("feedback", total=4, per_day=3),
    users_per_client_per_hour=5,
)
NOW = 1_700_000_000  # 22:13:20 UTC: 6400 s to the next UTC day, 2800 s to the next hour


class Clock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "dynamodb"])
def store_api(
    request: pytest.FixtureRequest, tmp_path: Path, contract_endpoint: Any, monkeypatch: Any
) -> Iterator[tuple[Client, Any, Clock]]:
    clock = Clock()

    def serve(store: Any) -> Iterator[tuple[Client, Any, Clock]]:
        service = RecsService(
            store,
            LocalEndpoint(contract_endpoint.url, 0.5),
            LocalRegistry(tmp_path / "registry.db", "recs-movielens"),
            caps=CAPS,
            clock=clock,
        )
        wiring.use(service)
        from app import app

        with Client(app) as client:
            yield client, store, clock
        wiring.use(None)

    if request.param == "sqlite":
        seeded_home(tmp_path)
        yield from serve(SqliteStore(tmp_path / "store.db"))
        return
    with moto_table(monkeypatch) as table:
        store = DynamoStore(table)
        assert seed(store, write_dataset(tmp_path / "ml-100k")) is True
        yield from serve(store)


def _delete(client: Client, path: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.http.delete(path, headers=headers)


def _error(response: Any, status: int) -> dict[str, str]:
    assert response.status_code == status, response.body
    error: dict[str, str] = body(response)["error"]
    assert set(error) == {"code", "message"} and error["message"]
    return error


def test_writes_on_a_dataset_user_are_403(store_api) -> None:
    client, _, _ = store_api
    _, token = new_user(client)
    for given, status in ((token, 403), ("1." + "A" * 43, 403), (None, 401)):
        rating = post(client, "/users/1/ratings", {"item_id": 4, "rating": 5}, token=given)
        assert _error(rating, status)["code"] == ("forbidden" if status == 403 else "unauthorized")
        gone = _delete(client, "/users/1", given)
        assert _error(gone, status)["code"] == ("forbidden" if status == 403 else "unauthorized")
    assert body(get(client, "/users/1"))["ratings_count"] == 3  # nothing changed


def test_a_new_user_is_written_only_with_its_token(store_api) -> None:
    client, _, _ = store_api
    created = body(post(client, "/users", {"age": 33}))
    user_id, token = created["user_id"], created["token"]
    secret = token.split(".", 1)[1]
    assert token.startswith(f"{user_id}.") and len(secret) >= 43  # 256 bits, urlsafe base64
    path, rating = f"/users/{user_id}/ratings", {"item_id": 4, "rating": 5}
    missing = post(client, path, rating)
    assert _error(missing, 401)["code"] == "unauthorized"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = f"{user_id}.{'A' * len(secret)}"
    other_id, other_token = new_user(client)
    for bad in (wrong, other_token, "not-a-token", token + "x"):
        assert _error(post(client, path, rating, token=bad), 403)["code"] == "forbidden"
    garbled = client.http.post(
        path, body=b'{"item_id": 4, "rating": 5}',
        headers={"Content-Type": "application/json", "Authorization": "Basic dXNlcjpwdw=="},
    )  # fmt: skip
    assert _error(garbled, 401)["code"] == "unauthorized"
    assert post(client, path, rating, token=token).status_code == 201
    assert body(get(client, f"/users/{other_id}", other_token))["ratings_count"] == 0


def test_an_api_users_profile_and_recommendations_need_its_token(store_api) -> None:
    client, _, _ = store_api
    user_id, token = new_user(client, {"age": 52, "gender": "F", "occupation": "doctor"})
    _, other_token = new_user(client)
    for path in (f"/users/{user_id}", f"/users/{user_id}/recommendations",
                 f"/recommendEndpoint?user_id={user_id}"):  # fmt: skip
        assert _error(get(client, path), 401)["code"] == "unauthorized"
        forbidden = _error(get(client, path, other_token), 403)
        assert "52" not in forbidden["message"] and "doctor" not in forbidden["message"]
        assert get(client, path, token).status_code == 200
    assert body(get(client, f"/users/{user_id}", token))["occupation"] == "doctor"
    assert get(client, "/users/2").status_code == 200  # dataset users stay public


def test_lists_show_dataset_users_and_only_the_tokens_own_user(store_api) -> None:
    client, _, _ = store_api
    mine, token = new_user(client, {"occupation": "librarian"})
    new_user(client, {"occupation": "librarian"})
    anonymous = body(get(client, "/users?limit=100"))
    assert [u["user_id"] for u in anonymous["users"]] == [1, 2, 3, 4, 5]
    assert anonymous["total"] == 5
    assert body(get(client, "/users?query=librarian"))["users"] == []
    signed = body(get(client, "/users?limit=100", token))
    assert [u["user_id"] for u in signed["users"]] == [1, 2, 3, 4, 5, mine]
    assert [u["user_id"] for u in body(get(client, "/users?query=librarian", token))["users"]] == [
        mine
    ]
    assert _error(get(client, "/users", "junk"), 403)["code"] == "forbidden"
    assert _error(get(client, "/users", f"{mine}.{'B' * 43}"), 403)["code"] == "forbidden"


def test_delete_removes_the_user_and_its_ratings_and_nothing_else(store_api) -> None:
    client, store, _ = store_api
    user_id, token = new_user(client)
    keep_id, keep_token = new_user(client)
    for item in (2, 4, 6):
        post(client, f"/users/{user_id}/ratings", {"item_id": item, "rating": 1}, token=token)
    post(client, f"/users/{keep_id}/ratings", {"item_id": 4, "rating": 5}, token=keep_token)
    before = {i: body(get(client, f"/movies/{i}"))["ratings_count"] for i in range(1, 7)}
    base_ratings = {u: store.user_ratings(u) for u in range(1, 6)}
    assert _error(_delete(client, f"/users/{user_id}"), 401)["code"] == "unauthorized"
    assert _error(_delete(client, f"/users/{user_id}", keep_token), 403)["code"] == "forbidden"
    gone = _delete(client, f"/users/{user_id}", token)
    assert gone.status_code == 200
    assert body(gone) == {"user_id": user_id, "deleted": True, "ratings_removed": 3}
    assert store.get_user(user_id) is None and store.user_ratings(user_id) == []
    assert _error(get(client, f"/users/{user_id}", token), 404)["code"] == "not_found"
    after = {i: body(get(client, f"/movies/{i}"))["ratings_count"] for i in range(1, 7)}
    assert after == {i: n - (1 if i in (2, 4, 6) else 0) for i, n in before.items()}
    assert body(get(client, "/movies/4"))["mean_rating"] is not None
    assert {u: store.user_ratings(u) for u in range(1, 6)} == base_ratings
    kept = body(get(client, f"/users/{keep_id}", keep_token))
    assert [h["item_id"] for h in kept["history"]] == [4]
    assert _error(_delete(client, f"/users/{user_id}", token), 404)["code"] == "not_found"


def test_rating_caps_answer_429_with_retry_after(store_api) -> None:
    client, _, clock = store_api
    user_id, token = new_user(client)

    def rate(item: int) -> Any:
        return post(client, f"/users/{user_id}/ratings", {"item_id": item, "rating": 3},
                    token=token)  # fmt: skip

    assert [rate(i).status_code for i in (1, 2, 3)] == [201] * 3
    daily = rate(4)
    assert _error(daily, 429)["code"] == "too_many_requests"
    assert daily.headers["Retry-After"] == "6400"  # the next UTC day
    assert "per UTC day (3)" in body(daily)["error"]["message"]
    clock.now += 6400  # the next day: the daily allowance is back, the lifetime cap is 4
    assert rate(4).status_code == 201
    total = rate(5)
    assert _error(total, 429)["code"] == "too_many_requests"
    assert int(total.headers["Retry-After"]) > 0 and "(4)" in body(total)["error"]["message"]
    assert body(get(client, f"/users/{user_id}", token))["ratings_count"] == 4


def test_feedback_caps_answer_429_with_retry_after(store_api) -> None:
    client, _, clock = store_api
    user_id, token = new_user(client)

    def mark(item: int) -> Any:
        return post(client, f"/users/{user_id}/feedback",
                    {"item_id": item, "kind": "not_interested"}, token=token)  # fmt: skip

    assert [mark(i).status_code for i in (1, 2, 3)] == [201] * 3
    assert mark(3).status_code == 200  # already marked: no write, no count
    daily = mark(4)
    assert _error(daily, 429)["code"] == "too_many_requests"
    assert daily.headers["Retry-After"] == "6400"
    assert "feedback today" in body(daily)["error"]["message"]
    clock.now += 6400
    assert mark(4).status_code == 201
    total = mark(5)
    assert (
        _error(total, 429)["code"] == "too_many_requests"
        and "(4)" in body(total)["error"]["message"]
    )
    assert len(body(get(client, f"/users/{user_id}/feedback", token))["items"]) == 4


def test_users_per_client_per_hour_answer_429_with_retry_after(store_api) -> None:
    client, _, clock = store_api
    statuses = [post(client, "/users", {}).status_code for _ in range(5)]
    assert statuses == [201] * 5
    capped = post(client, "/users", {})
    assert _error(capped, 429)["code"] == "too_many_requests"
    assert capped.headers["Retry-After"] == "2800"  # the next hour
    clock.now += 2800
    assert post(client, "/users", {}).status_code == 201


def test_the_token_is_never_stored_or_logged_in_clear(
    store_api, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client, store, _ = store_api
    caplog.set_level(logging.DEBUG)
    user_id, token = new_user(client)
    post(client, f"/users/{user_id}/ratings", {"item_id": 2, "rating": 4}, token=token)
    get(client, f"/users/{user_id}", token)
    _delete(client, "/users/1", token)
    secret = token.split(".", 1)[1]
    assert secret not in caplog.text
    profile = store.get_user(user_id)
    assert profile.token is not None and secret not in repr(profile)
    assert len(profile.token.digest) == 64 and profile.token.digest != secret
    if store.backend == "sqlite":
        store.close()  # reading the files while a connection is open would drop its locks
        files = list(tmp_path.glob("store.db*"))
        assert files and all(secret.encode() not in path.read_bytes() for path in files)
    else:
        items = store.table.scan()["Items"]
        assert secret not in repr(items)


def test_behind_a_proxy_the_client_is_the_forwarded_address() -> None:
    from chalicelib.limits import client_address, client_key

    headers = {"x-forwarded-for": "203.0.113.7, 198.51.100.2"}
    assert client_address("10.0.0.1", headers, "x-forwarded-for") == "203.0.113.7"
    # Without the header, or when none is configured, the connection's address counts.
    assert client_address("10.0.0.1", {}, "x-forwarded-for") == "10.0.0.1"
    assert client_address("10.0.0.1", headers, None) == "10.0.0.1"
    assert client_key("203.0.113.7") != client_key("203.0.113.8")
