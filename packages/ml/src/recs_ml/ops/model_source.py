"""Which model ``recs recommend`` and ``recs evaluate`` answer from, and the data it was trained on.

By default that is the approved version the local endpoint serves (asked at ``/ping`` and
checked against the registry's sha256), or, when no endpoint answers, the newest approved
version — the one the endpoint loads when it starts. Its processed data is the process step
output of the pipeline run that registered it. ``--version N`` picks any registered version,
``--trained`` the output of ``recs train``; ``--model-dir``/``--data-dir`` override the paths.
"""

from __future__ import annotations

import json
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recs_ml.settings import get_settings

if TYPE_CHECKING:
    from recs_ml.ops.registry import ModelPackage, Registry


class ModelNotFound(ValueError):
    """No model (or no data for it) where the command looked; the message names the fix."""


NO_VERSION_HINT = (
    "run `scripts/demo.sh` (or `recs pipeline run` then `recs models approve N`), "
    "or train one with `recs train` and pass --trained"
)


@dataclass
class ModelSource:
    """A model artifact and the processed data it was trained on."""

    label: str
    artifact: Path  # an artifact directory, a model.tar.gz or a directory holding one
    data_dir: Path
    evaluation_dir: Path  # where `recs evaluate` writes its report by default
    group: str | None = None
    version: int | None = None
    status: str | None = None
    sha256: str | None = None
    served: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "group": self.group,
            "version": self.version,
            "status": self.status,
            "served": self.served,
            "artifact": str(self.artifact),
            "data_dir": str(self.data_dir),
        }


def trained_dir() -> Path:
    """Where ``recs train`` writes: ``RECS_HOME/trained/{data,model,evaluation}``."""
    return get_settings().home / "trained"


def endpoint_url() -> str:
    settings = get_settings()
    url = settings.endpoint_url or f"http://{settings.endpoint_host}:{settings.endpoint_port}"
    return url.rstrip("/")


def served_by_endpoint(url: str | None = None, timeout: float = 1.0) -> dict[str, Any] | None:
    """The endpoint's ``/ping`` answer (group, version, sha256, ...) or None when no model
    is loaded or nothing answers."""
    try:
        with urllib.request.urlopen(f"{url or endpoint_url()}/ping", timeout=timeout) as answer:
            body = json.loads(answer.read().decode("utf-8"))
    except (urllib.error.URLError, OSError, ValueError):
        return None
    return body if isinstance(body, dict) and "version" in body else None


def served_package(registry: Registry, group: str) -> ModelPackage | None:
    """The registered version the local endpoint serves, if it serves one of this registry's.

    A process on the endpoint port that serves another RECS_HOME's model does not count: the
    sha256 it reports must be the one this registry recorded for that version.
    """
    from recs_ml.ops.registry import RegistryError

    ping = served_by_endpoint()
    if not ping or ping.get("group") != group or not isinstance(ping.get("version"), int):
        return None
    try:
        package = registry.describe(ping["version"], group)
    except RegistryError:
        return None
    return package if package.sha256 == ping.get("sha256") else None


def _run_data_dir(package: ModelPackage) -> Path:
    """The process step output of the pipeline run that registered ``package``."""
    from recs_ml.pipeline.runner import read_run

    name = f"{package.group}/{package.version}"
    if not package.run_id:
        raise ModelNotFound(
            f"model version {name} was registered from an artifact, not by `recs pipeline run`, "
            "so the data it was trained on is unknown; pass --data-dir (a process step or "
            "`recs train` output)"
        )
    try:
        record = read_run(package.run_id)
    except (FileNotFoundError, json.JSONDecodeError):
        record = {}
    output = ((record.get("steps") or {}).get("process") or {}).get("outputs", {}).get("output")
    data_dir = Path(output) if output else get_settings().runs_dir / package.run_id / "process"
    if not (data_dir / "meta").is_dir():
        raise ModelNotFound(
            f"the processed data of model version {name} (pipeline run {package.run_id}) is "
            f"gone from {data_dir}; pass --data-dir, or run `recs pipeline run` and approve "
            "the new version"
        )
    return data_dir


def _from_package(
    package: ModelPackage, served: bool, note: str, data_dir: Path | None
) -> ModelSource:
    home = get_settings().home
    return ModelSource(
        label=f"{package.group}/{package.version} ({package.status}{note})",
        artifact=package.tarball,
        data_dir=data_dir or _run_data_dir(package),
        evaluation_dir=home / "evaluations" / package.group / str(package.version),
        group=package.group,
        version=package.version,
        status=package.status,
        sha256=package.sha256,
        served=served,
    )


