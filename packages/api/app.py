"""Routes only: each one hands its checked parameters and body to chalicelib.

The routes, their parameters and bodies are declared once in ``chalicelib.operations`` (as
pydantic models); ``route`` below registers each operation's call to the service and turns
client errors into ``{"error": {"code", "message"}}`` responses.
"""

import contextlib
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from chalice import Chalice, CORSConfig, Response

from chalicelib import wiring
from chalicelib.errors import (
    ApiError,
    PayloadTooLarge,
    Unauthorized,
    error_body,
    local_server_error,
    snake_case,
)
from chalicelib.limits import client_address, client_key
from chalicelib.operations import OPERATIONS, Operation
from chalicelib.ownership import bearer_token
from chalicelib.service import Caller, RecsService
from chalicelib.settings import get_settings
from chalicelib.validation import parse_body, parse_params

settings = get_settings()
app = Chalice(app_name="recs-api")

# `chalice local` writes headers and body separately: without TCP_NODELAY every keep-alive
# response waits ~40 ms for a delayed ACK. (chalice.local is absent from the Lambda bundle.)
with contextlib.suppress(ImportError):
    from chalice.local import ChaliceRequestHandler

    ChaliceRequestHandler.disable_nagle_algorithm = True
    # http.server answers methods it has no handler for (TRACE, CONNECT, QUERY, ...) with a
    # 501 HTML page; API Gateway refuses them, so locally they are a 405 in the API's shape.
    ChaliceRequestHandler.send_error = local_server_error  # type: ignore[method-assign]

# Module-level clients: Chalice sees them, and a request never waits longer than the timeout.
_timeouts = Config(
    connect_timeout=settings.endpoint_timeout,
    read_timeout=settings.endpoint_timeout,
    retries={"max_attempts": 0},
)
sagemaker_runtime = boto3.client("sagemaker-runtime", region_name=settings.region, config=_timeouts)
sagemaker = boto3.client("sagemaker", region_name=settings.region, config=_timeouts)
dynamodb = boto3.resource("dynamodb", region_name=settings.region)
s3 = boto3.client("s3", region_name=settings.region, config=_timeouts)  # evaluation reports

CORS = CORSConfig(
    allow_origin=settings.web_origin,
    allow_headers=["Content-Type", "Authorization"],
    expose_headers=["Retry-After"],
    max_age=600,
)


def service() -> RecsService:
    return wiring.current(
        lambda: wiring.build_service(
            get_settings(),
            sagemaker_runtime=sagemaker_runtime,
            sagemaker=sagemaker,
            dynamodb=dynamodb,
            s3=s3,
        )
    )


# What each operation calls: (checked parameters, checked body or None, caller) -> answer,
# or (status, answer) where the status depends on the outcome.
View = Callable[[Any, Any, Caller], Any]


def route(op: Operation, view: View) -> None:
    """Register ``view`` under the operation's method and path."""

    def handler(**path_params: str) -> Response:
        request = app.current_request
        try:
            params = parse_params(op, {**(request.query_params or {}), **path_params})
            caller = _caller(request, with_token=op.auth != "none")
            if op.auth == "required" and caller.token is None:
                raise Unauthorized(
                    "this request needs the user's token: send 'Authorization: Bearer "
                    "<token>' (POST /users returned it once)"
                )
            body = None
            if op.body is not None:
                payload = request.raw_body or b""
                if len(payload) > settings.max_body_bytes:
                    raise PayloadTooLarge(
                        f"the body has {len(payload)} bytes; the limit is {settings.max_body_bytes}"
                    )
                body = parse_body(op.body, payload).model_dump()
            result = view(params, body, caller)
        except ApiError as error:
            return Response(error.body(), status_code=error.status, headers=error.headers())
        status, result = result if isinstance(result, tuple) else (op.status, result)
        return Response(result, status_code=status)

    handler.__name__ = op.operation_id
    app.route(op.path, methods=[op.method], cors=CORS, name=op.operation_id)(handler)


def _caller(request: Any, *, with_token: bool) -> Caller:
    """The bearer token (never logged) and a digest of the source IP, for ownership and caps."""
    identity = (request.context or {}).get("identity") or {}
    headers = request.headers or {}
    token = bearer_token(headers.get("authorization")) if with_token else None
    address = client_address(identity.get("sourceIp"), headers, settings.client_ip_header)
    return Caller(token=token, client=client_key(address))


@app.middleware("http")
def uniform_errors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice's own errors (405, 415, 500) take the API's error shape too."""
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        code = "internal_error" if response.status_code >= 500 else snake_case(str(body["Code"]))
        response.body = error_body(code, str(body.get("Message", "")))
    return response


VIEWS: dict[str, View] = {
    "getHealth": lambda p, body, caller: service().health(),
    "listUsers": lambda p, body, caller: service().list_users(p.query, p.limit, p.offset, caller),
    "createUser": lambda p, body, caller: service().create_user(body, caller),
    "getUser": lambda p, body, caller: service().get_user(p.user_id, caller),
    "deleteUser": lambda p, body, caller: service().delete_user(p.user_id, caller),
    "rateMovie": lambda p, body, caller: service().rate(p.user_id, body, caller),
    "listFeedback": lambda p, body, caller: service().list_feedback(p.user_id, caller),
    "addFeedback": lambda p, body, caller: service().add_feedback(p.user_id, body, caller),
    "deleteFeedback": lambda p, body, caller: service().delete_feedback(
        p.user_id, p.item_id, caller
    ),
    "getRecommendations": lambda p, body, caller: service().recommend(
        p.user_id,
        p.k,
        p.model,
        caller,
        genres=p.genres,
        year_min=p.year_min,
        year_max=p.year_max,
        offset=p.offset,
    ),
    "listMovies": lambda p, body, caller: service().list_movies(p.query, p.limit),
    "listPopularMovies": lambda p, body, caller: service().popular_movies(
        p.genre, p.limit, p.user_id, caller
    ),
    "listGenres": lambda p, body, caller: service().list_genres(),
    "getMovie": lambda p, body, caller: service().get_movie(p.item_id),
    "getSimilarMovies": lambda p, body, caller: service().similar(
        p.item_id, p.k, p.user_id, caller
    ),
    "listModels": lambda p, body, caller: service().models(),
    "recommendEndpoint": lambda p, body, caller: service().recommend_endpoint(
        p.user_id, p.k, caller
    ),
    "getOpenApi": lambda p, body, caller: _openapi(),
}


def _openapi() -> dict[str, Any]:
    # Imported on first call: rendering every schema is no part of a cold start.
    from chalicelib.openapi import openapi_document

    return openapi_document()


for _op in OPERATIONS:
    route(_op, VIEWS[_op.operation_id])
