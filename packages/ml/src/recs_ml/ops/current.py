"""Is the approved model current? The question ``recs models current`` answers for
scripts/demo.sh and the tests: the newest approved version, whether it was trained on this
data with this code, a newer version awaiting approval that was, and what the endpoint serves.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from recs_ml.data.embedded import EMBEDDED_NAME
from recs_ml.settings import get_settings

if TYPE_CHECKING:
    from recs_ml.ops.registry import ModelPackage


class NoRegistry(FileNotFoundError):
    """RECS_HOME has no model registry yet."""


def _judge(package: ModelPackage, data_checksum: str | None, code: str) -> tuple[bool, str]:
    """Whether ``package`` counts as current, and why: trained by a pipeline run on this data
    with this code, or registered by hand from an artifact (the person chose it)."""
    from recs_ml.pipeline.runs import read_run

    name = f"version {package.version}"
    if package.run_id is None:
        return True, f"{name} was registered by hand from an artifact"
    try:
        run = read_run(package.run_id)
    except (FileNotFoundError, json.JSONDecodeError):
        return False, f"{name}: its pipeline run {package.run_id} is gone"
    inputs = ((run.get("steps") or {}).get("process") or {}).get("inputs") or {}
    if run.get("code_version") != code:
        return False, f"{name} was trained with other code"
    if data_checksum is None or inputs.get("data") != data_checksum:
        return False, f"{name} was trained on other data"
    return True, f"{name} was trained on this data with this code"


def current_model(group: str | None = None, data: str = EMBEDDED_NAME) -> dict[str, Any]:
    """The answer of ``recs models current --json``. Raises :class:`NoRegistry`."""
    from recs_ml.ops.model_source import endpoint_url, served_package
    from recs_ml.ops.registry import PENDING, Registry
    from recs_ml.pipeline.cache import code_version
    from recs_ml.pipeline.runner import PipelineFailed, resolve_data

    settings = get_settings()
    group = group or settings.model_package_group
    if not settings.registry_path.is_file():
        raise NoRegistry(
            f"no model registry at {settings.registry_path}; run `scripts/demo.sh` "
            "(or `recs pipeline run`) first"
        )
    try:
        data_checksum: str | None = resolve_data(data)[1]
    except PipelineFailed:
        data_checksum = None  # not fetched: nothing can have been trained on it
    code = code_version()
    registry = Registry()
    approved = registry.latest_approved(group)
    current, reason = (
        _judge(approved, data_checksum, code)
        if approved
        else (False, f"no version of {group} is approved")
    )
    candidates = [
        package.version
        for package in registry.versions(group, status=PENDING)
        if (approved is None or package.version > approved.version)
        and package.run_id is not None
        and _judge(package, data_checksum, code)[0]
    ]
    served = served_package(registry, group)
    return {
        "group": group,
        "registry": str(registry.path),
        "data": data,
        "data_checksum": data_checksum,
        "code_version": code,
        "approved_version": approved.version if approved else None,
        "approved_run_id": approved.run_id if approved else None,
        "current": current,
        "reason": reason,
        "candidate_version": max(candidates, default=None),
        "endpoint": {
            "url": endpoint_url(),
            "serving_version": served.version if served else None,
            "serves_approved": served is not None
            and approved is not None
            and served.version == approved.version,
        },
    }
