"""Read-only views of the model registry: the local SQLite file or SageMaker's registry.

The local reader follows the schema of ``recs_ml.ops.registry`` (table ``model_packages``) without
importing it; it opens ``registry.db`` with ``mode=ro`` and never writes.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger(__name__)

# An evaluation report larger than this is not ours; its metrics are left out.
MAX_REPORT_BYTES = 1_000_000


class RegistryUnavailable(RuntimeError):
    """The registry exists but cannot be read."""


@dataclass(frozen=True)
class ModelVersion:
    version: int
    status: str
    metrics: dict[str, Any] = field(default_factory=dict)
    created_at: int = 0
    artifact_uri: str = ""
    # Why the last deployment of this version failed; None when it did not (or never ran).
    deploy_error: str | None = None
    # The split ``metrics`` were measured on: "test" (the evaluation step's report) or
    # "validation" (the training manifest's).
    metrics_split: str = "validation"


class Registry(Protocol):
    group: str

    def versions(self) -> list[ModelVersion]:
        """Every version of the group, oldest first."""


def _metrics(raw: str | bytes | None) -> dict[str, Any]:
    """``{model: {metric: number}}`` from JSON text; anything else (NaN included) is dropped,
    so every metric in a response is a finite number."""
    try:
        value = json.loads(raw) if raw else {}
    except (ValueError, RecursionError):
        return {}
    return _model_metrics(value)


def _report_metrics(raw: str | bytes | None) -> tuple[dict[str, Any], str] | None:
    """(metrics, split) of an evaluation step's report (``recs_ml.models.evaluation.write_report``:
    ``{"metrics": ..., "split": "test"}``); None when there is none or it holds no metrics."""
    try:
        report = json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        return None
    if not isinstance(report, dict):
        return None
    metrics = _model_metrics(report.get("metrics"))
    if not metrics:
        return None
    split = report.get("split")
    return metrics, split if split in ("test", "validation") else "test"


def finite_numbers(metrics: Any) -> dict[str, float]:
    """``{metric: number}`` keeping only finite numbers (not booleans)."""
    if not isinstance(metrics, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in metrics.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    }


def _model_metrics(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {}
    return {
        str(model): finite_numbers(figures)
        for model, figures in value.items()
        if isinstance(figures, dict)
    }


def _deploy_error(properties: dict[str, Any]) -> str | None:
    """The deployer writes ``deploy_status=Failed`` and ``deploy_error`` on the model package
    when a deployment of it fails, and removes both when one succeeds."""
    if properties.get("deploy_status") != "Failed":
        return None
    return str(properties.get("deploy_error") or "deployment failed")


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
                columns = {
                    row[1] for row in connection.execute("PRAGMA table_info(model_packages)")
                }
                # A registry file written before deployments were recorded has no such column.
                deploy_error = "deploy_error" if "deploy_error" in columns else "NULL"
                evaluation = "evaluation" if "evaluation" in columns else "NULL"
                rows = connection.execute(
                    "SELECT version, approval_status, metrics, created_at, artifact_uri, "
                    f"{deploy_error}, {evaluation} FROM model_packages WHERE group_name = ? "
                    "ORDER BY version",
                    (self.group,),
                ).fetchall()
            finally:
                connection.close()
        except sqlite3.Error as exc:
            raise RegistryUnavailable(f"registry {self.path}: {exc}") from None
        found = []
        for v, s, m, c, u, e, report in rows:
            tested = _report_metrics(report)
            metrics, split = tested if tested else (_metrics(m), "validation")
            found.append(
                ModelVersion(
                    int(v), str(s), metrics, int(c), str(u), str(e) if e else None, split
                )  # fmt: skip
            )
        return found


class SageMakerRegistry:
    """``list_model_packages`` + ``describe_model_package``. A version's metrics come from the
    ``metrics`` customer metadata property (a JSON object) when set, else from the evaluation
    report its ``ModelMetrics.ModelQuality.Statistics`` names in S3 (what the SageMaker
    pipeline's register step records): that ``evaluation.json``'s ``metrics``, read once per
    version with ``s3``. A report that cannot be read leaves that version's metrics empty."""

    def __init__(self, client: Any, group: str, s3: Any = None) -> None:
        self.client = client
        self.group = group
        self.s3 = s3
        self._reports: dict[str, dict[str, Any]] = {}  # package ARN -> metrics (immutable)
        self._splits: dict[str, str] = {}  # report URI -> the split it was measured on

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
        metrics, split = self._metrics_of(detail, properties)
        return ModelVersion(
            version=int(version),
            status=str(detail.get("ModelApprovalStatus") or summary.get("ModelApprovalStatus")),
            metrics=metrics,
            created_at=int(created.timestamp() * 1000) if created is not None else 0,
            artifact_uri=str(containers[0].get("ModelDataUrl", "")),
            deploy_error=_deploy_error(properties),
            metrics_split=split,
        )

    def _metrics_of(
        self, detail: dict[str, Any], properties: dict[str, Any]
    ) -> tuple[dict[str, Any], str]:
        """(metrics, split): the ``metrics`` property (the manifest's, validation, unless a
        ``metrics_split`` property says otherwise), else the evaluation report's."""
        if properties.get("metrics"):
            split = properties.get("metrics_split")
            return _metrics(properties["metrics"]), (
                split if split in ("test", "validation") else "validation"
            )
        quality = (detail.get("ModelMetrics") or {}).get("ModelQuality") or {}
        uri = str((quality.get("Statistics") or {}).get("S3Uri") or "")
        if not uri or self.s3 is None:
            return {}, "test"
        key = str(detail.get("ModelPackageArn") or uri)
        if key not in self._reports:
            metrics = self._read_report(uri)
            if metrics is None:
                return {}, "test"  # not cached: a passing S3 error is retried on the next call
            self._reports[key] = metrics
        return self._reports[key], self._splits.get(uri, "test")

    def _read_report(self, uri: str) -> dict[str, Any] | None:
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        if not uri.startswith("s3://") or not bucket or not key:
            logger.warning("model metrics %r: not an s3:// object URI", uri)
            return {}
        try:
            stream = self.s3.get_object(Bucket=bucket, Key=key)["Body"]
            try:
                body = stream.read(MAX_REPORT_BYTES + 1)
            finally:
                stream.close()
        except (BotoCoreError, ClientError) as exc:
            logger.warning("model metrics %s: %s", uri, exc)
            return None
        if len(body) > MAX_REPORT_BYTES:
            logger.warning("model metrics %s: larger than %d bytes", uri, MAX_REPORT_BYTES)
            return {}
        try:
            report = json.loads(body)
        except (ValueError, RecursionError):
            logger.warning("model metrics %s: not JSON", uri)
            return {}
        if not isinstance(report, dict):
            return {}
        split = report.get("split")
        self._splits[uri] = split if split in ("test", "validation") else "test"
        return _model_metrics(report.get("metrics"))
