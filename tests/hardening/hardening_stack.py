"""Helpers for the hardening suite: the real local stack in a temporary home, HTTP calls.

``recs serve`` (gunicorn + TensorFlow) serves an approved version of a real EASE/MostPop
artifact fitted on MovieLens-100K; ``chalice local`` serves the API over a SQLite store seeded
with the same dataset. Nothing touches the developer's ``RECS_HOME``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from harness import (
    API,
    BIN,
    REPO,
    LocalStack,
    Ports,
    Reply,
    bearer,
    call,
    fetched_dataset,
    free_port,
    post_json,
)

# What the hardening tests take from the one stack harness (tests/harness/).
__all__ = ["API", "BIN", "REPO", "Ports", "Reply", "bearer", "call", "free_port", "post_json"]

ORIGIN = "http://127.0.0.1:4173"
GROUP = "recs-movielens"
ENDPOINT_TIMEOUT = 2.0  # seconds the API waits for the endpoint before its fallback


class Stack(LocalStack):
    """The local stack as the hardening tests drive it: a fixed web origin (no page is
    served), the endpoint with 16 request threads, short timeouts and caches."""

    def __init__(self, home: Path) -> None:
        super().__init__(
            home,
            extra_env={
                "RECS_WEB_ORIGIN": ORIGIN,
                "RECS_ENDPOINT_TIMEOUT": str(ENDPOINT_TIMEOUT),
                "RECS_DEPLOY_BACKEND": "local",
                "RECS_CACHE_SECONDS": "5",
                # Every test here calls from 127.0.0.1: the per-client cap is tested on its own.
                "RECS_MAX_USERS_PER_CLIENT_PER_HOUR": "100000",
            },
            endpoint_args=("--threads", "16"),
        )

    @property
    def api(self) -> str:
        """The API's URL (what every hardening test calls)."""
        return self.api_url

    @property
    def endpoint_port(self) -> int:
        return self.ports.endpoint


def cached_artifact(cache_dir: Path) -> Path:
    """The EASE/MostPop artifact, exported once and kept in ``cache_dir`` between sessions."""
    from recs_ml.serving.artifact import ArtifactError, verify

    target = cache_dir / "model"
    try:
        verify(target)
        return target
    except (ArtifactError, OSError):
        shutil.rmtree(target, ignore_errors=True)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    subprocess.run(
        [sys.executable, str(Path(__file__).with_name("build_artifact.py")),
         str(fetched_dataset()), str(target)],
        check=True,
        env=env,
        timeout=600,
    )  # fmt: skip
    verify(target)
    return target


def new_user(api: str) -> tuple[int, str]:
    """A new API user: (its id, the token that writes on it)."""
    reply = post_json(api + "/users", {})
    assert reply.status == 201, reply.body
    return int(reply.json()["user_id"]), str(reply.json()["token"])
