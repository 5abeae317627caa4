"""Parameters and bodies checked by their pydantic models, with errors a client can act on.

pydantic's ``ValidationError`` becomes one ``BadRequest`` whose message names the field, says
what was wrong and what is expected (``k must be between 1 and 100, got 0``).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from chalicelib.errors import BadRequest
from chalicelib.models import Shape, Untitled
from chalicelib.operations import Operation
from chalicelib.params import PATTERN_MEANS, Params

B = TypeVar("B", bound=Shape)


def parse_params(op: Operation, values: dict[str, str | None]) -> Params:
    """Typed, range-checked parameters of ``op`` from raw path/query strings (400 otherwise)."""
    try:
        return op.params.model_validate(values)
    except ValidationError as error:
        raise BadRequest(_message(op.params, error, where="parameter")) from None


def parse_body(model: type[B], raw: bytes | None) -> B:
    """A JSON object body checked against ``model`` (400 on anything else)."""
    if not raw:
        raise BadRequest("the request needs a JSON object body")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest(f"the body must be a JSON object, got {type(body).__name__}")
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise BadRequest(_message(model, error, where="field")) from None


def _message(model: type[BaseModel], error: ValidationError, *, where: str) -> str:
    """The first thing to fix: unknown names, then missing ones, then the first bad value."""
    errors = error.errors()
    unknown = [_name(e) for e in errors if e["type"] == "extra_forbidden"]
    if unknown:
        names = list(model.model_fields)
        allowed = ", ".join(sorted(names) if where == "parameter" else names)
        return f"unknown {where}(s) {', '.join(sorted(unknown))}; allowed: {allowed or 'none'}"
    missing = [_name(e) for e in errors if e["type"] == "missing"]
    if missing and where == "parameter":
        name = missing[0]
        return f"{name} is required ({model.model_fields[name].description})"
    if missing:
        return f"missing field(s) {', '.join(missing)}"
    first = errors[0]
    return f"{_name(first)} {_problem(first, field_schema(model, _name(first)), where)}"


def _name(error: ErrorDetails) -> str:
    return ".".join(str(part) for part in error["loc"])


def _problem(error: ErrorDetails, schema: dict[str, Any], where: str) -> str:
    """What is wrong with the value, in the words of the field's JSON Schema."""
    kind, value = error["type"], error["input"]
    shown = repr(value[:40]) if where == "parameter" and isinstance(value, str) else _json(value)
    if value is None:
        return "must not be null"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be an integer, got {shown}"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"must be a number, got {shown}"
    if kind == "string_type":
        return f"must be a string, got {shown}"
    if kind in ("greater_than_equal", "less_than_equal"):
        return f"must be between {schema.get('minimum')} and {schema.get('maximum')}, got {value}"
    if kind == "multiple_of":
        return f"must be a multiple of {schema['multipleOf']}, got {value}"
    if kind in ("literal_error", "enum"):
        choices = schema.get("enum") or [schema["const"]]
        return f"must be one of {', '.join(str(choice) for choice in choices)}"
    if kind == "string_too_long":
        return f"must be at most {schema['maxLength']} characters"
    if kind == "string_pattern_mismatch":
        pattern = schema["pattern"]
        if pattern in PATTERN_MEANS:
            return f"{shown} is not {PATTERN_MEANS[pattern]}"
        return f"{shown} does not match {pattern}"
    return f"is not valid: {error['msg']}"


def _json(value: Any) -> str:
    try:
        return json.dumps(value)[:40]
    except (TypeError, ValueError):
        return repr(value)[:40]


@cache
def _schemas(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(schema_generator=Untitled)["properties"]  # type: ignore[no-any-return]


def field_schema(model: type[BaseModel], name: str) -> dict[str, Any]:
    """The JSON Schema of one field, the non-null alternative of a nullable one."""
    schema: dict[str, Any] = _schemas(model).get(name, {})
    for option in schema.get("anyOf", ()):
        if option.get("type") != "null":
            return {**option, "description": schema.get("description")}
    return schema
