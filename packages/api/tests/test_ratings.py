"""Ratings: stored durably, once per user and movie, never lost under concurrent writers."""

import threading

from conftest import body, get, new_user, post

from chalicelib.limits import WriteCap
from chalicelib.ownership import TokenRecord
from chalicelib.sqlite_store import SqliteStore
from chalicelib.store import NewUser
from recs_contracts.store import Movie, RatingsStore

NO_CAP = WriteCap("ratings", 10**6, 10**6)


def _create(store: SqliteStore) -> int:
    def token_for(user_id: int) -> TokenRecord:
        return TokenRecord("00" * 16, "0" * 64)

    user = store.create_user(
        NewUser(None, None, None, 1, token_for=token_for, client="test", users_per_hour=10**6)
    )
    return user.user_id


def test_rating_is_stored_and_shows_in_the_history(api, home) -> None:
    user_id, token = new_user(api)
    response = post(api, f"/users/{user_id}/ratings", {"item_id": 6, "rating": 3.5}, token=token)
    assert response.status_code == 201
    rating = body(response)
    assert (rating["user_id"], rating["item_id"], rating["rating"], rating["source"]) == (
        user_id, 6, 3.5, "api",
    )  # fmt: skip
    assert body(get(api, f"/users/{user_id}", token))["history"][0]["item_id"] == 6
    # Durable: a separate connection to the file sees the row.
    reader = RatingsStore(home / "store.db")
    rows = [(r.item_id, r.rating, r.source) for r in reader.user_ratings(user_id)]
    reader.close()
    assert rows == [(6, 3.5, "api")]


def test_duplicate_rating_is_409(api) -> None:
    user_id, token = new_user(api)
    path = f"/users/{user_id}/ratings"
    assert post(api, path, {"item_id": 6, "rating": 3}, token=token).status_code == 201
    again = post(api, path, {"item_id": 6, "rating": 5}, token=token)
    assert again.status_code == 409
    assert body(again)["error"]["code"] == "conflict"


def test_rating_unknown_user_or_movie_is_404(api) -> None:
    user_id, token = new_user(api)
    unknown = post(api, "/users/99/ratings", {"item_id": 1, "rating": 3}, token=token)
    assert unknown.status_code == 404
    missing = post(api, f"/users/{user_id}/ratings", {"item_id": 999, "rating": 3}, token=token)
    assert missing.status_code == 404
    assert "movie 999" in body(missing)["error"]["message"]


def test_rating_bad_values_are_400(api) -> None:
    user_id, token = new_user(api)
    for payload in (
        {"item_id": 6, "rating": 0.25},
        {"item_id": 6, "rating": 6},
        {"item_id": 6},
        {"item_id": 0, "rating": 3},
        {"rating": 3},
        {"item_id": 6, "rating": 3, "comment": "good"},
    ):
        response = post(api, f"/users/{user_id}/ratings", payload, token=token)
        assert response.status_code == 400, payload
        assert body(response)["error"]["message"]


def test_concurrent_writers_lose_no_rating(home) -> None:
    """Eight threads, each with its own connection, write 30 ratings each at once."""
    path = home / "store.db"
    catalog = RatingsStore(path)
    catalog.put_movies([Movie(100 + i, f"M{i}", None, []) for i in range(30)])
    catalog.close()
    users = [_create(SqliteStore(path)) for _ in range(8)]
    assert len(set(users)) == 8
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def write(user_id: int) -> None:
        store = SqliteStore(path)
        start.wait()
        try:
            for i in range(30):
                store.add_rating(user_id, 100 + i, 4.0, 1000 + i, NO_CAP)
        except BaseException as exc:  # reported below: a lost write must fail the test
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=write, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    reader = RatingsStore(path)
    assert reader.count_ratings(source="api") == 240
    reader.close()


def test_concurrent_user_creation_hands_out_distinct_ids(home) -> None:
    path = home / "store.db"
    ids: list[int] = []
    lock = threading.Lock()

    def create() -> None:
        store = SqliteStore(path)
        for _ in range(10):
            user_id = _create(store)
            with lock:
                ids.append(user_id)
        store.close()

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ids) == list(range(6, 66))


def test_a_damaged_store_is_503_not_500(api, home) -> None:
    from chalicelib import wiring

    (home / "store.db").write_bytes(b"not a database at all" * 200)
    for suffix in ("-wal", "-shm"):
        (home / f"store.db{suffix}").unlink(missing_ok=True)
    wiring.use(None)
    for response in (api.http.get("/users/1"), post(api, "/users", {})):
        assert response.status_code == 503
        assert body(response)["error"]["code"] == "unavailable"
