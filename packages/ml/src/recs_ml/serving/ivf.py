"""The IVF layout of an approximate top-k index, built with NumPy at export, seeded: k-means
centroids split the item vectors into ``nlist`` inverted lists, stored as one contiguous array
in list order (``order`` maps a position to its catalog index; ``offsets`` delimit the lists),
and ``nprobe`` tuned to a target recall. :mod:`recs_ml.serving.ann` searches it with
TensorFlow ops inside the SavedModel.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from recs_ml.progress import progress

# Catalog size from which the exported retrieval searches an index instead of every item.
DEFAULT_THRESHOLD = 100_000
# Items per block of a list: a probe copies whole blocks; a list wastes under one block.
DEFAULT_BLOCK = 64
# nprobe is the smallest that reaches this recall@10 against exact search at export.
DEFAULT_TARGET_RECALL = 0.97
K = 10


class IndexBuildError(ValueError):
    """Index parameters or inputs that cannot build an index."""


@dataclass(frozen=True)
class IvfParameters:
    """What the manifest records about one index."""

    kind: str
    items: int
    dim: int
    nlist: int
    nprobe: int
    iterations: int
    sample: int
    seed: int
    target_recall: float
    tuned_recall: float
    tuning_queries: int
    build_s: float
    largest_list: int
    empty_lists: int

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


@dataclass
class IvfLayout:
    """The NumPy side of an index: centroids and the items in list order."""

    centroids: np.ndarray  # float32 [nlist, d]
    offsets: np.ndarray  # int64 [nlist + 1]; list j holds positions offsets[j]:offsets[j+1]
    order: np.ndarray  # int64 [items]; position -> row of the indexed vectors
    vectors: np.ndarray  # float32 [items, d] in list order

    @property
    def nlist(self) -> int:
        return int(self.centroids.shape[0])


def default_nlist(items: int) -> int:
    """About 4·sqrt(items) lists as a power of two (1M items -> 4096), at most items // 8.

    Short lists keep a probe's read small: the latency is the items gathered per query."""
    if items < 16:
        return 1
    lists = 2 ** round(math.log2(4 * math.sqrt(items)))
    return int(max(1, min(lists, items // 8)))


def _nearest(
    vectors: np.ndarray, centroids: np.ndarray, advance: Callable[[int], None] | None = None
) -> np.ndarray:
    """Index of the closest centroid (L2) for each vector, in chunks to bound memory."""
    half_norms = 0.5 * np.einsum("ij,ij->i", centroids, centroids)
    chunk = max(256, 2**22 // len(centroids))  # a 16 MiB score block
    out = np.empty(len(vectors), dtype=np.int64)
    for start in range(0, len(vectors), chunk):
        block = vectors[start : start + chunk]
        # argmin |x - c|^2 = argmax x.c - |c|^2 / 2
        out[start : start + chunk] = np.argmax(block @ centroids.T - half_norms, axis=1)
        if advance is not None:
            advance(len(block))
    return out


def kmeans(
    vectors: np.ndarray,
    lists: int,
    iterations: int,
    seed: int,
    advance: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means (L2), seeded; an emptied centroid restarts at a random vector.

    Returns the centroids and the assignment of ``vectors`` to them.
    """
    rng = np.random.default_rng(seed)
    centroids = vectors[rng.choice(len(vectors), lists, replace=False)].copy()
    assignment = np.zeros(len(vectors), dtype=np.int64)
    for _ in range(iterations):
        assignment = _nearest(vectors, centroids)
        counts = np.bincount(assignment, minlength=lists)
        sums = np.zeros_like(centroids, dtype=np.float64)
        _sum_rows(sums, assignment, vectors)
        filled = counts > 0
        centroids[filled] = (sums[filled] / counts[filled, None]).astype(np.float32)
        empty = np.flatnonzero(~filled)
        if len(empty):
            centroids[empty] = vectors[rng.choice(len(vectors), len(empty), replace=False)]
        if advance is not None:
            advance(1)
    return centroids.astype(np.float32), assignment


def _sum_rows(sums: np.ndarray, assignment: np.ndarray, vectors: np.ndarray) -> None:
    """sums[j] += the vectors assigned to j, via one sort (np.add.at is slow on big inputs)."""
    order = np.argsort(assignment, kind="stable")
    keys = assignment[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sums[keys[starts]] += np.add.reduceat(vectors[order].astype(np.float64), starts, axis=0)


def build_layout(
    vectors: np.ndarray,
    nlist: int | None = None,
    *,
    iterations: int = 8,
    sample_per_list: int = 32,
    seed: int = 0,
) -> IvfLayout:
    """Train centroids on a sample of ``vectors`` [items, d], assign every item, lay out."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) == 0:
        raise IndexBuildError(
            f"item vectors must be a non-empty [items, d] matrix, got shape {vectors.shape}"
        )
    if not np.isfinite(vectors).all():
        raise IndexBuildError("item vectors contain NaN or infinity; the model did not train")
    items = len(vectors)
    lists = default_nlist(items) if nlist is None else nlist
    if not 1 <= lists <= items:
        raise IndexBuildError(f"nlist must be between 1 and the {items} items, got {lists}")
    if iterations < 1:
        raise IndexBuildError(f"k-means needs at least one iteration, got {iterations}")
    rng = np.random.default_rng(seed)
    size = min(items, max(lists, sample_per_list * lists))
    sample = vectors[np.sort(rng.choice(items, size, replace=False))] if size < items else vectors
    with progress(f"index k-means ({lists} lists)", total=iterations, unit="iterations") as bar:
        centroids, _ = kmeans(sample, lists, iterations, seed, bar.advance)
    with progress("index assignment", total=items, unit="items") as bar:
        assignment = _nearest(vectors, centroids, bar.advance)
    order = np.argsort(assignment, kind="stable").astype(np.int64)
    counts = np.bincount(assignment, minlength=lists)
    offsets = np.r_[0, np.cumsum(counts)].astype(np.int64)
    return IvfLayout(centroids, offsets, order, vectors[order])


def search_layout(layout: IvfLayout, queries: np.ndarray, nprobe: int, k: int = K) -> np.ndarray:
    """NumPy IVF search (what the TensorFlow index computes): rows of ``order`` positions."""
    probes = np.argsort(-(queries @ layout.centroids.T), axis=1, kind="stable")[:, :nprobe]
    out = np.full((len(queries), k), -1, dtype=np.int64)
    for row, lists in enumerate(probes):
        positions = np.concatenate(
            [np.arange(layout.offsets[j], layout.offsets[j + 1]) for j in lists]
        )
        scores = layout.vectors[positions] @ queries[row]
        best = positions[np.argsort(-scores, kind="stable")[:k]]
        out[row, : len(best)] = layout.order[best]
    return out


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int = K) -> np.ndarray:
    """Exact top-k rows of ``vectors`` for each query, 64 queries at a time."""
    out = []
    for start in range(0, len(queries), 64):
        scores = queries[start : start + 64] @ vectors.T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        out.append(top)
    return np.concatenate(out)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    return hits / truth.size


def tune_nprobe(
    layout: IvfLayout, vectors: np.ndarray, queries: np.ndarray, target: float
) -> tuple[int, float]:
    """Smallest nprobe reaching ``target`` recall@10, to within 1/16 of it.

    Powers of two find a bracket (p/2 misses, p reaches); bisection then narrows it in steps
    of p/16: work per request grows with nprobe, and the next power of two can scan nearly
    twice the items the target needs.
    """
    k = min(K, len(vectors))
    truth = exact_top(vectors, queries, k)

    def measured(nprobe: int) -> float:
        return recall(search_layout(layout, queries, nprobe, k), truth)

    nprobe, found = 1, measured(1)
    while found < target and nprobe < layout.nlist:
        nprobe = min(nprobe * 2, layout.nlist)
        found = measured(nprobe)
    if found < target:
        return nprobe, found
    step = max(1, nprobe // 16)
    low = nprobe // 2  # misses the target (or is 0)
    while nprobe - low > step:
        middle = low + (nprobe - low) // 2
        middle_found = measured(middle)
        if middle_found >= target:
            nprobe, found = middle, middle_found
        else:
            low = middle
    return nprobe, found


def build_ivf(
    vectors: np.ndarray,
    queries: np.ndarray,
    *,
    nlist: int | None = None,
    nprobe: int | None = None,
    target_recall: float = DEFAULT_TARGET_RECALL,
    iterations: int = 8,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> tuple[IvfLayout, IvfParameters]:
    """Layout plus ``nprobe`` tuned on ``queries`` (user vectors) unless one is given."""
    if not 0.0 < target_recall <= 1.0:
        raise IndexBuildError(f"target recall must be in (0, 1], got {target_recall}")
    begin = time.perf_counter()
    layout = build_layout(vectors, nlist, iterations=iterations, seed=seed)
    queries = np.asarray(queries, dtype=np.float32)
    if nprobe is None:
        if len(queries) == 0:
            raise IndexBuildError("tuning nprobe needs at least one query vector")
        nprobe, tuned = tune_nprobe(layout, vectors, queries, target_recall)
    else:
        if not 1 <= nprobe <= layout.nlist:
            raise IndexBuildError(
                f"nprobe must be between 1 and nlist={layout.nlist}, got {nprobe}"
            )
        tuned = (
            recall(
                search_layout(layout, queries, nprobe, min(K, len(vectors))),
                exact_top(vectors, queries, min(K, len(vectors))),
            )
            if len(queries)
            else float("nan")
        )
    sizes = np.diff(layout.offsets)
    parameters = IvfParameters(
        kind="ivf",
        items=int(len(vectors)),
        dim=int(vectors.shape[1]),
        nlist=layout.nlist,
        nprobe=int(nprobe),
        iterations=iterations,
        sample=int(min(len(vectors), max(layout.nlist, 32 * layout.nlist))),
        seed=seed,
        target_recall=target_recall,
        tuned_recall=round(float(tuned), 4),
        tuning_queries=int(len(queries)),
        build_s=round(time.perf_counter() - begin, 2),
        largest_list=int(sizes.max()),
        empty_lists=int((sizes == 0).sum()),
    )
    log(
        f"index: IVF nlist={parameters.nlist} nprobe={parameters.nprobe} over "
        f"{parameters.items:,} items, recall@10 {parameters.tuned_recall} on "
        f"{parameters.tuning_queries} queries, built in {parameters.build_s} s"
    )
    return layout, parameters


def blocked_layout(layout: IvfLayout, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lists cut into fixed-size blocks so a probe gathers whole blocks (memcpy, not rows).

    Returns ``vectors`` [blocks + 1, block, d], ``items`` [blocks + 1, block] (the catalog
    index of each slot, ``order + 1``; 0 = empty slot) and ``list_blocks`` [nlist + 1]
    (list j holds blocks ``list_blocks[j]:list_blocks[j + 1]``). Block 0 is empty: it pads
    a query's block list to the batch's widest.
    """
    sizes = np.diff(layout.offsets)
    per_list = -(-sizes // block)  # ceil; an empty list has no block
    list_blocks = np.r_[1, 1 + np.cumsum(per_list)].astype(np.int64)
    total = int(list_blocks[-1])
    dim = layout.vectors.shape[1]
    vectors = np.zeros((total, block, dim), dtype=np.float32)
    items = np.zeros((total, block), dtype=np.int64)
    # Slot of each position: its list's first block, then row-major within that list.
    lists = np.repeat(np.arange(layout.nlist), sizes)
    within = np.arange(len(layout.order)) - layout.offsets[lists]
    slots = list_blocks[lists] * block + within
    vectors.reshape(-1, dim)[slots] = layout.vectors
    items.reshape(-1)[slots] = layout.order + 1
    return vectors, items, list_blocks
