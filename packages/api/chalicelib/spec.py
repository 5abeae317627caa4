"""The one description of the API: routes, parameters, bodies and response shapes.

The app registers its routes from ``OPERATIONS``, validates parameters and bodies with it, and
``openapi_document()`` turns it into the committed ``openapi.json`` (``python -m
chalicelib.spec --write``), so the document, the app and the tests cannot drift apart.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chalicelib.errors import BadRequest

OPENAPI_PATH = Path(__file__).resolve().parents[1] / "openapi.json"
API_VERSION = "1.0.0"

GENDERS = ["M", "F"]
# The occupations of MovieLens-100K's u.user, so new users describe themselves like seeded ones.
OCCUPATIONS = [
    "administrator", "artist", "doctor", "educator", "engineer", "entertainment", "executive",
    "healthcare", "homemaker", "lawyer", "librarian", "marketing", "none", "other", "programmer",
    "retired", "salesman", "scientist", "student", "technician", "writer",
]  # fmt: skip
# A model name, or empty for the endpoint's default; the document and the validator share it.
MODEL_PARAM_PATTERN = r"^([a-z0-9][a-z0-9_-]{0,39})?$"


@dataclass(frozen=True)
class Param:
    """A path or query parameter: integers are range-checked, strings length-checked."""

    name: str
    where: str  # "path" | "query"
    kind: str  # "integer" | "string"
    description: str
    default: int | str | None = None
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    # What a value that does not match ``pattern`` is not, for the error message.
    pattern_means: str | None = None
    required: bool = False

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.kind}
        for key, value in (
            ("default", self.default),
            ("minimum", self.minimum),
            ("maximum", self.maximum),
            ("maxLength", self.max_length),
            ("pattern", self.pattern),
        ):
            if value is not None:
                schema[key] = value
        return schema


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    response: str
    status: int = 200
    params: tuple[Param, ...] = ()
    body: str | None = None
    errors: tuple[int, ...] = (400,)
    # Non-2xx answers that carry a normal body instead of an Error (an unhealthy /health).
    other_responses: tuple[tuple[int, str, str], ...] = ()
    tags: tuple[str, ...] = field(default_factory=tuple)
    # OpenAPI links of the success response: (name, operationId, {parameter: expression}).
    links: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = ()
    # "none"; "optional": the bearer token opens an API user's data; "required": writes.
    auth: str = "none"


def _user_id(where: str = "path") -> Param:
    return Param(
        "user_id", where, "integer", "a user's id", minimum=1, maximum=2**31 - 1, required=True
    )


def _item_id() -> Param:
    return Param(
        "item_id", "path", "integer", "a movie's id", minimum=1, maximum=2**31 - 1, required=True
    )


def _user_id_filter() -> Param:
    return Param(
        "user_id", "query", "integer",
        "leave out this user's not-interested movies (an API user's needs its token)",
        minimum=1, maximum=2**31 - 1,
    )  # fmt: skip


def _k(description: str) -> Param:
    return Param("k", "query", "integer", description, default=10, minimum=1, maximum=100)


def _year(name: str, bound: str) -> Param:
    return Param(
        name, "query", "integer",
        f"only movies released in or {bound} this year (movies without a year are left out)",
        minimum=1800, maximum=2100,
    )  # fmt: skip


# Filters of the recommendations, applied before top-k (chalicelib.filters).
_GENRES_PARAM = Param(
    "genres", "query", "string",
    "comma-separated genres (GET /movies/genres); a movie qualifies when it has any of them",
    default="", max_length=400,
)  # fmt: skip

_QUERY = Param(
    "query", "query", "string", "case-insensitive text to search for", default="", max_length=100
)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET", "/health", "getHealth", "Status of the ratings store and the model endpoint",
        "Health", errors=(),
        other_responses=((503, "Health", "the ratings store is unavailable"),), tags=("system",),
    ),
    Operation(
        "GET", "/users", "listUsers",
        "Search and page the dataset's users (query matches the start of the id or part of "
        "the occupation); with a token, its own user too",
        "UserList",
        params=(
            _QUERY,
            Param("limit", "query", "integer", "page size", default=20, minimum=1, maximum=100),
            Param("offset", "query", "integer", "users to skip", default=0, minimum=0,
                  maximum=10**9),
        ),
        errors=(400, 401, 403), tags=("users",), auth="optional",
    ),
    Operation(
        "POST", "/users", "createUser",
        "Create a user; every field is optional. The answer carries the user's token, once",
        "UserCreated", status=201, body="UserCreate", errors=(400, 413, 415, 429),
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
        "UserDetail", params=(_user_id(),), errors=(400, 401, 403, 404), tags=("users",),
        auth="optional",
    ),
    Operation(
        "DELETE", "/users/{user_id}", "deleteUser",
        "Delete an API user with its ratings (needs its token; dataset users are read-only)",
        "UserDeleted", params=(_user_id(),), errors=(400, 401, 403, 404), tags=("users",),
        auth="required",
    ),
    Operation(
        "POST", "/users/{user_id}/ratings", "rateMovie",
        "Rate a movie (0.5 to 5 stars in half steps); each movie once per user; needs the "
        "user's token",
        "Rating", status=201, params=(_user_id(),), body="RatingCreate",
        errors=(400, 401, 403, 404, 409, 413, 415, 429),
        tags=("users",), auth="required",
        links=(
            ("GetRater", "getUser", (("user_id", "$request.path.user_id"),)),
            ("RecommendForRater", "getRecommendations", (("user_id", "$request.path.user_id"),)),
        ),
    ),
    Operation(
        "GET", "/users/{user_id}/recommendations", "getRecommendations",
        "Top-k movies for a user, never one they rated; popular movies flagged as a fallback "
        "when the user has no ratings or the endpoint does not answer in time",
        "Recommendations",
        params=(
            _user_id(),
            _k("how many movies"),
            Param("model", "query", "string",
                  "a model the endpoint serves (GET /models); empty = its default",
                  default="", max_length=40, pattern=MODEL_PARAM_PATTERN,
                  pattern_means="a model name (lowercase letters, digits, - and _)"),
            _GENRES_PARAM,
            _year("year_min", "after"),
            _year("year_max", "before"),
            Param("offset", "query", "integer",
                  "recommendations to skip, for 'show more' (offset + k at most 100)",
                  default=0, minimum=0, maximum=99),
        ),
        errors=(400, 401, 403, 404, 503), tags=("recommendations",), auth="optional",
    ),
    Operation(
        "GET", "/users/{user_id}/feedback", "listFeedback",
        "The movies a user marked 'not interested', newest first (an API user's needs its "
        "token)",
        "FeedbackList", params=(_user_id(),), errors=(400, 401, 403, 404),
        tags=("users",), auth="optional",
    ),
    Operation(
        "POST", "/users/{user_id}/feedback", "addFeedback",
        "Mark a movie 'not interested': no model recommends it to this user again, nor does "
        "Similar when given this user. 201 when new, 200 when it was already marked; needs "
        "the user's token",
        "Feedback", status=201, params=(_user_id(),), body="FeedbackCreate",
        errors=(400, 401, 403, 404, 413, 415, 429), tags=("users",), auth="required",
        links=(
            ("UndoNotInterested", "deleteFeedback",
             (("user_id", "$request.path.user_id"), ("item_id", "$response.body#/item_id"))),
            ("ListNotInterested", "listFeedback", (("user_id", "$request.path.user_id"),)),
        ),
    ),
    Operation(
        "DELETE", "/users/{user_id}/feedback/{item_id}", "deleteFeedback",
        "Undo 'not interested': the movie may be recommended again; needs the user's token",
        "FeedbackDeleted", params=(_user_id(), _item_id()), errors=(400, 401, 403, 404),
        tags=("users",), auth="required",
    ),
    Operation(
        "GET", "/movies", "listMovies", "Search movies by title, most rated first", "MovieList",
        params=(
            _QUERY,
            Param("limit", "query", "integer", "how many movies", default=20, minimum=1,
                  maximum=100),
        ),
        tags=("movies",),
    ),
    Operation(
        "GET", "/movies/popular", "listPopularMovies",
        "Most rated movies, optionally of one genre, for a new user to rate first; with "
        "user_id, without the movies that user rated or marked not interested",
        "MovieList",
        params=(
            Param("genre", "query", "string",
                  "a genre (GET /movies/genres), or several comma-separated (any of them); "
                  "empty = all", default="", max_length=400),
            Param("limit", "query", "integer", "how many movies", default=24, minimum=1,
                  maximum=100),
            _user_id_filter(),
        ),
        errors=(400, 401, 403, 404), tags=("movies",), auth="optional",
    ),
    Operation(
        "GET", "/movies/genres", "listGenres",
        "Every genre of the catalog with its number of movies, most common first",
        "GenreList", errors=(), tags=("movies",),
    ),
    Operation(
        "GET", "/movies/{item_id}", "getMovie", "One movie with its rating count and mean",
        "MovieDetail", params=(_item_id(),), errors=(400, 404), tags=("movies",),
    ),
    Operation(
        "GET", "/movies/{item_id}/similar", "getSimilarMovies",
        "Movies most often rated by the same people (cosine over co-ratings); with user_id, "
        "without the movies that user marked not interested",
        "SimilarMovies",
        params=(_item_id(), _k("how many movies"), _user_id_filter()),
        errors=(400, 401, 403, 404), tags=("movies",), auth="optional",
    ),
    Operation(
        "GET", "/models", "listModels",
        "Models the endpoint can serve, the default one, and every registry version with its "
        "approval status and metrics",
        "Models", errors=(503,), tags=("models",),
    ),
    Operation(
        "GET", "/recommendEndpoint", "recommendEndpoint",
        "Compatibility route for existing clients: a user's recommended movie ids",
        "MovieIds",
        params=(_user_id("query"), _k("how many movies")),
        errors=(400, 401, 403, 404, 503), tags=("recommendations",), auth="optional",
    ),
    Operation(
        "GET", "/openapi.json", "getOpenApi", "This document", "OpenApiDocument", errors=(),
        tags=("system",),
    ),
)  # fmt: skip


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI 3.1 spells nullable as a type list (and an enum must then list null too)."""
    nullable = {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:
        nullable["enum"] = [*schema["enum"], None]
    return nullable


_INT = {"type": "integer"}
_STR = {"type": "string"}
_GENRES = {"type": "array", "items": _STR}
_MOVIE_FIELDS: dict[str, Any] = {
    "item_id": _INT,
    "title": _STR,
    "year": _nullable(_INT),
    "genres": _GENRES,
}
_PROFILE_FIELDS: dict[str, Any] = {
    "user_id": _INT,
    "age": _nullable(_INT),
    "gender": _nullable(_STR),
    "occupation": _nullable(_STR),
    "source": {"type": "string", "enum": ["base", "api"]},
    "ratings_count": _INT,
}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_MODEL_INFO: dict[str, Any] = {
    "display_name": {**_STR, "description": "the model's name in plain words"},
    "description": {**_STR, "description": "one line on what the model does"},
}
_MODEL_REF = _object({"name": _STR, "version": _nullable(_INT), **_MODEL_INFO})
_METRICS = {"type": "object", "additionalProperties": {"type": "number"}}
_SPLIT = _nullable({
    "type": "string", "enum": ["test", "validation"],
    "description": "the held-out split the metrics were measured on: test (the evaluation "
    "step's report) when the registry has it, else validation (the training manifest's); "
    "null when there are no metrics",
})  # fmt: skip
_BECAUSE = _nullable({
    "type": "object",
    "description": "the movie the user rated that most explains this pick: the largest "
    "rating-weighted co-rating similarity (GET /movies/{item_id}/similar's cosine) between "
    "this movie and one the user rated 3.5 stars or more; null for popularity picks and "
    "when no movie the user liked is co-rated with it",
    "properties": {"item_id": _INT, "title": _STR, "rating": {"type": "number"}},
    "required": ["item_id", "title", "rating"],
    "additionalProperties": False,
})  # fmt: skip
_MATCH = {
    "type": "number", "minimum": 0, "maximum": 1,
    "description": "how well the movie fits the user, 0 to 1, the same for a movie whichever "
    "model picked it: the share of the catalog's unrated movies it beats on taste affinity "
    "(the sum over the user's ratings of (rating - 3) x co-rating cosine with the movie), "
    "ties broken by popularity. A user without ratings gets the popularity percentile",
}  # fmt: skip
_PICK_REASON = {
    "type": "string", "enum": ["similar_to_rated", "popular", "taste"],
    "description": "similar_to_rated: 'because' names the movie; popular: a popularity pick "
    "(mostpop, the fallback); taste: the model's pick from the whole history, no single rated "
    "movie stands out",
}  # fmt: skip

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": _object(
        {"error": _object({"code": _STR, "message": _STR})},
    ),
    "Health": _object(
        {
            "status": {"type": "string", "enum": ["ok", "degraded"]},
            "store": _object(
                {"status": {"type": "string", "enum": ["ok", "unavailable"]},
                 "backend": {"type": "string", "enum": ["sqlite", "dynamodb"]},
                 "detail": _STR}
            ),
            "endpoint": _object(
                {"status": {"type": "string", "enum": ["ok", "unavailable"]},
                 "backend": {"type": "string", "enum": ["local", "sagemaker"]},
                 "version": _nullable(_INT),
                 "detail": _STR}
            ),
        }
    ),
    "UserSummary": _object(_PROFILE_FIELDS),
    "UserList": _object(
        {"users": {"type": "array", "items": _ref("UserSummary")}, "total": _INT,
         "limit": _INT, "offset": _INT}
    ),
    "UserCreate": _object(
        {
            "age": _nullable({"type": "integer", "minimum": 1, "maximum": 120}),
            "gender": _nullable({"type": "string", "enum": GENDERS}),
            "occupation": _nullable({"type": "string", "enum": OCCUPATIONS}),
        },
        required=[],
    ),
    "HistoryEntry": _object(
        {**_MOVIE_FIELDS, "rating": {"type": "number"}, "timestamp": _INT}
    ),
    "UserDetail": _object(
        {**_PROFILE_FIELDS, "created_at": _INT,
         "history": {"type": "array", "items": _ref("HistoryEntry")}}
    ),
    "UserCreated": _object(
        {**_PROFILE_FIELDS, "created_at": _INT,
         "history": {"type": "array", "items": _ref("HistoryEntry")},
         "token": {"type": "string", "description": "send as 'Authorization: Bearer <token>' "
                   "to write on this user or read it; shown only in this answer"}}
    ),
    "UserDeleted": _object(
        {"user_id": _INT, "deleted": {"type": "boolean"}, "ratings_removed": _INT}
    ),
    "RatingCreate": _object(
        {
            "item_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
            "rating": {"type": "number", "minimum": 0.5, "maximum": 5, "multipleOf": 0.5},
        }
    ),
    "Rating": _object(
        {"user_id": _INT, "item_id": _INT, "rating": {"type": "number"}, "timestamp": _INT,
         "source": {"type": "string", "enum": ["base", "api"]}}
    ),
    "Movie": _object(_MOVIE_FIELDS),
    "MovieDetail": _object(
        {**_MOVIE_FIELDS, "ratings_count": _INT, "mean_rating": _nullable({"type": "number"})}
    ),
    "MovieList": _object(
        {"items": {"type": "array", "items": _ref("MovieDetail")}, "total": _INT}
    ),
    "ScoredMovie": _object({**_MOVIE_FIELDS, "score": {"type": "number"}}),
    "RecommendedMovie": _object(
        {**_MOVIE_FIELDS,
         "score": {"type": "number", "description": "the model's raw score (its own scale)"},
         "match": _MATCH, "because": _BECAUSE, "reason": _PICK_REASON}
    ),
    "Recommendations": _object(
        {
            "user_id": _INT,
            "model": _MODEL_REF,
            "fallback": {"type": "boolean"},
            "reason": _nullable({"type": "string", "enum": ["no_ratings", "endpoint_unavailable"]}),
            "filters": _object(
                {"genres": {"type": "array", "items": _STR}, "year_min": _nullable(_INT),
                 "year_max": _nullable(_INT), "offset": _INT, "k": _INT}
            ),
            "movies": {"type": "array", "items": _INT},
            "items": {"type": "array", "items": _ref("RecommendedMovie")},
        }
    ),
    "FeedbackCreate": _object(
        {
            "item_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
            "kind": {"type": "string", "enum": ["not_interested"]},
        }
    ),
    "Feedback": _object(
        {"user_id": _INT, "item_id": _INT,
         "kind": {"type": "string", "enum": ["not_interested"]}, "timestamp": _INT}
    ),
    "FeedbackEntry": _object(
        {**_MOVIE_FIELDS, "kind": {"type": "string", "enum": ["not_interested"]},
         "timestamp": _INT}
    ),
    "FeedbackList": _object(
        {"user_id": _INT, "items": {"type": "array", "items": _ref("FeedbackEntry")}}
    ),
    "FeedbackDeleted": _object({"user_id": _INT, "item_id": _INT, "deleted": {"type": "boolean"}}),
    "GenreList": _object(
        {"genres": {"type": "array",
                    "items": _object({"name": _STR, "movies": _INT})}}
    ),
    "SimilarMovies": _object(
        {"item_id": _INT, "movies": {"type": "array", "items": _INT},
         "items": {"type": "array", "items": _ref("ScoredMovie")}}
    ),
    "ServedModel": _object(
        {"name": _STR, **_MODEL_INFO, "default": {"type": "boolean"},
         "version": _nullable(_INT), "status": _nullable(_STR), "metrics": _METRICS,
         "metrics_split": _SPLIT}
    ),
    "ModelVersion": _object(
        {"version": _INT, "status": {"type": "string",
                                     "enum": ["PendingManualApproval", "Approved", "Rejected"]},
         "metrics": {"type": "object", "description": "{model: {metric: number}} measured on "
                     "metrics_split"},
         "metrics_split": _SPLIT,
         "created_at": _INT, "artifact_uri": _STR,
         "serving": {"type": "boolean"},
         "deploy_error": {**_STR, "description": "why the last deployment of this version "
                          "failed; absent when it did not"}},
        required=["version", "status", "metrics", "metrics_split", "created_at",
                  "artifact_uri", "serving"],
    ),
    "Models": _object(
        {
            "group": _STR,
            "endpoint": _object(
                {"status": {"type": "string", "enum": ["ok", "unavailable"]},
                 "version": _nullable(_INT), "default_model": _nullable(_STR)}
            ),
            "models": {"type": "array", "items": _ref("ServedModel")},
            "versions": {"type": "array", "items": _ref("ModelVersion")},
        }
    ),
    "MovieIds": _object({"movies": {"type": "array", "items": _INT}}),
    "OpenApiDocument": {"type": "object"},
}  # fmt: skip

