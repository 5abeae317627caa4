"""A realistic synthetic ratings generator, deterministic for a seed.

The shape real rating logs have (beer reviews, MovieLens, shop orders):

- **Power-law item popularity**: item weights ``1 / rank^item_exponent`` over a random order.
- **Power-law user activity**: a few users rate thousands of items, most rate a handful;
  every user has at least ``min_user_ratings``.
- **Taste clusters that drift**: items belong to one of ``clusters`` tastes (styles, genres);
  each user likes 2–3 of them, and over their timeline their preference moves from a start
  mixture to an end mixture, so a user's latest ratings are not distributed like their first.
- **Series**: a rating is sometimes followed by the next items of the same series (the items
  after it in its cluster's order), the sequential signal a next-item model can learn.
- A share of ratings (``popular_share``) follows global popularity regardless of taste.

Because ratings depend on the user's tastes and on the previous item, a model that learns
from histories beats popularity on this data; :func:`planted_truth` returns the tastes so tests
can check the planted preferences are there.

Generation runs in fixed-size user chunks, each with its own random stream derived from the
seed, so memory is bounded by the chunk and the output does not depend on how it is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recs_ml.data.datasets import Ratings

USERS_PER_CHUNK = 4096
START_TIME = 978_307_200  # 2001-01-01, seconds
TIME_SPAN = 20 * 365 * 86_400
FORMATS = ("csv", "parquet")


class SynthError(ValueError):
    """Generator parameters that cannot produce the requested data."""


@dataclass(frozen=True)
class SynthConfig:
    ratings: int = 100_000
    users: int = 1_000
    items: int = 2_000
    seed: int = 0
    clusters: int = 24
    item_exponent: float = 0.9
    user_exponent: float = 1.1
    min_user_ratings: int = 5
    popular_share: float = 0.2
    series_share: float = 0.35

    def __post_init__(self) -> None:
        if self.users < 1 or self.items < 2:
            raise SynthError(f"need at least 1 user and 2 items, got {self.users}, {self.items}")
        if self.ratings < self.users * self.min_user_ratings:
            raise SynthError(
                f"{self.ratings} ratings cannot give each of {self.users} users "
                f"{self.min_user_ratings}; ask for more ratings or fewer users"
            )
        if self.ratings > self.users * self.items // 2:
            raise SynthError(
                f"{self.ratings} ratings over {self.users} users x {self.items} items is denser "
                "than half the matrix; ask for more users or items"
            )
        if not 1 <= self.clusters <= self.items:
            raise SynthError(f"clusters must be in [1, items], got {self.clusters}")
        for name in ("popular_share", "series_share"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise SynthError(f"{name} must be in [0, 1), got {getattr(self, name)}")


@dataclass(frozen=True)
class World:
    """The planted structure: item popularity and clusters, user activity and tastes."""

    item_weight: np.ndarray  # [items] popularity weight, sums to 1
    item_cluster: np.ndarray  # [items] cluster of each item
    cluster_items: list[np.ndarray]  # per cluster: its items in series order
    cluster_cdf: list[np.ndarray]  # per cluster: cumulative popularity of cluster_items
    item_position: np.ndarray  # [items] position of each item within its cluster's order
    user_count: np.ndarray  # [users] number of ratings
    user_start: np.ndarray  # [users, clusters] taste mixture at the first rating
    user_end: np.ndarray  # [users, clusters] taste mixture at the last rating


def _allocate(total: int, weights: np.ndarray, minimum: int, cap: int) -> np.ndarray:
    """Integer counts summing to ``total``, each in [minimum, cap], roughly ∝ weights."""
    n = weights.shape[0]
    counts = np.full(n, minimum, dtype=np.int64)
    remaining = total - minimum * n
    share = weights / weights.sum()
    while remaining > 0:
        room = cap - counts
        open_ = room > 0
        if not open_.any():
            raise SynthError("the catalog is too small for the requested ratings")
        w = np.where(open_, share, 0.0)
        extra = np.floor(remaining * w / w.sum()).astype(np.int64)
        extra = np.minimum(extra, room)
        if extra.sum() == 0:  # the last few go one each to the heaviest open users
            order = np.argsort(-w, kind="stable")[:remaining]
            extra = np.zeros(n, dtype=np.int64)
            extra[order] = 1
            extra = np.minimum(extra, room)
        counts += extra
        remaining -= int(extra.sum())
    return counts


def build_world(config: SynthConfig) -> World:
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 0]))
    ranks = rng.permutation(config.items) + 1
    item_weight = 1.0 / ranks.astype(np.float64) ** config.item_exponent
    item_weight /= item_weight.sum()
    # Every cluster gets items; cluster sizes vary like real styles/genres do.
    sizes = rng.dirichlet(np.full(config.clusters, 2.0))
    item_cluster = np.minimum(
        np.searchsorted(np.cumsum(sizes), rng.random(config.items)), config.clusters - 1
    ).astype(np.int64)
    item_cluster[rng.permutation(config.items)[: config.clusters]] = np.arange(config.clusters)
    cluster_items, cluster_cdf = [], []
    item_position = np.zeros(config.items, dtype=np.int64)
    for cluster in range(config.clusters):
        members = np.flatnonzero(item_cluster == cluster)
        members = members[rng.permutation(members.shape[0])]  # series order
        item_position[members] = np.arange(members.shape[0])
        cdf = np.cumsum(item_weight[members])
        cluster_items.append(members)
        cluster_cdf.append(cdf / cdf[-1])
    activity = 1.0 / (rng.permutation(config.users) + 1.0) ** config.user_exponent
    # Nobody rates more than 60% of the catalog: leaves room for distinct items.
    cap = max(config.min_user_ratings, int(0.6 * config.items))
    user_count = _allocate(config.ratings, activity, config.min_user_ratings, cap)
    tastes = np.zeros((config.users, config.clusters))
    liked = np.minimum(rng.integers(2, 4, size=config.users), config.clusters)
    for user in range(config.users):
        # Popular clusters are liked more often, as popular styles are.
        chosen = rng.choice(config.clusters, size=liked[user], replace=False, p=sizes)
        tastes[user, chosen] = rng.dirichlet(np.ones(liked[user]))
    # Drift: the end mixture swaps in one new cluster for users who have a new interest.
    end = tastes.copy()
    drifting = rng.random(config.users) < 0.5
    for drifter in np.flatnonzero(drifting).tolist():
        new = rng.integers(config.clusters)
        end[drifter] *= 0.4
        end[drifter, new] += 0.6
    return World(
        item_weight=item_weight,
        item_cluster=item_cluster,
        cluster_items=cluster_items,
        cluster_cdf=cluster_cdf,
        item_position=item_position,
        user_count=user_count,
        user_start=tastes,
        user_end=end,
    )


def _first_distinct(
    user: np.ndarray, item: np.ndarray, limit: np.ndarray, items: int
) -> np.ndarray:
    """Rows that are the first of their (user, item) pair and among the user's first ``limit``
    such rows; ``user`` is 0-based within the chunk and grouped (rows of a user contiguous or
    appended later)."""
    key = user * items + item
    _, first_rows = np.unique(key, return_index=True)
    keep = np.zeros(user.shape[0], dtype=bool)
    keep[first_rows] = True
    # Rank of each kept row within its user, in row order.
    order = np.argsort(user, kind="stable")
    kept_sorted = keep[order]
    rank_sorted = np.cumsum(kept_sorted) - 1
    per_user = np.bincount(user[keep], minlength=limit.shape[0])
    before = np.r_[0, np.cumsum(per_user)[:-1]]
    rank = np.empty(user.shape[0], dtype=np.int64)
    rank[order] = rank_sorted - before[user[order]]
    return keep & (rank < limit[user])


def _draw_items(
    config: SynthConfig,
    world: World,
    rng: np.random.Generator,
    user_of: np.ndarray,
    progress: np.ndarray,
    step: np.ndarray,
) -> np.ndarray:
    """One item per draw: from a cluster of the user's taste at that point of their timeline,
    the popular items, or the next item of a series they started."""
    n = int(user_of.shape[0])
    # Taste at this point of the user's timeline, then one cluster drawn from it.
    mix = (1.0 - progress)[:, None] * world.user_start[user_of] + progress[
        :, None
    ] * world.user_end[user_of]
    cdf = np.cumsum(mix, axis=1)
    cluster = (cdf < rng.random(n)[:, None] * cdf[:, -1:]).sum(axis=1)
    cluster = np.minimum(cluster, config.clusters - 1)
    item = np.empty(n, dtype=np.int64)
    uniform = rng.random(n)
    for c in range(config.clusters):
        rows = np.flatnonzero(cluster == c)
        if rows.shape[0]:
            pick = np.searchsorted(world.cluster_cdf[c], uniform[rows])
            item[rows] = world.cluster_items[c][np.minimum(pick, len(world.cluster_items[c]) - 1)]
    popular = rng.random(n) < config.popular_share
    global_cdf = np.cumsum(world.item_weight)
    item[popular] = np.minimum(
        np.searchsorted(global_cdf, rng.random(int(popular.sum()))), config.items - 1
    )
    # Series: after an anchor rating, the next ratings may continue its cluster's order.
    follow = (rng.random(n) < config.series_share) & (step > 0)
    index = np.arange(n)
    anchor = np.maximum.accumulate(np.where(follow, 0, index))
    if follow.any():
        base = item[anchor[follow]]
        offset = index[follow] - anchor[follow]
        members = world.item_cluster[base]
        sizes = np.array([len(m) for m in world.cluster_items])[members]
        position = (world.item_position[base] + offset) % sizes
        flat = np.concatenate(world.cluster_items)
        cluster_start = np.r_[0, np.cumsum([len(m) for m in world.cluster_items])[:-1]]
        item[follow] = flat[cluster_start[members] + position]
    return item


def _explore_long_tail(
    config: SynthConfig,
    world: World,
    rng: np.random.Generator,
    users: np.ndarray,
    first: int,
    counts: np.ndarray,
    rows: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Heavy users run out of distinct items in their tastes: they explore the long tail
    (popularity flattened), at random points of their timeline, until each has ``counts``.
    ``rows``: (user, item, position in the timeline) of the distinct ratings so far."""
    user_of, item, position = rows
    explore_weight = world.item_weight**0.3
    explore_cdf = np.cumsum(explore_weight / explore_weight.sum())
    for factor in (3, 6, 12):
        short = counts - np.bincount(user_of - first, minlength=len(users))
        if not short.any():
            break
        extra = np.where(short > 0, factor * short + 8, 0)
        new_user = np.repeat(users, extra)
        new_item = np.minimum(
            np.searchsorted(explore_cdf, rng.random(new_user.shape[0])), config.items - 1
        )
        user_of = np.r_[user_of, new_user]
        item = np.r_[item, new_item]
        position = np.r_[position, rng.random(new_user.shape[0])]
        keep = _first_distinct(user_of - first, item, counts, config.items)
        user_of, item, position = user_of[keep], item[keep], position[keep]
    return user_of, item, position


