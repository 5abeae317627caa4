"""Run the endpoint under gunicorn: one worker process with gthread threads.

TensorFlow is not fork-safe, so the master never imports it: ``load()`` runs inside the
worker after the fork (``preload_app`` stays off) and builds the app, loading the models there.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from gunicorn.app.base import BaseApplication


class EndpointServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        from recs_ml.serving.endpoint.app import create_app

        return create_app()


def serve(host: str, port: int, threads: int = 8, access_log: bool = False) -> None:
    """Block serving ``host:port`` until interrupted (SIGINT/SIGTERM stop it gracefully)."""
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": threads,
        "preload_app": False,
        # Loading a version runs inside a request thread; the worker's heartbeat keeps going.
        "timeout": 120,
        "graceful_timeout": 30,
        "keepalive": 5,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "recs-endpoint",
    }
    if access_log:
        options["accesslog"] = "-"
    EndpointServer(options).run()
