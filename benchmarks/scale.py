"""Scale: top-10 retrieval over a synthetic catalog of 1,000,000 items (d = 64, as the model).

Brute force the way the served model does it (TensorFlow matmul + top_k) against approximate
faiss indexes (IVF-Flat, IVF-SQ8, HNSW), each with build time, memory, single-query latency
p50/p99 and recall@10 against exact search. Every latency is measured interleaved with exact
NumPy top-k on the same query, and reported as a ratio to it, because the machine is shared.

    uv run --frozen --no-sync python benchmarks/scale.py [--quick] [--items N]

With ``--served`` it measures what the endpoint serves instead: the exported SavedModel with
its TensorFlow-ops IVF index (recs_ml.serving.ann) beside the exact SavedModel, both loaded the way
TF Serving loads them, plus faiss IVF-Flat at the same nlist/nprobe and NumPy exact search,
in-process and over HTTP through ``recs serve``:

    uv run --frozen --no-sync python benchmarks/scale.py --served --items N [--json FILE]
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    argument_parser,
    markdown_table,
    percentiles,
    release_freed_memory,
    rss_bytes,
    write_result,
)

# faiss and TensorFlow are imported once the arguments are checked: they take seconds to load
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# idle OpenMP (faiss) threads must sleep, not spin: on 2 cores spinning starves NumPy and TF
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

K = 10
MIB = 1024**2
Search = Callable[[np.ndarray], np.ndarray]  # queries [B, d] float32 -> item ids [B, K]


@dataclass
class Row:
    """One searcher's figures: a method at one setting of its search-time parameter."""

    method: str
    params: str
    build_s: float
    index_mib: float
    rss_delta_mib: float
    recall: float = 0.0
    latency_ms: dict[str, float] = field(default_factory=dict)
    reference_ms: dict[str, float] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.method} {self.params}".strip()

    def figures(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "params": self.params,
            "build_s": round(self.build_s, 3),
            "index_mib": round(self.index_mib, 1),
            "rss_delta_mib": round(self.rss_delta_mib, 1),
            "recall@10": round(self.recall, 4),
            "p50_ms": round(self.latency_ms["p50"], 4),
            "p99_ms": round(self.latency_ms["p99"], 4),
            "numpy_exact_p50_ms": round(self.reference_ms["p50"], 4),
            "speedup_vs_numpy_exact": round(self.reference_ms["p50"] / self.latency_ms["p50"], 3),
        }


