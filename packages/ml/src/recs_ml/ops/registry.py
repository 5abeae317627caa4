"""The local model registry: SQLite at ``RECS_HOME/registry.db``.

Mirrors the SageMaker Model Registry: model package groups hold numbered versions whose
``ModelApprovalStatus`` is PendingManualApproval, Approved or Rejected. Registering verifies the
artifact against its manifest and copies it to ``RECS_HOME/models/<group>/<version>/``.
Every write runs in an ``IMMEDIATE`` transaction with a busy timeout, so concurrent ``recs``
processes serialise instead of failing or handing out the same version twice. The schema,
statuses and read queries are ``recs_contracts.registry``'s (whose ``RegistryView`` everyone
else reads the file with); this module is the only writer.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from recs_contracts import events
from recs_contracts.events import PackageStateChange, package_arn
from recs_contracts.registry import (
    APPROVED,
    PENDING,
    REJECTED,
    STATUSES,
    PackageRow,
    create_schema,
    next_version,
    read_groups,
    read_packages,
)
from recs_contracts.sqlite import immediate
from recs_ml.data.embedded import sha256_file
from recs_ml.serving.artifact import MANIFEST, ArtifactError, Manifest, pack, unpack, verify
from recs_ml.settings import get_settings

ARTIFACT = "model.tar.gz"
# SageMaker's customer metadata values are at most 256 characters; the local record matches.
MAX_DEPLOY_ERROR = 256


class RegistryError(ValueError):
    """A registry request that cannot be done; the message says what to change."""


@dataclass
class ModelPackage:
    group: str
    version: int
    status: str
    artifact_uri: str
    sha256: str
    metrics: dict[str, Any]
    data_checksum: str
    created_at: int
    updated_at: int
    evaluation: dict[str, Any] | None = None
    run_id: str | None = None
    description: str = ""
    deploy_error: str | None = None
    region: str = field(default="us-east-1", repr=False)

    @property
    def arn(self) -> str:
        return package_arn(self.group, self.version, self.region)

    @property
    def directory(self) -> Path:
        return Path(self.artifact_uri.removeprefix("file://")).parent

    @property
    def tarball(self) -> Path:
        return Path(self.artifact_uri.removeprefix("file://"))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("region")
        data["arn"] = self.arn
        return data


def _now_ms() -> int:
    return int(time.time() * 1000)


def state_change_event(package: ModelPackage) -> dict[str, Any]:
    """The EventBridge model package state change event for this version."""
    change = PackageStateChange(
        group=package.group,
        version=package.version,
        status=package.status,
        artifact_uri=package.artifact_uri,
        created_at=package.created_at,
        updated_at=package.updated_at,
        sha256=package.sha256,
        description=package.description,
    )
    return events.state_change_event(change, region=package.region)


class Registry:
    """Model package groups and versions in one SQLite file; artifacts under ``models_dir``."""

    def __init__(
        self,
        path: Path | None = None,
        models_dir: Path | None = None,
        region: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        settings = get_settings()
        self.path = Path(path) if path else settings.registry_path
        self.models_dir = Path(models_dir) if models_dir else self.path.parent / "models"
        self.region = region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.timeout = timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._transaction() as connection:
            create_schema(connection)

    # ----------------------------------------------------------------------------- plumbing

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        connection.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA foreign_keys = ON")
        return connection

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE takes the write lock up front, so read-then-write cannot race."""
        connection = self._connect()
        try:
            with immediate(connection):
                yield connection
        finally:
            connection.close()

    def _package(self, row: PackageRow) -> ModelPackage:
        return ModelPackage(
            group=row.group_name,
            version=row.version,
            status=row.approval_status,
            artifact_uri=row.artifact_uri,
            sha256=row.sha256,
            metrics=json.loads(row.metrics),
            evaluation=json.loads(row.evaluation) if row.evaluation else None,
            data_checksum=row.data_checksum,
            run_id=row.run_id,
            description=row.description,
            created_at=row.created_at,
            updated_at=row.updated_at,
            deploy_error=row.deploy_error,
            region=self.region,
        )

    # ----------------------------------------------------------------------------- reading

    def groups(self) -> list[str]:
        connection = self._connect()
        try:
            return read_groups(connection)
        finally:
            connection.close()

    def versions(self, group: str | None = None, status: str | None = None) -> list[ModelPackage]:
        group = group or get_settings().model_package_group
        if status is not None and status not in STATUSES:
            raise RegistryError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
        connection = self._connect()
        try:
            rows = read_packages(connection, group, status=status or None)
        finally:
            connection.close()
        return [self._package(row) for row in rows]

    def describe(self, version: int, group: str | None = None) -> ModelPackage:
        group = group or get_settings().model_package_group
        connection = self._connect()
        try:
            rows = read_packages(connection, group, version=version)
        finally:
            connection.close()
        if not rows:
            known = [p.version for p in self.versions(group)]
            raise RegistryError(
                f"model package {group}/{version} does not exist"
                + (f"; versions: {known}" if known else f"; group {group!r} has no versions")
            )
        return self._package(rows[0])

    def latest_approved(self, group: str | None = None) -> ModelPackage | None:
        approved = self.versions(group, status=APPROVED)
        return approved[-1] if approved else None

    # ----------------------------------------------------------------------------- writing

    def register(
        self,
        artifact: Path,
        group: str | None = None,
        *,
        evaluation: dict[str, Any] | None = None,
        run_id: str | None = None,
        description: str = "",
    ) -> ModelPackage:
        """Verify ``artifact`` (a directory or ``model.tar.gz``), copy it into the registry and
        record it as PendingManualApproval under the next version number."""
        group = group or get_settings().model_package_group
        artifact = Path(artifact)
        staging = Path(tempfile.mkdtemp(prefix=".register-", dir=self._staging_root(group)))
        try:
            manifest = self._stage(artifact, staging)
            digest = sha256_file(staging / ARTIFACT)
            now = _now_ms()
            with self._transaction() as connection:
                connection.execute(
                    "INSERT OR IGNORE INTO model_package_groups (name, created_at) VALUES (?, ?)",
                    (group, now),
                )
                version = next_version(connection, group)
                target = self.models_dir / group / str(version)
                if target.exists():
                    # Left behind by a crash between the copy and the commit; nothing refers to it.
                    shutil.rmtree(target)
                manifest.version = version
                (staging / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
                os.replace(staging, target)
                uri = f"file://{(target / ARTIFACT).resolve()}"
                connection.execute(
                    "INSERT INTO model_packages (group_name, version, approval_status, "
                    "artifact_uri, sha256, metrics, evaluation, data_checksum, run_id, "
                    "description, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        group,
                        version,
                        PENDING,
                        uri,
                        digest,
                        json.dumps(manifest.metrics, sort_keys=True),
                        json.dumps(evaluation, sort_keys=True) if evaluation else None,
                        manifest.data_checksum,
                        run_id,
                        description,
                        now,
                        now,
                    ),
                )
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return self.describe(version, group)

    def _staging_root(self, group: str) -> Path:
        root = self.models_dir / group
        root.mkdir(parents=True, exist_ok=True)
        return root

    @staticmethod
    def _stage(artifact: Path, staging: Path) -> Manifest:
        """Put a verified ``model.tar.gz`` (and its manifest beside it) into ``staging``."""
        if artifact.is_dir():
            manifest = verify(artifact)
            pack(artifact, staging / ARTIFACT)
        elif artifact.is_file():
            with tempfile.TemporaryDirectory(prefix="recs-verify-") as scratch:
                manifest = verify(unpack(artifact, Path(scratch)))
            shutil.copyfile(artifact, staging / ARTIFACT)
        else:
            raise ArtifactError(
                f"{artifact}: no such artifact (expected a directory or {ARTIFACT})"
            )
        return manifest

    def set_status(
        self, version: int, status: str, group: str | None = None, description: str = ""
    ) -> ModelPackage:
        """Change a version's approval status, as ``UpdateModelPackage`` does."""
        group = group or get_settings().model_package_group
        if status not in STATUSES or status == PENDING:
            raise RegistryError(f"status must be {APPROVED} or {REJECTED}, not {status!r}")
        with self._transaction() as connection:
            found = read_packages(connection, group, version=version)
            if not found:
                known = [package.version for package in read_packages(connection, group)]
                raise RegistryError(
                    f"model package {group}/{version} does not exist; versions: {known}"
                )
            if found[0].approval_status == status:
                raise RegistryError(f"model package {group}/{version} is already {status}")
            connection.execute(
                "UPDATE model_packages SET approval_status = ?, updated_at = ?, "
                "description = CASE WHEN ? = '' THEN description ELSE ? END "
                "WHERE group_name = ? AND version = ?",
                (status, _now_ms(), description, description, group, version),
            )
        return self.describe(version, group)

    def approve(
        self, version: int, group: str | None = None, description: str = ""
    ) -> ModelPackage:
        return self.set_status(version, APPROVED, group, description)

    def reject(self, version: int, group: str | None = None, description: str = "") -> ModelPackage:
        return self.set_status(version, REJECTED, group, description)

    def record_deployment(
        self, version: int, group: str | None = None, *, error: str | None = None
    ) -> ModelPackage:
        """Note that deploying ``version`` failed with ``error``, or (``None``) succeeded,
        clearing an earlier failure; ``recs models list`` and ``GET /models`` show it."""
        group = group or get_settings().model_package_group
        if error is not None:
            error = (error.strip() or "deployment failed")[:MAX_DEPLOY_ERROR]
        with self._transaction() as connection:
            changed = connection.execute(
                "UPDATE model_packages SET deploy_error = ? WHERE group_name = ? AND version = ?",
                (error, group, version),
            ).rowcount
        if not changed:
            raise RegistryError(f"model package {group}/{version} does not exist")
        return self.describe(version, group)
