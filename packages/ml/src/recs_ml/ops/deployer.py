"""Deploy an approved model version: the consumer of 'SageMaker Model Package State Change'.

One self-contained module (boto3 and the standard library only) so that it can be shipped as
the Lambda code behind an EventBridge rule, handler ``deployer.handler`` (hence one module of
over 600 lines: the Lambda asset is this file alone). The backend comes from
``RECS_DEPLOY_BACKEND``:

``local`` (default)
    The local endpoint (``RECS_ENDPOINT_URL``, default ``http://127.0.0.1:8080``, loopback
    only): already serving the version → nothing to do; else POST the approved artifact to
    ``/admin/load`` (the endpoint loads and verifies it fully, then swaps it in). Then the
    endpoint must report the version on ``/ping`` and answer one real ``/invocations`` request
    with it. ``RECS_DEPLOY_TIMEOUT`` (seconds, default 120) bounds each call.
``sagemaker``
    A small state machine over the endpoint ``RECS_ENDPOINT_NAME`` (default: the group name):
    create the model ``<group>-v<version>`` and the serverless endpoint config
    ``<group>-v<version>-serverless`` (kept when they exist: a retried event re-uses them),
    then read the endpoint's status and act:

    ==========================================  ========================================
    endpoint                                    action
    ==========================================  ========================================
    absent                                      create it
    Failed (only DeleteEndpoint is allowed)     delete it, wait until it is gone, create it
    Creating / Updating / SystemUpdating /      wait until it settles, then decide again
    RollingBack / Deleting
    InService (or OutOfService,                 on the target config: nothing (a duplicate
    UpdateRollbackFailed)                       event or a retry); else update it
    ==========================================  ========================================

    After acting it waits, then requires the endpoint InService **on the target config** with
    no ``FailureReason`` (SageMaker rolls a failed update back to the old config and stays
    InService) and one real ``invoke_endpoint`` request answered with predictions. Anything
    else raises :class:`DeployError`; the Lambda then fails, is retried once, and the event
    lands in the dead-letter queue. Each failure is also written on the model package
    (``CustomerMetadataProperties`` ``deploy_status=Failed``, ``deploy_error``), and cleared by
    the next successful deployment of that version, so ``GET /models`` shows it.

    Settings: ``RECS_SAGEMAKER_ROLE_ARN`` (the model's execution role, required),
    ``RECS_SERVERLESS_MEMORY_MB`` (default 3072), ``RECS_SERVERLESS_MAX_CONCURRENCY``
    (default 5), ``RECS_INFERENCE_IMAGE_URI`` (used when the package names no image),
    ``RECS_DEFAULT_MODEL`` (TFS model served when a request names none, default ``tfrs``),
    ``RECS_DEPLOY_WAIT`` (``true``/``false``, default true: without waiting nothing is
    verified), ``RECS_DEPLOY_WAIT_SECONDS`` (default 840, under Lambda's 15 minutes; also
    bounded by the invocation's remaining time), ``RECS_DEPLOY_POLL_SECONDS`` (default 15).

Deployments must not overlap: the Lambda runs with a reserved concurrency of 1, and the state
machine itself tolerates what overlaps anyway (a retry while the endpoint is Updating).
Only ``Approved`` events deploy; every other status is acknowledged and ignored.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

DETAIL_TYPE = "SageMaker Model Package State Change"
LOCAL_ENDPOINT_URL = "http://127.0.0.1:8080"
# SageMaker model, endpoint-config and endpoint names: at most 63 characters.
MAX_NAME_LENGTH = 63
CONFIG_SUFFIX = "-serverless"
# The request every deployment must answer: a new user with no history, top 1.
SMOKE_REQUEST = {"instances": [{"user_id": 0, "history": [0], "exclude": [0], "k": 1}]}
# Statuses an endpoint passes through on its own; the only call allowed then is a wait.
TRANSITIONAL = ("Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting")
# Customer metadata on the model package recording a failed deployment (GET /models shows it).
DEPLOY_STATUS_KEY = "deploy_status"
DEPLOY_ERROR_KEY = "deploy_error"
MAX_METADATA_VALUE = 256


class DeployError(RuntimeError):
    """The deployment did not happen; the message says which step failed and why."""


class DeployerSettings(NamedTuple):
    """Everything the deployer reads from the environment (the module docstring says what each
    variable means), read once per event. Standard library only, as the Lambda ships this file
    alone; a NamedTuple rather than a dataclass, which needs its module in ``sys.modules``."""

    backend: str = "local"
    endpoint_url: str = LOCAL_ENDPOINT_URL
    timeout: int = 120
    endpoint_name: str | None = None
    sagemaker_role_arn: str | None = None
    inference_image_uri: str | None = None
    default_model: str = "tfrs"
    serverless_memory_mb: int = 3072
    serverless_max_concurrency: int = 5
    wait: bool = True
    wait_seconds: int = 840
    poll_seconds: int = 15

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeployerSettings:
        env = os.environ if env is None else env

        def text(name: str) -> str | None:
            return env.get(name) or None

        def integer(name: str, default: int) -> int:
            raw = env.get(name, str(default))
            try:
                return int(raw)
            except ValueError:
                raise DeployError(f"{name}={raw!r} is not an integer") from None

        return cls(
            backend=env.get("RECS_DEPLOY_BACKEND", "local"),
            endpoint_url=text("RECS_ENDPOINT_URL") or LOCAL_ENDPOINT_URL,
            timeout=integer("RECS_DEPLOY_TIMEOUT", 120),
            endpoint_name=text("RECS_ENDPOINT_NAME"),
            sagemaker_role_arn=text("RECS_SAGEMAKER_ROLE_ARN"),
            inference_image_uri=text("RECS_INFERENCE_IMAGE_URI"),
            default_model=env.get("RECS_DEFAULT_MODEL", "tfrs"),
            serverless_memory_mb=integer("RECS_SERVERLESS_MEMORY_MB", 3072),
            serverless_max_concurrency=integer("RECS_SERVERLESS_MAX_CONCURRENCY", 5),
            wait=env.get("RECS_DEPLOY_WAIT", "true").lower() not in ("0", "false", "no"),
            wait_seconds=integer("RECS_DEPLOY_WAIT_SECONDS", 840),
            poll_seconds=integer("RECS_DEPLOY_POLL_SECONDS", 15),
        )


def _required(value: str | None, variable: str) -> str:
    if not value:
        raise DeployError(f"environment variable {variable} is required for this backend")
    return value


def parse_event(event: dict[str, Any]) -> dict[str, Any]:
    """The event's ``detail``, checked for the fields the deployer uses."""
    if not isinstance(event, dict) or event.get("detail-type") != DETAIL_TYPE:
        got = event.get("detail-type") if isinstance(event, dict) else type(event).__name__
        raise DeployError(f"expected a '{DETAIL_TYPE}' event, got detail-type {got!r}")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise DeployError("event has no 'detail' object")
    missing = [
        key
        for key in ("ModelPackageGroupName", "ModelPackageVersion", "ModelApprovalStatus")
        if key not in detail
    ]
    if missing:
        raise DeployError(f"event detail lacks {', '.join(missing)}")
    try:
        detail["ModelPackageVersion"] = int(detail["ModelPackageVersion"])
    except (TypeError, ValueError):
        raise DeployError(
            f"ModelPackageVersion {detail['ModelPackageVersion']!r} is not an integer"
        ) from None
    return detail


