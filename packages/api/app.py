"""Routes only: each one hands its raw parameters and body to chalicelib and returns the result.

The routes, their parameters and bodies are declared once in ``chalicelib.spec``; ``route``
below registers a view under that description and turns client errors into
``{"error": {"code", "message"}}`` responses.
"""

import contextlib
import re
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
)
from chalicelib.limits import client_address, client_key
from chalicelib.ownership import bearer_token
from chalicelib.service import Caller, RecsService
from chalicelib.settings import get_settings
from chalicelib.spec import openapi_document, operation, parse_body, parse_params

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


def route(method: str, path: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``view(params, body, caller)`` for the spec's ``method path``."""
    op = operation(method, path)

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        def handler(**path_params: str) -> Response:
            request = app.current_request
            try:
                raw = {**(request.query_params or {}), **path_params}
                params = parse_params(op, raw)
                caller = _caller(request, with_token=op.auth != "none")
                if op.auth == "required" and caller.token is None:
                    raise Unauthorized(
                        "this request needs the user's token: send 'Authorization: Bearer "
                        "<token>' (POST /users returned it once)"
                    )
                body = None
                if op.body:
                    payload = request.raw_body or b""
                    if len(payload) > settings.max_body_bytes:
                        raise PayloadTooLarge(
                            f"the body has {len(payload)} bytes; the limit is "
                            f"{settings.max_body_bytes}"
                        )
                    body = parse_body(op.body, payload)
                result = view(params, body, caller)
            except ApiError as error:
                return Response(error.body(), status_code=error.status, headers=error.headers())
            if isinstance(result, tuple):
                status, result = result
                return Response(result, status_code=status)
            return Response(result, status_code=op.status)

        handler.__name__ = view.__name__
        app.route(path, methods=[method], cors=CORS, name=op.operation_id)(handler)
        return view

    return register


def _caller(request: Any, *, with_token: bool) -> Caller:
    """The bearer token (never logged) and a digest of the source IP, for ownership and caps."""
    identity = (request.context or {}).get("identity") or {}
    headers = request.headers or {}
    token = bearer_token(headers.get("authorization")) if with_token else None
    address = client_address(identity.get("sourceIp"), headers, settings.client_ip_header)
    return Caller(token=token, client=client_key(address))


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().removesuffix("_error")


@app.middleware("http")
def uniform_errors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Chalice's own errors (405, 415, 500) take the API's error shape too."""
    response = get_response(event)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        code = "internal_error" if response.status_code >= 500 else _snake(str(body["Code"]))
        response.body = error_body(code, str(body.get("Message", "")))
    return response


@route("GET", "/health")
def health(params: dict, body: None, caller: Caller) -> tuple[int, dict]:
    return service().health()


@route("GET", "/users")
def list_users(params: dict, body: None, caller: Caller) -> dict:
    return service().list_users(params["query"], params["limit"], params["offset"], caller)


@route("POST", "/users")
def create_user(params: dict, body: dict, caller: Caller) -> dict:
    return service().create_user(body, caller)


@route("GET", "/users/{user_id}")
def get_user(params: dict, body: None, caller: Caller) -> dict:
    return service().get_user(params["user_id"], caller)


@route("DELETE", "/users/{user_id}")
def delete_user(params: dict, body: None, caller: Caller) -> dict:
    return service().delete_user(params["user_id"], caller)


@route("POST", "/users/{user_id}/ratings")
def rate_movie(params: dict, body: dict, caller: Caller) -> dict:
    return service().rate(params["user_id"], body, caller)


@route("GET", "/users/{user_id}/feedback")
def list_feedback(params: dict, body: None, caller: Caller) -> dict:
    return service().list_feedback(params["user_id"], caller)


@route("POST", "/users/{user_id}/feedback")
def add_feedback(params: dict, body: dict, caller: Caller) -> tuple[int, dict]:
    return service().add_feedback(params["user_id"], body, caller)


@route("DELETE", "/users/{user_id}/feedback/{item_id}")
def delete_feedback(params: dict, body: None, caller: Caller) -> dict:
    return service().delete_feedback(params["user_id"], params["item_id"], caller)


@route("GET", "/users/{user_id}/recommendations")
def recommendations(params: dict, body: None, caller: Caller) -> dict:
    return service().recommend(
        params["user_id"],
        params["k"],
        params["model"],
        caller,
        genres=params["genres"],
        year_min=params["year_min"],
        year_max=params["year_max"],
        offset=params["offset"],
    )


@route("GET", "/movies")
def list_movies(params: dict, body: None, caller: Caller) -> dict:
    return service().list_movies(params["query"], params["limit"])


@route("GET", "/movies/popular")
def popular_movies(params: dict, body: None, caller: Caller) -> dict:
    return service().popular_movies(params["genre"], params["limit"], params["user_id"], caller)


@route("GET", "/movies/genres")
def genres(params: dict, body: None, caller: Caller) -> dict:
    return service().list_genres()


@route("GET", "/movies/{item_id}")
def get_movie(params: dict, body: None, caller: Caller) -> dict:
    return service().get_movie(params["item_id"])


@route("GET", "/movies/{item_id}/similar")
def similar_movies(params: dict, body: None, caller: Caller) -> dict:
    return service().similar(params["item_id"], params["k"], params["user_id"], caller)


@route("GET", "/models")
def models(params: dict, body: None, caller: Caller) -> dict:
    return service().models()


@route("GET", "/recommendEndpoint")
def recommend_endpoint(params: dict, body: None, caller: Caller) -> dict:
    return service().recommend_endpoint(params["user_id"], params["k"], caller)


@route("GET", "/openapi.json")
def openapi(params: dict, body: None, caller: Caller) -> dict:
    return openapi_document()
