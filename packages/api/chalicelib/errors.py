"""Errors a client can cause, each with its HTTP status and a message saying what to fix."""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from typing import Any


def snake_case(name: str) -> str:
    """``NotFoundError`` -> ``not_found``: the code of an error class (Chalice's too)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().removesuffix("_error")


class ApiError(Exception):
    """Turned into ``{"error": {"code", "message"}}`` with ``status`` by the routes.

    A subclass names its status (``class NotFound(ApiError, status=404)``); its code is its
    name in snake case and its docstring what the status means on this API (the OpenAPI
    document's description of that answer).
    """

    status = 400
    code = "bad_request"

    def __init_subclass__(cls, *, status: int, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.status, cls.code = status, snake_case(cls.__name__)

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message)

    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(ApiError, status=400):
    """Invalid parameter or body."""


class Unauthorized(ApiError, status=401):
    """The user's token is needed: Authorization: Bearer <token>."""

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="recs"'}


class Forbidden(ApiError, status=403):
    """The token is not this user's, or the user belongs to the dataset (read-only)."""


class NotFound(ApiError, status=404):
    """No such user or movie (or no such not-interested mark)."""


class Conflict(ApiError, status=409):
    """The user already rated this movie."""


class PayloadTooLarge(ApiError, status=413):
    """Request body too large."""


# Chalice answers it before a route runs; documented here with the others.
class UnsupportedMediaType(ApiError, status=415):
    """The body is not application/json."""


class TooManyRequests(ApiError, status=429):
    """A cap is reached (writes per user, users per client); Retry-After says when to retry."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class Unavailable(ApiError, status=503):
    """The store or the endpoint is unavailable and there is no fallback."""


# Every error answer the API documents, by status.
API_ERRORS: dict[int, type[ApiError]] = {error.status: error for error in ApiError.__subclasses__()}


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


# Methods `chalice local` hands to the app; any other method is refused before routing.
LOCAL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def local_server_error(
    handler: Any, code: int, message: str | None = None, explain: str | None = None
) -> None:
    """``BaseHTTPRequestHandler.send_error`` in the API's JSON error shape (local server only).

    A method the server has no handler for (http.server's 501) is a 405, as API Gateway
    answers it; other protocol errors (a malformed request line, oversized headers) keep
    their status.
    """
    method = getattr(handler, "command", None)
    if code == 501:
        code = 405
        body = error_body(
            "method_not_allowed",
            f"the method {str(method)[:20]!r} is not allowed; this API accepts "
            f"{', '.join(LOCAL_METHODS)} as each route documents (GET /openapi.json)",
        )
    else:
        name = HTTPStatus(code).phrase.lower().replace(" ", "_").replace("-", "_")
        body = error_body(name, message or explain or HTTPStatus(code).phrase)
    handler.log_error("code %d, message %s", code, message)
    payload = json.dumps(body).encode()
    handler.send_response(code)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Connection", "close")
    if code == 405:
        handler.send_header("Allow", ", ".join(LOCAL_METHODS))
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.close_connection = True
    if method != "HEAD":
        handler.wfile.write(payload)
