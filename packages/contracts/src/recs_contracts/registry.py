"""The local model registry (``RECS_HOME/registry.db``, SQLite): its schema and read view.

``recs_ml``'s registry writes the file (register, approve, record a deployment) with this
schema; everyone else reads it through :class:`RegistryView`, which opens it read-only. The
statuses are SageMaker's ``ModelApprovalStatus`` values.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# The model package group (setting ``RECS_MODEL_PACKAGE_GROUP``).
DEFAULT_GROUP = "recs-movielens"
PENDING = "PendingManualApproval"
APPROVED = "Approved"
REJECTED = "Rejected"
STATUSES = (PENDING, APPROVED, REJECTED)

SCHEMA = """
CREATE TABLE IF NOT EXISTS model_package_groups (
    name        TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS model_packages (
    group_name      TEXT NOT NULL REFERENCES model_package_groups(name),
    version         INTEGER NOT NULL,
    approval_status TEXT NOT NULL CHECK (approval_status IN
                        ('PendingManualApproval', 'Approved', 'Rejected')),
    artifact_uri    TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    metrics         TEXT NOT NULL,       -- JSON: the manifest's metrics
    evaluation      TEXT,                -- JSON: the evaluation step's report
    data_checksum   TEXT NOT NULL,
    run_id          TEXT,
    description     TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,    -- milliseconds, like SageMaker's CreationTime
    updated_at      INTEGER NOT NULL,
    deploy_error    TEXT,                -- why the last deployment of this version failed
    PRIMARY KEY (group_name, version)
);
"""
# Columns added after the first schema: (name, declaration), added to older registry files.
ADDED_COLUMNS = (("deploy_error", "TEXT"),)
# Columns a file written by an older registry may lack; a view reads them as NULL.
_OPTIONAL = ("evaluation", "deploy_error")
_COLUMNS = (
    "group_name", "version", "approval_status", "artifact_uri", "sha256", "metrics",
    "evaluation", "data_checksum", "run_id", "description", "created_at", "updated_at",
    "deploy_error",
)  # fmt: skip


def group_name(environ: Mapping[str, str] = os.environ) -> str:
    """The model package group the environment names, else :data:`DEFAULT_GROUP`."""
    return environ.get("RECS_MODEL_PACKAGE_GROUP") or DEFAULT_GROUP


class RegistryUnavailable(RuntimeError):
    """The registry file exists but cannot be read."""


@dataclass(frozen=True)
class PackageRow:
    """One ``model_packages`` row as stored (``metrics`` and ``evaluation`` are JSON text)."""

    group_name: str
    version: int
    approval_status: str
    artifact_uri: str
    sha256: str
    metrics: str
    evaluation: str | None
    data_checksum: str
    run_id: str | None
    description: str
    created_at: int
    updated_at: int
    deploy_error: str | None


def create_schema(connection: sqlite3.Connection) -> None:
    """Create the tables and add the later columns, inside the caller's transaction
    (``executescript`` would commit on its own)."""
    for statement in SCHEMA.split(";"):
        if statement.strip():
            connection.execute(statement)
    present = {row[1] for row in connection.execute("PRAGMA table_info(model_packages)")}
    for name, declaration in ADDED_COLUMNS:
        if name not in present:
            connection.execute(f"ALTER TABLE model_packages ADD COLUMN {name} {declaration}")


def _select(columns: set[str]) -> str:
    chosen = [c if c in columns or c not in _OPTIONAL else f"NULL AS {c}" for c in _COLUMNS]
    return f"SELECT {', '.join(chosen)} FROM model_packages"


def _row(raw: tuple) -> PackageRow:
    return PackageRow(*raw)


def next_version(connection: sqlite3.Connection, group: str) -> int:
    """The version number a new package of ``group`` gets (inside a write transaction)."""
    return int(
        connection.execute(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM model_packages WHERE group_name = ?",
            (group,),
        ).fetchone()[0]
    )


def read_packages(
    connection: sqlite3.Connection,
    group: str,
    *,
    version: int | None = None,
    status: str | None = None,
) -> list[PackageRow]:
    """The packages of ``group`` (one ``version``, of one ``status`` when given), by version."""
    columns = {row[1] for row in connection.execute("PRAGMA table_info(model_packages)")}
    if not columns:
        return []  # no table yet: nothing registered
    query = _select(columns) + " WHERE group_name = ?"
    params: list[str | int] = [group]
    if version is not None:
        query += " AND version = ?"
        params.append(version)
    if status is not None:
        query += " AND approval_status = ?"
        params.append(status)
    return [_row(raw) for raw in connection.execute(query + " ORDER BY version", params)]


def read_groups(connection: sqlite3.Connection) -> list[str]:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    if "model_package_groups" not in tables:
        return []
    rows = connection.execute("SELECT name FROM model_package_groups ORDER BY name")
    return [str(row[0]) for row in rows]


class RegistryView:
    """Read-only access to ``registry.db``; a missing file is an empty registry."""

    def __init__(self, path: Path | str, timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.timeout = timeout

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=self.timeout)
        connection.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        return connection

    def packages(
        self, group: str, *, version: int | None = None, status: str | None = None
    ) -> list[PackageRow]:
        """Versions of ``group``, oldest first; see :func:`read_packages`."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
        if not self.path.is_file():
            return []
        try:
            connection = self._open()
            try:
                return read_packages(connection, group, version=version, status=status)
            finally:
                connection.close()
        except sqlite3.Error as exc:
            raise RegistryUnavailable(f"registry {self.path}: {exc}") from None

    def package(self, group: str, version: int) -> PackageRow | None:
        found = self.packages(group, version=version)
        return found[0] if found else None

    def latest(self, group: str, status: str | None = None) -> PackageRow | None:
        """The newest version of ``group`` (of ``status`` when given), or None."""
        found = self.packages(group, status=status)
        return found[-1] if found else None

    def groups(self) -> list[str]:
        if not self.path.is_file():
            return []
        try:
            connection = self._open()
            try:
                return read_groups(connection)
            finally:
                connection.close()
        except sqlite3.Error as exc:
            raise RegistryUnavailable(f"registry {self.path}: {exc}") from None
