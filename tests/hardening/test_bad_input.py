# ruff: noqa: E501  (one bad request per line reads as a table)
"""Bad input over HTTP against `chalice local`: every case gets its documented 4xx and the
``{"error": {"code", "message"}}`` body, and nothing bad reaches the store."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from hardening_stack import Stack, bearer, call, new_user, post_json

from recs_contracts.store import RatingsStore

JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Bad:
    """One bad request and the answer the API documents for it."""

    name: str
    method: str
    path: str  # ``{user}`` is replaced by a fresh user's id
    status: int
    code: str
    says: str  # a piece of the message that tells the client what to fix
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)


def _j(value: object) -> bytes:
    return json.dumps(value).encode()


HUGE = str(10**30)
CASES = [
    # wrong types in paths and queries
    Bad("user id not a number", "GET", "/users/abc", 400, "bad_request", "user_id must be an integer"),
    Bad("user id a float", "GET", "/users/1.5", 400, "bad_request", "user_id must be an integer"),
    Bad("k a word", "GET", "/users/1/recommendations?k=ten", 400, "bad_request", "k must be an integer"),
    Bad("limit a float", "GET", "/movies?limit=2.5", 400, "bad_request", "limit must be an integer"),
    # negative, zero and huge numbers
    Bad("negative user id", "GET", "/users/-1", 400, "bad_request", "user_id must be between"),
    Bad("zero movie id", "GET", "/movies/0", 400, "bad_request", "item_id must be between"),
    Bad("huge user id", "GET", f"/users/{HUGE}", 400, "bad_request", "user_id must be an integer"),
    Bad("user id past int32", "GET", f"/users/{2**31}", 400, "bad_request", "user_id must be between"),
    Bad("k zero", "GET", "/users/1/recommendations?k=0", 400, "bad_request", "k must be between 1 and 100"),
    Bad("k huge", "GET", "/users/1/recommendations?k=100000", 400, "bad_request", "k must be between 1 and 100"),
    Bad("negative offset", "GET", "/users?offset=-5", 400, "bad_request", "offset must be between"),
    Bad("similar k negative", "GET", "/movies/1/similar?k=-3", 400, "bad_request", "k must be between"),
    # unknown ids and parameters
    Bad("unknown user", "GET", "/users/2000000", 404, "not_found", "user 2000000 does not exist"),
    Bad("unknown movie", "GET", "/movies/999999", 404, "not_found", "movie 999999 does not exist"),
    Bad("recommendations of unknown user", "GET", "/users/2000000/recommendations", 404, "not_found", "user 2000000"),
    Bad("similar of unknown movie", "GET", "/movies/999999/similar", 404, "not_found", "movie 999999"),
    Bad("rating an unknown movie", "POST", "/users/{user}/ratings", 404, "not_found", "movie 999999", _j({"item_id": 999999, "rating": 4})),
    Bad("rating as an unknown user", "POST", "/users/2000000/ratings", 404, "not_found", "user 2000000", _j({"item_id": 1, "rating": 4}), (("Content-Type", "application/json"), ("Authorization", "Bearer 2000000." + "A" * 43))),
    Bad("unknown query parameter", "GET", "/movies?sort=title", 400, "bad_request", "unknown parameter(s) sort"),
    Bad("unknown model name", "GET", "/users/1/recommendations?model=nosuchmodel", 400, "bad_request", "nosuchmodel"),
    Bad("model name with path characters", "GET", "/users/1/recommendations?model=" + quote("../../etc"), 400, "bad_request", "is not a model name"),
    # unicode and control characters
    Bad("control characters in model", "GET", "/users/1/recommendations?model=" + quote("tf\x00rs\n"), 400, "bad_request", "model"),
    Bad("search longer than 100 characters", "GET", "/movies?query=" + quote("ж" * 101), 400, "bad_request", "at most 100 characters"),
    Bad("unicode digits as id", "GET", "/users/" + quote("١٢"), 400, "bad_request", "user_id must be an integer"),
    Bad("unicode field name", "POST", "/users", 400, "bad_request", "unknown field(s) ä", _j({"ä": 1})),
    Bad("control characters in occupation", "POST", "/users", 400, "bad_request", "occupation must be one of", _j({"occupation": "student\x00\x1b"})),
    # bodies: wrong types, values and shapes
    Bad("rating a string", "POST", "/users/{user}/ratings", 400, "bad_request", "rating must be a number", _j({"item_id": 1, "rating": "5"})),
    Bad("rating a boolean", "POST", "/users/{user}/ratings", 400, "bad_request", "rating must be a number", _j({"item_id": 1, "rating": True})),
    Bad("rating too high", "POST", "/users/{user}/ratings", 400, "bad_request", "rating must be between 0.5 and 5", _j({"item_id": 1, "rating": 6})),
    Bad("rating negative", "POST", "/users/{user}/ratings", 400, "bad_request", "rating must be between", _j({"item_id": 1, "rating": -1})),
    Bad("rating not a half step", "POST", "/users/{user}/ratings", 400, "bad_request", "multiple of 0.5", _j({"item_id": 1, "rating": 3.3})),
    Bad("rating NaN", "POST", "/users/{user}/ratings", 400, "bad_request", "rating must be a number", b'{"item_id": 1, "rating": NaN}'),
    Bad("rating Infinity", "POST", "/users/{user}/ratings", 400, "bad_request", "rating must be a number", b'{"item_id": 1, "rating": Infinity}'),
    Bad("item id a float", "POST", "/users/{user}/ratings", 400, "bad_request", "item_id must be an integer", _j({"item_id": 1.5, "rating": 4})),
    Bad("item id huge", "POST", "/users/{user}/ratings", 400, "bad_request", "item_id must be between", _j({"item_id": 10**30, "rating": 4})),
    Bad("missing rating", "POST", "/users/{user}/ratings", 400, "bad_request", "missing field(s) rating", _j({"item_id": 1})),
    Bad("extra field", "POST", "/users/{user}/ratings", 400, "bad_request", "unknown field(s) user_id", _j({"item_id": 1, "rating": 4, "user_id": 1})),
    Bad("body a list", "POST", "/users/{user}/ratings", 400, "bad_request", "must be a JSON object", _j([{"item_id": 1, "rating": 4}])),
    Bad("body null", "POST", "/users", 400, "bad_request", "must be a JSON object", b"null"),
    Bad("age a string", "POST", "/users", 400, "bad_request", "age must be an integer", _j({"age": "30"})),
    Bad("age negative", "POST", "/users", 400, "bad_request", "age must be between 1 and 120", _j({"age": -4})),
    Bad("gender unknown", "POST", "/users", 400, "bad_request", "gender must be one of M, F", _j({"gender": "X"})),
    # SQL-like strings are data, never SQL: the search finds nothing rather than failing
    # (see test_sql_like_search_is_only_text); in an id they are not integers.
    Bad("SQL in a path id", "GET", "/users/" + quote("1 OR 1=1"), 400, "bad_request", "user_id must be an integer"),
    Bad("SQL in a body field", "POST", "/users", 400, "bad_request", "occupation must be one of", _j({"occupation": "x'); DROP TABLE ratings;--"})),
    # truncated, empty and non-JSON bodies
    Bad("truncated JSON", "POST", "/users/{user}/ratings", 400, "bad_request", "not valid JSON", b'{"item_id": 1, "rat'),
    Bad("empty body", "POST", "/users/{user}/ratings", 400, "bad_request", "needs a JSON object body", b""),
    Bad("invalid UTF-8", "POST", "/users", 400, "bad_request", "not valid JSON", b'{"occupation": "\xff\xfe"}'),
    # wrong content types
    Bad("form-encoded body", "POST", "/users/{user}/ratings", 415, "unsupported_media_type", "application/x-www-form-urlencoded", b"item_id=1&rating=4", (("Content-Type", "application/x-www-form-urlencoded"),)),
    Bad("text body", "POST", "/users", 415, "unsupported_media_type", "text/plain", b"{}", (("Content-Type", "text/plain"),)),
    # wrong methods
    Bad("PUT a user", "PUT", "/users/1", 405, "method_not_allowed", "PUT", _j({"age": 30})),
    Bad("PUT a rating", "PUT", "/users/1/ratings", 405, "method_not_allowed", "PUT", _j({"item_id": 1, "rating": 4})),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_gets_its_documented_error(api: str, case: Bad) -> None:
    headers = dict(case.headers)
    path = case.path
    if "{user}" in path:
        user, token = new_user(api)
        path = path.replace("{user}", str(user))
        headers.update(bearer(token))  # the user's own token: the input is what is wrong
    reply = call(api + path, case.method, case.body, headers)
    assert reply.status == case.status, reply.body
    assert reply.headers.get("Content-Type", "").startswith("application/json")
    error = reply.json()["error"]
    assert set(reply.json()) == {"error"} and set(error) == {"code", "message"}
    assert error["code"] == case.code
    assert case.says in error["message"], error["message"]


def test_oversized_body_is_413_and_not_read(api: str) -> None:
    user, token = new_user(api)
    padding = "x" * 20_000  # the default limit is 16 KiB
    body = _j({"item_id": 1, "rating": 4, "p": padding})
    reply = call(f"{api}/users/{user}/ratings", "POST", body, {**JSON, **bearer(token)})
    assert reply.status == 413
    assert reply.json()["error"]["code"] == "payload_too_large"
    assert "the limit is 16384" in reply.json()["error"]["message"]


def test_duplicate_rating_is_409_and_the_first_one_stays(stack: Stack) -> None:
    user, token = new_user(stack.api)
    path = f"{stack.api}/users/{user}/ratings"
    first = post_json(path, {"item_id": 50, "rating": 4.5}, token=token)
    assert first.status == 201
    again = post_json(path, {"item_id": 50, "rating": 1}, token=token)
    assert again.status == 409
    assert again.json()["error"]["code"] == "conflict"
    assert "already rated movie 50" in again.json()["error"]["message"]
    rows = RatingsStore(stack.store_path).user_ratings(user)
    assert [(r.item_id, r.rating) for r in rows] == [(50, 4.5)]


@pytest.mark.parametrize(
    "query",
    ["' OR '1'='1", "%", "_", "\\", "'; DROP TABLE movies;--", '" OR ""="', "Toy%' --"],
)
def test_sql_like_search_is_only_text(stack: Stack, query: str) -> None:
    reply = call(f"{stack.api}/movies?query={quote(query)}&limit=5")
    assert reply.status == 200, reply.body
    titles = [item["title"] for item in reply.json()["items"]]
    # Only titles that really contain the text (LIKE wildcards escaped); no row leaks out.
    assert all(query.lower() in title.lower() for title in titles), titles
    users = call(f"{stack.api}/users?query={quote(query)}")
    assert users.status == 200 and users.json()["total"] == 0
    assert RatingsStore(stack.store_path).count_movies() == 1682


def test_unicode_search_round_trips(api: str) -> None:
    reply = call(f"{api}/movies?query={quote('Amélie')}")
    assert reply.status == 200
    assert reply.json()["total"] == 0 or all(
        "amélie" in item["title"].lower() for item in reply.json()["items"]
    )
    reply = call(f"{api}/movies?query={quote('🎬')}")
    assert reply.status == 200 and reply.json()["items"] == []


def test_integral_floats_are_integers(stack: Stack) -> None:
    """JSON Schema counts 3.0 as an integer, so the API must too (found by the fuzzer)."""
    created = post_json(stack.api + "/users", {"age": 30.0})
    assert created.status == 201, created.body
    assert created.json()["age"] == 30
    user, token = created.json()["user_id"], created.json()["token"]
    rated = post_json(
        f"{stack.api}/users/{user}/ratings", {"item_id": 3.0, "rating": 4.0}, token=token
    )
    assert rated.status == 201, rated.body
    rows = RatingsStore(stack.store_path).user_ratings(user)
    assert [(r.item_id, type(r.item_id)) for r in rows] == [(3, int)]  # stored as an integer
