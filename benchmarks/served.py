"""The served path at catalog scale (``scale.py --served``): the exported SavedModel.

One synthetic catalog (scale.clustered_catalog) and a history-averaging retrieval model
(recs_ml.serving.ann.AverageHistoryScorer) are exported twice through recs_ml.serving.export:
once above the index threshold (IVF index inside the SavedModel) and once as the exact path.
Both are loaded with plain ``tf.saved_model.load`` as TF Serving does, and each request is one
user (3 rated items, k = 10) timed index, exact, faiss IVF-Flat, NumPy exact in turns of 25.
Recall@10 of the index is measured against the exact SavedModel's answers; faiss against NumPy
exact.
The indexed artifact is then registered, approved and served by ``recs serve`` on loopback.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from common import markdown_table, percentiles, rss_bytes, write_result
from scale import K, clustered_catalog, numpy_exact, recall_at_k

from recs_contracts.serving import Instance, request_body

HISTORY = 3
BLOCK = 25  # requests per turn of each path in the in-process timing
PORT_RANGE = range(18180, 18190)
MIB = 1024**2


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def histories(items: int, count: int, seed: int) -> np.ndarray:
    """``count`` users of ``HISTORY`` distinct catalog indices (1-based)."""
    rng = np.random.default_rng(seed)
    out = np.empty((count, HISTORY), dtype=np.int64)
    for row in range(count):
        out[row] = rng.choice(items, HISTORY, replace=False) + 1
    return out


def export(scorer: Any, item_ids: np.ndarray, users: dict[int, list[int]], *, index: bool,
           target: Path) -> tuple[Any, float, float]:  # fmt: skip
    """Export ``scorer`` as model ``tfrs``; (manifest, wall seconds, CPU seconds)."""
    from recs_ml.models.training import TrainedModels
    from recs_ml.serving.export import export_models

    trained = TrainedModels(
        item_ids=item_ids,
        user_histories=users,
        scorers={"tfrs": scorer},
        default_model="tfrs",
        hyperparameters={"model": "average-history", "history": HISTORY},
        chosen={},
        validation_metrics={"tfrs": {}},
    )
    wall, cpu = time.perf_counter(), cpu_seconds()
    manifest = export_models(
        trained,
        target,
        "synthetic",
        index_threshold=1 if index else len(item_ids) + 1,
        log=lambda line: print(f"  {line}", flush=True),
    )
    return manifest, time.perf_counter() - wall, cpu_seconds() - cpu


def directory_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / MIB


def ask_model(signature: Any, item_ids: np.ndarray, history: np.ndarray) -> Any:
    """One user's request (catalog indices ``history``) to a loaded serving signature."""
    import tensorflow as tf

    return signature(
        user_id=tf.zeros([1], tf.int64),
        history=tf.constant(item_ids[history - 1][None, :]),
        exclude=tf.zeros([1, 1], tf.int64),
        k=tf.constant([K], tf.int32),
    )


def peak_rss_mib(pid: int) -> float:
    """Peak RSS of a process and its children (the gunicorn worker holds the model)."""
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(c) for c in (task / "children").read_text().split()]
    except OSError:
        pass
    peak = 0
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak / 1024


