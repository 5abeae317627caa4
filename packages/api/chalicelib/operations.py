"""The route table: each operation's method, path, parameters, body, answers and auth.

The app registers its routes from ``OPERATIONS`` and validates with the models named here;
``chalicelib.openapi`` renders the same table into the committed ``openapi.json``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from chalicelib import models as m
from chalicelib import params as p

# OpenAPI links of a success response: (name, operationId, ((parameter, expression), ...)).
Link = tuple[str, str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    response: type[BaseModel]
    status: int = 200
    params: type[p.Params] = p.NoParams
    body: type[m.Shape] | None = None
    errors: tuple[int, ...] = (400,)
    # Non-2xx answers that carry a normal body instead of an Error (an unhealthy /health).
    other_responses: tuple[tuple[int, type[BaseModel], str], ...] = ()
    tags: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    # "none"; "optional": the bearer token opens an API user's data; "required": writes.
    auth: str = "none"

    def path_names(self) -> set[str]:
        """The parameters named in the path template; the model's other fields are queries."""
        return {name for name in self.params.model_fields if "{" + name + "}" in self.path}


def _follow_user(*pairs: tuple[str, str]) -> tuple[Link, ...]:
    return tuple((name, target, (("user_id", "$request.path.user_id"),)) for name, target in pairs)


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET", "/health", "getHealth", "Status of the ratings store and the model endpoint",
        m.Health, errors=(),
        other_responses=((503, m.Health, "the ratings store is unavailable"),), tags=("system",),
    ),
    Operation(
        "GET", "/users", "listUsers",
        "Search and page the dataset's users (query matches the start of the id or part of "
        "the occupation); with a token, its own user too",
        m.UserList, params=p.UserSearch, errors=(400, 401, 403), tags=("users",), auth="optional",
    ),
    Operation(
        "POST", "/users", "createUser",
        "Create a user; every field is optional. The answer carries the user's token, once",
        m.UserCreated, status=201, body=m.UserCreate, errors=(400, 413, 415, 429),
        tags=("users",),
        links=tuple(
            (name, target, (("user_id", "$response.body#/user_id"),))
            for name, target in (
                ("GetCreatedUser", "getUser"),
                ("RateAsCreatedUser", "rateMovie"),
                ("RecommendForCreatedUser", "getRecommendations"),
                ("MarkForCreatedUser", "addFeedback"),
            )
        ),
    ),
    Operation(
        "GET", "/users/{user_id}", "getUser",
        "A user's profile and rated history, newest first (an API user's needs its token)",
        m.UserDetail, params=p.UserPath, errors=(400, 401, 403, 404), tags=("users",),
        auth="optional",
    ),
    Operation(
        "DELETE", "/users/{user_id}", "deleteUser",
        "Delete an API user with its ratings (needs its token; dataset users are read-only)",
        m.UserDeleted, params=p.UserPath, errors=(400, 401, 403, 404), tags=("users",),
        auth="required",
    ),
    Operation(
        "POST", "/users/{user_id}/ratings", "rateMovie",
        "Rate a movie (0.5 to 5 stars in half steps); each movie once per user; needs the "
        "user's token",
        m.Rating, status=201, params=p.UserPath, body=m.RatingCreate,
        errors=(400, 401, 403, 404, 409, 413, 415, 429),
        tags=("users",), auth="required",
        links=_follow_user(("GetRater", "getUser"), ("RecommendForRater", "getRecommendations")),
    ),
    Operation(
        "GET", "/users/{user_id}/recommendations", "getRecommendations",
        "Top-k movies for a user, never one they rated; popular movies flagged as a fallback "
        "when the user has no ratings or the endpoint does not answer in time",
        m.Recommendations, params=p.RecommendationParams,
        errors=(400, 401, 403, 404, 503), tags=("recommendations",), auth="optional",
    ),
    Operation(
        "GET", "/users/{user_id}/feedback", "listFeedback",
        "The movies a user marked 'not interested', newest first (an API user's needs its "
        "token)",
        m.FeedbackList, params=p.UserPath, errors=(400, 401, 403, 404),
        tags=("users",), auth="optional",
    ),
    Operation(
        "POST", "/users/{user_id}/feedback", "addFeedback",
        "Mark a movie 'not interested': no model recommends it to this user again, nor does "
        "Similar when given this user. 201 when new, 200 when it was already marked; needs "
        "the user's token",
        m.Feedback, status=201, params=p.UserPath, body=m.FeedbackCreate,
        errors=(400, 401, 403, 404, 413, 415, 429), tags=("users",), auth="required",
        links=(
            ("UndoNotInterested", "deleteFeedback",
             (("user_id", "$request.path.user_id"), ("item_id", "$response.body#/item_id"))),
            *_follow_user(("ListNotInterested", "listFeedback")),
        ),
    ),
    Operation(
        "DELETE", "/users/{user_id}/feedback/{item_id}", "deleteFeedback",
        "Undo 'not interested': the movie may be recommended again; needs the user's token",
        m.FeedbackDeleted, params=p.FeedbackPath, errors=(400, 401, 403, 404),
        tags=("users",), auth="required",
    ),
    Operation(
        "GET", "/movies", "listMovies", "Search movies by title, most rated first", m.MovieList,
        params=p.MovieSearch, tags=("movies",),
    ),
    Operation(
        "GET", "/movies/popular", "listPopularMovies",
        "Most rated movies, optionally of one genre, for a new user to rate first; with "
        "user_id, without the movies that user rated or marked not interested",
        m.MovieList, params=p.PopularParams,
        errors=(400, 401, 403, 404), tags=("movies",), auth="optional",
    ),
    Operation(
        "GET", "/movies/genres", "listGenres",
        "Every genre of the catalog with its number of movies, most common first",
        m.GenreList, errors=(), tags=("movies",),
    ),
    Operation(
        "GET", "/movies/{item_id}", "getMovie", "One movie with its rating count and mean",
        m.MovieDetail, params=p.MoviePath, errors=(400, 404), tags=("movies",),
    ),
    Operation(
        "GET", "/movies/{item_id}/similar", "getSimilarMovies",
        "Movies most often rated by the same people (cosine over co-ratings); with user_id, "
        "without the movies that user marked not interested",
        m.SimilarMovies, params=p.SimilarParams,
        errors=(400, 401, 403, 404), tags=("movies",), auth="optional",
    ),
    Operation(
        "GET", "/models", "listModels",
        "Models the endpoint can serve, the default one, and every registry version with its "
        "approval status and metrics",
        m.Models, errors=(503,), tags=("models",),
    ),
    Operation(
        "GET", "/recommendEndpoint", "recommendEndpoint",
        "Compatibility route for existing clients: a user's recommended movie ids",
        m.MovieIds, params=p.RecommendEndpointParams,
        errors=(400, 401, 403, 404, 503), tags=("recommendations",), auth="optional",
    ),
    Operation(
        "GET", "/openapi.json", "getOpenApi", "This document", m.OpenApiDocument, errors=(),
        tags=("system",),
    ),
)  # fmt: skip


def operation(method: str, path: str) -> Operation:
    for op in OPERATIONS:
        if op.method == method and op.path == path:
            return op
    raise KeyError(f"{method} {path} is not in the API description")
