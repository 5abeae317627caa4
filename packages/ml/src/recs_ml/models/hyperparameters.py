"""Training hyperparameters: their defaults, checks and sizes, read from ``--hp key=value``
pairs and SageMaker's ``hyperparameters.json``."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

SAGEMAKER_HYPERPARAMETERS = Path("/opt/ml/input/config/hyperparameters.json")


class HyperparameterError(ValueError):
    """A hyperparameter that is unknown, malformed or out of range."""


@dataclass
class Hyperparameters:
    seed: int = 42
    embedding_dim: int = 64
    history_length: int = 30
    epochs: int = 6
    batch_size: int = 1024
    learning_rate: float = 0.002
    dropout: float = 0.1
    logq: bool = True
    item_features: bool = True
    ease_lambdas: str = "100,200,500,1000"
    candidates: int = 100
    ranker: str = "auto"
    ranker_epochs: int = 10
    ranker_hidden: int = 32
    ease_max_items: int = 5000
    eval_users: int = 5000
    max_train_minutes: float = 0.0
    # The final retrieval fit on all of train: "refit" trains a new model for the chosen
    # epoch count; "continue" starts from the model chosen on validation and trains one more
    # epoch on all of train (half the training time; the size defaults use it for big data).
    final_fit: str = "refit"
    # Stream training examples from the process step's shards (when it wrote them); the
    # size defaults turn it off for small data.
    stream: bool = True
    # Names set explicitly (CLI, SageMaker JSON): size defaults never override them.
    explicit: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    _ranges = {
        "embedding_dim": (1, 1024),
        "history_length": (1, 500),
        "epochs": (1, 200),
        "batch_size": (2, 65536),
        "learning_rate": (1e-6, 1.0),
        "dropout": (0.0, 0.9),
        "candidates": (10, 1000),
        "ranker_epochs": (1, 100),
        "ranker_hidden": (2, 1024),
        "seed": (0, 2**31 - 1),
        "ease_max_items": (1, 100_000),
        "eval_users": (100, 10_000_000),
        "max_train_minutes": (0.0, 100_000.0),
    }

    def __post_init__(self) -> None:
        for name, (low, high) in self._ranges.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise HyperparameterError(f"{name}={value} is out of range [{low}, {high}]")
        if self.ranker not in ("auto", "on", "off"):
            raise HyperparameterError(f"ranker={self.ranker!r}: expected auto, on or off")
        if self.final_fit not in ("refit", "continue"):
            raise HyperparameterError(f"final_fit={self.final_fit!r}: expected refit or continue")
        self.lambdas()

    def lambdas(self) -> list[float]:
        try:
            values = [float(part) for part in str(self.ease_lambdas).split(",") if part.strip()]
        except ValueError:
            raise HyperparameterError(
                f"ease_lambdas={self.ease_lambdas!r}: expected comma-separated numbers"
            ) from None
        if not values or any(not np.isfinite(v) or v <= 0 for v in values):
            raise HyperparameterError(
                f"ease_lambdas={self.ease_lambdas!r}: expected positive numbers, e.g. 200,500"
            )
        return values

    def as_dict(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.init and f.name != "explicit"
        }

    def for_size(self, ratings: int) -> Hyperparameters:
        """These hyperparameters with the defaults for ``ratings`` training ratings (see
        :data:`SIZE_DEFAULTS`) in place of every value that was not set explicitly."""
        chosen: dict[str, Any] = {}
        for limit, values in SIZE_DEFAULTS:
            if ratings <= limit:
                chosen = values
                break
        changes = {k: v for k, v in chosen.items() if k not in self.explicit}
        return dataclasses.replace(self, **changes) if changes else self

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Hyperparameters:
        """Typed values from strings (CLI, SageMaker's JSON) or JSON values."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, value in raw.items():
            name = key.replace("-", "_")
            if name not in fields:
                raise HyperparameterError(
                    f"unknown hyperparameter {key!r}; known: {', '.join(sorted(fields))}"
                )
            if name == "explicit":
                raise HyperparameterError("'explicit' is not a hyperparameter")
            kind = type(getattr(cls(), name))
            values[name] = _convert(name, value, kind)
        return cls(**values, explicit=frozenset(values))


# Defaults by the number of training ratings: (up to this many ratings, values). Larger data
# gets fewer epochs (each epoch holds more examples); the largest gets bigger batches (more
# in-batch negatives per step: the retrieval loss samples its negatives from the batch).
SIZE_DEFAULTS: list[tuple[float, dict[str, Any]]] = [
    # Small data trains from memory (examples are a few MB), the way its figures were set.
    (500_000, {"stream": False}),
    # Big catalogs: each item is a target only a few times an epoch, so the embeddings need a
    # higher learning rate to learn in the few epochs there is time for (on 300k generated
    # ratings, 0.006 reached in 2 epochs the validation NDCG@10 that 0.002 reached in 4); a 15-item
    # history halves the GRU's cost per example; the final fit continues the validated model
    # for one epoch on all of train instead of refitting it from scratch.
    (
        5_000_000,
        {
            "epochs": 3,
            "learning_rate": 0.006,
            "history_length": 15,
            "final_fit": "continue",
            "candidates": 50,
            "ranker_epochs": 5,
        },
    ),
    (
        float("inf"),
        {
            "epochs": 2,
            "batch_size": 4096,
            "learning_rate": 0.006,
            "history_length": 15,
            "final_fit": "continue",
            "candidates": 50,
            "ranker_epochs": 3,
            "ease_max_items": 4000,
        },
    ),
]


def _convert(name: str, value: Any, kind: type) -> Any:
    text = str(value).strip()
    if kind is bool:
        if isinstance(value, bool):
            return value
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise HyperparameterError(f"{name}={value!r}: expected true or false")
    if kind is int:
        try:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(text)
        except ValueError:
            raise HyperparameterError(f"{name}={value!r}: expected an integer") from None
    if kind is float:
        try:
            number = float(text)
        except ValueError:
            raise HyperparameterError(f"{name}={value!r}: expected a number") from None
        if not np.isfinite(number):
            raise HyperparameterError(f"{name}={value!r}: expected a finite number")
        return number
    return text


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """``["epochs=5", "learning_rate=0.01"]`` → dict; malformed pairs are an error."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise HyperparameterError(f"{pair!r}: expected key=value")
        out[key.strip()] = value.strip()
    return out


def load_hyperparameters(pairs: list[str], config: Path | None = None) -> Hyperparameters:
    """``--hp key=value`` pairs over SageMaker's hyperparameters JSON (when the file exists)."""
    raw: dict[str, Any] = {}
    path = config if config is not None else SAGEMAKER_HYPERPARAMETERS
    if path.is_file():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise HyperparameterError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(loaded, dict):
            raise HyperparameterError(f"{path}: expected a JSON object of hyperparameters")
        # SageMaker adds its own sagemaker_* keys (program, region, ...); they are not ours.
        raw.update({k: v for k, v in loaded.items() if not k.startswith("sagemaker_")})
    elif config is not None:
        raise HyperparameterError(f"{config}: hyperparameters file not found")
    raw.update(parse_assignments(pairs))
    return Hyperparameters.parse(raw)


# --------------------------------------------------------------------------- data checks
