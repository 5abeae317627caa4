"""Evaluation: top-k metrics as a pure function, and the same protocol over every model.

Metrics (ARCHITECTURE.md, "Evaluation protocol"), averaged over users with held-out items:
NDCG@k, Recall@k = hits / min(k, |relevant|), HitRate@k, MRR@k, and catalog coverage = distinct
recommended items / catalog size.

Users are scored in batches. Above ``max_users`` held-out users, a fixed-seed uniform sample
of ``max_users`` of them is evaluated (every model of a run sees the same sample), and the
report carries the sample size and a 95% confidence interval (normal approximation over
users) for each averaged metric.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from recs_ml.data.datasets import Ratings

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
    per_user, coverage = per_user_metrics(recommended, relevant, catalog_size, k)
    out = {name: float(np.mean(values)) for name, values in per_user.items()}
    out["coverage"] = coverage
    return out


def per_user_metrics(
    recommended: Mapping[int, Sequence[int]],
    relevant: Mapping[int, set[int] | frozenset[int]],
    catalog_size: int,
    k: int = 10,
) -> tuple[dict[str, np.ndarray], float]:
    """Each user's NDCG/Recall/HitRate/MRR@k (arrays in user order) and the catalog coverage."""
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
    values = {name: np.zeros(len(users)) for name in ("ndcg", "recall", "hitrate", "mrr")}
    shown: set[int] = set()
    for row, user in enumerate(users):
        top = list(recommended[user])[:k]
        shown.update(top)
        truth = relevant[user]
        hits = [rank for rank, item in enumerate(top) if item in truth]
        dcg = sum(1.0 / math.log2(rank + 2) for rank in hits)
        ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(k, len(truth))))
        values["ndcg"][row] = dcg / ideal
        values["recall"][row] = len(hits) / min(k, len(truth))
        values["hitrate"][row] = 1.0 if hits else 0.0
        values["mrr"][row] = 1.0 / (hits[0] + 1) if hits else 0.0
    return {f"{name}@{k}": array for name, array in values.items()}, len(shown) / catalog_size


def confidence_halfwidth(values: np.ndarray, population: int | None = None) -> float:
    """Half-width of the 95% normal confidence interval of the mean of ``values``, with the
    finite-population correction when they are a sample of ``population`` users."""
    n = int(values.shape[0])
    if n < 2:
        return float("nan")
    half = 1.96 * float(np.std(values, ddof=1)) / math.sqrt(n)
    if population and population > n:
        half *= math.sqrt((population - n) / (population - 1))
    elif population == n:
        half = 0.0  # every user was evaluated: the mean is exact for this split
    return half


def sample_users(users: Sequence[int], max_users: int | None, seed: int = 0) -> list[int]:
    """All ``users`` (sorted) up to ``max_users``; above it a fixed-seed uniform sample."""
    ordered = sorted(users)
    if max_users is None or len(ordered) <= max_users:
        return ordered
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(ordered), size=max_users, replace=False)
    return [ordered[i] for i in np.sort(chosen)]


def _grouped(ratings: Ratings) -> tuple[list[int], list[np.ndarray]]:
    from recs_ml.data.split import order_by_user_time

    order = order_by_user_time(ratings)
    users = ratings.user_id[order]
    items = ratings.item_id[order]
    if not users.shape[0]:
        return [], []
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    return users[starts].tolist(), np.split(items, starts[1:])


def histories(ratings: Ratings) -> dict[int, list[int]]:
    """Each user's rated item ids, oldest first (ties by item id)."""
    users, groups = _grouped(ratings)
    return {user: group.tolist() for user, group in zip(users, groups, strict=True)}


def holdout_sets(ratings: Ratings) -> dict[int, set[int]]:
    users, groups = _grouped(ratings)
    return {user: set(group.tolist()) for user, group in zip(users, groups, strict=True)}


def evaluate_serving(
    serve: Callable[..., Any],
    known: Ratings,
    holdout: Ratings,
    catalog_size: int,
    k: int = 10,
    max_users: int | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Ask a serving function for every holdout user's top-k given their ``known`` history
    (a fixed-seed sample of ``max_users`` of them when there are more)."""
    return evaluate_sample(serve, known, holdout, catalog_size, k, max_users, seed)[0]


def evaluate_sample(
    serve: Callable[..., Any],
    known: Ratings,
    holdout: Ratings,
    catalog_size: int,
    k: int = 10,
    max_users: int | None = None,
    seed: int = 0,
    batch_size: int = 256,
) -> tuple[dict[str, float], dict[str, Any]]:
    """Metrics and how they were measured: users evaluated, users in the split, and each
    averaged metric's 95% confidence half-width."""
    from recs_ml.serving.signature import recommend_batch

    relevant_all = holdout_sets(holdout)
    users = sample_users(list(relevant_all), max_users, seed)
    chosen = np.asarray(users, dtype=np.int64)
    history = histories(take_users(known, chosen))
    relevant = {user: relevant_all[user] for user in users}
    lists = recommend_batch(
        serve, [history.get(u, []) for u in users], k, user_ids=users, batch_size=batch_size
    )
    per_user, coverage = per_user_metrics(
        dict(zip(users, lists, strict=True)), relevant, catalog_size, k
    )
    metrics = {name: float(np.mean(values)) for name, values in per_user.items()}
    metrics["coverage"] = coverage
    info = {
        "users": len(users),
        "users_total": len(relevant_all),
        "sampled": len(users) < len(relevant_all),
        "ci95": {
            name: confidence_halfwidth(values, len(relevant_all))
            for name, values in per_user.items()
        },
    }
    return metrics, info


def take_users(ratings: Ratings, users: np.ndarray) -> Ratings:
    """The rows of ``users``' ratings."""
    from recs_ml.data.split import take

    return take(ratings, np.flatnonzero(np.isin(ratings.user_id, users)))


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
    sample: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``evaluation.json`` (a SageMaker PropertyFile) and ``evaluation.md``; ``sample`` adds
    how the users were sampled and each model's 95% confidence half-widths."""
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    from recs_ml.pipeline import PLAIN_METRICS, plain_metrics

    report: dict[str, Any] = {
        "default_model": default_model,
        "metrics": {name: dict(values) for name, values in metrics.items()},
        PLAIN_METRICS: plain_metrics({name: dict(values) for name, values in metrics.items()}),
        "split": split,
        "users": users,
    }
    title = f"Evaluation on the {split} split ({users} users)"
    if sample:
        report["sample"] = dict(sample)
        if sample.get("sampled"):
            title = (
                f"Evaluation on the {split} split (a fixed-seed sample of {users} of "
                f"{sample.get('users_total')} users; ± is the 95% confidence half-width)"
            )
    text = markdown_table(metrics, title)
    if sample and sample.get("ci95"):
        text += "\n| model | " + " | ".join(f"{m} ±95%" for m in METRICS[:4]) + " |\n"
        text += "|---|" + "---:|" * 4 + "\n"
        for name, halves in sample["ci95"].items():
            text += (
                f"| {name} | "
                + " | ".join(f"{halves.get(m, float('nan')):.4f}" for m in METRICS[:4])
                + " |\n"
            )
    (output / "evaluation.json").write_text(json.dumps(report, indent=2))
    (output / "evaluation.md").write_text(text)
    return report
