"""``recs serve``: the local endpoint."""

from __future__ import annotations

import argparse


def _serve(args: argparse.Namespace) -> int:
    from recs_ml.serving.endpoint.server import serve
    from recs_ml.settings import get_settings

    settings = get_settings()
    serve(
        args.host or settings.endpoint_host,
        args.port or settings.endpoint_port,
        threads=args.threads,
        access_log=args.access_log,
    )
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser(
        "serve", help="the local endpoint (latest approved version) on 127.0.0.1:8080"
    )
    serve.add_argument("--host", default=None, help="default RECS_ENDPOINT_HOST (127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="default RECS_ENDPOINT_PORT (8080)")
    serve.add_argument("--threads", type=int, default=8, help="request threads in the worker")
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.set_defaults(handler=_serve)
