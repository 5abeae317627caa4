"""``recs train | evaluate | recommend``: the models on the local machine.

``recs evaluate`` and ``recs recommend`` answer from the approved version the endpoint serves
(see ``recs_ml.ops.model_source``); ``--version N`` picks another registered version, ``--trained``
what ``recs train`` wrote into ``RECS_HOME/trained/{data,model}``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recs_ml.ops.model_source import ModelSource


def _source(args: argparse.Namespace) -> ModelSource:
    from recs_ml.ops.model_source import resolve_source

    return resolve_source(
        version=args.version,
        trained=args.trained,
        model_dir=Path(args.model_dir) if args.model_dir else None,
        data_dir=Path(args.data_dir) if args.data_dir else None,
        group=args.group,
    )


def _data_checksum(data_dir: Path) -> str:
    path = data_dir / "meta" / "data_checksum"
    return path.read_text(encoding="utf-8").strip() if path.is_file() else ""


def _train(args: argparse.Namespace) -> int:
    from recs_ml.cli.output import metric, print_json, print_table
    from recs_ml.data.processing import process
    from recs_ml.models.hyperparameters import load_hyperparameters
    from recs_ml.ops.model_source import trained_dir
    from recs_ml.pipeline.steps.train import run
    from recs_ml.settings import get_settings

    # Malformed hyperparameters fail before any data is processed.
    load_hyperparameters(args.hp, args.hyperparameters)
    data_dir = Path(args.data_dir) if args.data_dir else trained_dir() / "data"
    model_dir = Path(args.model_dir) if args.model_dir else trained_dir() / "model"
    store = args.store
    if store is None and not args.no_store and get_settings().store_path.is_file():
        store = get_settings().store_path
    summary = process(args.data, data_dir, store=None if args.no_store else store)
    print(f"processed {args.data}: {json.dumps(summary)}", file=sys.stderr, flush=True)
    if args.workers > 1:
        result = _train_workers(args, data_dir, model_dir)
    else:
        # Training's log lines go to stderr: stdout holds only the summary (a table or --json).
        with contextlib.redirect_stdout(sys.stderr):
            result = run(data_dir, model_dir, args.hp, args.hyperparameters)
    if args.json:
        print_json(result)
        return 0
    validation: dict[str, dict[str, float]] = result["validation"]  # type: ignore[assignment]
    print_table(
        ["model", "NDCG@10", "Recall@10", "HitRate@10", "MRR@10", "coverage"],
        [[name, *(metric(values.get(m)) for m in _METRICS)] for name, values in validation.items()],
        title=f"validation metrics; artifact in {model_dir}",
        right=_METRIC_HEADERS,
    )
    print(f"chosen: {json.dumps(result['chosen'], default=str)}")
    print("next: `recs evaluate --trained`, `recs recommend --trained --user-id 3`")
    return 0


def _train_workers(args: argparse.Namespace, data_dir: Path, model_dir: Path) -> dict[str, Any]:
    """The training step as ``args.workers`` processes (MultiWorkerMirroredStrategy over
    127.0.0.1 ports); the chief's summary is the result."""
    from recs_ml.cli.main import UserError
    from recs_ml.models.distributed import run_local_workers

    step_args = ["--data-dir", str(data_dir)]
    for pair in args.hp:
        step_args += ["--hp", pair]
    if args.hyperparameters:
        step_args += ["--hyperparameters", str(args.hyperparameters)]
    log_dir = model_dir.parent / f"{model_dir.name}-workers"
    print(f"training on {args.workers} workers; logs in {log_dir}", file=sys.stderr, flush=True)
    codes = run_local_workers(args.workers, step_args, model_dir, log_dir)
    logs = [(log_dir / f"worker-{i}.log").read_text(encoding="utf-8") for i in range(len(codes))]
    failed = [i for i, code in enumerate(codes) if code != 0]
    if failed:
        tail = "\n".join(logs[failed[0]].strip().splitlines()[-15:])
        raise UserError(f"worker {failed[0]} exited with {codes[failed[0]]}:\n{tail}")
    # The step prints its summary as one JSON line after its log lines.
    for line in reversed(logs[0].splitlines()):
        if line.startswith('{"model_dir"'):
            result: dict[str, Any] = json.loads(line)
            return result
    raise UserError(f"the chief's log {log_dir / 'worker-0.log'} holds no training summary")


