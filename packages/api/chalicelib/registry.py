"""Read-only views of the model registry: the local SQLite file or SageMaker's registry.

The local reader follows the schema of ``recs_ml.registry`` (table ``model_packages``) without
importing it; it opens ``registry.db`` with ``mode=ro`` and never writes.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError


class RegistryUnavailable(RuntimeError):
    """The registry exists but cannot be read."""


@dataclass(frozen=True)
class ModelVersion:
    version: int
    status: str
    metrics: dict[str, Any] = field(default_factory=dict)
    created_at: int = 0
    artifact_uri: str = ""


class Registry(Protocol):
    group: str

    def versions(self) -> list[ModelVersion]:
        """Every version of the group, oldest first."""


def _metrics(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class LocalRegistry:
    def __init__(self, path: Path, group: str) -> None:
        self.path = Path(path)
        self.group = group

    def versions(self) -> list[ModelVersion]:
        if not self.path.is_file():
            return []  # nothing registered yet
        try:
            connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
            try:
                connection.execute("PRAGMA busy_timeout = 5000")
                rows = connection.execute(
                    "SELECT version, approval_status, metrics, created_at, artifact_uri "
                    "FROM model_packages WHERE group_name = ? ORDER BY version",
                    (self.group,),
                ).fetchall()
            finally:
                connection.close()
        except sqlite3.Error as exc:
            raise RegistryUnavailable(f"registry {self.path}: {exc}") from None
        return [ModelVersion(int(v), str(s), _metrics(m), int(c), str(u)) for v, s, m, c, u in rows]


class SageMakerRegistry:
    """``list_model_packages`` + ``describe_model_package``; metrics are read from the
    ``metrics`` customer metadata property (a JSON object) when the pipeline set it."""

    def __init__(self, client: Any, group: str) -> None:
        self.client = client
        self.group = group

    def versions(self) -> list[ModelVersion]:
        found: list[ModelVersion] = []
        try:
            kwargs: dict[str, Any] = {"ModelPackageGroupName": self.group, "MaxResults": 100}
            while True:
                page = self.client.list_model_packages(**kwargs)
                for summary in page.get("ModelPackageSummaryList", []):
                    found.append(self._describe(summary))
                token = page.get("NextToken")
                if not token:
                    break
                kwargs["NextToken"] = token
        except (BotoCoreError, ClientError) as exc:
            raise RegistryUnavailable(f"model package group {self.group}: {exc}") from None
        found.sort(key=lambda v: v.version)
        return found

    def _describe(self, summary: dict[str, Any]) -> ModelVersion:
        detail = self.client.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
        properties = detail.get("CustomerMetadataProperties") or {}
        containers = (detail.get("InferenceSpecification") or {}).get("Containers") or [{}]
        created = detail.get("CreationTime") or summary.get("CreationTime")
        version = detail.get("ModelPackageVersion") or summary.get("ModelPackageVersion") or 0
        return ModelVersion(
            version=int(version),
            status=str(detail.get("ModelApprovalStatus") or summary.get("ModelApprovalStatus")),
            metrics=_metrics(properties.get("metrics")),
            created_at=int(created.timestamp() * 1000) if created is not None else 0,
            artifact_uri=str(containers[0].get("ModelDataUrl", "")),
        )
