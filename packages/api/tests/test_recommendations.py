"""Recommendations through a real HTTP server implementing the endpoint contract."""

import time

from conftest import body, get, new_user, post

from chalicelib.models_info import model_info
from recs_contracts.store import BASE, RatingsStore


def test_known_user_gets_model_answer_without_rated_movies(api, contract_endpoint) -> None:
    response = api.http.get("/users/1/recommendations?k=2")
    assert response.status_code == 200
    result = body(response)
    assert result["fallback"] is False and result["reason"] is None
    assert result["model"] == {"name": "tfrs", "version": 7, **model_info("tfrs")}
    assert result["movies"] == [5, 4]  # catalog order minus the history {1, 2, 3}
    assert [i["item_id"] for i in result["items"]] == [5, 4]
    first = result["items"][0]
    assert {key: first[key] for key in ("item_id", "title", "year", "genres", "score")} == {
        "item_id": 5,
        "title": "Copycat",
        "year": 1995,
        "genres": ["Crime", "Drama", "Thriller"],
        "score": 1.0,
    }
    assert 0 <= first["match"] <= 1 and first["reason"] in {"similar_to_rated", "taste"}
    sent = contract_endpoint.requests[-1]["body"]
    assert sent == {"instances": [{"user_id": 1, "history": [1, 2, 3], "exclude": [0], "k": 2}]}


def test_new_user_with_a_few_ratings_gets_personal_movies(api, contract_endpoint) -> None:
    user_id, token = new_user(api, {"age": 40})
    post(api, f"/users/{user_id}/ratings", {"item_id": 5, "rating": 5}, token=token)
    post(api, f"/users/{user_id}/ratings", {"item_id": 3, "rating": 4}, token=token)
    result = body(get(api, f"/users/{user_id}/recommendations", token))
    assert result["fallback"] is False
    assert not {5, 3} & set(result["movies"])
    instance = contract_endpoint.requests[-1]["body"]["instances"][0]
    assert instance["user_id"] == 0  # unknown to the model: history is what it scores
    assert sorted(instance["history"]) == [3, 5] and instance["k"] == 10


def test_movies_the_user_rated_are_removed_even_if_the_model_returns_them(
    api, contract_endpoint, home
) -> None:
    contract_endpoint.models = ("tfrs", "leaky")
    store = RatingsStore(home / "store.db")  # dataset users are API-read-only
    store.put_ratings([(5, 5, 2.0, 999)], source=BASE)
    store.close()
    result = body(api.http.get("/users/5/recommendations?k=100&model=leaky"))
    assert result["movies"] == [3, 4, 6, 2]  # the endpoint answered 5 and 1 too


def test_user_without_ratings_gets_flagged_popular_movies(api, contract_endpoint) -> None:
    user_id, token = new_user(api)
    result = body(get(api, f"/users/{user_id}/recommendations?k=3", token))
    assert result["fallback"] is True and result["reason"] == "no_ratings"
    assert result["model"] == {"name": "popularity", "version": None, **model_info("popularity")}
    assert result["movies"] == [1, 2, 3]  # most rated first
    assert [i["score"] for i in result["items"]] == [1.0, 0.75, 0.5]
    assert contract_endpoint.requests == []


def test_model_choice_goes_to_the_endpoint(api, contract_endpoint) -> None:
    result = body(api.http.get("/users/2/recommendations?model=mostpop&k=3"))
    assert result["model"]["name"] == "mostpop"
    assert contract_endpoint.requests[-1]["attributes"] == "tfs-model-name=mostpop"


def test_unknown_model_is_400(api, contract_endpoint) -> None:
    response = api.http.get("/users/2/recommendations?model=nope")
    assert response.status_code == 400
    assert "unknown model 'nope'" in body(response)["error"]["message"]
    assert api.http.get("/users/2/recommendations?model=Bad%20Name").status_code == 400


def test_endpoint_down_gives_flagged_popular_movies(api, contract_endpoint) -> None:
    contract_endpoint.status = 503
    result = body(api.http.get("/users/3/recommendations?k=2"))
    assert result["fallback"] is True and result["reason"] == "endpoint_unavailable"
    assert result["movies"] == [2, 3]  # popular order without user 3's movies {1, 4}


def test_slow_endpoint_times_out_into_the_fallback(api, contract_endpoint) -> None:
    contract_endpoint.delay = 3.0  # the test settings give the endpoint 0.5 s
    started = time.monotonic()
    result = body(api.http.get("/users/3/recommendations?k=2"))
    assert result["fallback"] is True
    assert time.monotonic() - started < 2.5


def test_no_endpoint_and_no_store_is_503(api, home, contract_endpoint) -> None:
    contract_endpoint.status = 503
    (home / "store.db").unlink()
    for suffix in ("-wal", "-shm"):
        (home / f"store.db{suffix}").unlink(missing_ok=True)
    from chalicelib import wiring

    wiring.use(None)
    response = api.http.get("/users/3/recommendations")
    assert response.status_code == 503
    assert "seed" in body(response)["error"]["message"]


def test_k_and_user_validation(api) -> None:
    for query in ("k=0", "k=101", "k=x", "k=2.5"):
        assert api.http.get(f"/users/1/recommendations?{query}").status_code == 400, query
    assert api.http.get("/users/999/recommendations").status_code == 404


def test_compatibility_route_answers_movie_ids(api) -> None:
    response = api.http.get("/recommendEndpoint?user_id=1")
    assert response.status_code == 200
    assert body(response) == {"movies": [5, 4, 6]}
    assert api.http.get("/recommendEndpoint").status_code == 400
    assert api.http.get("/recommendEndpoint?user_id=abc").status_code == 400
    assert api.http.get("/recommendEndpoint?user_id=999").status_code == 404
