"""The OpenAPI 3.1 document, generated from the route table and the pydantic models.

Component schemas are the models' JSON Schema (nested models by ``$ref``); parameters and
error answers that several operations share are components too. The document is committed
as ``openapi.json`` (``python -m chalicelib.openapi --write``) and served at
GET /openapi.json; a test fails when the committed one is stale.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.errors import API_ERRORS
from chalicelib.models import Error, Movie, Untitled
from chalicelib.operations import OPERATIONS, Operation
from chalicelib.validation import field_schema

OPENAPI_PATH = Path(__file__).resolve().parents[1] / "openapi.json"
API_VERSION = "1.0.0"
SCHEMAS = "#/components/schemas/{model}"

ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    429: {
        "Retry-After": {
            "description": "seconds until the cap frees up",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
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


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"schema": _ref("schemas", model.__name__)}}


def component_schemas() -> dict[str, Any]:
    """Every body and answer model, and the models they nest, by name."""
    # Movie: the fields every movie answer has, a type of its own for clients.
    models: set[type[BaseModel]] = {Error, Movie}
    for op in OPERATIONS:
        models |= {op.response, *(model for _, model, _ in op.other_responses)}
        if op.body is not None:
            models.add(op.body)
    ordered = sorted(models, key=lambda model: model.__name__)
    _, top = models_json_schema(
        [(model, "validation") for model in ordered],
        ref_template=SCHEMAS,
        schema_generator=Untitled,
    )
    schemas = top["$defs"]
    for schema in schemas.values():
        schema.pop("title", None)
    return dict(sorted(schemas.items()))


def _parameter(op: Operation, name: str) -> dict[str, Any]:
    field = op.params.model_fields[name]
    schema = {
        key: value for key, value in field_schema(op.params, name).items() if key != "description"
    }
    if field.default is not None and not field.is_required():
        schema["default"] = field.default
    where = "path" if name in op.path_names() else "query"
    return {
        "name": name,
        "in": where,
        "required": where == "path" or field.is_required(),
        "description": field.description,
        "schema": schema,
    }


def _shared_parameters() -> dict[str, dict[str, Any]]:
    """Parameters that several operations declare alike, by ``<in>.<name>``."""
    seen = Counter(
        json.dumps(_parameter(op, name), sort_keys=True)
        for op in OPERATIONS
        for name in op.params.model_fields
    )
    shared: dict[str, dict[str, Any]] = {}
    for text, count in seen.items():
        if count < 2:
            continue
        parameter = json.loads(text)
        key = f"{parameter['in']}.{parameter['name']}"
        if key in shared:
            raise ValueError(f"two different shared parameters would be named {key}")
        shared[key] = parameter
    return dict(sorted(shared.items()))


def _responses(op: Operation) -> dict[str, Any]:
    success: dict[str, Any] = {
        "description": "OK" if op.status == 200 else "Created",
        "content": _json(op.response),
    }
    if op.links:
        success["links"] = {
            name: {"operationId": target, "parameters": dict(parameters)}
            for name, target, parameters in op.links
        }
    responses: dict[str, Any] = {str(op.status): success}
    for status, model, text in op.other_responses:
        responses[str(status)] = {"description": text, "content": _json(model)}
    for status in op.errors:
        responses[str(status)] = _ref("responses", API_ERRORS[status].__name__)
    return responses


def _operation(op: Operation, shared: dict[str, dict[str, Any]]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": list(op.tags),
        "responses": _responses(op),
    }
    if op.auth != "none":
        # optional: anonymous calls work for dataset users (the empty requirement).
        entry["security"] = [{BEARER: []}] if op.auth == "required" else [{}, {BEARER: []}]
    parameters = []
    for name in op.params.model_fields:
        parameter = _parameter(op, name)
        key = f"{parameter['in']}.{name}"
        parameters.append(_ref("parameters", key) if shared.get(key) == parameter else parameter)
    if parameters:
        entry["parameters"] = parameters
    if op.body is not None:
        entry["requestBody"] = {"required": True, "content": _json(op.body)}
    return entry


def _error_responses() -> dict[str, Any]:
    used = sorted({status for op in OPERATIONS for status in op.errors})
    responses = {}
    for status in used:
        error = API_ERRORS[status]
        response: dict[str, Any] = {"description": inspect.getdoc(error), "content": _json(Error)}
        if status in ERROR_HEADERS:
            response["headers"] = ERROR_HEADERS[status]
        responses[error.__name__] = response
    return responses


@cache
def openapi_document() -> dict[str, Any]:
    shared = _shared_parameters()
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, shared)
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
        "components": {
            "schemas": component_schemas(),
            "parameters": shared,
            "responses": _error_responses(),
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def render() -> str:
    return json.dumps(openapi_document(), indent=2) + "\n"


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
