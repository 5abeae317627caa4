"""The processing step's logic: the dataset plus the ratings people added through the API,
deduplicated, split by the evaluation protocol (:mod:`recs_ml.data.split`) and written in the
layout training reads (:mod:`recs_ml.data.processed`).

Hyperparameters are chosen by fitting on train minus validation, and the final model is fitted
on all of ``train/``.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np

from recs_ml.data.datasets import DataError, Ratings, load_dataset
from recs_ml.data.processed import write_processed
from recs_ml.data.split import deduplicate, split_protocol

# --------------------------------------------------------------------------- store


def read_store_ratings(path: Path) -> Ratings:
    """The ratings people added through the API (``source = 'api'``) in the SQLite store."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, "ratings store not found")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            rows = connection.execute(
                "SELECT user_id, item_id, rating, timestamp FROM ratings WHERE source = 'api'"
            ).fetchall()
    except sqlite3.Error as exc:
        raise DataError(path, None, f"cannot read the ratings table: {exc}") from None
    clean = []
    for number, (user_id, item_id, rating, timestamp) in enumerate(rows, start=1):
        if not all(isinstance(value, int) for value in (user_id, item_id, timestamp)):
            raise DataError(path, None, f"api rating #{number} has a non-integer id or timestamp")
        if user_id < 1 or item_id < 1:
            raise DataError(path, None, f"api rating #{number} has a non-positive id")
        clean.append((user_id, item_id, float(rating), timestamp))
    return Ratings.from_rows(clean)


def _screen_api_ratings(extras: list[Ratings]) -> dict[str, int]:
    """Leave out API users over the API's caps (in place); the counts for the report."""
    from recs_ml.data.store import screen_api_ratings
    from recs_ml.settings import get_settings

    settings = get_settings()
    caps = {
        "per_user": settings.max_ratings_per_user,
        "per_user_per_day": settings.max_ratings_per_user_per_day,
    }
    _, totals = screen_api_ratings(Ratings.from_rows([]), **caps)
    for index, extra in enumerate(extras):
        extras[index], report = screen_api_ratings(extra, **caps)
        for key, value in report.items():
            if key.startswith("api_max"):
                totals[key] = max(totals[key], value)
            elif not key.startswith("cap_"):
                totals[key] += value
    return totals


def api_ratings(
    store: Path | None, ratings_table: str | None
) -> tuple[list[Ratings], dict[str, int]]:
    """The ratings people added through the API — the SQLite ``store`` locally, the DynamoDB
    ``ratings_table`` on AWS — screened by the API's caps, and the screening's counts."""
    extras: list[Ratings] = []
    if store is not None:
        extras.append(read_store_ratings(store))
    if ratings_table:
        from recs_ml.data.store import read_dynamodb_ratings

        extras.append(read_dynamodb_ratings(ratings_table))
    caps_report = _screen_api_ratings(extras)
    return extras, caps_report


def checksum_with(checksum: str, extras: list[Ratings]) -> str:
    """The data checksum extended by the added ratings: it identifies the training data."""
    for extra in extras:
        if not len(extra):
            continue
        digest = hashlib.sha256(checksum.encode())
        for column in (extra.user_id, extra.item_id, extra.rating, extra.timestamp):
            digest.update(np.ascontiguousarray(column).tobytes())
        checksum = digest.hexdigest()
    return checksum


def process(
    data: str | Path,
    output: Path,
    store: Path | None = None,
    ratings_table: str | None = None,
) -> dict[str, int]:
    """Load ``data`` + the API's ratings (the SQLite ``store`` locally, the DynamoDB
    ``ratings_table`` on AWS), split by the protocol and write ``output``."""
    dataset = load_dataset(data)
    extras, caps_report = api_ratings(store, ratings_table)
    checksum = checksum_with(dataset.checksum(), extras)
    added = 0
    for extra in extras:
        if len(extra):
            added += len(extra)
            dataset.ratings = dataset.ratings.concat(extra)
    from recs_ml.progress import progress

    with progress("deduplicate and split", total=len(dataset.ratings), unit="rows") as bar:
        dataset.ratings = deduplicate(dataset.ratings)
        split = split_protocol(dataset.ratings)
        bar.advance(bar.total or 0)
    write_processed(output, dataset, split, checksum)
    return {
        "ratings": len(dataset.ratings),
        "store_ratings": added,
        **caps_report,
        "train": len(split.train),
        "validation": len(split.validation),
        "test": len(split.test),
        "users": dataset.n_users,
        "items": dataset.n_items,
    }
