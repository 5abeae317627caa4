"""``recs models list | describe | approve | reject | register``: the model registry."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recs_ml.cli.output import print_json


def _ms(value: int) -> str:
    return datetime.fromtimestamp(value / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _headline(metrics: dict[str, Any]) -> str:
    parts = []
    for model in ("tfrs", "ease", "mostpop"):
        value = (metrics.get(model) or {}).get("ndcg@10")
        if isinstance(value, int | float):
            parts.append(f"{model} {value:.4f}")
    return ", ".join(parts) or "-"


def _models_list(args: argparse.Namespace) -> int:
    from recs_ml.cli.output import print_table
    from recs_ml.ops.model_source import served_package
    from recs_ml.ops.registry import Registry
    from recs_ml.settings import get_settings

    group = args.group or get_settings().model_package_group
    registry = Registry()
    packages = registry.versions(group, status=args.status)
    served = served_package(registry, group)
    served_version = served.version if served is not None else None
    if args.json:
        print_json([{**p.to_dict(), "served": p.version == served_version} for p in packages])
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
    from recs_ml.ops.registry import Registry, RegistryError

    try:
        package = Registry().describe(args.version, args.group)
    except RegistryError as exc:
        raise _known_version(exc) from None
    print_json(package.to_dict())
    return 0


def _change_status(args: argparse.Namespace, status: str) -> int:
    from recs_ml.ops import deployer
    from recs_ml.ops.registry import Registry, RegistryError, state_change_event

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
    from recs_ml.ops.registry import Registry

    package = Registry().register(args.artifact, args.group, description=args.description or "")
    print(f"registered {package.group}/{package.version} as {package.status}")
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
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
