"""``recs train | evaluate | recommend``: the models on the local machine.

``recs train`` runs the process and train steps into ``RECS_HOME/trained/{data,model}``;
``recs evaluate`` and ``recs recommend`` read from there unless given other paths.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _trained_dir() -> Path:
    from recs_ml.settings import get_settings

    return get_settings().home / "trained"


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir) if args.data_dir else _trained_dir() / "data"


def _model_dir(args: argparse.Namespace) -> Path:
    return Path(args.model_dir) if args.model_dir else _trained_dir() / "model"


def _train(args: argparse.Namespace) -> int:
    from recs_ml.processing import process
    from recs_ml.settings import get_settings
    from recs_ml.steps.train import run
    from recs_ml.training import load_hyperparameters

    # Malformed hyperparameters fail before any data is processed.
    load_hyperparameters(args.hp, args.hyperparameters)
    data_dir = _data_dir(args)
    store = args.store
    if store is None and not args.no_store and get_settings().store_path.is_file():
        store = get_settings().store_path
    summary = process(args.data, data_dir, store=None if args.no_store else store)
    print(f"processed {args.data}: {json.dumps(summary)}", flush=True)
    result = run(data_dir, _model_dir(args), args.hp, args.hyperparameters)
    print(json.dumps(result, indent=2, default=str))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from recs_ml.evaluation import write_report
    from recs_ml.steps.evaluate import evaluate_artifact

    output = Path(args.output) if args.output else _trained_dir() / "evaluation"
    result = evaluate_artifact(_model_dir(args), _data_dir(args), args.split)
    write_report(output, result["metrics"], result["default_model"], result["users"], args.split)
    print((output / "evaluation.md").read_text(encoding="utf-8"))
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
    from recs_ml.processing import read_processed
    from recs_ml.recommend import (
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
    history = _parse_ids(args.history, "history")
    exclude = _parse_ids(args.exclude, "exclude")
    data = read_processed(_data_dir(args))
    user_id = args.user_id or 0
    if user_id and not history and user_id not in set(data.train.user_id.tolist()):
        raise ValueError(
            f"user {user_id} has no ratings in the training data; pass --history 1,2,3 instead"
        )
    serve, name = load_serving(_model_dir(args), args.model)
    if args.all_users:
        count = write_jsonl(Path(args.output), recommend_all_users(serve, data, args.k))
        print(f"wrote {count} users' top-{args.k} from model {name!r} to {args.output}")
        return 0
    items = recommend_for_user(serve, user_id, args.k, history, exclude)
    print(
        json.dumps(
            {"user_id": user_id, "model": name, "items": describe(items, data.items)}, indent=2
        )
    )
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    def paths(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--data-dir", help="processed data (default RECS_HOME/trained/data)")
        parser.add_argument("--model-dir", help="artifact dir or model.tar.gz")

    train = subparsers.add_parser("train", help="process the data and train every model")
    train.add_argument(
        "--data", default="ml-100k", help="ml-100k, or a path (.inter, u.data, .csv)"
    )
    train.add_argument("--store", type=Path, help="ratings store (default RECS_HOME/store.db)")
    train.add_argument("--no-store", action="store_true", help="ignore the ratings store")
    train.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE")
    train.add_argument("--hyperparameters", type=Path, help="a hyperparameters JSON file")
    paths(train)
    train.set_defaults(handler=_train)

    evaluate = subparsers.add_parser("evaluate", help="metrics of every model on the test split")
    paths(evaluate)
    evaluate.add_argument("--output", help="default RECS_HOME/trained/evaluation")
    evaluate.add_argument("--split", choices=("test", "validation"), default="test")
    evaluate.set_defaults(handler=_evaluate)

    recommend = subparsers.add_parser("recommend", help="top-k for a user, a history or everyone")
    paths(recommend)
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