_ERROR_TEXT = {
    400: "invalid parameter or body",
    401: "the user's token is needed: Authorization: Bearer <token>",
    403: "the token is not this user's, or the user belongs to the dataset (read-only)",
    404: "no such user or movie (or no such not-interested mark)",
    409: "the user already rated this movie",
    413: "request body too large",
    415: "the body is not application/json",
    429: "a cap is reached (writes per user, users per client); Retry-After says when to retry",
    503: "the store or the endpoint is unavailable and there is no fallback",
}


BEARER = "userToken"
SECURITY_SCHEMES = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "description": "The token POST /users returned for that user (shown once). Writes on "
        "a user and reading an API user's profile, history or recommendations need it; dataset "
        "users are public and read-only.",
    }
}
_ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": _STR}},
    429: {
        "Retry-After": {
            "description": "seconds until the cap frees up",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        responses: dict[str, Any] = {
            str(op.status): {
                "description": "OK" if op.status == 200 else "Created",
                "content": {"application/json": {"schema": _ref(op.response)}},
            }
        }
        if op.links:
            responses[str(op.status)]["links"] = {
                name: {"operationId": target, "parameters": dict(parameters)}
                for name, target, parameters in op.links
            }
        for status, schema, text in op.other_responses:
            responses[str(status)] = {
                "description": text,
                "content": {"application/json": {"schema": _ref(schema)}},
            }
        for status in op.errors:
            responses[str(status)] = {
                "description": _ERROR_TEXT[status],
                "content": {"application/json": {"schema": _ref("Error")}},
            }
            if status in _ERROR_HEADERS:
                responses[str(status)]["headers"] = _ERROR_HEADERS[status]
        entry: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": list(op.tags),
            "responses": responses,
        }
        if op.auth != "none":
            # optional: anonymous calls work for dataset users (the empty requirement).
            entry["security"] = [{BEARER: []}] if op.auth == "required" else [{}, {BEARER: []}]
        if op.params:
            entry["parameters"] = [
                {
                    "name": p.name,
                    "in": p.where,
                    "required": p.where == "path" or p.required,
                    "description": p.description,
                    "schema": p.schema(),
                }
                for p in op.params
            ]
        if op.body:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _ref(op.body)}},
            }
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "recs API",
            "version": API_VERSION,
            "description": "Personal movie recommendations over MovieLens-100K: users, ratings, "
            "not-interested feedback, movies, recommendations from the model endpoint, and the "
            'model registry. Errors are {"error": {"code", "message"}}.',
        },
        "servers": [{"url": "http://127.0.0.1:8000", "description": "chalice local"}],
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": SECURITY_SCHEMES},
    }