def _trained_source(model_dir: Path | None, data_dir: Path | None) -> ModelSource:
    """What ``recs train`` wrote (or the given directories)."""
    base = trained_dir()
    source = ModelSource(
        label="trained by `recs train`" if model_dir is None else str(model_dir),
        artifact=Path(model_dir) if model_dir else base / "model",
        data_dir=Path(data_dir) if data_dir else base / "data",
        evaluation_dir=base / "evaluation",
    )
    if model_dir is None and not (source.artifact / "manifest.json").is_file():
        raise ModelNotFound(
            f"no model trained by `recs train` in {source.artifact}; run `recs train` first"
        )
    if data_dir is None and not (source.data_dir / "meta").is_dir():
        raise ModelNotFound(
            f"no processed data from `recs train` in {source.data_dir}; run `recs train` first"
        )
    return source


def _registered_source(
    registry: Registry, group: str, version: int | None, data_dir: Path | None
) -> ModelSource:
    """Version ``version`` of ``group``; without one, the served or the newest approved."""
    from recs_ml.ops.registry import APPROVED, PENDING, RegistryError

    if version is not None:
        try:
            package = registry.describe(version, group)
        except RegistryError as exc:
            raise ModelNotFound(f"{exc}; `recs models list` shows the registered ones") from None
        serving = served_package(registry, group)
        served = serving is not None and serving.version == package.version
        return _from_package(package, served, ", served" if served else "", data_dir)
    serving = served_package(registry, group)
    if serving is not None:
        return _from_package(serving, True, f", served at {endpoint_url()}", data_dir)
    latest = registry.latest_approved(group)
    if latest is None:
        pending = [p.version for p in registry.versions(group, status=PENDING)]
        if pending:
            raise ModelNotFound(
                f"no approved version of {group} yet; approve one with "
                f"`recs models approve {pending[-1]}` (pending: {pending})"
            )
        raise ModelNotFound(f"no model version of {group} is registered yet; {NO_VERSION_HINT}")
    assert latest.status == APPROVED
    return _from_package(latest, False, ", newest approved", data_dir)


def resolve_source(
    *,
    version: int | None = None,
    trained: bool = False,
    model_dir: Path | None = None,
    data_dir: Path | None = None,
    group: str | None = None,
) -> ModelSource:
    """The model a command answers from (see the module docstring); raises ModelNotFound."""
    from recs_ml.ops.registry import Registry

    if trained and version is not None:
        raise ModelNotFound("give --trained or --version, not both")
    if trained or (model_dir is not None and data_dir is not None and version is None):
        return _trained_source(model_dir, data_dir)
    group = group or get_settings().model_package_group
    source = _registered_source(Registry(), group, version, data_dir)
    if model_dir is not None:
        source.artifact = Path(model_dir)
        source.label = str(model_dir)
    return source


def check_data_matches(manifest_checksum: str, data_checksum: str, source: ModelSource) -> None:
    """A model must be evaluated and explained with the data it was trained on."""
    if manifest_checksum and data_checksum and manifest_checksum != data_checksum:
        raise ModelNotFound(
            f"model {source.label} was trained on data {manifest_checksum[:12]}…, but "
            f"{source.data_dir} holds data {data_checksum[:12]}…; pass the --data-dir it was "
            "trained on"
        )


@contextmanager
def opened_artifact(source: ModelSource) -> Iterator[tuple[Path, Any]]:
    """The verified artifact directory and its manifest, unpacked for this command only; a
    registered artifact must still have the sha256 the registry recorded."""
    from recs_ml.data.embedded import sha256_file
    from recs_ml.serving.artifact import MANIFEST, ArtifactError, read_manifest, unpack, verify

    path = Path(source.artifact)
    if path.is_dir() and not (path / MANIFEST).is_file() and (path / "model.tar.gz").is_file():
        path = path / "model.tar.gz"
    if not path.exists():
        raise ModelNotFound(f"{path}: no such model directory or model.tar.gz")
    if path.is_dir():
        verify(path)
        yield path, read_manifest(path)
        return
    if source.sha256 and sha256_file(path) != source.sha256:
        raise ArtifactError(
            f"{path}: sha256 differs from the registry's record of {source.label}; "
            "the artifact was altered after registration"
        )
    with tempfile.TemporaryDirectory(prefix="recs-model-") as scratch:
        directory = unpack(path, Path(scratch))
        yield directory, read_manifest(directory)
