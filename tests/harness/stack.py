"""The local stack of one RECS_HOME: endpoint, API and web page on loopback ports, the data
and the trained model version it serves."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.processes import (
    API,
    BIN,
    LOOPBACK,
    REPO,
    VITE,
    WEB,
    Service,
    StackError,
    free_port,
    run_checked,
    stack_env,
    tail,
)

# A fast but real training run on the full ML-100K: one epoch of a small tower, one EASE
# lambda, no ranker; baseline=0 so the condition step always registers (quality is measured
# by the benchmarks, not here).
FAST_PIPELINE_PARAMS = (
    "epochs=1",
    "embedding_dim=32",
    "history_length=10",
    "batch_size=4096",
    "ranker=off",
    "ease_lambdas=500",
    "baseline=0",
)


def endpoint_service(env: Mapping[str, str], port: int, log: Path, *args: str) -> Service:
    """``recs serve`` on ``port``; ``args`` are further options (``--threads 16``)."""
    argv = [str(BIN / "recs"), "serve", "--host", "127.0.0.1", "--port", str(port), *args]
    return Service(
        "endpoint", argv, cwd=REPO, env=env, log=log, ready_url=f"{LOOPBACK}:{port}/ping"
    )


def api_service(env: Mapping[str, str], port: int, log: Path) -> Service:
    """``chalice local`` on ``port``."""
    argv = [str(BIN / "chalice"), "local", "--no-autoreload", "--host", "127.0.0.1"]
    argv += ["--port", str(port)]
    return Service("api", argv, cwd=API, env=env, log=log, ready_url=f"{LOOPBACK}:{port}/health")


def web_service(env: Mapping[str, str], port: int, dist: Path, log: Path) -> Service:
    """``vite preview`` of the page built into ``dist``, on ``port``."""
    argv = [str(VITE), "preview", "--host", "127.0.0.1", "--port", str(port), "--strictPort"]
    argv += ["--outDir", str(dist)]
    return Service("web", argv, cwd=WEB, env=env, log=log, ready_url=f"{LOOPBACK}:{port}/")


@dataclass
class Ports:
    endpoint: int = field(default_factory=free_port)
    api: int = field(default_factory=free_port)
    web: int = field(default_factory=free_port)


@dataclass
class LocalStack:
    """``recs serve``, ``chalice local`` and (with a built page) ``vite preview`` of one
    RECS_HOME on loopback ports. Every process gets ``stack_env`` with the endpoint URL and
    the web origin of ``ports``, then ``extra_env`` on top."""

    home: Path
    ports: Ports = field(default_factory=Ports)
    extra_env: dict[str, str] = field(default_factory=dict)
    endpoint_args: Sequence[str] = ()
    logs: Path | None = None
    env: dict[str, str] = field(init=False)
    endpoint_server: Service = field(init=False)
    api_server: Service = field(init=False)
    web_server: Service | None = field(init=False, default=None)
    web_build: WebBuild | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.logs = self.logs or self.home / "logs"
        ports = {
            "RECS_ENDPOINT_URL": self.endpoint_url,
            "RECS_ENDPOINT_PORT": str(self.ports.endpoint),
            # CORS compares exact origins: the page is served from 127.0.0.1, never "localhost".
            "RECS_WEB_ORIGIN": self.web_url,
        }
        self.env = stack_env(self.home, **{**ports, **self.extra_env})
        self.endpoint_server = endpoint_service(
            self.env, self.ports.endpoint, self.logs / "endpoint.log", *self.endpoint_args
        )
        self.api_server = api_service(self.env, self.ports.api, self.logs / "api.log")

    @property
    def endpoint_url(self) -> str:
        return f"{LOOPBACK}:{self.ports.endpoint}"

    @property
    def api_url(self) -> str:
        return f"{LOOPBACK}:{self.ports.api}"

    @property
    def web_url(self) -> str:
        return f"{LOOPBACK}:{self.ports.web}"

    @property
    def store_path(self) -> Path:
        return self.home / "store.db"

    @property
    def registry_path(self) -> Path:
        return self.home / "registry.db"

    def start(self, web_dist: Path | None = None) -> LocalStack:
        """Endpoint and API together (the model load overlaps the API start), then the page."""
        self.endpoint_server.start(wait=False)
        self.api_server.start(timeout=120)
        self.endpoint_server.wait_ready(240)
        if web_dist is not None:
            self.start_web(web_dist)
        return self

    def start_web(self, dist: Path) -> None:
        assert self.logs is not None
        self.web_server = web_service(self.env, self.ports.web, dist, self.logs / "web.log")
        self.web_server.start(timeout=120)

    def build_web(self, out: Path) -> WebBuild:
        """Start building the page for this stack's API (``close`` stops an unfinished build)."""
        self.web_build = WebBuild(out).start(self.api_url)
        return self.web_build

    def recs(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """A ``recs`` command against this stack's home, its output captured."""
        return subprocess.run(
            [str(BIN / "recs"), *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def close(self) -> None:
        if self.web_build is not None:
            self.web_build.kill()
        for service in (self.web_server, self.api_server, self.endpoint_server):
            if service is not None:
                service.stop()


class WebBuild:
    """``vite build`` into ``out`` with VITE_API_URL baked in, in the background."""

    def __init__(self, out: Path) -> None:
        if not VITE.exists():
            raise StackError("packages/web/node_modules is missing; run scripts/setup.sh first")
        self.out = out
        self.log = out.parent / f"{out.name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, api_url: str) -> WebBuild:
        argv = [str(VITE), "build", "--logLevel", "warn", "--outDir", str(self.out)]
        with open(self.log, "wb") as handle:
            self.process = subprocess.Popen(
                [*argv, "--emptyOutDir"],
                cwd=WEB,
                env={**os.environ, "VITE_API_URL": api_url},
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        return self

    def wait(self, timeout: float = 300.0) -> Path:
        assert self.process is not None
        code = self.process.wait(timeout)
        if code != 0 or not (self.out / "index.html").is_file():
            raise StackError(
                f"vite build exited {code}; last lines of {self.log}:\n{tail(self.log)}"
            )
        return self.out

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@contextmanager
def scratch_stack(prefix: str, **options: Any) -> Iterator[LocalStack]:
    """A ``LocalStack`` (``options``) in a new temporary RECS_HOME, for a script such as a
    benchmark: a stack that cannot be set up ends the script with the reason; its processes
    and its home are gone afterwards."""
    stack = LocalStack(Path(tempfile.mkdtemp(prefix=prefix)), **options)
    try:
        yield stack
    except StackError as error:
        raise SystemExit(str(error)) from None
    finally:
        stack.close()
        shutil.rmtree(stack.home, ignore_errors=True)


# ------------------------------------------------------------------------ data and model


def default_home() -> Path:
    """The developer's RECS_HOME, where scripts/setup.sh fetched the dataset."""
    return Path(os.environ.get("RECS_HOME") or REPO / ".recs")


def fetched_dataset(source_home: Path | None = None) -> Path:
    """The ML-100K files scripts/setup.sh fetched into ``source_home`` (default RECS_HOME)."""
    source = (source_home or default_home()) / "data" / "ml-100k"
    if not (source / "ml-100k.inter").is_file():
        raise StackError(f"MovieLens-100K is not in {source}; run scripts/setup.sh first")
    return source


def add_dataset(home: Path, source_home: Path | None = None, *, link: bool = False) -> None:
    """Put the fetched ML-100K into ``home``: a copy (a few MB) or, with ``link``, a symlink
    for a home that only reads it."""
    source = fetched_dataset(source_home)
    target = home / "data" / "ml-100k"
    target.parent.mkdir(parents=True, exist_ok=True)
    if link:
        target.symlink_to(source)
    else:
        shutil.copytree(source, target, dirs_exist_ok=True)


def seed_store(env: Mapping[str, str], log: Path) -> None:
    """The ratings store of ``env``'s RECS_HOME, seeded from its dataset."""
    run_checked([str(BIN / "python"), "-m", "chalicelib.seed"], cwd=API, env=env, log=log)


def current_model(home: Path) -> dict[str, Any] | None:
    """``recs models current --json`` for ``home``: the approved version and whether it was
    trained on this data with this code; None when ``home`` has no registry yet."""
    if not (home / "registry.db").is_file():
        return None
    # A closed endpoint port: the question is about the registry, not a running endpoint.
    env = stack_env(home, RECS_ENDPOINT_URL=f"{LOOPBACK}:{free_port()}")
    done = subprocess.run(
        [str(BIN / "recs"), "models", "current", "--json"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode not in (0, 3):  # 3: answered, and the approved version is not current
        raise StackError(f"recs models current exited {done.returncode}: {done.stderr}")
    return dict(json.loads(done.stdout))


def ensure_trained(home: Path, source_home: Path) -> Path:
    """Make ``home`` hold the dataset, a seeded ratings store and an approved model version
    trained by the real pipeline (fast parameters) on the current data and code."""
    current = current_model(home)
    if current is not None and current["current"]:
        return home
    add_dataset(home, source_home)
    logs = home / "logs"
    # Approval fires the deployer; point it at a closed port so no running endpoint is touched.
    env = stack_env(home, RECS_ENDPOINT_URL=f"{LOOPBACK}:{free_port()}")
    seed_store(env, logs / "seed.log")
    params = [arg for pair in FAST_PIPELINE_PARAMS for arg in ("--param", pair)]
    run_checked(
        [str(BIN / "recs"), "pipeline", "run", *params],
        cwd=REPO,
        env=env,
        log=logs / "pipeline.log",
    )
    current = current_model(home)
    version = current and current["candidate_version"]
    if not version:
        raise StackError(f"the pipeline registered no model version: {current}")
    run_checked(
        [str(BIN / "recs"), "models", "approve", str(version), "--description", "test fixture"],
        cwd=REPO,
        env=env,
        log=logs / "approve.log",
    )
    return home
