"""``recs data fetch | info | synth | digest``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _fetch(args: argparse.Namespace) -> int:
    from recs_ml.data.embedded import embedded_is_ready, fetch_embedded

    if embedded_is_ready():
        print("MovieLens-100K already present and verified")
        return 0
    target = fetch_embedded(wheel=args.wheel)
    print(f"MovieLens-100K fetched and verified into {target}")
    return 0


def _info(args: argparse.Namespace) -> int:
    from recs_ml.data.datasets import load_dataset

    dataset = load_dataset(args.data)
    print(
        json.dumps(
            {
                "name": dataset.name,
                "ratings": len(dataset.ratings),
                "users": dataset.n_users,
                "items": dataset.n_items,
                "item_metadata": len(dataset.items),
                "user_metadata": len(dataset.users),
                "checksum": dataset.checksum(),
            },
            indent=2,
        )
    )
    return 0


def _synth(args: argparse.Namespace) -> int:
    import sys

    from recs_ml.data.synth import SynthConfig, SynthError, write_synthetic

    try:
        config = SynthConfig(
            ratings=args.ratings,
            users=args.users,
            items=args.items,
            seed=args.seed,
            clusters=args.clusters,
        )
        summaries = [write_synthetic(config, path) for path in args.output]
    except SynthError as exc:
        print(f"recs data synth: error: {exc}", file=sys.stderr)
        return 2
    for summary in summaries:
        print(json.dumps(summary))
    return 0


def _digest(args: argparse.Namespace) -> int:
    from recs_ml.data.processed import data_digest

    summary = data_digest(args.directory)
    print(json.dumps(summary, indent=2) if args.json else summary["digest"])
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    data = subparsers.add_parser("data", help="fetch and inspect datasets")
    commands = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    fetch = commands.add_parser("fetch", help="fetch the embedded MovieLens-100K into RECS_HOME")
    fetch.add_argument("--wheel", type=Path, help="use a downloaded recbole-1.2.1 wheel (offline)")
    fetch.set_defaults(handler=_fetch)
    info = commands.add_parser("info", help="load a dataset and print its counts")
    info.add_argument(
        "--data", default="ml-100k", help="ml-100k, or a path (.inter, u.data, .csv, .parquet)"
    )
    info.set_defaults(handler=_info)
    synth = commands.add_parser(
        "synth",
        help="write a realistic synthetic ratings file (power-law popularity and activity, "
        "drifting taste clusters), the same for a seed",
    )
    synth.add_argument("--ratings", type=int, default=100_000, help="number of ratings")
    synth.add_argument("--users", type=int, default=1_000, help="number of users")
    synth.add_argument("--items", type=int, default=2_000, help="number of items")
    synth.add_argument("--seed", type=int, default=0, help="random seed")
    synth.add_argument("--clusters", type=int, default=24, help="number of taste clusters")
    synth.add_argument(
        "--output",
        type=Path,
        action="append",
        required=True,
        help="a .csv or .parquet file; repeat to write both",
    )
    synth.set_defaults(handler=_synth)
    digest = commands.add_parser(
        "digest",
        help="digest of a process step output (sorted split rows and vocabularies): the same "
        "for the local and the spark engine",
    )
    digest.add_argument("directory", type=Path, help="the process step's output directory")
    digest.add_argument("--json", action="store_true", help="print every part's digest too")
    digest.set_defaults(handler=_digest)
