"""Users: search and paging, creation, profile with history."""

from conftest import body, get, post


def test_list_users_pages_in_id_order(api) -> None:
    first = body(api.http.get("/users?limit=2"))
    assert [u["user_id"] for u in first["users"]] == [1, 2]
    assert first["total"] == 5 and first["limit"] == 2 and first["offset"] == 0
    assert first["users"][0] == {"user_id": 1, "age": 24, "gender": "M",
                                 "occupation": "technician", "source": "base",
                                 "ratings_count": 3}  # fmt: skip
    rest = body(api.http.get("/users?limit=2&offset=4"))
    assert [u["user_id"] for u in rest["users"]] == [5]


def test_search_matches_id_prefix_or_occupation(api) -> None:
    found = body(api.http.get("/users?query=techn"))
    assert [u["user_id"] for u in found["users"]] == [1, 4] and found["total"] == 2
    assert [u["user_id"] for u in body(api.http.get("/users?query=3"))["users"]] == [3]
    assert body(api.http.get("/users?query=%25"))["total"] == 0  # LIKE wildcards are literal


def test_list_users_rejects_bad_paging(api) -> None:
    for query in ("limit=0", "limit=101", "offset=-1", "limit=abc", "page=2"):
        response = api.http.get(f"/users?{query}")
        assert response.status_code == 400, query
        assert body(response)["error"]["code"] == "bad_request"


def test_create_user_returns_201_and_an_id_above_the_dataset(api) -> None:
    response = post(api, "/users", {"age": 31, "gender": "F", "occupation": "scientist"})
    assert response.status_code == 201
    created = body(response)
    assert created["user_id"] == 6 and created["source"] == "api"
    assert created["history"] == [] and created["ratings_count"] == 0
    assert body(post(api, "/users", {}))["user_id"] == 7  # every field is optional
    fetched = body(get(api, "/users/6", created["token"]))
    assert (fetched["age"], fetched["gender"], fetched["occupation"]) == (31, "F", "scientist")


def test_create_user_rejects_wrong_fields(api) -> None:
    cases = [
        ({"age": 0}, "age must be between 1 and 120"),
        ({"age": "30"}, "age must be an integer"),
        ({"gender": "X"}, "gender must be one of M, F"),
        ({"occupation": "astronaut"}, "occupation must be one of"),
        ({"name": "Ada"}, "unknown field(s) name"),
    ]
    for payload, message in cases:
        response = post(api, "/users", payload)
        assert response.status_code == 400, payload
        assert message in body(response)["error"]["message"]
    assert post(api, "/users", None, raw=b"{oops").status_code == 400
    assert post(api, "/users", None, raw=b'"text"').status_code == 400


def test_oversized_body_is_413(api) -> None:
    response = post(api, "/users", None, raw=b'{"age": 1' + b" " * 20000 + b"}")
    assert response.status_code == 413
    assert body(response)["error"]["code"] == "payload_too_large"


def test_user_detail_has_history_newest_first_with_titles(api) -> None:
    user = body(api.http.get("/users/1"))
    assert user["ratings_count"] == 3 and user["created_at"] == 100
    assert [(h["item_id"], h["title"], h["rating"], h["timestamp"]) for h in user["history"]] == [
        (3, "Four Rooms", 3.0, 120),
        (2, "GoldenEye", 4.0, 110),
        (1, "Toy Story", 5.0, 100),
    ]
    assert user["history"][2]["genres"] == ["Animation", "Children's", "Comedy"]


def test_unknown_or_malformed_user_ids(api) -> None:
    missing = api.http.get("/users/999")
    assert missing.status_code == 404
    assert body(missing) == {"error": {"code": "not_found", "message": "user 999 does not exist"}}
    assert api.http.get("/users/abc").status_code == 400
    assert api.http.get("/users/-1").status_code == 400


def test_method_and_media_type_errors_keep_the_error_shape(api) -> None:
    response = api.http.request("DELETE", "/users")
    assert response.status_code == 405
    assert body(response)["error"]["code"] == "method_not_allowed"
    response = api.http.post("/users", body=b"{}", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert body(response)["error"]["code"] == "unsupported_media_type"


def test_a_real_bug_is_a_logged_500_in_the_error_shape(api, home, caplog) -> None:
    from app import service
    from chalicelib.sqlite_store import SqliteStore

    class Broken(SqliteStore):
        def list_users(self, query, limit, offset, include=None):
            raise RuntimeError("a bug")

    service().store = Broken(home / "store.db")
    response = api.http.get("/users")
    assert response.status_code == 500
    assert body(response)["error"]["code"] == "internal_error"
    assert "a bug" not in response.body.decode()  # no internals leak to the client
    assert any("RuntimeError: a bug" in (r.exc_text or "") for r in caplog.records)
