"""The endpoint's WSGI application: SageMaker hosting routes plus the deployer's ``/admin/load``.

Hot swap: every request reads ``self._serving`` once and uses that version to the end; a load
builds a complete new :class:`LoadedVersion` first and only then replaces the reference (one
atomic assignment), so no request ever sees a half-loaded model.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from recs_ml.ops.registry import APPROVED, Registry, RegistryError
from recs_ml.serving.artifact import ArtifactError
from recs_ml.serving.endpoint.model import (
    LoadedVersion,
    RequestError,
    format_response,
    parse_request,
)
from recs_ml.settings import get_settings

logger = logging.getLogger("recs.endpoint")

MAX_BODY_BYTES = 8 * 1024 * 1024
CUSTOM_ATTRIBUTES = "HTTP_X_AMZN_SAGEMAKER_CUSTOM_ATTRIBUTES"

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


class LoadError(ValueError):
    """A version the endpoint refuses to serve (the current one keeps serving)."""


def _status_line(code: int) -> str:
    return {
        200: "200 OK",
        400: "400 Bad Request",
        403: "403 Forbidden",
        404: "404 Not Found",
        405: "405 Method Not Allowed",
        409: "409 Conflict",
        413: "413 Payload Too Large",
        415: "415 Unsupported Media Type",
        500: "500 Internal Server Error",
        503: "503 Service Unavailable",
    }[code]


def requested_model(header: str | None) -> str | None:
    """``tfs-model-name`` from ``X-Amzn-SageMaker-Custom-Attributes`` (comma-separated k=v)."""
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key.strip() == "tfs-model-name" and value.strip():
            return value.strip()
    return None


def _file_path(url: str) -> Path:
    parts = urlsplit(url)
    if parts.scheme not in ("file", ""):
        raise LoadError(f"model_data_url {url!r}: only file:// artifacts load locally")
    return Path(unquote(parts.path))


class EndpointApp:
    """Serves the latest approved version of a model package group, swapping on request."""

    def __init__(
        self,
        registry: Registry | None = None,
        group: str | None = None,
        work_dir: Path | None = None,
    ) -> None:
        settings = get_settings()
        self.registry = registry or Registry()
        self.group = group or settings.model_package_group
        self.work_dir = Path(work_dir) if work_dir else settings.home / "endpoint"
        self._serving: LoadedVersion | None = None
        self._previous: LoadedVersion | None = None
        self._load_lock = threading.Lock()

    # ------------------------------------------------------------------------ loading

    @property
    def serving(self) -> LoadedVersion | None:
        return self._serving

    def load_latest_approved(self) -> LoadedVersion | None:
        """At start: the newest approved version that passes every check, else none."""
        for package in reversed(self.registry.versions(self.group, status=APPROVED)):
            try:
                return self.load(package.version)
            except LoadError as exc:
                logger.error("not serving %s/%s: %s", self.group, package.version, exc)
        logger.warning("no approved version of %s to serve yet; /ping answers 503", self.group)
        return None

    def load(
        self,
        version: int,
        model_data_url: str | None = None,
        sha256: str | None = None,
        group: str | None = None,
    ) -> LoadedVersion:
        """Load ``version`` fully, check it against the registry, then swap it in."""
        group = group or self.group
        if group != self.group:
            raise LoadError(f"this endpoint serves group {self.group!r}, not {group!r}")
        try:
            package = self.registry.describe(version, group)
        except RegistryError as exc:
            raise LoadError(str(exc)) from None
        if package.status != APPROVED:
            raise LoadError(f"model package {group}/{version} is {package.status}, not Approved")
        tarball = _file_path(model_data_url) if model_data_url else package.tarball
        if tarball.resolve() != package.tarball.resolve():
            raise LoadError(
                f"{tarball} is not the registered artifact of {group}/{version} ({package.tarball})"
            )
        if sha256 and sha256 != package.sha256:
            raise LoadError(f"sha256 {sha256[:12]}… does not match the registry's record")
        with self._load_lock:
            target = self.work_dir / f"{group}-v{version}-{uuid.uuid4().hex[:8]}"
            try:
                candidate = self._build(tarball, target, group, version, package.sha256)
            except ArtifactError as exc:
                raise LoadError(str(exc)) from None
            retired, self._previous = self._previous, self._serving
            self._serving = candidate
            if retired is not None and retired.directory != candidate.directory:
                # Two versions back: no request can still hold it after a full swap cycle.
                shutil.rmtree(retired.directory, ignore_errors=True)
        logger.info(
            "serving %s/%s (%s) loaded in %.2fs",
            group,
            version,
            ", ".join(sorted(candidate.signatures)),
            candidate.load_seconds,
        )
        if package.deploy_error:
            # Served now (e.g. loaded at start after a deploy found no endpoint): not failed.
            try:
                self.registry.record_deployment(version, group, error=None)
            except (RegistryError, sqlite3.Error) as exc:
                logger.warning("could not clear %s/%s's deploy error: %s", group, version, exc)
        return candidate

    @staticmethod
    def _build(tarball: Path, target: Path, group: str, version: int, sha256: str) -> LoadedVersion:
        from recs_ml.serving.endpoint.model import load_version

        return load_version(tarball, target, group=group, version=version, expected_sha256=sha256)

    # ------------------------------------------------------------------------ HTTP

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        try:
            if path == "/ping":
                if method != "GET":
                    return self._json(start_response, 405, {"error": "use GET /ping"})
                return self._ping(start_response)
            if path == "/invocations":
                if method != "POST":
                    return self._json(start_response, 405, {"error": "use POST /invocations"})
                return self._invocations(environ, start_response)
            if path == "/admin/load":
                if method != "POST":
                    return self._json(start_response, 405, {"error": "use POST /admin/load"})
                return self._admin_load(environ, start_response)
            return self._json(start_response, 404, {"error": f"no route {method} {path}"})
        except Exception as exc:  # an unexpected failure must still answer in JSON
            logger.exception("%s %s failed", method, path)
            return self._json(start_response, 500, {"error": f"internal error: {exc}"})

    @staticmethod
    def _json(
        start_response: StartResponse,
        code: int,
        payload: dict[str, Any],
        headers: list[tuple[str, str]] | None = None,
    ) -> list[bytes]:
        body = json.dumps(payload).encode()
        start_response(
            _status_line(code),
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                *(headers or []),
            ],
        )
        return [body]

    @staticmethod
    def _read_json(environ: dict[str, Any]) -> Any:
        content_type = environ.get("CONTENT_TYPE", "") or "application/json"
        if "json" not in content_type:
            raise RequestError(f"Content-Type must be application/json, not {content_type!r}")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise RequestError("invalid Content-Length") from None
        if length > MAX_BODY_BYTES:
            raise OverflowError(f"body of {length} bytes exceeds {MAX_BODY_BYTES}")
        raw = environ["wsgi.input"].read(length) if length else b""
        if not raw:
            raise RequestError("empty body; send TF-Serving JSON")
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RequestError(f"body is not valid JSON ({exc})") from None

    def _ping(self, start_response: StartResponse) -> list[bytes]:
        serving = self._serving
        if serving is None:
            return self._json(
                start_response, 503, {"status": "no model loaded", "group": self.group}
            )
        return self._json(start_response, 200, {"status": "ok", **serving.describe()})

    def _invocations(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        serving = self._serving  # one read: this request uses this version to the end
        if serving is None:
            return self._json(
                start_response, 503, {"error": "no model loaded; approve a version first"}
            )
        try:
            body = self._read_json(environ)
            batch = parse_request(body)
        except RequestError as exc:
            return self._json(start_response, 400, {"error": str(exc)})
        except OverflowError as exc:
            return self._json(start_response, 413, {"error": str(exc)})
        model = requested_model(environ.get(CUSTOM_ATTRIBUTES)) or serving.default_model
        if model not in serving.signatures:
            return self._json(
                start_response,
                400,
                {
                    "error": f"unknown model {model!r}; this version serves "
                    f"{', '.join(sorted(serving.signatures))}"
                },
            )
        outputs = serving.predict(model, batch)
        return self._json(
            start_response,
            200,
            format_response(batch, outputs),
            [("X-Recs-Model-Version", str(serving.version)), ("X-Recs-Model-Name", model)],
        )

    def _admin_load(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        try:
            remote = ipaddress.ip_address(environ.get("REMOTE_ADDR") or "0.0.0.0")
        except ValueError:
            remote = ipaddress.ip_address("0.0.0.0")
        if not remote.is_loopback:
            return self._json(start_response, 403, {"error": "/admin/load is loopback only"})
        try:
            body = self._read_json(environ)
            if not isinstance(body, dict) or not isinstance(body.get("version"), int):
                raise RequestError('expected {"version": <int>, "model_data_url": ..., ...}')
        except RequestError as exc:
            return self._json(start_response, 400, {"error": str(exc)})
        except OverflowError as exc:
            return self._json(start_response, 413, {"error": str(exc)})
        try:
            loaded = self.load(
                body["version"],
                model_data_url=body.get("model_data_url"),
                sha256=body.get("sha256"),
                group=body.get("group"),
            )
        except LoadError as exc:
            serving = self._serving
            return self._json(
                start_response,
                409,
                {
                    "error": str(exc),
                    "serving_version": serving.version if serving else None,
                },
            )
        return self._json(start_response, 200, {"status": "serving", **loaded.describe()})


def create_app() -> EndpointApp:
    """Build the app and load the latest approved version (called inside the worker)."""
    app = EndpointApp()
    app.load_latest_approved()
    return app
