"""One loaded artifact version: its SavedModels, ready to answer TF-Serving JSON requests."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from recs_ml.data.embedded import sha256_file
from recs_ml.serving.artifact import ArtifactError, Manifest, read_manifest, unpack

MAX_K = 100
INPUTS = ("user_id", "history", "exclude", "k")


class RequestError(ValueError):
    """A request the client must fix (HTTP 400)."""


@dataclass
class Batch:
    user_id: np.ndarray  # int64 [B]
    history: np.ndarray  # int64 [B, H]
    exclude: np.ndarray  # int64 [B, E]
    k: np.ndarray  # int32 [B]
    columnar: bool


def _ints(value: Any, what: str) -> list[int]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise RequestError(f"{what} must be a list of integers")
    return value


def _int(value: Any, what: str) -> int:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, int) or isinstance(value, bool):
        raise RequestError(f"{what} must be an integer")
    return value


def _matrix(rows: list[list[int]], name: str) -> np.ndarray:
    lengths = {len(row) for row in rows}
    if len(lengths) > 1:
        raise RequestError(
            f"'{name}' rows have different lengths {sorted(lengths)}; pad them with 0 to a "
            "common length (TensorFlow Serving requires rectangular inputs)"
        )
    width = lengths.pop() if lengths else 0
    return np.asarray(rows, dtype=np.int64).reshape(len(rows), width)


def parse_request(body: Any) -> Batch:
    """TF-Serving REST JSON, row (``instances``) or columnar (``inputs``) form."""
    if not isinstance(body, dict) or ("instances" in body) == ("inputs" in body):
        raise RequestError('expected a JSON object with exactly one of "instances" or "inputs"')
    if "instances" in body:
        instances = body["instances"]
        if not isinstance(instances, list) or not instances:
            raise RequestError('"instances" must be a non-empty list of objects')
        user_ids, histories, excludes, ks = [], [], [], []
        for index, row in enumerate(instances):
            if not isinstance(row, dict):
                raise RequestError(f"instances[{index}] must be an object")
            missing = [name for name in INPUTS if name not in row]
            if missing:
                raise RequestError(f"instances[{index}] lacks {', '.join(missing)}")
            user_ids.append(_int(row["user_id"], f"instances[{index}].user_id"))
            histories.append(_ints(row["history"], f"instances[{index}].history"))
            excludes.append(_ints(row["exclude"], f"instances[{index}].exclude"))
            ks.append(_int(row["k"], f"instances[{index}].k"))
        columnar = False
    else:
        inputs = body["inputs"]
        if not isinstance(inputs, dict):
            raise RequestError('"inputs" must be an object of named columns')
        missing = [name for name in INPUTS if name not in inputs]
        if missing:
            raise RequestError(f'"inputs" lacks {", ".join(missing)}')
        user_ids = _ints(inputs["user_id"], "inputs.user_id")
        ks = _ints(inputs["k"], "inputs.k")
        if not isinstance(inputs["history"], list) or not isinstance(inputs["exclude"], list):
            raise RequestError('"inputs.history" and "inputs.exclude" must be lists of lists')
        histories = [_ints(r, f"inputs.history[{i}]") for i, r in enumerate(inputs["history"])]
        excludes = [_ints(r, f"inputs.exclude[{i}]") for i, r in enumerate(inputs["exclude"])]
        sizes = {len(user_ids), len(ks), len(histories), len(excludes)}
        if len(sizes) != 1 or not user_ids:
            raise RequestError('"inputs" columns must be non-empty and have the same batch size')
        columnar = True
    bad_k = [k for k in ks if not 1 <= k <= MAX_K]
    if bad_k:
        raise RequestError(f"k must be between 1 and {MAX_K}; got {bad_k[0]}")
    if any(u < 0 for u in user_ids):
        raise RequestError("user_id must be 0 (unknown user) or a positive id")
    return Batch(
        user_id=np.asarray(user_ids, dtype=np.int64),
        history=_matrix(histories, "history"),
        exclude=_matrix(excludes, "exclude"),
        k=np.asarray(ks, dtype=np.int32),
        columnar=columnar,
    )


def format_response(batch: Batch, outputs: dict[str, np.ndarray]) -> dict[str, Any]:
    """Rows → ``predictions`` (one object per instance); columns → ``outputs``, as TFS does."""
    item_ids = outputs["item_ids"].tolist()
    scores = outputs["scores"].tolist()
    if batch.columnar:
        return {"outputs": {"item_ids": item_ids, "scores": scores}}
    return {
        "predictions": [
            {"item_ids": ids, "scores": row} for ids, row in zip(item_ids, scores, strict=True)
        ]
    }


def _version_dir(model_dir: Path) -> Path:
    """The highest numeric version directory, the way TF Serving picks one."""
    versions = [p for p in model_dir.iterdir() if p.is_dir() and p.name.isdigit()]
    if not versions:
        raise ArtifactError(f"{model_dir}: no numbered SavedModel version directory")
    return max(versions, key=lambda p: int(p.name))


@dataclass
class LoadedVersion:
    """Every SavedModel of one artifact, loaded and warmed up; immutable once built."""

    group: str
    version: int
    manifest: Manifest
    directory: Path
    signatures: dict[str, Any]
    sha256: str
    load_seconds: float
    loaded_at: float = field(default_factory=time.time)

    @property
    def default_model(self) -> str:
        return self.manifest.default_model

    def predict(self, model: str, batch: Batch) -> dict[str, np.ndarray]:
        import tensorflow as tf

        signature = self.signatures[model]
        result = signature(
            user_id=tf.constant(batch.user_id, tf.int64),
            history=tf.constant(batch.history, tf.int64),
            exclude=tf.constant(batch.exclude, tf.int64),
            k=tf.constant(batch.k, tf.int32),
        )
        return {"item_ids": result["item_ids"].numpy(), "scores": result["scores"].numpy()}

    def describe(self) -> dict[str, Any]:
        return {
            "model_name": self.manifest.model_name,
            "group": self.group,
            "version": self.version,
            "models": sorted(self.signatures),
            "default_model": self.default_model,
            "sha256": self.sha256,
            "load_seconds": round(self.load_seconds, 3),
        }


def load_version(
    tarball: Path,
    target: Path,
    *,
    group: str,
    version: int,
    expected_sha256: str | None = None,
) -> LoadedVersion:
    """Verify, unpack, load and warm up every model of ``tarball``; raise ArtifactError if any
    check fails, leaving nothing half-loaded."""
    import tensorflow as tf

    started = time.perf_counter()
    tarball = Path(tarball)
    if not tarball.is_file():
        raise ArtifactError(f"{tarball}: no such artifact")
    digest = sha256_file(tarball)
    if expected_sha256 and digest != expected_sha256:
        raise ArtifactError(
            f"{tarball}: checksum mismatch (sha256 {digest[:12]}…, registry recorded "
            f"{expected_sha256[:12]}…); refusing to serve version {version}"
        )
    try:
        try:
            directory = unpack(tarball, target)
            manifest = read_manifest(directory)
        except ArtifactError as exc:
            message = str(exc)
            raise ArtifactError(
                message if str(tarball) in message else f"{tarball}: {message}"
            ) from None
        signatures: dict[str, Any] = {}
        for name in manifest.models:
            try:
                loaded = tf.saved_model.load(str(_version_dir(directory / name)))
                signature = loaded.signatures["serving_default"]
            except (OSError, ValueError, KeyError, tf.errors.OpError) as exc:
                raise ArtifactError(f"{tarball}: model {name!r} cannot be loaded ({exc})") from None
            # Keep the loaded object alive: the signature only holds weak references to it.
            signature._recs_owner = loaded  # type: ignore[attr-defined]
            signatures[name] = signature
        candidate = LoadedVersion(
            group=group,
            version=version,
            manifest=manifest,
            directory=directory,
            signatures=signatures,
            sha256=digest,
            load_seconds=0.0,
        )
        warm = Batch(
            user_id=np.zeros(1, np.int64),
            history=np.zeros((1, 1), np.int64),
            exclude=np.zeros((1, 1), np.int64),
            k=np.ones(1, np.int32),
            columnar=False,
        )
        for name in signatures:
            try:
                outputs = candidate.predict(name, warm)
            except (tf.errors.OpError, TypeError, ValueError, KeyError) as exc:
                raise ArtifactError(
                    f"{tarball}: model {name!r} does not answer the serving signature ({exc})"
                ) from None
            if (
                outputs["item_ids"].shape[0] != 1
                or outputs["scores"].shape != outputs["item_ids"].shape
            ):
                raise ArtifactError(f"{tarball}: model {name!r} returned malformed outputs")
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    candidate.load_seconds = time.perf_counter() - started
    return candidate
