"""Clients of the model endpoint (docs/contracts.md, "Serving signature" and "Endpoint").

``LocalEndpoint`` talks HTTP to ``recs serve``; ``SageMakerEndpoint`` calls
``invoke_endpoint`` through an injected sagemaker-runtime client. Both send the same body,
pick a model with ``tfs-model-name=<model>``, and give up after ``timeout`` seconds.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from recs_contracts import serving


class EndpointUnavailable(RuntimeError):
    """No answer in time, no model loaded, or an answer that breaks the contract."""


class EndpointRejected(ValueError):
    """The endpoint refused the request (unknown model, k out of range): the caller's fault."""


@dataclass(frozen=True)
class Prediction:
    item_ids: list[int]
    scores: list[float]
    model_name: str | None
    version: int | None


@dataclass(frozen=True)
class EndpointStatus:
    ok: bool
    version: int | None = None
    default_model: str | None = None
    models: tuple[str, ...] = ()
    detail: str = ""


# What a backend's call returns: the answer's bytes, the model that answered, and (asked
# only once the answer is good) the serving version.
Invoked = tuple[bytes, str | None, Callable[[], int | None]]


class Endpoint(ABC):
    """A model endpoint: ``recommend`` sends the same request body to every backend and
    parses the predictions the same way; ``_invoke`` is how each backend reaches its own."""

    backend: str

    @abstractmethod
    def ping(self) -> EndpointStatus: ...

    @abstractmethod
    def _invoke(self, body: bytes, model: str | None) -> Invoked: ...

    def recommend(
        self,
        user_id: int,
        history: list[int],
        k: int,
        model: str | None,
        exclude: list[int] | None = None,
    ) -> Prediction:
        answer, model_name, version = self._invoke(
            request_body(user_id, history, k, exclude), model
        )
        try:
            payload = json.loads(answer)
        except ValueError:
            raise EndpointUnavailable("the endpoint answered with invalid JSON") from None
        item_ids, scores = parse_predictions(payload)
        return Prediction(item_ids, scores, model_name, version())


def request_body(
    user_id: int, history: list[int], k: int, exclude: list[int] | None = None
) -> bytes:
    """Row-form TF Serving request (``recs_contracts.serving``); the model excludes the
    history itself, and ``exclude`` (movies filtered out or marked not interested) too."""
    instance = serving.Instance(user_id=user_id, history=history, k=k, exclude=exclude or ())
    return json.dumps(serving.request_body([instance])).encode()


def parse_predictions(payload: Any) -> tuple[list[int], list[float]]:
    try:
        return serving.parse_predictions(payload)[0]
    except serving.ResponseError as exc:
        raise EndpointUnavailable(str(exc)) from None


def _optional_int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class LocalEndpoint(Endpoint):
    """HTTP to the local endpoint server; every call bounded by ``timeout`` in total."""

    backend = "local"

    def __init__(self, url: str, timeout: float) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"RECS_ENDPOINT_URL {url!r} must look like http://host:port")
        self.url = url
        self.host = parts.hostname
        self.port = parts.port or 80
        self.timeout = timeout

    def _request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        deadline = time.monotonic() + self.timeout
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            chunks = []
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no complete answer within {self.timeout:g}s")
                if connection.sock is not None:
                    connection.sock.settimeout(remaining)
                chunk = response.read1(65536)
                if not chunk:
                    break
                chunks.append(chunk)
            return (
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                b"".join(chunks),
            )
        except (OSError, http.client.HTTPException) as exc:
            raise EndpointUnavailable(f"endpoint {self.url}: {exc or type(exc).__name__}") from None
        finally:
            connection.close()

    def ping(self) -> EndpointStatus:
        try:
            status, _, body = self._request("GET", "/ping")
        except EndpointUnavailable as exc:
            return EndpointStatus(ok=False, detail=str(exc))
        try:
            info = json.loads(body) if body else {}
        except ValueError:
            info = {}
        if status != 200 or not isinstance(info, dict):
            return EndpointStatus(ok=False, detail=f"GET /ping answered {status}")
        return EndpointStatus(
            ok=True,
            version=_optional_int(info.get("version")),
            default_model=info.get("default_model"),
            models=tuple(str(m) for m in info.get("models") or ()),
        )

    def _invoke(self, body: bytes, model: str | None) -> Invoked:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if model:
            headers["X-Amzn-SageMaker-Custom-Attributes"] = f"tfs-model-name={model}"
        status, response_headers, answer = self._request("POST", "/invocations", body, headers)
        if status == 400:
            raise EndpointRejected(_error_text(answer) or "the endpoint rejected the request")
        if status != 200:
            raise EndpointUnavailable(
                f"endpoint {self.url} answered {status}: {_error_text(answer)}"
            )
        version = _optional_int(response_headers.get("x-recs-model-version"))
        return answer, response_headers.get("x-recs-model-name") or model, lambda: version


