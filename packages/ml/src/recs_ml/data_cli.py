"""``recs data fetch | info``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _fetch(args: argparse.Namespace) -> int:
    from recs_ml.data import embedded_is_ready, fetch_embedded

    if embedded_is_ready():
        print("MovieLens-100K already present and verified")
        return 0
    target = fetch_embedded(wheel=args.wheel)
    print(f"MovieLens-100K fetched and verified into {target}")
    return 0


def _info(args: argparse.Namespace) -> int:
    from recs_ml.data import load_dataset

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


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    data = subparsers.add_parser("data", help="fetch and inspect datasets")
    commands = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    fetch = commands.add_parser("fetch", help="fetch the embedded MovieLens-100K into RECS_HOME")
    fetch.add_argument("--wheel", type=Path, help="use a downloaded recbole-1.2.1 wheel (offline)")
    fetch.set_defaults(handler=_fetch)
    info = commands.add_parser("info", help="load a dataset and print its counts")
    info.add_argument("--data", default="ml-100k", help="ml-100k, or a path (.inter, u.data, .csv)")
    info.set_defaults(handler=_info)