def render() -> str:
    return json.dumps(openapi_document(), indent=2) + "\n"


def operation(method: str, path: str) -> Operation:
    for op in OPERATIONS:
        if op.method == method and op.path == path:
            return op
    raise KeyError(f"{method} {path} is not in the API description")


# ----------------------------------------------------------------------------- validation


def parse_params(op: Operation, values: dict[str, str | None]) -> dict[str, Any]:
    """Typed, range-checked parameters of ``op`` from raw path/query strings (400 otherwise)."""
    known = {p.name for p in op.params}
    unknown = sorted(set(values) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise BadRequest(f"unknown parameter(s) {', '.join(unknown)}; allowed: {allowed}")
    parsed: dict[str, Any] = {}
    for p in op.params:
        raw = values.get(p.name)
        if raw is None:
            if p.required:
                raise BadRequest(f"{p.name} is required ({p.description})")
            parsed[p.name] = p.default
            continue
        if p.kind == "integer":
            text = raw.strip()
            # ASCII only (int() takes "١٢" too); an empty value is not an integer either.
            if not re.fullmatch(r"[+-]?[0-9]{1,12}", text):
                raise BadRequest(f"{p.name} must be an integer, got {raw[:40]!r}")
            number = int(text)
            if (p.minimum is not None and number < p.minimum) or (
                p.maximum is not None and number > p.maximum
            ):
                raise BadRequest(
                    f"{p.name} must be between {p.minimum} and {p.maximum}, got {number}"
                )
            parsed[p.name] = number
        else:
            if p.max_length is not None and len(raw) > p.max_length:
                raise BadRequest(f"{p.name} must be at most {p.max_length} characters")
            # fullmatch: "$" alone would let a trailing newline through, as JSON Schema does not.
            if p.pattern and not re.fullmatch(p.pattern, raw):
                what = (
                    f"is not {p.pattern_means}"
                    if p.pattern_means
                    else f"does not match {p.pattern}"
                )
                raise BadRequest(f"{p.name} {raw[:40]!r} {what}")
            parsed[p.name] = raw.strip()
    return parsed


def parse_body(schema_name: str, raw: bytes | None) -> dict[str, Any]:
    """A JSON object body checked against ``SCHEMAS[schema_name]`` (400 on anything else)."""
    if not raw:
        raise BadRequest("the request needs a JSON object body")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    schema = SCHEMAS[schema_name]
    if not isinstance(body, dict):
        raise BadRequest(f"the body must be a JSON object, got {type(body).__name__}")
    fields = schema["properties"]
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise BadRequest(
            f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(fields) or 'none'}"
        )
    missing = [name for name in schema["required"] if name not in body]
    if missing:
        raise BadRequest(f"missing field(s) {', '.join(missing)}")
    for name, value in body.items():
        # JSON Schema counts 9.0 as an integer; store it as one.
        if _is_integral_float(value) and "integer" in _types(fields[name]):
            body[name] = value = int(value)
        _check_value(name, value, fields[name])
    return body