def _error_text(body: bytes) -> str:
    try:
        payload = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace")
    if isinstance(payload, dict):
        error = payload.get("error", payload)
        if isinstance(error, dict):
            return str(error.get("message", error))
        return str(error)
    return str(payload)[:200]


_VERSION_IN_NAME = re.compile(r"-v(\d+)$")


class SageMakerEndpoint(Endpoint):
    """``invoke_endpoint`` by name; the serving version comes from the deployed model's name
    (``recs-movielens-v<version>``, set by the deployer), looked up at most once a minute."""

    backend = "sagemaker"

    def __init__(
        self,
        name: str,
        runtime: Any,
        sagemaker: Any,
        default_model: str,
        cache_seconds: float = 60.0,
    ) -> None:
        self.name = name
        self.runtime = runtime
        self.sagemaker = sagemaker
        self.default_model = default_model
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, EndpointStatus] | None = None

    def ping(self) -> EndpointStatus:
        with self._lock:
            if self._cached and time.monotonic() - self._cached[0] < self.cache_seconds:
                return self._cached[1]
        status = self._describe()
        with self._lock:
            self._cached = (time.monotonic(), status)
        return status

    def _describe(self) -> EndpointStatus:
        try:
            endpoint = self.sagemaker.describe_endpoint(EndpointName=self.name)
            if endpoint.get("EndpointStatus") != "InService":
                return EndpointStatus(
                    ok=False, detail=f"endpoint {self.name} is {endpoint.get('EndpointStatus')}"
                )
            config = self.sagemaker.describe_endpoint_config(
                EndpointConfigName=endpoint["EndpointConfigName"]
            )
        except (BotoCoreError, ClientError) as exc:
            return EndpointStatus(ok=False, detail=f"endpoint {self.name}: {exc}")
        variants = config.get("ProductionVariants") or [{}]
        match = _VERSION_IN_NAME.search(str(variants[0].get("ModelName", "")))
        return EndpointStatus(
            ok=True,
            version=int(match.group(1)) if match else None,
            default_model=self.default_model,
        )

    def _invoke(self, body: bytes, model: str | None) -> Invoked:
        chosen = model or self.default_model
        try:
            response = self.runtime.invoke_endpoint(
                EndpointName=self.name,
                ContentType="application/json",
                Accept="application/json",
                CustomAttributes=f"tfs-model-name={chosen}",
                Body=body,
            )
            answer = response["Body"].read()
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") == "ModelError" and exc.response.get("OriginalStatusCode") == 400:
                raise EndpointRejected(
                    exc.response.get("OriginalMessage") or error.get("Message") or str(exc)
                ) from None
            raise EndpointUnavailable(f"endpoint {self.name}: {exc}") from None
        except BotoCoreError as exc:
            raise EndpointUnavailable(f"endpoint {self.name}: {exc}") from None
        return answer, chosen, lambda: self.ping().version
