"""The API's request and response bodies as pydantic models.

Request bodies are validated with them (``chalicelib.validation``); the OpenAPI document's
component schemas are their JSON Schema (``chalicelib.openapi``). The service still builds
plain dicts; the tests check its answers against these models.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

GENDERS = ("M", "F")
# The occupations of MovieLens-100K's u.user, so new users describe themselves like seeded ones.
Occupation = Literal[
    "administrator", "artist", "doctor", "educator", "engineer", "entertainment", "executive",
    "healthcare", "homemaker", "lawyer", "librarian", "marketing", "none", "other", "programmer",
    "retired", "salesman", "scientist", "student", "technician", "writer",
]  # fmt: skip
INT32_MAX = 2**31 - 1


def integral_float_to_int(value: Any) -> Any:
    """JSON Schema counts 3.0 as an integer; the app stores a real int."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


class Shape(BaseModel):
    """Strict JSON types (no "1" for 1, no true for 1) and no fields beyond the declared ones.

    Validators are built on first use, not at import: a Lambda cold start builds only those
    of the route it serves."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, defer_build=True)


class Untitled(GenerateJsonSchema):
    """JSON Schema without a generated "title" on every property (the name already says it),
    and without ``"default": null`` (an absent optional field is null; generated clients would
    otherwise make the field mandatory)."""

    def field_title_should_be_set(self, schema: CoreSchema) -> bool:
        return False

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        json_schema = super().default_schema(schema)
        if "default" in json_schema and json_schema["default"] is None:
            del json_schema["default"]
        return json_schema


# ----------------------------------------------------------------------------- request bodies

# Bounds before the float-to-int step, so they reach the JSON Schema as minimum/maximum.
Integral = BeforeValidator(integral_float_to_int)
Id = Annotated[int, Field(ge=1, le=INT32_MAX), Integral]
NotInterested = Literal["not_interested"]


class UserCreate(Shape):
    age: Annotated[int, Field(ge=1, le=120), Integral] | None = None
    gender: Literal["M", "F"] | None = None
    occupation: Occupation | None = None


class RatingCreate(Shape):
    item_id: Id
    rating: Annotated[float, Field(ge=0.5, le=5, multiple_of=0.5)]


class FeedbackCreate(Shape):
    item_id: Id
    kind: NotInterested


# ----------------------------------------------------------------------------- responses


class ErrorDetail(Shape):
    code: str
    message: str


class Error(Shape):
    error: ErrorDetail


Status = Literal["ok", "unavailable"]


class StoreHealth(Shape):
    status: Status
    backend: Literal["sqlite", "dynamodb"]
    detail: str


class EndpointHealth(Shape):
    status: Status
    backend: Literal["local", "sagemaker"]
    version: int | None
    detail: str


class Health(Shape):
    status: Literal["ok", "degraded"]
    store: StoreHealth
    endpoint: EndpointHealth


class UserSummary(Shape):
    user_id: int
    age: int | None
    gender: str | None
    occupation: str | None
    source: Literal["base", "api"]
    ratings_count: int


class UserList(Shape):
    users: list[UserSummary]
    total: int
    limit: int
    offset: int


class Movie(Shape):
    item_id: int
    title: str
    year: int | None
    genres: list[str]


class HistoryEntry(Movie):
    rating: float
    timestamp: int


class UserDetail(UserSummary):
    created_at: int
    history: list[HistoryEntry]


class UserCreated(UserDetail):
    token: str = Field(
        description="send as 'Authorization: Bearer <token>' to write on this user or read "
        "it; shown only in this answer"
    )


class UserDeleted(Shape):
    user_id: int
    deleted: bool
    ratings_removed: int


class Rating(Shape):
    user_id: int
    item_id: int
    rating: float
    timestamp: int
    source: Literal["base", "api"]


class MovieDetail(Movie):
    ratings_count: int
    mean_rating: float | None


class MovieList(Shape):
    items: list[MovieDetail]
    total: int


class ScoredMovie(Movie):
    score: float


class Because(Shape):
    """The movie the user rated that most explains this pick: the largest rating-weighted
    co-rating similarity (GET /movies/{item_id}/similar's cosine) between this movie and one
    the user rated 3.5 stars or more."""

    item_id: int
    title: str
    rating: float


class RecommendedMovie(Movie):
    score: float = Field(description="the model's raw score (its own scale)")
    match: float = Field(
        ge=0,
        le=1,
        description="how well the movie fits the user, 0 to 1, the same for a movie whichever "
        "model picked it: the share of the catalog's unrated movies it beats on taste affinity "
        "(the sum over the user's ratings of (rating - 3) x co-rating cosine with the movie), "
        "ties broken by popularity. A user without ratings gets the popularity percentile",
    )
    because: Because | None = Field(
        description="null for popularity picks and when no movie the user liked is co-rated with it"
    )
    reason: Literal["similar_to_rated", "popular", "taste"] = Field(
        description="similar_to_rated: 'because' names the movie; popular: a popularity pick "
        "(mostpop, the fallback); taste: the model's pick from the whole history, no single "
        "rated movie stands out"
    )


class ModelInfo(Shape):
    name: str
    display_name: str = Field(description="the model's name in plain words")
    description: str = Field(description="one line on what the model does")


class ModelRef(ModelInfo):
    version: int | None


class RecommendationFilters(Shape):
    genres: list[str]
    year_min: int | None
    year_max: int | None
    offset: int
    k: int


class Recommendations(Shape):
    user_id: int
    model: ModelRef
    fallback: bool
    reason: Literal["no_ratings", "endpoint_unavailable"] | None
    filters: RecommendationFilters
    movies: list[int]
    items: list[RecommendedMovie]


class Feedback(Shape):
    user_id: int
    item_id: int
    kind: NotInterested
    timestamp: int


class FeedbackEntry(Movie):
    kind: NotInterested
    timestamp: int


class FeedbackList(Shape):
    user_id: int
    items: list[FeedbackEntry]


class FeedbackDeleted(Shape):
    user_id: int
    item_id: int
    deleted: bool


class Genre(Shape):
    name: str
    movies: int


class GenreList(Shape):
    genres: list[Genre]


class SimilarMovies(Shape):
    item_id: int
    movies: list[int]
    items: list[ScoredMovie]


MetricsSplit = Annotated[
    Literal["test", "validation"] | None,
    Field(
        description="the held-out split the metrics were measured on: test (the evaluation "
        "step's report) when the registry has it, else validation (the training manifest's); "
        "null when there are no metrics"
    ),
]


class ServedModel(ModelInfo):
    default: bool
    version: int | None
    status: str | None
    metrics: dict[str, float]
    metrics_split: MetricsSplit


class ModelVersion(Shape):
    version: int
    status: Literal["PendingManualApproval", "Approved", "Rejected"]
    metrics: dict[str, Any] = Field(
        description="{model: {metric: number}} measured on metrics_split"
    )
    metrics_split: MetricsSplit
    created_at: int
    artifact_uri: str
    serving: bool
    # Absent (not null) when the last deployment did not fail; the document says so.
    deploy_error: str = Field(
        default=None,  # type: ignore[assignment]
        description="why the last deployment of this version failed; absent when it did not",
    )


class EndpointStatus(Shape):
    status: Status
    version: int | None
    default_model: str | None


class Models(Shape):
    group: str
    endpoint: EndpointStatus
    models: list[ServedModel]
    versions: list[ModelVersion]


class MovieIds(Shape):
    movies: list[int]


class OpenApiDocument(BaseModel):
    """This document (any JSON object)."""

    model_config = ConfigDict(extra="allow")
