"""Local endpoint latency and throughput: `recs serve` over loopback vs the in-process SavedModel.

Serves the newest registered artifact of RECS_HOME (the real model when a pipeline has
registered one), else a stand-in exported here with the serving signature over the full
MovieLens catalog (64-d item embeddings, history-mean user vector, top-k). Measures one
request's p50/p99 latency (k=10) and rows/s at batch sizes 1, 32 and 256, each beside the same
call made in-process on the same SavedModel. Loopback only; every loop is bounded in time.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import requests  # noqa: E402
from common import argument_parser, markdown_table, percentiles, write_result  # noqa: E402

from recs_contracts.serving import Instance, request_body  # noqa: E402

CATALOG = 1682
HISTORY = 30
BATCHES = (1, 32, 256)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stand_in_artifact(root: Path) -> Path:
    """The serving signature over the full catalog, with random (untrained) embeddings."""
    import tensorflow as tf

    from recs_ml.serving.artifact import Manifest, write_manifest
    from recs_ml.serving.signature import SIGNATURE, SIGNATURE_NAME

    class StandIn(tf.Module):
        def __init__(self) -> None:
            super().__init__()
            rng = np.random.default_rng(0)
            self.embeddings = tf.Variable(rng.normal(size=(CATALOG + 1, 64)).astype("float32"))
            self.items = tf.range(1, CATALOG + 1, dtype=tf.int64)

        @tf.function(input_signature=SIGNATURE)
        def serve(self, user_id, history, exclude, k):
            user = tf.reduce_mean(tf.gather(self.embeddings, history), axis=1)
            scores = tf.matmul(user, self.embeddings[1:], transpose_b=True)
            banned = tf.concat([history, exclude], axis=1)
            hit = tf.reduce_any(tf.equal(banned[:, :, None], self.items[None, None, :]), axis=1)
            scores = tf.where(hit, tf.fill(tf.shape(scores), -1e9), scores)
            top = tf.math.top_k(scores, k=tf.reduce_max(k))
            return {"item_ids": tf.gather(self.items, top.indices), "scores": top.values}

    for name in ("tfrs", "mostpop"):
        module = StandIn()
        tf.saved_model.save(
            module, str(root / name / "1"), signatures={SIGNATURE_NAME: module.serve}
        )
    write_manifest(
        root,
        Manifest(
            model_name="recs-movielens",
            default_model="tfrs",
            models=["tfrs", "mostpop"],
            data_checksum="stand-in",
        ),
    )
    return root


def newest_registered(home: Path) -> Path | None:
    from recs_ml.ops.registry import Registry

    registry_db = home / "registry.db"
    if not registry_db.is_file():
        return None
    versions = Registry(registry_db).versions()
    return versions[-1].tarball if versions else None


def body(batch: int, rng: np.random.Generator) -> dict:
    history = rng.integers(1, CATALOG + 1, size=(batch, HISTORY)).tolist()
    return request_body([Instance(user_id=0, history=h, k=10) for h in history])


def timed(call, seconds: float, max_calls: int) -> list[float]:
    call()  # warm-up
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(samples) < max_calls and time.perf_counter() < deadline:
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def start_endpoint(scratch: Path) -> tuple[subprocess.Popen, str]:
    """`recs serve` on a free loopback port, once it answers /ping (its log in scratch)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(scratch / "endpoint.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "recs_ml.cli.main", "serve", "--port", str(port)],
            env={**os.environ},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/ping", timeout=2).status_code == 200:
                break
        except requests.RequestException:  # bound but still loading in the worker
            time.sleep(0.5)
    else:
        stop_endpoint(process)
        raise SystemExit("endpoint did not come up: " + (scratch / "endpoint.log").read_text())
    return process, url


def stop_endpoint(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def measure_batch(
    session: requests.Session,
    url: str,
    loaded: Any,
    payload: dict,
    *,
    seconds: float,
    max_calls: int,
) -> dict[str, float]:
    """One batch size over HTTP and in-process: latency percentiles and rows/s."""
    from recs_ml.serving.endpoint.model import parse_request

    encoded = json.dumps(payload)
    parsed = parse_request(payload)
    batch = len(payload["instances"])

    def http() -> None:
        response = session.post(
            url + "/invocations",
            data=encoded,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        response.raise_for_status()

    def inproc() -> None:
        loaded.predict("tfrs", parsed)

    http_s = timed(http, seconds, max_calls)
    local_s = timed(inproc, seconds, max_calls)
    http_p, local_p = percentiles(http_s), percentiles(local_s)
    return {
        "http_p50_ms": http_p["p50"] * 1000,
        "http_p99_ms": http_p["p99"] * 1000,
        "http_rows_per_s": batch * len(http_s) / sum(http_s),
        "inprocess_p50_ms": local_p["p50"] * 1000,
        "inprocess_p99_ms": local_p["p99"] * 1000,
        "inprocess_rows_per_s": batch * len(local_s) / sum(local_s),
        "requests": len(http_s),
    }


def concurrent_requests_per_s(url: str, encoded: str, seconds: float, clients: int = 4) -> float:
    """Requests/s of ``clients`` loopback clients posting ``encoded`` for ``seconds``."""
    counts = [0] * clients
    stop_at = time.perf_counter() + seconds

    def client(index: int) -> None:
        own = requests.Session()
        while time.perf_counter() < stop_at:
            own.post(
                url + "/invocations",
                data=encoded,
                headers={"Content-Type": "application/json"},
                timeout=30,
            ).raise_for_status()
            counts[index] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started)


def render_markdown(model_kind: str, figures: dict[str, Any]) -> str:
    rows = [
        [
            batch,
            *(
                figures[f"batch_{batch}"][key]
                for key in (
                    "http_p50_ms",
                    "http_p99_ms",
                    "http_rows_per_s",
                    "inprocess_p50_ms",
                    "inprocess_p99_ms",
                    "inprocess_rows_per_s",
                )
            ),
        ]
        for batch in BATCHES
    ]
    return "\n".join(
        [
            "## Local endpoint (`recs serve`, gunicorn gthread, loopback)",
            "",
            f"Model: {model_kind}; k = 10, history of {HISTORY} items. Reference: the same "
            "SavedModel signature called in-process.",
            "",
            markdown_table(
                [
                    "batch",
                    "HTTP p50 ms",
                    "HTTP p99 ms",
                    "HTTP rows/s",
                    "in-process p50 ms",
                    "in-process p99 ms",
                    "in-process rows/s",
                ],
                rows,
            ),
            "",
            "4 concurrent clients at batch 1: "
            f"{figures['concurrent_4_clients_batch_1_rps']:.0f} requests/s.",
        ]
    )


def main() -> None:
    args = argument_parser(__doc__ or "").parse_args()
    seconds = 3.0 if args.quick else 10.0
    max_calls = 300 if args.quick else 2000
    real_home = Path(os.environ.get("RECS_HOME", Path(__file__).resolve().parents[1] / ".recs"))
    scratch = Path(tempfile.mkdtemp(prefix="recs-bench-endpoint-"))
    process = None
    try:
        os.environ["RECS_HOME"] = str(scratch / "home")
        from recs_ml.ops.registry import Registry
        from recs_ml.settings import get_settings

        get_settings.cache_clear()
        source = newest_registered(real_home)
        model_kind = "registered artifact" if source else "stand-in (random 64-d embeddings)"
        artifact = source or stand_in_artifact(scratch / "artifact")
        registry = Registry()
        package = registry.approve(registry.register(artifact).version)

        from recs_ml.serving.endpoint.model import load_version

        loaded = load_version(
            package.tarball, scratch / "inproc", group=package.group, version=package.version
        )
        process, url = start_endpoint(scratch)

        rng = np.random.default_rng(1)
        session = requests.Session()
        figures: dict[str, Any] = {"model": model_kind, "seconds_per_measurement": seconds}
        for batch in BATCHES:
            figures[f"batch_{batch}"] = measure_batch(
                session, url, loaded, body(batch, rng), seconds=seconds, max_calls=max_calls
            )
        # Concurrency: 4 loopback clients at batch 1, the way the API calls the endpoint.
        figures["concurrent_4_clients_batch_1_rps"] = concurrent_requests_per_s(
            url, json.dumps(body(1, rng)), seconds
        )
        markdown = render_markdown(model_kind, figures)
        write_result("endpoint", figures, markdown)
        print(markdown)
    finally:
        if process is not None:
            stop_endpoint(process)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