_METRICS = ("ndcg@10", "recall@10", "hitrate@10", "mrr@10", "coverage")
_METRIC_HEADERS = ("NDCG@10", "Recall@10", "HitRate@10", "MRR@10", "coverage")


def _evaluate(args: argparse.Namespace) -> int:
    from recs_ml.cli.output import metric, print_json, print_table
    from recs_ml.models.evaluation import write_report
    from recs_ml.ops.model_source import check_data_matches, opened_artifact
    from recs_ml.pipeline.steps.evaluate import evaluate_artifact

    source = _source(args)
    output = Path(args.output) if args.output else source.evaluation_dir / args.split
    with opened_artifact(source) as (directory, manifest):
        check_data_matches(manifest.data_checksum, _data_checksum(source.data_dir), source)
        result = evaluate_artifact(directory, source.data_dir, args.split)
    report = write_report(
        output, result["metrics"], result["default_model"], result["users"], args.split
    )
    if args.json:
        print_json({**report, "model_source": source.to_dict(), "written": str(output)})
        return 0
    default = report["default_model"]
    print_table(
        ["model", *_METRIC_HEADERS],
        [
            [
                name + (" (default)" if name == default else ""),
                *(metric(v.get(m)) for m in _METRICS),
            ]
            for name, v in report["metrics"].items()
        ],
        title=f"{source.label} on the {args.split} split ({report['users']} users)",
        right=_METRIC_HEADERS,
    )
    print(f"written: {output / 'evaluation.json'}")
    return 0


def _parse_ids(text: str | None, what: str) -> list[int]:
    if not text:
        return []
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--{what} must be comma-separated item ids, got {text!r}") from None
    if any(i < 1 for i in ids):
        raise ValueError(f"--{what} item ids must be positive, got {text!r}")
    return ids


def _recommend(args: argparse.Namespace) -> int:
    from recs_ml.data.processed import read_processed
    from recs_ml.ops.model_source import check_data_matches, opened_artifact
    from recs_ml.serving.recommend import (
        describe,
        load_serving,
        recommend_all_users,
        recommend_for_user,
        write_jsonl,
    )

    if not 1 <= args.k <= 100:
        raise ValueError(f"--k must be between 1 and 100, got {args.k}")
    if args.all_users == (args.user_id is not None or bool(args.history)):
        raise ValueError("give either --all-users, or --user-id and/or --history")
    if args.all_users and not args.output:
        raise ValueError("--all-users needs --output FILE.jsonl")
    if args.user_id is not None and args.user_id < 1:
        raise ValueError(f"--user-id must be a positive user id, got {args.user_id}")
    history = _parse_ids(args.history, "history")
    exclude = _parse_ids(args.exclude, "exclude")
    source = _source(args)
    data = read_processed(source.data_dir)
    user_id = args.user_id or 0
    if user_id and not history and user_id not in set(data.train.user_id.tolist()):
        raise ValueError(
            f"user {user_id} has no ratings in the training data of {source.label}; "
            "pass their ratings with --history 1,2,3 instead"
        )
    with opened_artifact(source) as (directory, manifest):
        check_data_matches(manifest.data_checksum, data.data_checksum, source)
        serve, name = load_serving(directory, args.model)
        if args.all_users:
            count = write_jsonl(Path(args.output), recommend_all_users(serve, data, args.k))
            print(
                f"wrote {count} users' top-{args.k} from {source.label}, model {name!r}, "
                f"to {args.output}"
            )
            return 0
        items = describe(recommend_for_user(serve, user_id, args.k, history, exclude), data.items)
    if args.json:
        from recs_ml.cli.output import print_json

        print_json(
            {
                "user_id": user_id,
                "model": name,
                "model_version": source.version,
                "model_source": source.to_dict(),
                "items": items,
            }
        )
        return 0
    who = f"user {user_id}" if user_id else f"a new user with {len(history)} rating(s)"
    _print_recommendations(items, f"top-{args.k} for {who} from {source.label}, model {name}")
    return 0


