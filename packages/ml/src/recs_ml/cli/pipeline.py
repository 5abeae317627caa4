"""``recs pipeline run | list | show | schedule``: the training pipeline on this machine."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from recs_ml.cli.output import print_json


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
    from recs_ml.cli.output import print_table
    from recs_ml.pipeline.runner import list_runs

    runs = list_runs()
    if args.json:
        print_json(runs)
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

    print_json(read_run(args.run_id))
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
