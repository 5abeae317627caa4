"""Load the embedded MovieLens-100K (RecBole atomic files) into the ratings store.

``python -m chalicelib.seed`` seeds SQLite (``RECS_STORE_PATH``); ``--dynamodb`` seeds the
``RECS_RATINGS_TABLE`` table. Both are idempotent: a seeded store is left untouched.
The files are read here directly because chalicelib must not import recs_ml.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from chalicelib.settings import get_settings
from chalicelib.store import Movie, SeedData, Store


class SeedError(ValueError):
    """The dataset files are missing or malformed; the message names the file and line."""


def _rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    if not path.is_file():
        raise SeedError(f"{path}: not found; run `recs data fetch` (scripts/setup.sh) first")
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines:
        raise SeedError(f"{path}: the file is empty")
    header = [column.split(":", 1)[0] for column in lines[0].split("\t")]
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        values = line.split("\t")
        if len(values) != len(header):
            raise SeedError(f"{path}, line {number}: expected {len(header)} fields")
        rows.append((number, values))
    return header, rows


def _int(path: Path, number: int, value: str, what: str) -> int:
    try:
        return int(float(value)) if what == "timestamp" else int(value)
    except ValueError:
        raise SeedError(f"{path}, line {number}: {what} {value!r} is not an integer") from None


def read_dataset(directory: Path) -> SeedData:
    """Users, movies and ratings of ``ml-100k.{user,item,inter}`` in ``directory``."""
    data = SeedData()
    items = directory / "ml-100k.item"
    header, rows = _rows(items)
    for number, values in rows:
        fields = dict(zip(header, values, strict=True))
        year = fields.get("release_year", "").strip()
        data.movies.append(
            Movie(
                item_id=_int(items, number, fields["item_id"], "item_id"),
                title=fields.get("movie_title", "").strip() or f"Movie {fields['item_id']}",
                year=int(year) if year.isdigit() else None,
                genres=[g for g in fields.get("class", "").split() if g and g != "unknown"],
            )
        )
    users = directory / "ml-100k.user"
    header, rows = _rows(users)
    for number, values in rows:
        fields = dict(zip(header, values, strict=True))
        age = fields.get("age", "").strip()
        data.users.append(
            (
                _int(users, number, fields["user_id"], "user_id"),
                int(age) if age.isdigit() else None,
                fields.get("gender") or None,
                fields.get("occupation") or None,
            )
        )
    inter = directory / "ml-100k.inter"
    header, rows = _rows(inter)
    for number, values in rows:
        fields = dict(zip(header, values, strict=True))
        try:
            rating = float(fields["rating"])
        except ValueError:
            raise SeedError(f"{inter}, line {number}: rating {fields['rating']!r}") from None
        data.ratings.append(
            (
                _int(inter, number, fields["user_id"], "user_id"),
                _int(inter, number, fields["item_id"], "item_id"),
                rating,
                _int(inter, number, fields["timestamp"], "timestamp"),
            )
        )
    return data


def count_rows(directory: Path) -> tuple[int, int, int]:
    """Data rows of the item, user and inter files: a cheap check before parsing them."""
    counts = []
    for name in ("ml-100k.item", "ml-100k.user", "ml-100k.inter"):
        path = directory / name
        if not path.is_file():
            raise SeedError(f"{path}: not found; run `recs data fetch` (scripts/setup.sh) first")
        with open(path, "rb") as handle:
            counts.append(sum(1 for line in handle if line.strip()) - 1)
    return counts[0], counts[1], counts[2]


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
