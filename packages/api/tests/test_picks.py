"""Issue 21 on both stores: match and because on every pick, filters before top-k, offset,
not-interested feedback, popular movies by genre, genres.

The tiny dataset (conftest): movie genres 1 Animation/Children's/Comedy, 2 Action/Adventure/
Thriller, 3 Thriller, 4 Action/Comedy/Drama, 5 Crime/Drama/Thriller, 6 none (nor a year);
every dated movie is from 1995. The contract endpoint ranks the catalog as 5, 3, 4, 6, 2, 1
minus the history and the request's exclude.
"""

from __future__ import annotations

import pytest
from chalice.test import Client
from conftest import body, get, new_user, post, write_dataset

from chalicelib import wiring
from chalicelib.dynamodb_store import DynamoStore
from chalicelib.endpoint import LocalEndpoint
from chalicelib.registry import LocalRegistry
from chalicelib.seed import seed
from chalicelib.service import RecsService

GENRES = {
    1: {"Animation", "Children's", "Comedy"},
    2: {"Action", "Adventure", "Thriller"},
    3: {"Thriller"},
    4: {"Action", "Comedy", "Drama"},
    5: {"Crime", "Drama", "Thriller"},
    6: set(),
}  # fmt: skip  (the dataset's "unknown" genre is stored as none)


