"""Movies: search, detail, and co-rating cosine similarity checked by hand."""

import math
import time

from conftest import body, new_user, post


def test_search_is_case_insensitive_and_most_rated_first(api) -> None:
    result = body(api.http.get("/movies?query=o&limit=3"))
    # Titles with "o": Toy Story (4 ratings), GoldenEye (3), Four Rooms (2), Get Shorty, Copycat
    assert [m["item_id"] for m in result["items"]] == [1, 2, 3]
    assert result["total"] == 5
    assert result["items"][0]["ratings_count"] == 4 and result["items"][0]["mean_rating"] == 4.0
    assert body(api.http.get("/movies?query=GOLDEN"))["items"][0]["item_id"] == 2
    assert body(api.http.get("/movies?query=zzz")) == {"items": [], "total": 0}


def test_movie_list_validation(api) -> None:
    assert api.http.get("/movies?limit=0").status_code == 400
    assert api.http.get("/movies?query=" + "a" * 101).status_code == 400


def test_movie_detail_with_stats_and_missing_year(api) -> None:
    assert body(api.http.get("/movies/2")) == {
        "item_id": 2, "title": "GoldenEye", "year": 1995,
        "genres": ["Action", "Adventure", "Thriller"],
        "ratings_count": 3, "mean_rating": round(10 / 3, 4),
    }  # fmt: skip
    unrated = body(api.http.get("/movies/6"))
    assert unrated["year"] is None and unrated["genres"] == []
    assert unrated["ratings_count"] == 0 and unrated["mean_rating"] is None
    assert api.http.get("/movies/404").status_code == 404
    assert api.http.get("/movies/x").status_code == 400


def test_similar_movies_are_cosine_over_co_ratings(api) -> None:
    # raters: 1 -> {1,2,3,5}, 2 -> {1,2,4}, 3 -> {1,4}, 4 -> {3}, 5 -> {4}
    result = body(api.http.get("/movies/2/similar?k=3"))
    assert result["movies"] == [3, 1, 5]  # 1 and 5 tie at 1/sqrt(3): lower id first
    scores = [i["score"] for i in result["items"]]
    assert scores == [round(2 / math.sqrt(6), 6), round(2 / math.sqrt(12), 6),
                      round(1 / math.sqrt(3), 6)]  # fmt: skip
    assert body(api.http.get("/movies/1/similar"))["movies"] == [2, 4, 3]
    assert body(api.http.get("/movies/6/similar")) == {"item_id": 6, "movies": [], "items": []}


def test_similar_validation(api) -> None:
    assert api.http.get("/movies/999/similar").status_code == 404
    assert api.http.get("/movies/1/similar?k=0").status_code == 400


def test_similarity_is_cached_until_it_expires(api) -> None:
    before = body(api.http.get("/movies/4/similar"))["movies"]
    user_id, token = new_user(api)
    post(api, f"/users/{user_id}/ratings", {"item_id": 4, "rating": 5}, token=token)
    post(api, f"/users/{user_id}/ratings", {"item_id": 6, "rating": 5}, token=token)
    assert body(api.http.get("/movies/4/similar"))["movies"] == before  # cached index
    from app import service

    cache = service()._similarity
    cache.ttl = 0.01  # expire it: the next request still gets the old index...
    time.sleep(0.02)
    assert body(api.http.get("/movies/4/similar"))["movies"] == before
    deadline = time.monotonic() + 10  # ...while a background thread reloads it
    while 6 not in body(api.http.get("/movies/4/similar"))["movies"]:
        assert time.monotonic() < deadline, "the expired similarity index was never reloaded"
        time.sleep(0.05)


def test_similarity_keeps_only_the_top_100_per_movie() -> None:
    from chalicelib.similarity import SimilarityIndex

    # One user rated movies 1..150; movie 1's neighbours tie, so the lowest ids win.
    index = SimilarityIndex.build((1, item) for item in range(1, 151))
    neighbours = index.neighbours(1)
    assert len(neighbours) == 100
    assert [item for item, _ in neighbours[:3]] == [2, 3, 4] and neighbours[0][1] == 1.0
