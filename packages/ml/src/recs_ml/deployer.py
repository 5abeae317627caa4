"""Deploy an approved model version: the consumer of 'SageMaker Model Package State Change'.

One self-contained module (boto3 and the standard library only) so that it can be shipped as
the Lambda code behind an EventBridge rule, handler ``deployer.handler``. The backend comes
from ``RECS_DEPLOY_BACKEND``:

``local`` (default)
    POST the approved artifact to the local endpoint's ``/admin/load`` (loopback only). The
    endpoint loads and verifies it fully, then swaps it in. Settings: ``RECS_ENDPOINT_URL``
    (default ``http://127.0.0.1:8080``), ``RECS_DEPLOY_TIMEOUT`` (seconds, default 120).
``sagemaker``
    Create the model ``<group>-v<version>`` (``recs-movielens-v3``) from the model package's
    container, a serverless endpoint config, then create or update the endpoint and wait until
    it is InService. Settings: ``RECS_ENDPOINT_NAME`` (default ``recs-movielens``),
    ``RECS_SAGEMAKER_ROLE_ARN`` (the model's execution role, required),
    ``RECS_SERVERLESS_MEMORY_MB`` (default 3072), ``RECS_SERVERLESS_MAX_CONCURRENCY``
    (default 5), ``RECS_INFERENCE_IMAGE_URI`` (used when the package names no image),
    ``RECS_DEFAULT_MODEL`` (TFS model served when a request names none, default ``tfrs``),
    ``RECS_DEPLOY_WAIT`` (``true``/``false``, default true), ``RECS_DEPLOY_WAIT_SECONDS``
    (default 840, under Lambda's 15-minute limit).

Only ``Approved`` events deploy; every other status is acknowledged and ignored.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

DETAIL_TYPE = "SageMaker Model Package State Change"
LOCAL_ENDPOINT_URL = "http://127.0.0.1:8080"


class DeployError(RuntimeError):
    """The deployment did not happen; the message says which step failed and why."""


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise DeployError(f"environment variable {name} is required for this backend")
    return value


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise DeployError(f"{name}={raw!r} is not an integer") from None


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


def _containers(detail: dict[str, Any]) -> list[dict[str, Any]]:
    spec = detail.get("InferenceSpecification") or {}
    containers = spec.get("Containers") or []
    return [c for c in containers if isinstance(c, dict)]


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


def deploy_local(detail: dict[str, Any]) -> dict[str, Any]:
    """Tell the local endpoint to load the approved version; it answers once it serves it."""
    base = os.environ.get("RECS_ENDPOINT_URL") or LOCAL_ENDPOINT_URL
    _require_loopback(base)
    containers = _containers(detail)
    if not containers or not containers[0].get("ModelDataUrl"):
        raise DeployError("event detail has no InferenceSpecification.Containers[0].ModelDataUrl")
    body = {
        "group": detail["ModelPackageGroupName"],
        "version": detail["ModelPackageVersion"],
        "model_data_url": containers[0]["ModelDataUrl"],
        "sha256": (detail.get("CustomerMetadataProperties") or {}).get("sha256"),
    }
    request = urllib.request.Request(
        base.rstrip("/") + "/admin/load",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    timeout = _env_int("RECS_DEPLOY_TIMEOUT", 120)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        message = exc.read().decode(errors="replace")
        try:
            message = json.loads(message).get("error", message)
        except (ValueError, AttributeError):
            pass
        raise DeployError(
            f"the local endpoint refused version {body['version']}: {message}"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        raise DeployError(
            f"the local endpoint at {base} is not reachable ({exc}); start it with `recs serve` "
            "(it loads the latest approved version when it starts)"
        ) from None
    return {"backend": "local", "endpoint": base, **answer}


# --------------------------------------------------------------------------------- SageMaker


def _client_error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _client_error_message(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Message", exc))


def _endpoint_exists(client: Any, name: str) -> bool:
    try:
        client.describe_endpoint(EndpointName=name)
    except Exception as exc:  # botocore ClientError; botocore is imported lazily by boto3
        if _client_error_code(exc) == "ValidationException":
            return False
        raise
    return True


def deploy_sagemaker(detail: dict[str, Any], client: Any) -> dict[str, Any]:
    """Model → serverless endpoint config → create or update the endpoint → wait."""
    group = detail["ModelPackageGroupName"]
    version = detail["ModelPackageVersion"]
    arn = detail.get("ModelPackageArn")
    containers = _containers(detail)
    if (not containers or not containers[0].get("Image")) and arn:
        package = client.describe_model_package(ModelPackageName=arn)
        containers = package.get("InferenceSpecification", {}).get("Containers", []) or containers
    if not containers or not containers[0].get("ModelDataUrl"):
        raise DeployError(f"model package {group}/{version} names no ModelDataUrl")
    container = containers[0]
    image = container.get("Image") or _env("RECS_INFERENCE_IMAGE_URI")
    model_name = model_name_for(group, version)
    config_name = f"{model_name}-serverless"
    endpoint_name = os.environ.get("RECS_ENDPOINT_NAME") or group
    environment = {"SAGEMAKER_TFS_DEFAULT_MODEL_NAME": os.environ.get("RECS_DEFAULT_MODEL", "tfrs")}

    try:
        client.create_model(
            ModelName=model_name,
            ExecutionRoleArn=_env("RECS_SAGEMAKER_ROLE_ARN"),
            PrimaryContainer={
                "Image": image,
                "ModelDataUrl": container["ModelDataUrl"],
                "Environment": environment,
            },
            Tags=[{"Key": "ModelPackageArn", "Value": arn or ""}],
        )
        logger.info("created model %s", model_name)
    except DeployError:
        raise
    except Exception as exc:
        # A retried event finds the model already there; anything else is a real failure.
        if "already exist" not in _client_error_message(exc):
            raise DeployError(f"create_model {model_name} failed: {exc}") from None

    try:
        client.create_endpoint_config(
            EndpointConfigName=config_name,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": model_name,
                    "ServerlessConfig": {
                        "MemorySizeInMB": _env_int("RECS_SERVERLESS_MEMORY_MB", 3072),
                        "MaxConcurrency": _env_int("RECS_SERVERLESS_MAX_CONCURRENCY", 5),
                    },
                }
            ],
        )
        logger.info("created endpoint config %s", config_name)
    except DeployError:
        raise
    except Exception as exc:
        if "already exist" not in _client_error_message(exc):
            raise DeployError(f"create_endpoint_config {config_name} failed: {exc}") from None

    if _endpoint_exists(client, endpoint_name):
        client.update_endpoint(EndpointName=endpoint_name, EndpointConfigName=config_name)
        action = "updated"
    else:
        client.create_endpoint(EndpointName=endpoint_name, EndpointConfigName=config_name)
        action = "created"
    logger.info("%s endpoint %s with %s", action, endpoint_name, config_name)

    status = "Updating" if action == "updated" else "Creating"
    if os.environ.get("RECS_DEPLOY_WAIT", "true").lower() not in ("0", "false", "no"):
        wait_seconds = _env_int("RECS_DEPLOY_WAIT_SECONDS", 840)
        try:
            client.get_waiter("endpoint_in_service").wait(
                EndpointName=endpoint_name,
                WaiterConfig={"Delay": 15, "MaxAttempts": max(1, wait_seconds // 15)},
            )
        except Exception as exc:
            raise DeployError(
                f"endpoint {endpoint_name} did not reach InService with {model_name}: {exc}"
            ) from None
        status = client.describe_endpoint(EndpointName=endpoint_name)["EndpointStatus"]
    return {
        "backend": "sagemaker",
        "action": action,
        "endpoint": endpoint_name,
        "endpoint_config": config_name,
        "model": model_name,
        "version": version,
        "status": status,
    }


def _sagemaker_client() -> Any:
    import boto3

    return boto3.client("sagemaker")


# --------------------------------------------------------------------------------- handler


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry point (and the local registry's event sink)."""
    detail = parse_event(event)
    status = detail["ModelApprovalStatus"]
    group, version = detail["ModelPackageGroupName"], detail["ModelPackageVersion"]
    if status != "Approved":
        logger.info("ignoring %s/%s: status %s", group, version, status)
        return {"action": "ignored", "status": status, "version": version}
    backend = os.environ.get("RECS_DEPLOY_BACKEND", "local")
    logger.info("deploying %s/%s with the %s backend", group, version, backend)
    if backend == "local":
        return deploy_local(detail)
    if backend == "sagemaker":
        return deploy_sagemaker(detail, _sagemaker_client())
    raise DeployError(f"RECS_DEPLOY_BACKEND={backend!r}; use 'local' or 'sagemaker'")