@pytest.fixture(params=["sqlite", "dynamodb"])
def store_api(request, tmp_path, contract_endpoint):
    """The app over the SQLite store (``api``) or the DynamoDB one (moto)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("api")
        return
    table = request.getfixturevalue("table")
    store = DynamoStore(table)
    assert seed(store, write_dataset(tmp_path / "dynamo-ml-100k")) is True
    wiring.use(
        RecsService(
            store,
            LocalEndpoint(contract_endpoint.url, 0.5),
            LocalRegistry(tmp_path / "registry.db", "recs-movielens"),
        )
    )
    from app import app

    with Client(app) as client:
        yield client
    wiring.use(None)


def delete(client, path: str, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.http.delete(path, headers=headers)


def rated_user(client, ratings: dict[int, float]) -> tuple[int, str]:
    user_id, token = new_user(client)
    for item_id, rating in ratings.items():
        rating_body = {"item_id": item_id, "rating": rating}
        response = post(client, f"/users/{user_id}/ratings", rating_body, token=token)
        assert response.status_code == 201, response.body
    return user_id, token


# ----------------------------------------------------------------------------- match, because


def test_every_pick_has_a_match_in_0_1_and_a_because_that_the_user_rated(store_api) -> None:
    ratings = {1: 5.0, 2: 4.0}
    user_id, token = rated_user(store_api, ratings)
    result = body(get(store_api, f"/users/{user_id}/recommendations?k=4", token))
    assert result["movies"] == [5, 3, 4, 6]
    for item in result["items"]:
        assert 0 <= item["match"] <= 1
        if item["because"] is not None:
            assert item["reason"] == "similar_to_rated"
            assert item["because"]["item_id"] in ratings
            assert item["because"]["rating"] == ratings[item["because"]["item_id"]]
            assert (
                item["because"]["title"]
                == {1: "Toy Story", 2: "GoldenEye"}[item["because"]["item_id"]]
            )
        else:
            assert item["reason"] == "taste"
    # Movie 3 is co-rated with 1 (by user 1) and with 2 (users 1 and 4): it has a reason.
    by_id = {item["item_id"]: item for item in result["items"]}
    assert by_id[3]["because"] is not None
    # Movie 6 was never rated by anyone: no affinity, the least popular, the lowest match.
    assert by_id[6]["because"] is None and by_id[6]["match"] == 0.0
    assert by_id[3]["match"] > by_id[6]["match"]


def test_match_is_the_same_whichever_model_picks_and_popularity_picks_have_no_because(
    store_api,
) -> None:
    user_id, token = rated_user(store_api, {1: 5.0})
    tfrs = body(get(store_api, f"/users/{user_id}/recommendations?k=5", token))
    mostpop = body(get(store_api, f"/users/{user_id}/recommendations?k=5&model=mostpop", token))
    assert mostpop["model"]["display_name"] == "Most popular"
    match = {i["item_id"]: i["match"] for i in tfrs["items"]}
    assert {i["item_id"]: i["match"] for i in mostpop["items"]} == match
    assert all(i["because"] is None and i["reason"] == "popular" for i in mostpop["items"])
    assert any(i["because"] for i in tfrs["items"])


def test_low_ratings_are_never_the_reason(store_api) -> None:
    user_id, token = rated_user(store_api, {1: 1.0, 2: 3.0})
    result = body(get(store_api, f"/users/{user_id}/recommendations?k=4", token))
    assert all(i["because"] is None for i in result["items"])


def test_fallback_without_ratings_has_matches_and_popular_reasons(store_api) -> None:
    user_id, token = new_user(store_api)
    result = body(get(store_api, f"/users/{user_id}/recommendations?k=3", token))
    assert result["fallback"] is True
    assert [i["reason"] for i in result["items"]] == ["popular"] * 3
    matches = [i["match"] for i in result["items"]]
    assert matches == sorted(matches, reverse=True) and matches[0] == 1.0  # most rated first


# ----------------------------------------------------------------------------- filters


def test_genre_filter_returns_only_matching_movies_and_k_of_them(store_api, contract_endpoint):
    user_id, token = rated_user(store_api, {1: 5.0})
    result = body(get(store_api, f"/users/{user_id}/recommendations?k=3&genres=thriller", token))
    assert result["movies"] == [5, 3, 2]  # k qualifying movies, in the model's order
    assert all("Thriller" in i["genres"] for i in result["items"])
    assert result["filters"] == {"genres": ["Thriller"], "year_min": None, "year_max": None,
                                 "offset": 0, "k": 3}  # fmt: skip
    sent = contract_endpoint.requests[-1]["body"]["instances"][0]
    assert sorted(sent["exclude"]) == [1, 4, 6]  # the movies the filter leaves out
    either = body(get(store_api, f"/users/{user_id}/recommendations?genres=Crime,Comedy", token))
    assert either["movies"] == [5, 4]  # any of the genres; 1 is rated


def test_year_filters_leave_out_movies_without_a_year(store_api) -> None:
    user_id, token = rated_user(store_api, {1: 5.0})
    result = body(get(store_api, f"/users/{user_id}/recommendations?year_min=1995", token))
    assert result["movies"] == [5, 3, 4, 2]  # 6 has no year
    later = body(get(store_api, f"/users/{user_id}/recommendations?year_min=1996", token))
    assert later["movies"] == [] and later["items"] == []


def test_offset_pages_through_the_same_ranking(store_api) -> None:
    user_id, token = rated_user(store_api, {1: 5.0})
    first = body(get(store_api, f"/users/{user_id}/recommendations?k=2", token))
    second = body(get(store_api, f"/users/{user_id}/recommendations?k=2&offset=2", token))
    assert first["movies"] == [5, 3] and second["movies"] == [4, 6]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("genres=Westerns", "genres: unknown genre 'Westerns'; known genres: Action, Adventure"),
        ("year_min=2000&year_max=1990", "year_min (2000) is after year_max (1990)"),
        ("year_min=99", "year_min must be between 1800 and 2100"),
        ("offset=60&k=50", "offset + k must be at most 100, got 60 + 50"),
        ("offset=-1", "offset must be between 0 and 99"),
    ],
)
def test_bad_filters_are_400_in_the_error_shape(store_api, query, message) -> None:
    response = store_api.http.get(f"/users/1/recommendations?{query}")
    assert response.status_code == 400
    error = body(response)["error"]
    assert error["code"] == "bad_request" and message in error["message"]


# ----------------------------------------------------------------------------- feedback


def test_not_interested_stays_gone_for_every_model_until_deleted(store_api) -> None:
    user_id, token = rated_user(store_api, {1: 5.0})
    path = f"/users/{user_id}/feedback"
    created = post(store_api, path, {"item_id": 5, "kind": "not_interested"}, token=token)
    assert created.status_code == 201
    assert body(created)["item_id"] == 5 and body(created)["kind"] == "not_interested"
    again = post(store_api, path, {"item_id": 5, "kind": "not_interested"}, token=token)
    assert again.status_code == 200 and body(again) == body(created)
    for model in ("tfrs", "mostpop"):
        result = body(get(store_api, f"/users/{user_id}/recommendations?model={model}", token))
        assert 5 not in result["movies"], model
    listed = body(get(store_api, path, token))
    assert [(i["item_id"], i["title"]) for i in listed["items"]] == [(5, "Copycat")]
    similar = body(get(store_api, f"/movies/3/similar?user_id={user_id}", token))
    assert (
        5 not in similar["movies"] and 5 in body(store_api.http.get("/movies/3/similar"))["movies"]
    )
    popular = body(get(store_api, f"/movies/popular?user_id={user_id}", token))
    assert not {1, 5} & {i["item_id"] for i in popular["items"]}

    assert delete(store_api, f"{path}/5", token).status_code == 200
    assert body(get(store_api, path, token))["items"] == []
    restored = body(get(store_api, f"/users/{user_id}/recommendations", token))
    assert 5 in restored["movies"]
    missing = delete(store_api, f"{path}/5", token)
    assert missing.status_code == 404 and "not marked movie 5" in body(missing)["error"]["message"]


def test_feedback_follows_the_rules_of_ratings(store_api) -> None:
    user_id, token = new_user(store_api)
    other_id, other_token = new_user(store_api)
    path = f"/users/{user_id}/feedback"
    mark = {"item_id": 2, "kind": "not_interested"}
    assert post(store_api, path, mark).status_code == 401
    assert post(store_api, path, mark, token=other_token).status_code == 403
    assert get(store_api, path).status_code == 401
    assert post(store_api, "/users/1/feedback", mark, token=token).status_code == 403
    assert post(store_api, path, {"item_id": 999, "kind": "not_interested"},
                token=token).status_code == 404  # fmt: skip
    bad_kind = post(store_api, path, {"item_id": 2, "kind": "hate"}, token=token)
    assert bad_kind.status_code == 400
    assert "kind must be one of not_interested" in body(bad_kind)["error"]["message"]
    assert delete(store_api, f"{path}/2").status_code == 401
    assert delete(store_api, f"{path}/2", other_token).status_code == 403
    assert post(store_api, path, mark, token=token).status_code == 201
    assert delete(store_api, f"/users/{user_id}", token).status_code == 200
    recreated_id, recreated_token = new_user(store_api)
    assert recreated_id != user_id
    assert body(get(store_api, f"/users/{recreated_id}/feedback", recreated_token))["items"] == []


# ----------------------------------------------------------------------------- onboarding


def test_popular_by_genre_and_the_genre_list(store_api) -> None:
    comedy = body(store_api.http.get("/movies/popular?genre=comedy&limit=5"))
    assert [i["item_id"] for i in comedy["items"]] == [1, 4]  # 4 ratings, then 1
    assert comedy["total"] == 2 and comedy["items"][0]["ratings_count"] == 4
    everything = body(store_api.http.get("/movies/popular?limit=3"))
    assert [i["item_id"] for i in everything["items"]] == [1, 2, 3]
    assert everything["total"] == 6
    genres = body(store_api.http.get("/movies/genres"))["genres"]
    assert genres[0] == {"name": "Thriller", "movies": 3}
    assert {g["name"] for g in genres} == set().union(*GENRES.values())
    bad = store_api.http.get("/movies/popular?genre=Opera")
    assert (
        bad.status_code == 400 and "genre: unknown genre 'Opera'" in body(bad)["error"]["message"]
    )