def model_name_for(group: str, version: int) -> str:
    """The SageMaker model name the API reads the serving version from."""
    return f"{group}-v{version}"


def endpoint_config_name_for(group: str, version: int) -> str:
    return f"{model_name_for(group, version)}{CONFIG_SUFFIX}"


def _containers(detail: dict[str, Any]) -> list[dict[str, Any]]:
    spec = detail.get("InferenceSpecification") or {}
    containers = spec.get("Containers") or []
    return [c for c in containers if isinstance(c, dict)]


def _check_predictions(payload: Any, where: str) -> None:
    predictions = payload.get("predictions") if isinstance(payload, dict) else None
    if not isinstance(predictions, list) or not predictions:
        raise DeployError(f"{where} answered the smoke request without predictions: {payload!r}")


# --------------------------------------------------------------------------------- local


def _require_loopback(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise DeployError(f"RECS_ENDPOINT_URL {url!r} is not a loopback address; refusing to deploy")


def _local_call(
    base: str, path: str, body: dict[str, Any] | None, timeout: int
) -> tuple[int, dict[str, str], Any]:
    """(status, headers, JSON body) of one call to the local endpoint; HTTP errors included."""
    request = urllib.request.Request(
        base.rstrip("/") + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        status, headers, raw = exc.code, dict(exc.headers or {}), exc.read()
    except (urllib.error.URLError, OSError) as exc:
        raise DeployError(
            f"the local endpoint at {base} is not reachable ({exc}); start it with `recs serve` "
            "(it loads the latest approved version when it starts)"
        ) from None
    try:
        payload = json.loads(raw or b"{}")
    except ValueError:
        payload = raw.decode(errors="replace")
    return status, headers, payload


def _error_text(payload: Any) -> str:
    if isinstance(payload, dict) and "error" in payload:
        error = payload["error"]
        return str(error.get("message", error) if isinstance(error, dict) else error)
    return str(payload)


def _local_serving_version(base: str, group: str, timeout: int) -> int | None:
    status, _, payload = _local_call(base, "/ping", None, timeout)
    if status != 200 or not isinstance(payload, dict) or payload.get("group") != group:
        return None
    version = payload.get("version")
    return version if isinstance(version, int) else None


def deploy_local(
    detail: dict[str, Any], settings: DeployerSettings | None = None
) -> dict[str, Any]:
    """The local endpoint serves the approved version and answers a request with it."""
    settings = settings or DeployerSettings.from_env()
    base = settings.endpoint_url
    _require_loopback(base)
    containers = _containers(detail)
    if not containers or not containers[0].get("ModelDataUrl"):
        raise DeployError("event detail has no InferenceSpecification.Containers[0].ModelDataUrl")
    group, version = detail["ModelPackageGroupName"], detail["ModelPackageVersion"]
    timeout = settings.timeout
    answer: dict[str, Any] = {}
    if _local_serving_version(base, group, timeout) == version:
        action = "unchanged"  # a duplicate event, or a retry after the load went through
    else:
        body = {
            "group": group,
            "version": version,
            "model_data_url": containers[0]["ModelDataUrl"],
            "sha256": (detail.get("CustomerMetadataProperties") or {}).get("sha256"),
        }
        status, _, payload = _local_call(base, "/admin/load", body, timeout)
        if status != 200:
            raise DeployError(
                f"the local endpoint refused version {version}: {_error_text(payload)}"
            )
        answer = payload if isinstance(payload, dict) else {}
        action = "loaded"
    serving = _local_serving_version(base, group, timeout)
    if serving != version:
        raise DeployError(
            f"the local endpoint serves version {serving} of {group}, not {version}, after the "
            "load (another deployment overlapped this one)"
        )
    status, headers, payload = _local_call(base, "/invocations", SMOKE_REQUEST, timeout)
    if status != 200:
        raise DeployError(
            f"the local endpoint failed the smoke request on version {version} "
            f"(HTTP {status}): {_error_text(payload)}"
        )
    _check_predictions(payload, "the local endpoint")
    answered = {k.lower(): v for k, v in headers.items()}.get("x-recs-model-version")
    if answered is not None and answered != str(version):
        raise DeployError(f"the smoke request was answered by version {answered}, not {version}")
    return {
        "backend": "local",
        "endpoint": base,
        **answer,
        "action": action,
        "group": group,
        "version": version,
        "status": "serving",
    }


# --------------------------------------------------------------------------------- SageMaker


def _client_error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _client_error_message(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Message", exc))


def _is_client_error(exc: Exception) -> bool:
    return bool(_client_error_code(exc))


def describe_endpoint(client: Any, name: str) -> dict[str, Any] | None:
    """The endpoint's description, or None when it does not exist."""
    try:
        return dict(client.describe_endpoint(EndpointName=name))
    except Exception as exc:  # botocore ClientError; botocore is imported lazily by boto3
        if _client_error_code(exc) == "ValidationException" and "not find" in (
            _client_error_message(exc).lower()
        ):
            return None
        raise


class _Clock:
    """The deployment's time budget; ``sleep`` and ``now`` are injectable for tests."""

    def __init__(
        self,
        budget_seconds: float,
        poll_seconds: float,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.deadline = now() + budget_seconds
        self.budget = budget_seconds
        self.poll = poll_seconds
        self.sleep, self.now = sleep, now

    def tick(self, waiting_for: str) -> None:
        if self.now() + self.poll > self.deadline:
            raise DeployError(
                f"gave up after {self.budget:.0f}s waiting for {waiting_for}; a retry of this "
                "event resumes from the endpoint's state"
            )
        self.sleep(self.poll)


def _settle(
    client: Any, name: str, clock: _Clock, seen: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Describe the endpoint until it is in no transitional status (None: it is gone).
    ``seen``: a description just read, so the first look is after one poll interval."""
    endpoint = seen if seen is not None else describe_endpoint(client, name)
    while endpoint is not None and endpoint["EndpointStatus"] in TRANSITIONAL:
        logger.info("endpoint %s is %s; waiting", name, endpoint["EndpointStatus"])
        clock.tick(f"endpoint {name} to leave {endpoint['EndpointStatus']}")
        endpoint = describe_endpoint(client, name)
    return endpoint


def _create_if_absent(call: Callable[..., Any], what: str, **kwargs: Any) -> None:
    try:
        call(**kwargs)
        logger.info("created %s", what)
    except Exception as exc:
        # A retried event finds it already there; anything else is a real failure.
        if "already exist" not in _client_error_message(exc):
            raise DeployError(f"creating {what} failed: {_client_error_message(exc)}") from None


def _smoke_request(runtime: Any, endpoint_name: str, config_name: str) -> None:
    try:
        response = runtime.invoke_endpoint(
            EndpointName=endpoint_name,
            ContentType="application/json",
            Accept="application/json",
            Body=json.dumps(SMOKE_REQUEST).encode(),
        )
        payload = json.loads(response["Body"].read())
    except DeployError:
        raise
    except Exception as exc:
        raise DeployError(
            f"endpoint {endpoint_name} on {config_name} failed the smoke request: "
            f"{_client_error_message(exc)}"
        ) from None
    _check_predictions(payload, f"endpoint {endpoint_name}")


def _clock_for(context: Any, settings: DeployerSettings) -> _Clock:
    budget = float(settings.wait_seconds)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(remaining):
        # Leave time to report the failure before Lambda stops the invocation.
        budget = min(budget, remaining() / 1000 - 30)
    return _Clock(max(budget, 0.0), float(settings.poll_seconds))


def deploy_sagemaker(
    detail: dict[str, Any],
    client: Any,
    runtime: Any = None,
    *,
    settings: DeployerSettings | None = None,
    clock: _Clock | None = None,
) -> dict[str, Any]:
    """Model → serverless endpoint config → the endpoint state machine → verify."""
    settings = settings or DeployerSettings.from_env()
    group = detail["ModelPackageGroupName"]
    version = detail["ModelPackageVersion"]
    arn = detail.get("ModelPackageArn")
    model_name = model_name_for(group, version)
    config_name = endpoint_config_name_for(group, version)
    endpoint_name = settings.endpoint_name or group
    for what, name in (("model", model_name), ("endpoint config", config_name)):
        if len(name) > MAX_NAME_LENGTH:
            raise DeployError(
                f"{what} name {name!r} has {len(name)} characters; SageMaker allows "
                f"{MAX_NAME_LENGTH}: shorten the model package group name"
            )
    containers = _containers(detail)
    if (not containers or not containers[0].get("Image")) and arn:
        package = client.describe_model_package(ModelPackageName=arn)
        containers = package.get("InferenceSpecification", {}).get("Containers", []) or containers
    if not containers or not containers[0].get("ModelDataUrl"):
        raise DeployError(f"model package {group}/{version} names no ModelDataUrl")
    container = containers[0]
    image = container.get("Image") or _required(
        settings.inference_image_uri, "RECS_INFERENCE_IMAGE_URI"
    )
    clock = clock or _clock_for(None, settings)
    _create_model_and_config(
        client, settings, model_name, config_name, image, container["ModelDataUrl"], arn
    )
    steps, endpoint = _drive_endpoint(client, endpoint_name, config_name, clock)
    action = steps[-1]
    logger.info("endpoint %s: %s with %s", endpoint_name, " → ".join(steps), config_name)

    final_status = "Creating" if action == "created" else "Updating"
    if action == "unchanged":
        final_status = endpoint["EndpointStatus"] if endpoint else "unknown"
    if settings.wait:
        final_status = _verify_endpoint(
            client, runtime, endpoint_name, config_name, clock, model_name
        )
    return {
        "backend": "sagemaker",
        "action": action,
        "steps": steps,
        "endpoint": endpoint_name,
        "endpoint_config": config_name,
        "model": model_name,
        "version": version,
        "status": final_status,
        "verified": settings.wait,
    }


def _create_model_and_config(
    client: Any,
    settings: DeployerSettings,
    model_name: str,
    config_name: str,
    image: str,
    model_data_url: str,
    arn: str | None,
) -> None:
    """The SageMaker model and its serverless endpoint config, unless they exist already (a
    retried event re-uses them)."""
    environment = {"SAGEMAKER_TFS_DEFAULT_MODEL_NAME": settings.default_model}
    _create_if_absent(
        client.create_model,
        f"model {model_name}",
        ModelName=model_name,
        ExecutionRoleArn=_required(settings.sagemaker_role_arn, "RECS_SAGEMAKER_ROLE_ARN"),
        PrimaryContainer={
            "Image": image,
            "ModelDataUrl": model_data_url,
            "Environment": environment,
        },
        Tags=[{"Key": "ModelPackageArn", "Value": arn or ""}],
    )
    _create_if_absent(
        client.create_endpoint_config,
        f"endpoint config {config_name}",
        EndpointConfigName=config_name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model_name,
                "ServerlessConfig": {
                    "MemorySizeInMB": settings.serverless_memory_mb,
                    "MaxConcurrency": settings.serverless_max_concurrency,
                },
            }
        ],
    )


def _drive_endpoint(
    client: Any, endpoint_name: str, config_name: str, clock: _Clock
) -> tuple[list[str], dict[str, Any] | None]:
    """The endpoint state machine (module docstring): the steps taken and the endpoint as
    last described."""
    steps: list[str] = []
    endpoint = describe_endpoint(client, endpoint_name)
    while True:
        status = endpoint["EndpointStatus"] if endpoint else None
        if status in TRANSITIONAL:
            steps.append(f"waited ({status})")
            endpoint = _settle(client, endpoint_name, clock, endpoint)
            continue
        if endpoint is not None and status != "Failed":
            if endpoint.get("EndpointConfigName") == config_name:
                steps.append("unchanged")  # a duplicate event, or a retry after the update
                break
        if endpoint is None:
            operation, done = "create_endpoint", "created"
            arguments = {"EndpointName": endpoint_name, "EndpointConfigName": config_name}
        elif status == "Failed":
            # AWS allows only DeleteEndpoint on a Failed endpoint.
            logger.warning(
                "endpoint %s is Failed (%s); deleting it to create it again",
                endpoint_name,
                endpoint.get("FailureReason", "no reason given"),
            )
            operation, done = "delete_endpoint", "deleted (Failed)"
            arguments = {"EndpointName": endpoint_name}
        else:
            operation, done = "update_endpoint", "updated"
            arguments = {"EndpointName": endpoint_name, "EndpointConfigName": config_name}
        try:
            getattr(client, operation)(**arguments)
        except Exception as exc:
            # Another deployment acted between our describe and this call: look again.
            if _client_error_code(exc) != "ValidationException" or len(steps) >= 10:
                raise DeployError(
                    f"{operation} {endpoint_name} ({config_name}) failed: "
                    f"{_client_error_message(exc)}"
                ) from None
            steps.append(f"{operation} refused")
            clock.tick(f"endpoint {endpoint_name} to accept {operation}")
            endpoint = describe_endpoint(client, endpoint_name)
            continue
        steps.append(done)
        if operation != "delete_endpoint":
            break
        endpoint = _settle(client, endpoint_name, clock)
        if endpoint is not None:
            raise DeployError(
                f"endpoint {endpoint_name} is {endpoint['EndpointStatus']} after its deletion"
            )
    return steps, endpoint


def _verify_endpoint(
    client: Any, runtime: Any, endpoint_name: str, config_name: str, clock: _Clock, model_name: str
) -> str:
    """Wait until the endpoint settles; it must be InService on ``config_name`` with no
    FailureReason and answer one real request. Returns its status."""
    endpoint = _settle(client, endpoint_name, clock)
    if endpoint is None:
        raise DeployError(f"endpoint {endpoint_name} disappeared while deploying {model_name}")
    final_status: str = endpoint["EndpointStatus"]
    reason = endpoint.get("FailureReason")
    serving_config = endpoint.get("EndpointConfigName")
    if final_status != "InService" or serving_config != config_name or reason:
        raise DeployError(
            f"endpoint {endpoint_name} did not deploy {config_name}: it is {final_status} on "
            f"{serving_config}" + (f"; FailureReason: {reason}" if reason else "")
        )
    _smoke_request(runtime or _sagemaker_runtime_client(), endpoint_name, config_name)
    return final_status


def record_deploy_outcome(client: Any, arn: str | None, error: str | None) -> None:
    """Write a failed deployment on the model package, or clear an earlier one.

    Writes only when the record changes: updating a package emits another state-change event,
    which must not start a loop of deployments."""
    if not arn:
        return
    try:
        package = client.describe_model_package(ModelPackageName=arn)
        properties = package.get("CustomerMetadataProperties") or {}
        if error is None:
            stale = [k for k in (DEPLOY_STATUS_KEY, DEPLOY_ERROR_KEY) if k in properties]
            if stale:
                client.update_model_package(
                    ModelPackageArn=arn, CustomerMetadataPropertiesToRemove=stale
                )
        elif properties.get(DEPLOY_STATUS_KEY) != "Failed":
            client.update_model_package(
                ModelPackageArn=arn,
                CustomerMetadataProperties={
                    DEPLOY_STATUS_KEY: "Failed",
                    DEPLOY_ERROR_KEY: error[:MAX_METADATA_VALUE],
                },
            )
    except Exception as exc:  # the deployment's own outcome matters more than this note
        logger.error("could not record the deployment outcome on %s: %s", arn, exc)


def _sagemaker_client() -> Any:
    import boto3

    return boto3.client("sagemaker")


def _sagemaker_runtime_client() -> Any:
    import boto3

    return boto3.client("sagemaker-runtime")


# --------------------------------------------------------------------------------- handler


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry point (and the local registry's event sink)."""
    detail = parse_event(event)
    status = detail["ModelApprovalStatus"]
    group, version = detail["ModelPackageGroupName"], detail["ModelPackageVersion"]
    if status != "Approved":
        logger.info("ignoring %s/%s: status %s", group, version, status)
        return {"action": "ignored", "status": status, "version": version}
    settings = DeployerSettings.from_env()
    backend = settings.backend
    logger.info("deploying %s/%s with the %s backend", group, version, backend)
    if backend == "local":
        return deploy_local(detail, settings)
    if backend == "sagemaker":
        client = _sagemaker_client()
        try:
            result = deploy_sagemaker(
                detail,
                client,
                _sagemaker_runtime_client(),
                settings=settings,
                clock=_clock_for(context, settings),
            )
        except DeployError as exc:
            logger.error("deploying %s/%s failed: %s", group, version, exc)
            record_deploy_outcome(client, detail.get("ModelPackageArn"), str(exc))
            raise
        except Exception as exc:
            logger.error("deploying %s/%s failed: %s", group, version, exc)
            record_deploy_outcome(client, detail.get("ModelPackageArn"), _client_error_message(exc))
            raise DeployError(f"deploying {group}/{version} failed: {exc}") from exc
        if result["verified"]:
            record_deploy_outcome(client, detail.get("ModelPackageArn"), None)
        return result
    raise DeployError(f"RECS_DEPLOY_BACKEND={backend!r}; use 'local' or 'sagemaker'")
