"""Multi-worker training: ``tf.distribute.MultiWorkerMirroredStrategy`` driven by TF_CONFIG.

On SageMaker every training instance runs the same training step; TF_CONFIG is built from
SageMaker's ``SM_HOSTS`` (every instance's host name) and ``SM_CURRENT_HOST``. Locally,
``recs train --workers N`` starts N processes of the same step with a TF_CONFIG naming N
127.0.0.1 ports, so the code path is the one SageMaker runs.

The hyperparameter ``batch_size`` is the *global* batch: each of the N workers takes
``batch_size / N`` examples per step and the gradients are all-reduced, so a run with N
workers sees the same batches of the same size as one worker and keeps its learning rate
(no linear scaling needed: the global batch does not grow with N). Worker 0 is the chief:
it writes the artifact; the others export to a scratch directory that is deleted.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

# The port each SageMaker training instance's worker listens on (any free port works: every
# instance runs only this job).
SAGEMAKER_WORKER_PORT = 2222


class DistributedError(ValueError):
    """A worker count or cluster description that cannot run."""


def tf_config_from_sagemaker(
    env: Mapping[str, str] | None = None, port: int = SAGEMAKER_WORKER_PORT
) -> dict[str, Any] | None:
    """TF_CONFIG for this SageMaker training instance, or None on a single instance (or
    outside SageMaker): ``worker`` = every host of ``SM_HOSTS`` in order, ``index`` = the
    position of ``SM_CURRENT_HOST`` (the first host is the chief)."""
    env = os.environ if env is None else env
    if "SM_HOSTS" not in env:
        return None
    try:
        hosts = json.loads(env["SM_HOSTS"])
    except json.JSONDecodeError:
        raise DistributedError(f"SM_HOSTS={env['SM_HOSTS']!r} is not a JSON list") from None
    if not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts):
        raise DistributedError(f"SM_HOSTS={env['SM_HOSTS']!r}: expected a list of host names")
    current = env.get("SM_CURRENT_HOST", "")
    if current not in hosts:
        raise DistributedError(f"SM_CURRENT_HOST={current!r} is not one of SM_HOSTS {hosts}")
    if len(hosts) == 1:
        return None
    return cluster_config([f"{host}:{port}" for host in hosts], hosts.index(current))


def cluster_config(workers: list[str], index: int) -> dict[str, Any]:
    if not 0 <= index < len(workers):
        raise DistributedError(f"worker index {index} is outside 0..{len(workers) - 1}")
    return {"cluster": {"worker": list(workers)}, "task": {"type": "worker", "index": index}}


def worker_count(env: Mapping[str, str] | None = None) -> tuple[int, int]:
    """(number of workers, this worker's index) from TF_CONFIG; (1, 0) without one."""
    env = os.environ if env is None else env
    raw = env.get("TF_CONFIG")
    if not raw:
        return 1, 0
    try:
        config = json.loads(raw)
        workers = config["cluster"]["worker"]
        index = int(config["task"]["index"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise DistributedError(
            f"TF_CONFIG={raw!r}: expected cluster.worker (a list) and task.index"
        ) from None
    return len(workers), index


def multi_worker_strategy() -> Any | None:
    """The strategy for this process when TF_CONFIG names several workers, else None.
    Create it before any other TensorFlow op (TensorFlow requires that)."""
    count, _ = worker_count()
    if count < 2:
        return None
    import tensorflow as tf

    return tf.distribute.MultiWorkerMirroredStrategy()


def check_global_batch(batch_size: int, workers: int) -> int:
    """The per-worker batch of a global ``batch_size``; it must divide evenly."""
    if batch_size % workers:
        raise DistributedError(
            f"batch_size={batch_size} (the global batch) must be a multiple of the "
            f"{workers} workers: each takes an equal share of every step"
        )
    return batch_size // workers


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 (the OS picks them)."""
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
    return ports


def run_local_workers(
    workers: int, step_args: list[str], model_dir: Path, log_dir: Path
) -> list[int]:
    """Run ``python -m recs_ml.pipeline.steps.train STEP_ARGS`` as ``workers`` processes on
    127.0.0.1 with their TF_CONFIG; worker 0 (the chief) writes ``model_dir``. Returns their exit
    codes; worker i's output is in ``log_dir/worker-i.log`` (the chief's is echoed)."""
    if not 1 <= workers <= 64:
        raise DistributedError(f"--workers {workers}: expected 1 to 64")
    log_dir.mkdir(parents=True, exist_ok=True)
    addresses = [f"127.0.0.1:{port}" for port in free_ports(workers)]
    processes = []
    for index in range(workers):
        env = dict(os.environ)
        env["TF_CONFIG"] = json.dumps(cluster_config(addresses, index))
        command = [
            sys.executable,
            "-m",
            "recs_ml.pipeline.steps.train",
            *step_args,
            "--model-dir",
            str(model_dir),
        ]
        log = open(log_dir / f"worker-{index}.log", "w", encoding="utf-8")  # noqa: SIM115
        processes.append(
            (subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT), log)
        )
    import time

    # A worker that fails leaves the others waiting in a collective: stop them too.
    while any(process.poll() is None for process, _ in processes):
        if any(process.poll() not in (None, 0) for process, _ in processes):
            for process, _ in processes:
                if process.poll() is None:
                    process.terminate()
        time.sleep(0.5)
    for _, log in processes:
        log.close()
    return [int(process.returncode) for process, _ in processes]
