"""Evaluation: top-k metrics as a pure function, and the same protocol over every model.

Metrics (ARCHITECTURE.md, "Evaluation protocol"), averaged over users with held-out items:
NDCG@k, Recall@k = hits / min(k, |relevant|), HitRate@k, MRR@k, and catalog coverage = distinct
recommended items / catalog size.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from recs_ml.data import Ratings

METRICS = ("ndcg@10", "recall@10", "hitrate@10", "mrr@10", "coverage")


def ranking_metrics(
    recommended: Mapping[int, Sequence[int]],
    relevant: Mapping[int, set[int] | frozenset[int]],
    catalog_size: int,
    k: int = 10,
) -> dict[str, float]:
    """Metrics of top-``k`` lists against held-out items; users without relevant items skip."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if catalog_size < 1:
        raise ValueError(f"catalog_size must be positive, got {catalog_size}")
    users = [user for user, items in relevant.items() if items]
    if not users:
        raise ValueError("no user has a relevant item; nothing to evaluate")
    missing = [user for user in users if user not in recommended]
    if missing:
        raise ValueError(f"no recommendations for {len(missing)} user(s), e.g. {missing[:3]}")
    totals = {"ndcg": 0.0, "recall": 0.0, "hitrate": 0.0, "mrr": 0.0}
    shown: set[int] = set()
    for user in users:
        top = list(recommended[user])[:k]
        shown.update(top)
        truth = relevant[user]
        hits = [rank for rank, item in enumerate(top) if item in truth]
        dcg = sum(1.0 / math.log2(rank + 2) for rank in hits)
        ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(k, len(truth))))
        totals["ndcg"] += dcg / ideal
        totals["recall"] += len(hits) / min(k, len(truth))
        totals["hitrate"] += 1.0 if hits else 0.0
        totals["mrr"] += 1.0 / (hits[0] + 1) if hits else 0.0
    count = len(users)
    return {
        f"ndcg@{k}": totals["ndcg"] / count,
        f"recall@{k}": totals["recall"] / count,
        f"hitrate@{k}": totals["hitrate"] / count,
        f"mrr@{k}": totals["mrr"] / count,
        "coverage": len(shown) / catalog_size,
    }


def histories(ratings: Ratings) -> dict[int, list[int]]:
    """Each user's rated item ids, oldest first (ties by item id)."""
    from recs_ml.processing import order_by_user_time

    out: dict[int, list[int]] = defaultdict(list)
    for row in order_by_user_time(ratings).tolist():
        out[int(ratings.user_id[row])].append(int(ratings.item_id[row]))
    return dict(out)


def holdout_sets(ratings: Ratings) -> dict[int, set[int]]:
    out: dict[int, set[int]] = defaultdict(set)
    for user, item in zip(ratings.user_id.tolist(), ratings.item_id.tolist(), strict=True):
        out[int(user)].add(int(item))
    return dict(out)


def evaluate_serving(
    serve: Callable[..., Any],
    known: Ratings,
    holdout: Ratings,
    catalog_size: int,
    k: int = 10,
) -> dict[str, float]:
    """Ask a serving function for every holdout user's top-k given their ``known`` history."""
    from recs_ml.serving import recommend_batch

    relevant = holdout_sets(holdout)
    history = histories(known)
    users = sorted(relevant)
    lists = recommend_batch(serve, [history.get(u, []) for u in users], k, user_ids=users)
    return ranking_metrics(dict(zip(users, lists, strict=True)), relevant, catalog_size, k)


def markdown_table(metrics: Mapping[str, Mapping[str, float]], title: str = "") -> str:
    lines = [f"### {title}", ""] if title else []
    lines.append("| model | " + " | ".join(METRICS) + " |")
    lines.append("|---|" + "---:|" * len(METRICS))
    for name, values in metrics.items():
        lines.append(
            f"| {name} | "
            + " | ".join(f"{values.get(m, float('nan')):.4f}" for m in METRICS)
            + " |"
        )
    return "\n".join(lines) + "\n"


def write_report(
    output: Path,
    metrics: Mapping[str, Mapping[str, float]],
    default_model: str,
    users: int,
    split: str = "test",
) -> dict[str, Any]:
    """``evaluation.json`` (a SageMaker PropertyFile) and ``evaluation.md``."""
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    from recs_ml.pipeline import PLAIN_METRICS, plain_metrics

    report = {
        "default_model": default_model,
        "metrics": {name: dict(values) for name, values in metrics.items()},
        PLAIN_METRICS: plain_metrics({name: dict(values) for name, values in metrics.items()}),
        "split": split,
        "users": users,
    }
    (output / "evaluation.json").write_text(json.dumps(report, indent=2))
    (output / "evaluation.md").write_text(
        markdown_table(metrics, f"Evaluation on the {split} split ({users} users)")
    )
    return report
