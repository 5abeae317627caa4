"""The DynamoDB store (moto): same behaviour as SQLite behind the same routes."""

import math

import pytest
from chalice.test import Client
from conftest import RATINGS, body, get, new_user, post, write_dataset

from chalicelib import wiring
from chalicelib.dynamodb_store import DynamoStore
from chalicelib.endpoint import LocalEndpoint
from chalicelib.registry import LocalRegistry
from chalicelib.seed import main as seed_main
from chalicelib.seed import read_dataset, seed
from chalicelib.service import RecsService
from chalicelib.settings import get_settings


@pytest.fixture
def dynamo_api(table, tmp_path, contract_endpoint):
    store = DynamoStore(table)
    assert seed(store, write_dataset(tmp_path / "ml-100k")) is True
    service = RecsService(
        store,
        LocalEndpoint(contract_endpoint.url, 0.5),
        LocalRegistry(tmp_path / "registry.db", "recs-movielens"),
    )
    wiring.use(service)
    from app import app

    with Client(app) as client:
        yield client
    wiring.use(None)


def test_seed_is_idempotent(table, tmp_path) -> None:
    directory = write_dataset(tmp_path / "ml-100k")
    store = DynamoStore(table)
    assert seed(store, directory) is True
    assert seed(store, directory) is False
    assert sum(1 for _ in store.iter_ratings()) == len(RATINGS)


def test_seed_command_line(table, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("RECS_STORE", "dynamodb")
    monkeypatch.setenv("RECS_RATINGS_TABLE", "recs-ratings")
    get_settings.cache_clear()
    try:
        assert seed_main(["--dynamodb", "--data", str(write_dataset(tmp_path / "d"))]) == 0
    finally:
        get_settings.cache_clear()
    assert "DynamoDB table recs-ratings: seeded" in capsys.readouterr().out
    assert DynamoStore(table).get_user(3) is not None


def test_users_ratings_and_history(dynamo_api) -> None:
    listed = body(dynamo_api.http.get("/users?query=techn"))
    assert [u["user_id"] for u in listed["users"]] == [1, 4]
    assert listed["users"][0]["ratings_count"] == 3
    user_id, token = new_user(dynamo_api, {"age": 30, "occupation": "writer"})
    assert user_id == 6

    def rate(payload: dict) -> int:
        return int(post(dynamo_api, "/users/6/ratings", payload, token=token).status_code)

    assert rate({"item_id": 2, "rating": 4.5}) == 201
    assert rate({"item_id": 2, "rating": 1}) == 409
    assert rate({"item_id": 99, "rating": 1}) == 404
    user = body(get(dynamo_api, "/users/6", token))
    assert user["ratings_count"] == 1 and user["occupation"] == "writer"
    assert [(h["item_id"], h["title"], h["rating"]) for h in user["history"]] == [
        (2, "GoldenEye", 4.5)
    ]
    history = body(dynamo_api.http.get("/users/1"))["history"]
    assert [h["item_id"] for h in history] == [3, 2, 1]


def test_movies_popularity_and_similarity(dynamo_api) -> None:
    movie = body(dynamo_api.http.get("/movies/2"))
    assert movie["ratings_count"] == 3 and movie["mean_rating"] == round(10 / 3, 4)
    assert movie["year"] == 1995
    assert body(dynamo_api.http.get("/movies/6"))["year"] is None
    found = body(dynamo_api.http.get("/movies?query=o&limit=3"))["items"]
    assert [m["item_id"] for m in found] == [1, 2, 3]
    similar = body(dynamo_api.http.get("/movies/2/similar?k=1"))
    assert similar["movies"] == [3] and similar["items"][0]["score"] == round(2 / math.sqrt(6), 6)
    user_id, token = new_user(dynamo_api)
    fallback = body(get(dynamo_api, f"/users/{user_id}/recommendations?k=3", token))
    assert fallback["fallback"] is True and fallback["movies"] == [1, 2, 3]


def test_recommendations_use_the_dynamodb_history(dynamo_api, contract_endpoint) -> None:
    result = body(dynamo_api.http.get("/users/4/recommendations?k=2"))
    assert result["fallback"] is False and result["movies"] == [4, 6]
    sent = contract_endpoint.requests[-1]["body"]["instances"][0]
    assert sent["history"] == [2, 3, 5]  # oldest first


def test_unseeded_table_is_unavailable(table) -> None:
    store = DynamoStore(table)
    from chalicelib.store import StoreUnavailable

    with pytest.raises(StoreUnavailable, match="not seeded"):
        store.check()


def test_read_dataset_matches_the_fixture(tmp_path) -> None:
    data = read_dataset(write_dataset(tmp_path / "d"))
    assert len(data.movies) == 6 and len(data.users) == 5 and len(data.ratings) == len(RATINGS)