def serve_over_http(
    artifact_dir: Path, scratch: Path, ids: np.ndarray, latency: np.ndarray
) -> dict[str, float]:
    """Register + approve the artifact in a scratch RECS_HOME, `recs serve`, time requests."""
    import requests

    from recs_ml.serving.artifact import pack

    home = scratch / "home"
    env = {**os.environ, "RECS_HOME": str(home)}
    tarball = pack(artifact_dir, scratch / "model.tar.gz")
    register = (
        "from recs_ml.ops.registry import Registry; r = Registry(); "
        f"r.approve(r.register({str(tarball)!r}).version)"
    )
    subprocess.run([sys.executable, "-c", register], env=env, check=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = scratch / "endpoint.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "recs_ml.cli.main", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        started = time.perf_counter()
        deadline = time.monotonic() + 900
        while True:
            try:
                if requests.get(url + "/ping", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("endpoint did not come up:\n" + log_path.read_text()[-3000:])
            time.sleep(0.5)
        load_s = time.perf_counter() - started
        session = requests.Session()
        samples = []
        bodies = [
            json.dumps(request_body([Instance(user_id=0, history=ids[h].tolist(), k=K)]))
            for h in latency - 1
        ]
        for body in [bodies[0], *bodies]:
            begin = time.perf_counter()
            response = session.post(
                url + "/invocations",
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
            samples.append(time.perf_counter() - begin)
            response.raise_for_status()
        timed = percentiles(samples[1:])
        return {
            "http_p50_ms": timed["p50"] * 1000,
            "http_p99_ms": timed["p99"] * 1000,
            "endpoint_load_s": load_s,
            "endpoint_peak_rss_mib": peak_rss_mib(process.pid),
        }
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def free_port() -> int:
    import socket

    for port in PORT_RANGE:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port in {PORT_RANGE.start}-{PORT_RANGE.stop - 1}")


def index_recall(ivf: Any, exact: Any, item_ids: np.ndarray, asked: np.ndarray) -> float:
    """Recall@K of the served index against the exact SavedModel, 16 users per call."""
    import tensorflow as tf

    found, truth = [], []
    for start in range(0, len(asked), 16):
        batch = asked[start : start + 16]
        ask = {
            "user_id": tf.zeros([len(batch)], tf.int64),
            "history": tf.constant(item_ids[batch - 1]),
            "exclude": tf.zeros([len(batch), 1], tf.int64),
            "k": tf.fill([len(batch)], K),
        }
        found.append(ivf(**ask)["item_ids"].numpy()[:, :K])
        truth.append(exact(**ask)["item_ids"].numpy()[:, :K])
    return recall_at_k(np.concatenate(found), np.concatenate(truth))


def served_markdown(figures: dict[str, Any]) -> str:
    """The RESULTS.md section of one --served run."""
    items, dim, index = figures["items"], figures["dim"], figures["index"]
    latency_queries, queries = figures["latency_queries"], figures["queries"]
    return (
        f"## Served top-{K} at {items:,} synthetic items (d = {dim}): "
        "IVF index in the SavedModel\n\n"
        f"The exported model (`recs_ml.serving.ann`, TensorFlow ops only: "
        f"stock TF Serving loads it) "
        f"against the exact SavedModel of the same model, both loaded with "
        f"`tf.saved_model.load`; one user per request ({HISTORY} rated items, k = {K}), "
        f"{latency_queries} requests timed per path, the paths taking turns of {BLOCK} requests "
        f"(index, exact, faiss, NumPy); "
        f"recall@{K} over {queries} users against the exact SavedModel's answers (faiss: "
        f"against NumPy exact). Index: nlist={index['nlist']}, nprobe={index['nprobe']} "
        f"(tuned at export to recall ≥ {index['target_recall']} on 500 stored users), built "
        f"in {figures['index_build_s']} s wall / {figures['index_build_cpu_s']} s CPU. "
        f"Artifact {figures['artifact_mib']} MiB (exact: {figures['exact_artifact_mib']} MiB); "
        f"`recs serve` peak RSS {figures['endpoint_peak_rss_mib']} MiB. "
        f"{figures['threads']} threads, shared machine.\n\n"
        + markdown_table(
            ["path", "p50 ms", "p99 ms", "recall@10"],
            [
                [
                    "IVF SavedModel, in-process",
                    figures["p50_ms"],
                    figures["p99_ms"],
                    figures["recall_at_10"],
                ],
                [
                    "IVF SavedModel, HTTP `recs serve`",
                    figures["http_p50_ms"],
                    figures["http_p99_ms"],
                    figures["recall_at_10"],
                ],
                [
                    "exact SavedModel, in-process",
                    figures["exact_p50_ms"],
                    figures["exact_p99_ms"],
                    1.0,
                ],
                [
                    f"faiss IVF-Flat nprobe={index['nprobe']}",
                    figures["faiss_p50_ms"],
                    figures["faiss_p99_ms"],
                    figures["faiss_recall_at_10"],
                ],
                ["NumPy exact", figures["numpy_exact_p50_ms"], figures["numpy_exact_p99_ms"], 1.0],
            ],  # fmt: skip
        )
        + f"\n\nIndex vs exact SavedModel: {figures['speedup_p50']}× at p50, "
        f"{figures['speedup_p99']}× at p99.\n"
    )


def run_served(
    *,
    items: int,
    dim: int,
    clusters: int,
    queries: int,
    latency_queries: int,
    seed: int,
    json_path: Path | None,
) -> dict[str, Any]:
    import faiss
    import tensorflow as tf

    from recs_ml.serving.ann import AverageHistoryScorer

    faiss.omp_set_num_threads(len(os.sched_getaffinity(0)))
    print(f"served: {items:,} items x {dim}; {queries} queries", flush=True)
    vectors, _ = clustered_catalog(items, dim, clusters, 1, seed)
    item_ids = np.arange(1, items + 1, dtype=np.int64) * 7  # ids are not catalog indices
    asked = histories(items, queries, seed + 1)
    tuning = histories(items, 500, seed + 2)
    stored = {user: (item_ids[row - 1]).tolist() for user, row in enumerate(tuning, start=1)}
    scorer = AverageHistoryScorer(vectors, length=HISTORY)
    scratch = Path(tempfile.mkdtemp(prefix="recs-bench-served-"))
    try:
        print("export with the index ...", flush=True)
        rss_before = rss_bytes()
        manifest, build_s, build_cpu_s = export(
            scorer, item_ids, stored, index=True, target=scratch / "ivf"
        )
        print("export exact ...", flush=True)
        export(scorer, item_ids, stored, index=False, target=scratch / "exact")
        index = manifest.indexes["tfrs"]
        gc.collect()
        ivf = tf.saved_model.load(str(scratch / "ivf" / "tfrs" / "1")).signatures["serving_default"]
        exact = tf.saved_model.load(str(scratch / "exact" / "tfrs" / "1")).signatures[
            "serving_default"
        ]
        loaded_rss_mib = (rss_bytes() - rss_before) / MIB

        recall = index_recall(ivf, exact, item_ids, asked)

        # faiss IVF-Flat at the same nlist/nprobe, NumPy exact, on the same user vectors.
        users = vectors[asked - 1].mean(axis=1).astype(np.float32)
        quantizer = faiss.IndexFlatIP(dim)
        faiss_index = faiss.IndexIVFFlat(quantizer, dim, index["nlist"], faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(seed).choice(items, min(items, 32 * index["nlist"]), False)
        begin = time.perf_counter()
        faiss_index.train(vectors[np.sort(sample)])
        faiss_index.add(vectors)
        faiss_build_s = time.perf_counter() - begin
        faiss_index.nprobe = index["nprobe"]
        numpy_search = numpy_exact(vectors)
        numpy_truth = np.concatenate(
            [numpy_search(users[i : i + 64]) for i in range(0, queries, 64)]
        )
        faiss_recall = recall_at_k(faiss_index.search(users, K)[1], numpy_truth)

        timed = asked[:latency_queries]
        calls = {
            "ivf": partial(ask_model, ivf, item_ids),
            "exact": partial(ask_model, exact, item_ids),
            "faiss": lambda h: faiss_index.search(vectors[h - 1].mean(axis=0, keepdims=True), K),
            "numpy": lambda h: numpy_search(vectors[h - 1].mean(axis=0, keepdims=True)),
        }
        samples: dict[str, list[float]] = {name: [] for name in calls}
        for call in calls.values():  # warm-up: tracing, lazy allocations
            call(timed[0])
        # Paths take turns in blocks of BLOCK requests, not request by request: the exact
        # model streams the whole catalog through the caches on every call, which a process
        # serving one model never does; turns still spread the shared machine's noise evenly.
        for start in range(0, len(timed), BLOCK):
            for name, call in calls.items():
                for history in timed[start : start + BLOCK]:
                    begin = time.perf_counter()
                    call(history)
                    samples[name].append(time.perf_counter() - begin)
        ms = {name: {p: v * 1000 for p, v in percentiles(s).items()} for name, s in samples.items()}
        calls.clear()
        del ivf, exact
        gc.collect()

        print("recs serve over HTTP ...", flush=True)
        http = serve_over_http(scratch / "ivf", scratch, item_ids, timed)
        figures = {
            "items": items,
            "dim": dim,
            "queries": queries,
            "latency_queries": latency_queries,
            "k": K,
            "threads": len(os.sched_getaffinity(0)),
            "index": index,
            "recall_at_10": round(recall, 4),
            "p50_ms": round(ms["ivf"]["p50"], 3),
            "p99_ms": round(ms["ivf"]["p99"], 3),
            "exact_p50_ms": round(ms["exact"]["p50"], 3),
            "exact_p99_ms": round(ms["exact"]["p99"], 3),
            "speedup_p50": round(ms["exact"]["p50"] / ms["ivf"]["p50"], 2),
            "speedup_p99": round(ms["exact"]["p99"] / ms["ivf"]["p99"], 2),
            "http_p50_ms": round(http["http_p50_ms"], 3),
            "http_p99_ms": round(http["http_p99_ms"], 3),
            "faiss_recall_at_10": round(faiss_recall, 4),
            "faiss_p50_ms": round(ms["faiss"]["p50"], 3),
            "faiss_p99_ms": round(ms["faiss"]["p99"], 3),
            "faiss_build_s": round(faiss_build_s, 2),
            "numpy_exact_p50_ms": round(ms["numpy"]["p50"], 3),
            "numpy_exact_p99_ms": round(ms["numpy"]["p99"], 3),
            "index_build_s": round(build_s, 2),
            "index_build_cpu_s": round(build_cpu_s, 2),
            "artifact_mib": round(directory_mib(scratch / "ivf"), 1),
            "exact_artifact_mib": round(directory_mib(scratch / "exact"), 1),
            "loaded_rss_delta_mib": round(loaded_rss_mib, 1),
            "endpoint_peak_rss_mib": round(http["endpoint_peak_rss_mib"], 1),
            "endpoint_load_s": round(http["endpoint_load_s"], 2),
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(figures, indent=1), flush=True)
    label = f"{items // 1_000_000}m" if items % 1_000_000 == 0 else f"{items // 1000}k"
    markdown = served_markdown(figures)
    path = write_result(f"scale_served_{label}", figures, markdown, quick=False)
    print(f"wrote {path}")
    if json_path is not None:
        json_path.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"wrote {json_path}")
    return figures
