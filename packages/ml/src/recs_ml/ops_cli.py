"""``recs pipeline run | list | show | schedule``, ``recs models list | describe | approve |
reject | register``, ``recs serve``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def _print_json(data: Any) -> None:
    from recs_ml.cli_output import print_json

    print_json(data)


def _ms(value: int) -> str:
    return datetime.fromtimestamp(value / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


# --------------------------------------------------------------------------- models


def _headline(metrics: dict[str, Any]) -> str:
    parts = []
    for model in ("tfrs", "ease", "mostpop"):
        value = (metrics.get(model) or {}).get("ndcg@10")
        if isinstance(value, int | float):
            parts.append(f"{model} {value:.4f}")
    return ", ".join(parts) or "-"


def _models_list(args: argparse.Namespace) -> int:
    from recs_ml.cli_output import print_table
    from recs_ml.model_source import served_package
    from recs_ml.registry import Registry
    from recs_ml.settings import get_settings

    group = args.group or get_settings().model_package_group
    registry = Registry()
    packages = registry.versions(group, status=args.status)
    served = served_package(registry, group)
    served_version = served.version if served is not None else None
    if args.json:
        _print_json([{**p.to_dict(), "served": p.version == served_version} for p in packages])
        return 0
    if not packages:
        print(
            f"no model versions of {group} registered yet"
            + (f" with status {args.status}" if args.status else "")
            + "; run `recs pipeline run` (or `scripts/demo.sh`)"
        )
        return 0
    rows = []
    for p in packages:
        metrics = p.evaluation.get("metrics", {}) if p.evaluation else p.metrics
        rows.append(
            [
                p.version,
                p.status,
                "yes" if p.version == served_version else "",
                _ms(p.created_at),
                _headline(metrics),
                p.run_id or "-",
            ]
        )
    print_table(
        ["version", "status", "served", "created (UTC)", "NDCG@10", "run"],
        rows,
        title=f"model versions of {group}",
        right=("version",),
    )
    return 0


def _known_version(error: Exception) -> Exception:
    """A registry error about a version that does not exist, with the command that lists them."""
    if "does not exist" in str(error):
        return ValueError(f"{error}; `recs models list` shows the registered versions")
    return error


def _models_describe(args: argparse.Namespace) -> int:
    from recs_ml.registry import Registry, RegistryError

    try:
        package = Registry().describe(args.version, args.group)
    except RegistryError as exc:
        raise _known_version(exc) from None
    _print_json(package.to_dict())
    return 0


def _change_status(args: argparse.Namespace, status: str) -> int:
    from recs_ml import deployer
    from recs_ml.registry import Registry, RegistryError, state_change_event

    registry = Registry()
    try:
        package = registry.set_status(args.version, status, args.group, args.description or "")
    except RegistryError as exc:
        raise _known_version(exc) from None
    print(f"{package.group}/{package.version} is now {package.status}")
    event = state_change_event(package)
    try:
        result = deployer.handler(event, None)
    except deployer.DeployError as exc:
        # Recorded on the version, as the AWS deployer does on the model package.
        registry.record_deployment(package.version, package.group, error=str(exc))
        print(f"recs: warning: not deployed: {exc}", file=sys.stderr)
        return 1 if args.require_deploy else 0
    if result.get("action") != "ignored":
        registry.record_deployment(package.version, package.group, error=None)
        print(f"deployed: {json.dumps(result, sort_keys=True)}")
    return 0


def _models_register(args: argparse.Namespace) -> int:
    from recs_ml.registry import Registry

    package = Registry().register(args.artifact, args.group, description=args.description or "")
    print(f"registered {package.group}/{package.version} as {package.status}")
    return 0


# --------------------------------------------------------------------------- serve


def _serve(args: argparse.Namespace) -> int:
    from recs_ml.endpoint.server import serve
    from recs_ml.settings import get_settings

    settings = get_settings()
    serve(
        args.host or settings.endpoint_host,
        args.port or settings.endpoint_port,
        threads=args.threads,
        access_log=args.access_log,
    )
    return 0


# --------------------------------------------------------------------------- pipeline


def _parse_params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--param {pair!r}: expected key=value")
        params[key.strip()] = value.strip()
    return params


def _pipeline_run(args: argparse.Namespace) -> int:
    from recs_ml.pipeline.console import StepOutput
    from recs_ml.pipeline.runner import PipelineFailed, run_pipeline

    output = StepOutput()
    try:
        record = run_pipeline(
            data=args.data,
            params=_parse_params(args.param),
            store=args.store,
            use_cache=not args.no_cache,
            echo=output,
        )
    except PipelineFailed as exc:
        output.close()
        print(f"recs: error: {exc}", file=sys.stderr)
        return 1
    finally:
        output.close()
    print(f"run {record['run_id']}: {record['status']} ({record['outcome']})")
    return 0


def _pipeline_list(args: argparse.Namespace) -> int:
    from recs_ml.cli_output import print_table
    from recs_ml.pipeline.runner import list_runs

    runs = list_runs()
    if args.json:
        _print_json(runs)
        return 0
    if not runs:
        print("no pipeline runs yet; run `recs pipeline run`")
        return 0
    print_table(
        ["run", "status", "seconds", "outcome"],
        [
            [r["run_id"], r["status"], f"{r.get('seconds', 0):.1f}", r.get("outcome", "")]
            for r in runs
        ],
        right=("seconds",),
    )
    return 0


def _pipeline_show(args: argparse.Namespace) -> int:
    from recs_ml.pipeline.runner import read_run

    _print_json(read_run(args.run_id))
    return 0


def _pipeline_schedule(args: argparse.Namespace) -> int:
    from recs_ml.pipeline.schedule import cron_line, install

    line = cron_line(data=args.data)
    if args.install:
        print(install(line))
    else:
        print(line)
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    # models -------------------------------------------------------------------
    models = subparsers.add_parser("models", help="the model registry: list, approve, reject")
    commands = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")

    def with_group(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument(
            "--group", default=None, help="model package group (default RECS_MODEL_PACKAGE_GROUP)"
        )
        return parser

    listing = with_group(commands.add_parser("list", help="versions with status and metrics"))
    listing.add_argument(
        "--status", choices=["PendingManualApproval", "Approved", "Rejected"], default=None
    )
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=_models_list)

    describe = with_group(commands.add_parser("describe", help="one version in full (JSON)"))
    describe.add_argument("version", type=int)
    describe.set_defaults(handler=_models_describe)

    for name, status in (("approve", "Approved"), ("reject", "Rejected")):
        action = with_group(
            commands.add_parser(name, help=f"mark a version {status} and emit the state event")
        )
        action.add_argument("version", type=int)
        action.add_argument("--description", default="", help="why (kept with the version)")
        action.add_argument(
            "--require-deploy",
            action="store_true",
            help="exit 1 when the deployer could not deploy (default: warn)",
        )
        action.set_defaults(handler=lambda args, status=status: _change_status(args, status))

    register = with_group(
        commands.add_parser("register", help="register an artifact directory or model.tar.gz")
    )
    register.add_argument("artifact", type=Path)
    register.add_argument("--description", default="")
    register.set_defaults(handler=_models_register)

    # serve --------------------------------------------------------------------
    serve = subparsers.add_parser(
        "serve", help="the local endpoint (latest approved version) on 127.0.0.1:8080"
    )
    serve.add_argument("--host", default=None, help="default RECS_ENDPOINT_HOST (127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="default RECS_ENDPOINT_PORT (8080)")
    serve.add_argument("--threads", type=int, default=8, help="request threads in the worker")
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.set_defaults(handler=_serve)

    # pipeline -----------------------------------------------------------------
    pipeline = subparsers.add_parser("pipeline", help="process → train → evaluate → register")
    steps = pipeline.add_subparsers(dest="pipeline_command", required=True, metavar="ACTION")
    run = steps.add_parser("run", help="run the pipeline locally, one process per step")
    run.add_argument("--data", default="ml-100k", help="ml-100k, or a path (.inter, u.data, .csv)")
    run.add_argument(
        "--store",
        type=Path,
        default=None,
        help="ratings store to add API ratings from (default RECS_HOME/store.db when present)",
    )
    run.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="baseline=mostpop|ease|<number>, metric=ndcg@10, or a training hyperparameter "
        "(repeatable)",
    )
    run.add_argument("--no-cache", action="store_true", help="run every step even if cached")
    run.set_defaults(handler=_pipeline_run)
    runs = steps.add_parser("list", help="past runs")
    runs.add_argument("--json", action="store_true", help="print the run records as JSON")
    runs.set_defaults(handler=_pipeline_list)
    show = steps.add_parser("show", help="one run's record (JSON)")
    show.add_argument("run_id")
    show.set_defaults(handler=_pipeline_show)
    schedule = steps.add_parser(
        "schedule", help="print (or --install) the weekly cron line mirroring EventBridge"
    )
    schedule.add_argument("--data", default="ml-100k")
    schedule.add_argument("--install", action="store_true", help="add it to your crontab")
    schedule.set_defaults(handler=_pipeline_schedule)
