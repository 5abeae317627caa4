"""New users: people the models never saw, recommended for from their first 5 ratings alone.

A fixed-seed 20% of MovieLens-100K's users is held out entirely; the pipeline's process and
train steps run on the other 80% (same code, same hyperparameter choices on validation). Each
held-out user is then replayed as a new user: their first 5 ratings in time order (timestamp,
item_id) are the whole history sent to each exported model (``user_id`` 0, as the API sends
for users the model does not know), and the next 10 ratings they made are the relevant items.
Every model gets the same 5 items: the served model (``tfrs``), its retrieval stage alone,
EASE and MostPop. Targets (issue 21): served NDCG@10 ≥ EASE's and ≥ 1.5 × MostPop's.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from common import argument_parser, markdown_table, peak_rss_bytes, write_result

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HISTORY = 5  # ratings a new user has made when they ask for recommendations
NEXT = 10  # the ratings after those: what a good list should have shown them
HELD_OUT = 0.2  # share of users the models never see
SEED = 0
K = 10
METRICS = ("ndcg@10", "recall@10", "hitrate@10", "mrr@10", "coverage")


def split_users(user_ids: Any, share: float, seed: int) -> Any:
    """A fixed-seed ``share`` of the distinct users, sorted."""
    import numpy as np

    users = np.unique(user_ids)
    rng = np.random.default_rng(seed)
    count = max(1, round(len(users) * share))
    return np.sort(rng.choice(users, count, replace=False))


def replay(ratings: Any, users: Any) -> tuple[list[int], list[list[int]], dict[int, set[int]]]:
    """Per held-out user with more than ``HISTORY`` ratings: (their first ``HISTORY`` items,
    the set of the ``NEXT`` items after them)."""
    import numpy as np

    from recs_ml.data.split import order_by_user_time

    order = order_by_user_time(ratings)
    user_col, item_col = ratings.user_id[order], ratings.item_id[order]
    held = {int(u) for u in users}
    starts = np.flatnonzero(np.r_[True, user_col[1:] != user_col[:-1]])
    ends = np.r_[starts[1:], len(user_col)]
    chosen, histories, relevant = [], [], {}
    for start, end in zip(starts, ends, strict=True):
        user = int(user_col[start])
        if user not in held or end - start <= HISTORY:
            continue
        items = [int(i) for i in item_col[start:end]]
        chosen.append(user)
        histories.append(items[:HISTORY])
        relevant[user] = set(items[HISTORY : HISTORY + NEXT])
    return chosen, histories, relevant


def main() -> None:
    parser = argument_parser(__doc__ or "")
    parser.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    from recs_ml.data.datasets import load_dataset
    from recs_ml.data.processed import read_item_ids, write_processed
    from recs_ml.data.split import deduplicate, split_protocol, take
    from recs_ml.models.evaluation import confidence_halfwidth, per_user_metrics
    from recs_ml.pipeline.steps.train import run
    from recs_ml.serving.signature import recommend_batch

    pairs = (["epochs=4", "ease_lambdas=200,500"] if args.quick else []) + args.hp
    dataset = load_dataset("ml-100k")
    dataset.ratings = deduplicate(dataset.ratings)
    held_out = split_users(dataset.ratings.user_id, HELD_OUT, SEED)
    everyone = dataset.ratings
    seen = np.flatnonzero(~np.isin(everyone.user_id, held_out))
    dataset.ratings = take(everyone, seen)
    users, histories, relevant = replay(everyone, held_out)

    with tempfile.TemporaryDirectory(prefix="recs-newusers-") as tmp:
        root = Path(tmp)
        began = time.perf_counter()
        split = split_protocol(dataset.ratings)
        write_processed(root / "data", dataset, split, dataset.checksum() + "-without-held-out")
        trained = run(root / "data", root / "model", pairs)
        train_s = time.perf_counter() - began
        catalog = len(read_item_ids(root / "data"))
        known_items = {int(i) for i in np.unique(dataset.ratings.item_id)}

        metrics: dict[str, dict[str, float]] = {}
        ci95: dict[str, float] = {}
        for name in ("tfrs", "retrieval", "ease", "mostpop"):
            directory = root / "model" / name / "1"
            if not directory.is_dir():
                continue
            serve = tf.saved_model.load(str(directory)).signatures["serving_default"]
            lists = recommend_batch(serve, histories, K, user_ids=[0] * len(users))
            per_user, coverage = per_user_metrics(
                dict(zip(users, lists, strict=True)), relevant, catalog, K
            )
            metrics[name] = {m: float(np.mean(v)) for m, v in per_user.items()}
            metrics[name]["coverage"] = coverage
            ci95[name] = confidence_halfwidth(per_user["ndcg@10"])
            del serve

    served = metrics["tfrs"]["ndcg@10"]
    ease = metrics["ease"]["ndcg@10"]
    mostpop = metrics["mostpop"]["ndcg@10"]
    unseen = sum(len(r - known_items) for r in relevant.values())
    figures = {
        "metrics": metrics,
        "ndcg_ci95": ci95,
        "served_over_ease": served / ease,
        "served_over_mostpop": served / mostpop,
        "users": len(users),
        "held_out_share": HELD_OUT,
        "history": HISTORY,
        "next": NEXT,
        "relevant_items_unknown_to_the_models": unseen,
        "train_ratings": len(dataset.ratings),
        "chosen": trained["chosen"],
        "train_s": train_s,
        "peak_rss_mb": peak_rss_bytes() / 1024**2,
        "quick": args.quick,
    }
    table = markdown_table(
        ["model", *METRICS, "NDCG@10 ± 95%"],
        [[name, *(float(values[m]) for m in METRICS), f"± {ci95[name]:.3f}"]
         for name, values in metrics.items()],
    )  # fmt: skip
    targets = markdown_table(
        ["target", "measured", "goal", "met"],
        [
            ["served NDCG@10 / EASE", round(served / ease, 3), "≥ 1.0", served >= ease],
            ["served NDCG@10 / MostPop", round(served / mostpop, 3), "≥ 1.5",
             served >= 1.5 * mostpop],
        ],
    )  # fmt: skip
    markdown = (
        "## New users (MovieLens-100K, 5 ratings each)\n\n"
        f"{len(users)} users held out entirely (a fixed-seed {HELD_OUT:.0%}); the models were "
        f"trained by the pipeline's own steps on the other users' {len(dataset.ratings)} "
        f"ratings. Each held-out user's first {HISTORY} ratings are their whole history "
        f"(user id unknown to the models); the next {NEXT} are relevant "
        f"({unseen} of them are movies only held-out users rated, which the models never saw "
        "rated)."
        f"{' (--quick: fewer epochs)' if args.quick else ''}\n\n"
        f"{table}\n\n{targets}\n\n"
        f"Train {train_s:.0f} s on a shared 2-core machine (an upper bound); peak RSS "
        f"{figures['peak_rss_mb']:.0f} MB.\n"
    )
    path = write_result("newusers", figures, markdown)
    print(markdown)
    print(f"written: {path}")


if __name__ == "__main__":
    main()
