"""Each route's path and query parameters as a pydantic model.

A field named in the route's path template is a path parameter, every other field a query
parameter. Values arrive as strings; integers are parsed here (ASCII digits only) and then
range-checked by the field's bounds.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from chalicelib.models import INT32_MAX

# A model name, or empty for the endpoint's default.
MODEL_PARAM_PATTERN = r"^([a-z0-9][a-z0-9_-]{0,39})?$"
# What a value that does not match a pattern is not, for the error message.
PATTERN_MEANS = {MODEL_PARAM_PATTERN: "a model name (lowercase letters, digits, - and _)"}
# ASCII only (int() takes "١٢" too); an empty value is not an integer either.
_INTEGER = re.compile(r"[+-]?[0-9]{1,12}")


def _parse_integer(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not _INTEGER.fullmatch(text):
        raise PydanticCustomError("int_parsing", "not an integer: {raw}", {"raw": value[:40]})
    return int(text)


# Query strings arrive as text: parse integers first, then the field's bounds apply.
AsInteger = BeforeValidator(_parse_integer)
Strip = AfterValidator(str.strip)


class Params(BaseModel):
    """No parameters besides the declared ones; strings stay strings; built on first use."""

    model_config = ConfigDict(strict=True, extra="forbid", defer_build=True)


UserId = Annotated[int, Field(ge=1, le=INT32_MAX, description="a user's id"), AsInteger]
ItemId = Annotated[int, Field(ge=1, le=INT32_MAX, description="a movie's id"), AsInteger]
HowMany = Annotated[int, Field(ge=1, le=100, description="how many movies"), AsInteger]
Query = Annotated[
    str, Field(max_length=100, description="case-insensitive text to search for"), Strip
]
UserFilter = Annotated[
    Annotated[int, Field(ge=1, le=INT32_MAX)] | None,
    AsInteger,
    Field(
        description="leave out this user's not-interested movies (an API user's needs its token)"
    ),
]
Year = Annotated[int, Field(ge=1800, le=2100)]


def _year_description(bound: str) -> str:
    return f"only movies released in or {bound} this year (movies without a year are left out)"


class NoParams(Params):
    pass


class UserPath(Params):
    user_id: UserId


class MoviePath(Params):
    item_id: ItemId


class FeedbackPath(UserPath):
    item_id: ItemId


class UserSearch(Params):
    query: Query = ""
    limit: Annotated[int, Field(ge=1, le=100, description="page size"), AsInteger] = 20
    offset: Annotated[int, Field(ge=0, le=10**9, description="users to skip"), AsInteger] = 0


class RecommendationParams(UserPath):
    k: HowMany = 10
    model: Annotated[
        str,
        Field(
            max_length=40,
            pattern=MODEL_PARAM_PATTERN,
            description="a model the endpoint serves (GET /models); empty = its default",
        ),
        Strip,
    ] = ""
    genres: Annotated[
        str,
        Field(
            max_length=400,
            description="comma-separated genres (GET /movies/genres); a movie qualifies when it "
            "has any of them",
        ),
        Strip,
    ] = ""
    year_min: Annotated[Year | None, AsInteger, Field(description=_year_description("after"))] = (
        None
    )
    year_max: Annotated[Year | None, AsInteger, Field(description=_year_description("before"))] = (
        None
    )
    offset: Annotated[
        int,
        Field(
            ge=0,
            le=99,
            description="recommendations to skip, for 'show more' (offset + k at most 100)",
        ),
        AsInteger,
    ] = 0


class MovieSearch(Params):
    query: Query = ""
    limit: Annotated[int, Field(ge=1, le=100, description="how many movies"), AsInteger] = 20


class PopularParams(Params):
    genre: Annotated[
        str,
        Field(
            max_length=400,
            description="a genre (GET /movies/genres), or several comma-separated (any of "
            "them); empty = all",
        ),
        Strip,
    ] = ""
    limit: Annotated[int, Field(ge=1, le=100, description="how many movies"), AsInteger] = 24
    user_id: UserFilter = None


class SimilarParams(MoviePath):
    k: HowMany = 10
    user_id: UserFilter = None


class RecommendEndpointParams(UserPath):
    """user_id is a query parameter here (the route has no path template)."""

    k: HowMany = 10