def clustered_catalog(
    items: int, dim: int, clusters: int, queries: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Item and query vectors shaped like learned embeddings: tastes cluster, norms vary.

    Cluster sizes follow a Zipf-like law (a few big genres, many niches); item norms are
    log-normal (popular items get larger norms under a dot-product model); each query mixes
    one to three cluster centres, as a user's taste spans a few genres.
    """
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    weights = 1.0 / np.arange(1, clusters + 1) ** 0.8
    assignment = rng.choice(clusters, size=items, p=weights / weights.sum())
    noise_scale = np.float32(0.6 / math.sqrt(dim))
    vectors = np.empty((items, dim), dtype=np.float32)
    for start in range(0, items, 200_000):  # chunks keep the float temporaries small
        stop = min(start + 200_000, items)
        chunk = centres[assignment[start:stop]]
        chunk += noise_scale * rng.standard_normal((stop - start, dim), dtype=np.float32)
        chunk *= rng.lognormal(0.0, 0.25, size=(stop - start, 1)).astype(np.float32)
        vectors[start:stop] = chunk
    mix = rng.dirichlet(np.ones(3), size=queries).astype(np.float32)
    picks = rng.choice(clusters, size=(queries, 3), p=weights / weights.sum())
    users = np.einsum("qm,qmd->qd", mix, centres[picks])
    users += noise_scale * rng.standard_normal((queries, dim), dtype=np.float32)
    return vectors, np.ascontiguousarray(users, dtype=np.float32)


def numpy_exact(items: np.ndarray) -> Search:
    """Exact top-k: full scores, argpartition for the k best, then sort those k."""

    def search(queries: np.ndarray) -> np.ndarray:
        scores = queries @ items.T
        top = np.argpartition(-scores, K - 1, axis=1)[:, :K]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
        return np.take_along_axis(top, order, axis=1)

    return search


def exact_top_k(items: np.ndarray, queries: np.ndarray) -> np.ndarray:
    search = numpy_exact(items)
    # 64 queries at a time bound the score matrix to 64 x items floats
    return np.concatenate([search(queries[i : i + 64]) for i in range(0, len(queries), 64)])


def tensorflow_bruteforce(items: np.ndarray) -> Search:
    """What the served model does: scores = queries @ items^T, then tf.math.top_k."""
    import tensorflow as tf

    candidates = tf.constant(items)

    @tf.function(input_signature=[tf.TensorSpec([None, items.shape[1]], tf.float32)])
    def top_k(queries: tf.Tensor) -> tf.Tensor:
        scores = tf.linalg.matmul(queries, candidates, transpose_b=True)
        return tf.math.top_k(scores, k=K).indices

    def search(queries: np.ndarray) -> np.ndarray:
        return top_k(tf.constant(queries)).numpy()

    return search


def faiss_search(index: Any) -> Search:
    def search(queries: np.ndarray) -> np.ndarray:
        _, ids = index.search(queries, K)
        return ids

    return search


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    return hits / truth.size


def measure(
    search: Search,
    reference: Search,
    queries: np.ndarray,
    latency_queries: np.ndarray,
    truth: np.ndarray,
    row: Row,
) -> Row:
    """Recall over every evaluation query; latency one query at a time beside the reference."""
    found = np.concatenate(
        [search(queries[i : i + 256]) for i in range(0, len(queries), 256)]
    ).astype(np.int64)
    row.recall = recall_at_k(found, truth)
    search(latency_queries[:1])  # warm-up: graph tracing, lazy allocations
    reference(latency_queries[:1])
    own: list[float] = []
    ref: list[float] = []
    for query in latency_queries:
        one = query[None, :]
        begin = time.perf_counter()
        reference(one)
        ref.append(time.perf_counter() - begin)
        begin = time.perf_counter()
        search(one)
        own.append(time.perf_counter() - begin)
    row.latency_ms = {name: value * 1000 for name, value in percentiles(own).items()}
    row.reference_ms = {name: value * 1000 for name, value in percentiles(ref).items()}
    print(
        f"  {row.key:<34} recall@10 {row.recall:.4f}  p50 {row.latency_ms['p50']:8.3f} ms  "
        f"p99 {row.latency_ms['p99']:8.3f} ms  (numpy exact p50 {row.reference_ms['p50']:.3f} ms)",
        flush=True,
    )
    return row


def built(label: str, make: Callable[[], Any]) -> tuple[Any, float, float]:
    """Build something; return it with build seconds and resident-memory growth in MiB."""
    print(f"building {label} ...", flush=True)
    gc.collect()
    release_freed_memory()
    before = rss_bytes()
    begin = time.perf_counter()
    thing = make()
    seconds = time.perf_counter() - begin
    return thing, seconds, (rss_bytes() - before) / MIB


def ivf_lists(items: int) -> int:
    """About sqrt(items) inverted lists, rounded to a power of two (1M items -> 1024)."""
    return max(16, 2 ** round(math.log2(math.sqrt(items))))


def build_ivf(items: np.ndarray, lists: int, encoding: str, seed: int) -> Any:
    import faiss

    dim = items.shape[1]
    quantizer = faiss.IndexFlatIP(dim)
    index: Any
    if encoding == "flat":
        index = faiss.IndexIVFFlat(quantizer, dim, lists, faiss.METRIC_INNER_PRODUCT)
    else:
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, dim, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
    # 64 points per list train k-means well; more only costs build time
    sample = np.random.default_rng(seed).choice(len(items), min(len(items), 64 * lists), False)
    index.train(items[np.sort(sample)])
    index.add(items)
    return index


def build_hnsw(items: np.ndarray, neighbours: int, ef_construction: int) -> Any:
    import faiss

    index = faiss.IndexHNSWFlat(items.shape[1], neighbours, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    index.add(items)
    return index


def index_mib(index: Any) -> float:
    import faiss

    return float(faiss.serialize_index(index).nbytes) / MIB


def run(
    *, items: int, dim: int, clusters: int, queries: int, latency_queries: int, seed: int
) -> list[Row]:
    import faiss
    import tensorflow  # noqa: F401  loaded here so no build time or RSS delta includes it

    faiss.omp_set_num_threads(len(os.sched_getaffinity(0)))
    print(f"catalog: {items:,} items x {dim}, {clusters} clusters; {queries} queries", flush=True)
    catalog, users = clustered_catalog(items, dim, clusters, queries, seed)
    timed_users = users[:latency_queries]
    begin = time.perf_counter()
    truth = exact_top_k(catalog, users)
    print(f"exact ground truth in {time.perf_counter() - begin:.1f} s", flush=True)
    reference = numpy_exact(catalog)
    catalog_mib = catalog.nbytes / MIB
    rows: list[Row] = []

    def add(search: Search, row: Row) -> None:
        rows.append(measure(search, reference, users, timed_users, truth, row))

    add(reference, Row("numpy exact", "", 0.0, catalog_mib, 0.0))

    tf_search, seconds, grown = built("tensorflow", lambda: tensorflow_bruteforce(catalog))
    add(tf_search, Row("tensorflow matmul + top_k", "", seconds, catalog_mib, grown))
    del tf_search
    gc.collect()

    flat, seconds, grown = built("faiss flat", lambda: _flat(catalog))
    add(faiss_search(flat), Row("faiss flat (exact)", "", seconds, index_mib(flat), grown))
    del flat

    lists = ivf_lists(items)
    for encoding, label in (("flat", "faiss IVF-Flat"), ("sq8", "faiss IVF-SQ8")):
        ivf, seconds, grown = built(label, partial(build_ivf, catalog, lists, encoding, seed))
        size = index_mib(ivf)
        for probes in (4, 16, 64):
            ivf.nprobe = probes
            add(
                faiss_search(ivf),
                Row(label, f"nlist={lists} nprobe={probes}", seconds, size, grown),
            )
        del ivf
        gc.collect()

    hnsw, seconds, grown = built(
        "faiss HNSW", lambda: build_hnsw(catalog, neighbours=32, ef_construction=80)
    )
    size = index_mib(hnsw)
    for ef_search in (32, 128):
        hnsw.hnsw.efSearch = ef_search
        add(
            faiss_search(hnsw),
            Row("faiss HNSW", f"M=32 efSearch={ef_search}", seconds, size, grown),
        )
    del hnsw
    return rows


def _flat(catalog: np.ndarray) -> Any:
    import faiss

    index = faiss.IndexFlatIP(catalog.shape[1])
    index.add(catalog)
    return index


def report(rows: list[Row], setup: dict[str, Any]) -> tuple[dict[str, Any], str]:
    figures = {"setup": setup, "methods": {row.key: row.figures() for row in rows}}
    table = markdown_table(
        [
            "method",
            "parameters",
            "build s",
            "index MiB",
            "RSS Δ MiB",
            "p50 ms",
            "p99 ms",
            "× NumPy exact (p50)",
            "recall@10",
        ],
        [
            [
                row.method,
                row.params or "—",
                f"{row.build_s:.2f}",
                f"{row.index_mib:.0f}",
                f"{row.rss_delta_mib:.0f}",
                f"{row.latency_ms['p50']:.3f}",
                f"{row.latency_ms['p99']:.3f}",
                f"{row.reference_ms['p50'] / row.latency_ms['p50']:.2f}",
                f"{row.recall:.3f}",
            ]
            for row in rows
        ],
    )
    markdown = (
        f"## Scale: top-{K} over {setup['items']:,} synthetic items (d = {setup['dim']})\n\n"
        f"Clustered vectors ({setup['clusters']} clusters, Zipf-sized, log-normal norms), "
        f"inner-product search. Recall@{K} against exact search over {setup['queries']} "
        f"queries; latency for one query at a time over {setup['latency_queries']} queries, "
        f"each timed right after exact NumPy top-k on the same query "
        f"(× NumPy exact = its p50 / this p50; above 1 is faster). {setup['threads']} threads.\n\n"
        f"{table}\n"
    )
    return figures, markdown


def parse_arguments() -> tuple[argparse.Namespace, int, int, int]:
    """The command line, checked: (arguments, items, queries, latency queries)."""
    parser = argument_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--served",
        action="store_true",
        help="only the exported SavedModel (IVF index vs exact) in-process and over HTTP",
    )
    parser.add_argument("--json", type=Path, help="also write the --served figures to this file")
    parser.add_argument("--items", type=int, help="catalog size (default 1,000,000; quick 100,000)")
    parser.add_argument("--dim", type=int, default=64, help="embedding size (default 64)")
    parser.add_argument("--queries", type=int, help="recall queries (default 1000; quick 200)")
    parser.add_argument(
        "--latency-queries", type=int, help="queries timed one by one (default 300; quick 50)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    items = args.items or (100_000 if args.quick else 1_000_000)
    queries = args.queries or (200 if args.quick else 1000)
    latency_queries = args.latency_queries or (50 if args.quick else 300)
    if items < 1000:
        parser.error(
            f"--items must be at least 1000 (an IVF index needs lists to fill), got {items}"
        )
    if args.dim < 2:
        parser.error(f"--dim must be at least 2, got {args.dim}")
    if queries < 1 or latency_queries < 1:
        parser.error("--queries and --latency-queries must be at least 1")
    if args.json and not args.served:
        parser.error("--json goes with --served")
    return args, items, queries, min(latency_queries, queries)


def main() -> None:
    args, items, queries, latency_queries = parse_arguments()
    if args.served:
        from served import run_served

        run_served(
            items=items,
            dim=args.dim,
            clusters=max(10, items // 500),
            queries=queries,
            latency_queries=latency_queries,
            seed=args.seed,
            json_path=args.json,
        )
        return
    setup = {
        "items": items,
        "dim": args.dim,
        "clusters": max(10, items // 500),
        "queries": queries,
        "latency_queries": latency_queries,
        "k": K,
        "seed": args.seed,
        "threads": len(os.sched_getaffinity(0)),
    }
    rows = run(
        items=items,
        dim=args.dim,
        clusters=setup["clusters"],
        queries=queries,
        latency_queries=latency_queries,
        seed=args.seed,
    )
    figures, markdown = report(rows, setup)
    path = write_result("scale", figures, markdown, quick=args.quick)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
