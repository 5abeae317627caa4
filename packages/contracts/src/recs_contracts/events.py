"""The approval event: EventBridge's "SageMaker Model Package State Change".

The local registry emits exactly what AWS sends when a model package's approval status
changes; the deployer consumes it; the infrastructure's rule matches it. The shape is in
docs/contracts.md ("Registry and events").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SOURCE = "aws.sagemaker"
DETAIL_TYPE = "SageMaker Model Package State Change"
LOCAL_ACCOUNT = "000000000000"
# The detail fields every consumer relies on.
REQUIRED_DETAIL = ("ModelPackageGroupName", "ModelPackageVersion", "ModelApprovalStatus")


class EventError(ValueError):
    """Not a model package state change event the deployer can act on."""


def package_arn(
    group: str, version: int, region: str = "us-east-1", account: str = LOCAL_ACCOUNT
) -> str:
    return f"arn:aws:sagemaker:{region}:{account}:model-package/{group}/{version}"


@dataclass(frozen=True)
class PackageStateChange:
    """What the event says about one model package version."""

    group: str
    version: int
    status: str
    artifact_uri: str
    created_at: int = 0  # milliseconds
    updated_at: int | None = None
    sha256: str | None = None
    description: str | None = None
    image: str | None = None  # the container image, when the package names one

    def detail(self, arn: str) -> dict[str, Any]:
        container: dict[str, Any] = {"ModelDataUrl": self.artifact_uri}
        if self.image:
            container["Image"] = self.image
        detail: dict[str, Any] = {
            "ModelPackageGroupName": self.group,
            "ModelPackageVersion": self.version,
            "ModelPackageArn": arn,
            "ModelApprovalStatus": self.status,
            "ModelPackageStatus": "Completed",
            "InferenceSpecification": {"Containers": [container]},
            "CreationTime": self.created_at,
        }
        if self.description is not None:
            detail["ModelPackageDescription"] = self.description
        if self.sha256 is not None:
            detail["CustomerMetadataProperties"] = {"sha256": self.sha256}
        if self.updated_at is not None:
            detail["LastModifiedTime"] = self.updated_at
        return detail


def state_change_event(
    change: PackageStateChange,
    *,
    region: str = "us-east-1",
    account: str = LOCAL_ACCOUNT,
    event_id: str | None = None,
    time: datetime | None = None,
) -> dict[str, Any]:
    """The whole EventBridge event for ``change``, as AWS delivers it."""
    arn = package_arn(change.group, change.version, region, account)
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": SOURCE,
        "account": account,
        "time": (time or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [arn],
        "detail": change.detail(arn),
    }


def parse_event(event: Any) -> dict[str, Any]:
    """The event's ``detail`` with an integer ``ModelPackageVersion``; EventError when the
    event is of another type or its detail lacks a field consumers rely on."""
    if not isinstance(event, dict) or event.get("detail-type") != DETAIL_TYPE:
        got = event.get("detail-type") if isinstance(event, dict) else type(event).__name__
        raise EventError(f"expected a '{DETAIL_TYPE}' event, got detail-type {got!r}")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise EventError("event has no 'detail' object")
    missing = [key for key in REQUIRED_DETAIL if key not in detail]
    if missing:
        raise EventError(f"event detail lacks {', '.join(missing)}")
    version = detail["ModelPackageVersion"]
    try:
        if isinstance(version, bool) or int(version) != float(version):
            raise ValueError
        detail = {**detail, "ModelPackageVersion": int(version)}
    except (TypeError, ValueError):
        raise EventError(f"ModelPackageVersion {version!r} is not an integer") from None
    return detail


def approval_pattern(group: str, status: str = "Approved") -> dict[str, Any]:
    """The EventBridge pattern matching ``group``'s packages reaching ``status``."""
    return {
        "source": [SOURCE],
        "detail-type": [DETAIL_TYPE],
        "detail": {"ModelPackageGroupName": [group], "ModelApprovalStatus": [status]},
    }
