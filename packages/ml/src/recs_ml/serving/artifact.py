"""The model artifact: a directory (or ``model.tar.gz``) in the SageMaker TensorFlow Serving
multi-model layout plus ``manifest.json`` listing the sha256 of every file.

A manifest that does not match its files is rejected, at registration and at load.
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
import zlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recs_ml.data.embedded import sha256_file

MANIFEST = "manifest.json"


class ArtifactError(ValueError):
    """An artifact that must not be served: missing, extra or altered files, or a bad manifest."""


@dataclass
class Manifest:
    model_name: str
    default_model: str
    models: list[str]
    data_checksum: str
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    # How each model finds its top-k: {"kind": "exact"} or the IVF index parameters.
    indexes: dict[str, dict[str, Any]] = field(default_factory=dict)
    version: int | None = None
    created_at: str = field(
        default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Manifest:
        try:
            return cls(**{key: raw[key] for key in raw if key in cls.__dataclass_fields__})
        except TypeError as exc:
            raise ArtifactError(f"{MANIFEST} is missing fields: {exc}") from None


def _files(directory: Path) -> dict[str, str]:
    found = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            found[path.relative_to(directory).as_posix()] = sha256_file(path)
    return found


def write_manifest(directory: Path, manifest: Manifest) -> Manifest:
    """Fill ``manifest.files`` from ``directory`` and write ``directory/manifest.json``."""
    directory = Path(directory)
    missing = [name for name in manifest.models if not (directory / name).is_dir()]
    if missing or manifest.default_model not in manifest.models:
        raise ArtifactError(
            f"{directory}: models {missing} missing or default {manifest.default_model!r} unknown"
        )
    manifest.files = _files(directory)
    target = directory / MANIFEST
    partial = target.with_suffix(".part")
    partial.write_text(manifest.to_json(), encoding="utf-8")
    os.replace(partial, target)
    return manifest


def read_manifest(directory: Path) -> Manifest:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise ArtifactError(f"{directory}: no {MANIFEST}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise ArtifactError(f"{path}: expected a JSON object")
    return Manifest.from_dict(raw)


def verify(directory: Path) -> Manifest:
    """Check every file against the manifest; raise :class:`ArtifactError` on any difference."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    actual = _files(directory)
    missing = sorted(set(manifest.files) - set(actual))
    extra = sorted(set(actual) - set(manifest.files))
    changed = sorted(
        name for name in set(actual) & set(manifest.files) if actual[name] != manifest.files[name]
    )
    if missing or extra or changed:
        problems = []
        if missing:
            problems.append(f"missing {missing[:3]}")
        if extra:
            problems.append(f"unexpected {extra[:3]}")
        if changed:
            problems.append(f"checksum mismatch in {changed[:3]}")
        raise ArtifactError(
            f"{directory}: artifact does not match its manifest: " + "; ".join(problems)
        )
    return manifest


def pack(directory: Path, tarball: Path) -> Path:
    """Write ``model.tar.gz`` with the directory's contents at the archive root."""
    tarball = Path(tarball)
    tarball.parent.mkdir(parents=True, exist_ok=True)
    partial = tarball.with_name(tarball.name + ".part")
    with tarfile.open(partial, "w:gz") as archive:
        for path in sorted(Path(directory).rglob("*")):
            archive.add(path, arcname=path.relative_to(directory).as_posix(), recursive=False)
    os.replace(partial, tarball)
    return tarball


def unpack(tarball: Path, directory: Path | None = None) -> Path:
    """Extract ``model.tar.gz`` safely (no paths outside the target) and verify it."""
    tarball = Path(tarball)
    if not tarball.is_file():
        raise ArtifactError(f"{tarball}: no such artifact")
    target = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="recs-model-"))
    target.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            archive.extractall(target, filter="data")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        # zlib.error: a corrupted deflate stream (gzip raises it, not an OSError).
        raise ArtifactError(f"{tarball}: not a readable model.tar.gz ({exc})") from None
    verify(target)
    return target