def _chunk(config: SynthConfig, world: World, first: int, last: int) -> Ratings:
    """Ratings of users ``first..last-1`` (ids ``first+1..``), ordered by user then time."""
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 1, first]))
    counts = world.user_count[first:last]
    users = np.arange(first, last)
    # Oversample: repeats of a (user, item) pair are dropped below.
    draw = np.ceil(counts * 1.5).astype(np.int64) + 4
    user_of = np.repeat(users, draw)
    starts = np.r_[0, np.cumsum(draw)[:-1]]
    step = np.arange(user_of.shape[0]) - np.repeat(starts, draw)
    progress = step / np.repeat(np.maximum(draw - 1, 1), draw)
    item = _draw_items(config, world, rng, user_of, progress, step)
    # First occurrence of each (user, item) pair, then each user's first `count` of those.
    keep = _first_distinct(user_of - first, item, counts, config.items)
    rows = (user_of[keep], item[keep], progress[keep])
    user_of, item, position = _explore_long_tail(config, world, rng, users, first, counts, rows)
    order = np.lexsort((position, user_of))
    user_of, item = user_of[order], item[order]
    # Time: a start per user, then exponential gaps (hours to weeks) in rating order.
    begin = START_TIME + rng.integers(0, TIME_SPAN // 2, size=len(users))
    gaps = rng.exponential(3 * 86_400, size=user_of.shape[0]).astype(np.int64) + 60
    per_user = np.bincount(user_of - first, minlength=len(users))
    offsets = np.r_[0, np.cumsum(per_user)[:-1]]
    cumulative = np.cumsum(gaps)
    since_start = cumulative - np.repeat(cumulative[offsets] - gaps[offsets], per_user)
    timestamp = begin[user_of - first] + since_start
    # Ratings 1..5: higher within the user's tastes, as people rate what they like higher.
    liked = world.user_start[user_of, world.item_cluster[item]] > 0
    rating = np.clip(np.round(rng.normal(3.2 + 0.9 * liked, 0.9)), 1, 5).astype(np.float32)
    return Ratings(
        user_id=(user_of + 1).astype(np.int64),
        item_id=(item + 1).astype(np.int64),
        rating=rating,
        timestamp=timestamp.astype(np.int64),
    )


def generate_chunks(config: SynthConfig, world: World | None = None) -> Iterator[Ratings]:
    """The dataset in user chunks (bounded memory); the same for a seed, whatever the reader."""
    world = world or build_world(config)
    for first in range(0, config.users, USERS_PER_CHUNK):
        yield _chunk(config, world, first, min(first + USERS_PER_CHUNK, config.users))


def generate(config: SynthConfig) -> Ratings:
    """The whole dataset in memory (tests and small sizes)."""
    chunks = list(generate_chunks(config))
    out = chunks[0]
    for chunk in chunks[1:]:
        out = out.concat(chunk)
    return out


def planted_truth(config: SynthConfig) -> World:
    """The tastes and clusters the generator planted, for checks against learned models."""
    return build_world(config)


def write_synthetic(
    config: SynthConfig, output: Path, file_format: str | None = None
) -> dict[str, object]:
    """Write the dataset to ``output`` (.csv or .parquet), chunk by chunk, with progress."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from recs_ml.data.processed import ratings_table
    from recs_ml.progress import progress

    output = Path(output)
    fmt = file_format or output.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise SynthError(f"{output}: unknown format {fmt!r}; use a .csv or .parquet file name")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".part")
    world = build_world(config)
    written = 0
    writer: Any = None
    with (
        open(partial, "wb") as handle,
        progress("synth ratings", total=int(world.user_count.sum()), unit="ratings") as bar,
    ):
        try:
            for chunk in generate_chunks(config, world):
                table = ratings_table(chunk)
                if writer is None and fmt == "csv":
                    handle.write((",".join(table.schema.names) + "\n").encode())
                    options = pacsv.WriteOptions(include_header=False)
                    writer = pacsv.CSVWriter(handle, table.schema, write_options=options)
                elif writer is None:
                    writer = pq.ParquetWriter(handle, table.schema)
                writer.write_table(table)
                written += len(chunk)
                bar.advance(len(chunk))
        finally:
            if writer is not None:
                writer.close()
    partial.replace(output)
    return {
        "output": str(output),
        "format": fmt,
        "ratings": written,
        "users": config.users,
        "items": config.items,
        "seed": config.seed,
    }
