"""Load the embedded MovieLens-100K (RecBole atomic files) into the ratings store.

``python -m chalicelib.seed`` seeds SQLite (``RECS_STORE_PATH``); ``--dynamodb`` seeds the
``RECS_RATINGS_TABLE`` table. Both are idempotent: a seeded store is left untouched.
The files are parsed by ``recs_contracts.dataset``, the parser the pipeline uses too.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from chalicelib.settings import get_settings
from chalicelib.store import SeedData, Store
from recs_contracts.dataset import DatasetError, read_inter, read_items, read_users
from recs_contracts.dataset import count_rows as _count

# The dataset files' errors: the message names the file and line.
SeedError = DatasetError
FILES = ("ml-100k.item", "ml-100k.user", "ml-100k.inter")


def read_dataset(directory: Path) -> SeedData:
    """Users, movies and ratings of ``ml-100k.{user,item,inter}`` in ``directory``."""
    for name in FILES:
        _require(directory / name)
    return SeedData(
        users=read_users(directory / "ml-100k.user"),
        movies=read_items(directory / "ml-100k.item"),
        ratings=read_inter(directory / "ml-100k.inter"),
    )


def _require(path: Path) -> None:
    if not path.is_file():
        raise SeedError(path, None, "not found; run `recs data fetch` (scripts/setup.sh) first")


def count_rows(directory: Path) -> tuple[int, int, int]:
    """Data rows of the item, user and inter files: a cheap check before parsing them."""
    for name in FILES:
        _require(directory / name)
    items, users, ratings = (_count(directory / name) for name in FILES)
    return items, users, ratings


def seed(store: Store, directory: Path) -> bool:
    """Load the dataset unless the store already holds it; True when rows were written."""
    if store.is_seeded(*count_rows(directory)):
        return False
    return store.seed(read_dataset(directory))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Seed the ratings store with MovieLens-100K")
    parser.add_argument("--dynamodb", action="store_true", help="seed RECS_RATINGS_TABLE")
    parser.add_argument(
        "--data", type=Path, help="directory of ml-100k.{inter,item,user} (default: RECS_HOME)"
    )
    args = parser.parse_args(argv)
    settings = get_settings()
    directory = args.data or settings.home / "data" / "ml-100k"
    started = time.perf_counter()
    store: Store
    if args.dynamodb:
        import boto3

        from chalicelib.dynamodb_store import DynamoStore

        if not settings.ratings_table:
            print("set RECS_RATINGS_TABLE to the table name", file=sys.stderr)
            return 2
        store = DynamoStore(boto3.resource("dynamodb", region_name=settings.region).Table(
            settings.ratings_table
        ))  # fmt: skip
        target = f"DynamoDB table {settings.ratings_table}"
    else:
        from chalicelib.sqlite_store import SqliteStore

        store = SqliteStore(settings.store_path)
        target = str(settings.store_path)
    try:
        done = seed(store, directory)
    except SeedError as exc:
        print(f"seed: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    print(f"{target}: {'seeded' if done else 'already seeded'} in {elapsed:.2f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