def _print_recommendations(items: list[dict[str, Any]], title: str) -> None:
    from recs_ml.cli.output import print_table

    columns = ["rank", "id", "title", "year", "genres"]
    # The match and reason columns appear only when the model's answer carries them.
    extra = [key for key in ("match", "reason") if any(i.get(key) is not None for i in items)]
    rows = [
        [
            rank,
            item["item_id"],
            item["title"],
            item["year"],
            ", ".join(item["genres"]),
            *(item.get(key) for key in extra),
        ]
        for rank, item in enumerate(items, start=1)
    ]
    print_table([*columns, *extra], rows, title=title, right=("rank", "id", "year"))


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    def source(parser: argparse.ArgumentParser) -> None:
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--version",
            type=int,
            help="a registered model version (default: the approved version the endpoint "
            "serves, else the newest approved one)",
        )
        which.add_argument(
            "--trained", action="store_true", help="the model `recs train` wrote instead"
        )
        parser.add_argument(
            "--group", default=None, help="model package group (default RECS_MODEL_PACKAGE_GROUP)"
        )
        parser.add_argument("--model-dir", help="another artifact dir or model.tar.gz")
        parser.add_argument("--data-dir", help="the processed data that model was trained on")
        parser.add_argument("--json", action="store_true", help="print JSON")

    train = subparsers.add_parser("train", help="process the data and train every model")
    train.add_argument(
        "--data", default="ml-100k", help="ml-100k, or a path (.inter, u.data, .csv)"
    )
    train.add_argument("--store", type=Path, help="ratings store (default RECS_HOME/store.db)")
    train.add_argument("--no-store", action="store_true", help="ignore the ratings store")
    train.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE")
    train.add_argument("--hyperparameters", type=Path, help="a hyperparameters JSON file")
    train.add_argument("--data-dir", help="processed data (default RECS_HOME/trained/data)")
    train.add_argument("--model-dir", help="artifact directory (default RECS_HOME/trained/model)")
    train.add_argument("--json", action="store_true", help="print the training summary as JSON")
    train.add_argument(
        "--workers",
        type=int,
        default=1,
        help="train on N worker processes (MultiWorkerMirroredStrategy on 127.0.0.1 ports); "
        "batch_size is the global batch",
    )
    train.set_defaults(handler=_train)

    evaluate = subparsers.add_parser("evaluate", help="metrics of every model on the test split")
    source(evaluate)
    evaluate.add_argument(
        "--output",
        help="report directory (default RECS_HOME/evaluations/<group>/<version>/<split>)",
    )
    evaluate.add_argument("--split", choices=("test", "validation"), default="test")
    evaluate.set_defaults(handler=_evaluate)

    recommend = subparsers.add_parser("recommend", help="top-k for a user, a history or everyone")
    source(recommend)
    recommend.add_argument("--user-id", type=int)
    recommend.add_argument("--history", help="comma-separated item ids, oldest first (new user)")
    recommend.add_argument("--exclude", help="comma-separated item ids never to return")
    recommend.add_argument("--all-users", action="store_true")
    recommend.add_argument("--output", help="JSON lines file for --all-users")
    recommend.add_argument("--k", type=int, default=10)
    recommend.add_argument("--model", help="tfrs (default), retrieval, ease or mostpop")
    recommend.set_defaults(handler=_recommend)


if __name__ == "__main__":
    sys.exit("use the `recs` command")
