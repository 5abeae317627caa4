"""Recommendations from an exported artifact: one user, a new user's history, or every user."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from recs_ml.data.datasets import Item
from recs_ml.data.processed import ProcessedData

Serve = Callable[..., Any]


def load_serving(directory: Path, name: str | None = None) -> tuple[Serve, str]:
    """The serving function of model ``name`` (the default model when None) in a verified,
    unpacked artifact directory."""
    import tensorflow as tf

    from recs_ml.serving.artifact import read_manifest

    manifest = read_manifest(directory)
    chosen = name or manifest.default_model
    if chosen not in manifest.models:
        raise ValueError(f"--model {chosen!r} is not in this artifact; it has {manifest.models}")
    loaded = tf.saved_model.load(str(Path(directory) / chosen / "1"))
    return loaded.signatures["serving_default"], chosen


def recommend_for_user(
    serve: Serve,
    user_id: int = 0,
    k: int = 10,
    history: list[int] | None = None,
    exclude: list[int] | None = None,
) -> list[tuple[int, float]]:
    """Top-k (item id, score) for a known user (stored history) or a given history."""
    import numpy as np
    import tensorflow as tf

    if not 1 <= k <= 100:
        raise ValueError(f"k must be between 1 and 100, got {k}")
    if user_id < 0:
        raise ValueError(f"user_id must be 0 (new user) or positive, got {user_id}")
    items = history or []
    extra = exclude or []
    result = serve(
        user_id=tf.constant([user_id], tf.int64),
        history=tf.constant(np.asarray([items or [0]], dtype=np.int64)),
        exclude=tf.constant(np.asarray([extra or [0]], dtype=np.int64)),
        k=tf.constant([k], tf.int32),
    )
    ids = result["item_ids"].numpy()[0][:k].tolist()
    scores = result["scores"].numpy()[0][:k].tolist()
    return list(zip(ids, scores, strict=True))


def recommend_all_users(serve: Serve, data: ProcessedData, k: int = 10) -> dict[int, list[int]]:
    """Top-k for every user with train ratings, never an item they rated in train."""
    from recs_ml.models.evaluation import histories
    from recs_ml.serving.signature import recommend_batch

    known = histories(data.train)
    users = sorted(known)
    lists = recommend_batch(serve, [known[u] for u in users], k, user_ids=users)
    return dict(zip(users, lists, strict=True))


def write_jsonl(path: Path, recommendations: dict[int, list[int]]) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for user, items in sorted(recommendations.items()):
            handle.write(json.dumps({"user_id": user, "items": items}) + "\n")
    return len(recommendations)


def describe(items: list[tuple[int, float]], catalog: dict[int, Item]) -> list[dict[str, Any]]:
    out = []
    for item_id, score in items:
        item = catalog.get(item_id)
        out.append(
            {
                "item_id": item_id,
                "score": round(float(score), 5),
                "title": item.title if item else None,
                "year": item.year if item else None,
                "genres": item.genres if item else [],
            }
        )
    return out