def _is_integral_float(value: Any) -> bool:
    return isinstance(value, float) and math.isfinite(value) and value.is_integer()


def _types(schema: dict[str, Any]) -> list[str]:
    return schema["type"] if isinstance(schema["type"], list) else [schema["type"]]


def _check_value(name: str, value: Any, schema: dict[str, Any]) -> Any:
    """``value`` if it fits ``schema`` (integral floats become ints), else BadRequest."""
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    if value is None:
        if "null" not in types:
            raise BadRequest(f"{name} must not be null")
        return None
    kind = types[0]
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON Schema counts 3.0 as an integer
    if kind == "integer" and not (isinstance(value, int) and not isinstance(value, bool)):
        raise BadRequest(f"{name} must be an integer, got {json.dumps(value)[:40]}")
    if kind == "number" and not (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    ):
        raise BadRequest(f"{name} must be a number, got {json.dumps(value)[:40]}")
    if kind == "string" and not isinstance(value, str):
        raise BadRequest(f"{name} must be a string, got {json.dumps(value)[:40]}")
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(str(choice) for choice in schema["enum"] if choice is not None)
        raise BadRequest(f"{name} must be one of {choices}")
    low, high = schema.get("minimum"), schema.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        raise BadRequest(f"{name} must be between {low} and {high}, got {value}")
    step = schema.get("multipleOf")
    if step is not None and not math.isclose(value / step, round(value / step)):
        raise BadRequest(f"{name} must be a multiple of {step}, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print or write packages/api/openapi.json")
    parser.add_argument("--write", action="store_true", help=f"write {OPENAPI_PATH}")
    args = parser.parse_args(argv)
    if args.write:
        OPENAPI_PATH.write_text(render(), encoding="utf-8")
        print(f"wrote {OPENAPI_PATH}")
    else:
        sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
