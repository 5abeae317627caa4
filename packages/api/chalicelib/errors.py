"""Errors a client can cause, each with its HTTP status and a message saying what to fix."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any


class ApiError(Exception):
    """Turned into ``{"error": {"code", "message"}}`` with ``status`` by the routes."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message)

    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(ApiError):
    status = 400
    code = "bad_request"


class Unauthorized(ApiError):
    """No token where the user's token is needed."""

    status = 401
    code = "unauthorized"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="recs"'}


class Forbidden(ApiError):
    """A token that does not belong to the user, or a user nobody may write (the dataset's)."""

    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class TooManyRequests(ApiError):
    """A cap is reached; ``retry_after`` seconds until it frees up again."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class Unavailable(ApiError):
    status = 503
    code = "unavailable"


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
