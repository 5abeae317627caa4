"""The serving signature and the TensorFlow Serving REST shapes every model answers.

Every exported SavedModel's ``serving_default`` takes :data:`INPUTS` and returns
:data:`OUTPUTS` (docs/contracts.md, "Serving signature"); TensorFlow code builds its
``tf.TensorSpec`` list from these, and clients build their request bodies with
:func:`request_body` and read the answer with :func:`parse_predictions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SIGNATURE_NAME = "serving_default"
MIN_K = 1
MAX_K = 100
PAD = 0  # padding of history/exclude, and the user id of an unknown or new user


@dataclass(frozen=True)
class TensorSpec:
    """One named tensor: a TensorFlow dtype name and a shape (``None`` = any length)."""

    name: str
    dtype: str
    shape: tuple[int | None, ...]


INPUTS = (
    TensorSpec("user_id", "int64", (None,)),
    TensorSpec("history", "int64", (None, None)),
    TensorSpec("exclude", "int64", (None, None)),
    TensorSpec("k", "int32", (None,)),
)
OUTPUTS = (
    TensorSpec("item_ids", "int64", (None, None)),
    TensorSpec("scores", "float32", (None, None)),
)
INPUT_NAMES = tuple(spec.name for spec in INPUTS)
OUTPUT_NAMES = tuple(spec.name for spec in OUTPUTS)


class ResponseError(ValueError):
    """An answer that is not the signature's ``predictions`` / ``outputs``."""


@dataclass(frozen=True)
class Instance:
    """One user's request: rated history (oldest first), more items to leave out, and k."""

    user_id: int
    history: Sequence[int]
    k: int
    exclude: Sequence[int] = ()

    def __post_init__(self) -> None:
        if not MIN_K <= self.k <= MAX_K:
            raise ValueError(f"k must be between {MIN_K} and {MAX_K}; got {self.k}")


def _padded(rows: list[list[int]]) -> list[list[int]]:
    width = max(1, *(len(row) for row in rows))
    return [row + [PAD] * (width - len(row)) for row in rows]


def request_body(instances: Sequence[Instance], *, columnar: bool = False) -> dict[str, Any]:
    """The TF Serving REST body (row form ``instances``, or columnar ``inputs``), history
    and exclude padded with :data:`PAD` to one length within the request."""
    if not instances:
        raise ValueError("a request needs at least one instance")
    history = _padded([[int(i) for i in one.history] for one in instances])
    exclude = _padded([[int(i) for i in one.exclude] for one in instances])
    users = [int(one.user_id) for one in instances]
    ks = [int(one.k) for one in instances]
    if columnar:
        return {"inputs": {"user_id": users, "history": history, "exclude": exclude, "k": ks}}
    return {
        "instances": [
            {"user_id": u, "history": h, "exclude": e, "k": k}
            for u, h, e, k in zip(users, history, exclude, ks, strict=True)
        ]
    }


# The smallest valid request: what a deployment sends to prove a version answers.
SMOKE_REQUEST = request_body([Instance(user_id=PAD, history=(), k=1)])


def parse_predictions(payload: Any) -> list[tuple[list[int], list[float]]]:
    """(item_ids, scores) per instance from a row-form (``predictions``) or columnar
    (``outputs``) answer; ResponseError when it is neither or the lists disagree."""
    try:
        if isinstance(payload, dict) and "predictions" in payload:
            rows = [(row["item_ids"], row["scores"]) for row in payload["predictions"]]
        else:
            outputs = payload["outputs"]
            rows = list(zip(outputs["item_ids"], outputs["scores"], strict=True))
        parsed = [([int(i) for i in ids], [float(s) for s in scores]) for ids, scores in rows]
    except (KeyError, IndexError, TypeError, ValueError):
        raise ResponseError(
            "the endpoint answered without predictions[].item_ids/scores or outputs.item_ids/scores"
        ) from None
    if not parsed:
        raise ResponseError("the endpoint answered no predictions")
    if any(len(ids) != len(scores) for ids, scores in parsed):
        raise ResponseError("the endpoint answered item_ids and scores of unequal length")
    return parsed
