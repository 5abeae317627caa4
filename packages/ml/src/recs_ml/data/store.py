"""Read access to the ratings store (``RECS_HOME/store.db``) that the API writes.

The pipeline's processing step adds every ``source = 'api'`` rating to the base dataset, so
people who rate movies through the API are personalised by the next run. The schema is in
docs/contracts.md ("Ratings store"); only the API creates and writes the database.
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recs_ml.data.datasets import Ratings, User


class StoreError(ValueError):
    """The ratings store cannot be read: missing file, wrong schema or invalid rows."""


_REQUIRED = {
    "ratings": {"user_id", "item_id", "rating", "timestamp", "source"},
    "users": {"user_id", "age", "gender", "occupation", "source"},
}


@dataclass
class StoreRatings:
    """The ratings and users people added through the API."""

    ratings: Ratings
    users: dict[int, User]
    path: Path

    def checksum(self) -> str:
        """sha256 over the rows in a fixed order: a cache key for the processing step."""
        digest = hashlib.sha256()
        order = sorted(
            range(len(self.ratings)),
            key=lambda i: (int(self.ratings.user_id[i]), int(self.ratings.item_id[i])),
        )
        for i in order:
            digest.update(
                f"{self.ratings.user_id[i]},{self.ratings.item_id[i]},"
                f"{float(self.ratings.rating[i])!r},{self.ratings.timestamp[i]};".encode()
            )
        return digest.hexdigest()


def _connect_read_only(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise StoreError(f"{path}: ratings store not found")
    try:
        # mode=ro: the pipeline never writes the store; busy_timeout waits out the API's writes.
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        connection.execute("PRAGMA busy_timeout = 30000")
        tables = {
            name: {row[1] for row in connection.execute(f"PRAGMA table_info({name})")}
            for name in _REQUIRED
        }
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: not a readable SQLite ratings store ({exc})") from None
    for name, columns in _REQUIRED.items():
        missing = columns - tables[name]
        if missing:
            connection.close()
            raise StoreError(
                f"{path}: table {name!r} lacks column(s) {', '.join(sorted(missing))}; "
                "see docs/contracts.md 'Ratings store'"
            )
    return connection


def read_api_ratings(path: Path) -> StoreRatings:
    """Every rating and user with ``source = 'api'``, validated like any other input."""
    path = Path(path)
    connection = _connect_read_only(path)
    try:
        rows = connection.execute(
            "SELECT user_id, item_id, rating, timestamp FROM ratings "
            "WHERE source = 'api' ORDER BY user_id, timestamp, item_id"
        ).fetchall()
        user_rows = connection.execute(
            "SELECT user_id, age, gender, occupation FROM users WHERE source = 'api'"
        ).fetchall()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot read ratings ({exc})") from None
    finally:
        connection.close()
    clean: list[tuple[int, int, float, int]] = []
    for user_id, item_id, rating, timestamp in rows:
        if (
            not (isinstance(user_id, int) and isinstance(item_id, int))
            or user_id < 1
            or item_id < 1
        ):
            raise StoreError(
                f"{path}: rating ({user_id!r}, {item_id!r}) has a non-positive or non-integer id"
            )
        if not isinstance(rating, int | float) or not isinstance(timestamp, int):
            raise StoreError(
                f"{path}: rating of user {user_id} for item {item_id} has a non-numeric "
                "rating or timestamp"
            )
        clean.append((user_id, item_id, float(rating), timestamp))
    users = {
        int(user_id): User(int(user_id), age, gender, occupation)
        for user_id, age, gender, occupation in user_rows
    }
    return StoreRatings(ratings=Ratings.from_rows(clean), users=users, path=path)


# DynamoDB reserved words among our attribute names go through placeholders.
_SCAN_API_RATINGS = {
    "FilterExpression": "#source = :api AND user_id >= :first_user",
    "ProjectionExpression": "user_id, item_id, rating, #timestamp",
    "ExpressionAttributeNames": {"#source": "source", "#timestamp": "timestamp"},
    "ExpressionAttributeValues": {":api": {"S": "api"}, ":first_user": {"N": "1"}},
}


def read_dynamodb_ratings(table: str, *, client: Any = None) -> Ratings:
    """Every ``source = 'api'`` rating in the API's DynamoDB table (the AWS ratings store).

    The layout is docs/contracts.md's "Ratings table on AWS": ratings are the items with
    ``user_id >= 1``; the reserved partitions below 1 hold movies, profiles and bookkeeping.
    ``client`` is a boto3 DynamoDB client (default: one for ``AWS_DEFAULT_REGION``). A table
    that does not exist (the API not deployed yet) holds no ratings: a warning, not an error.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    where = f"DynamoDB table {table!r}"
    clean: list[tuple[int, int, float, int]] = []
    try:
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        for page in client.get_paginator("scan").paginate(TableName=table, **_SCAN_API_RATINGS):
            for item in page.get("Items", []):
                clean.append(_dynamodb_rating(where, item))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            print(f"warning: {where} does not exist: no API ratings added", file=sys.stderr)
            return Ratings.from_rows([])
        raise StoreError(f"{where}: cannot read the API's ratings ({exc})") from None
    except BotoCoreError as exc:
        raise StoreError(f"{where}: cannot read the API's ratings ({exc})") from None
    clean.sort(key=lambda row: (row[0], row[3], row[1]))
    return Ratings.from_rows(clean)


def _dynamodb_rating(where: str, item: dict[str, Any]) -> tuple[int, int, float, int]:
    def number(name: str) -> float | None:
        raw = (item.get(name) or {}).get("N")
        try:
            return float(raw) if raw is not None else None
        except ValueError:
            return None

    user_id, item_id = number("user_id"), number("item_id")
    if user_id is None or item_id is None:
        raise StoreError(f"{where}: rating {item!r} lacks a numeric user_id or item_id")
    if not (user_id.is_integer() and item_id.is_integer()) or min(user_id, item_id) < 1:
        raise StoreError(f"{where}: rating {item!r} has a non-positive or non-integer id")
    rating, timestamp = number("rating"), number("timestamp")
    if rating is None or timestamp is None or not timestamp.is_integer():
        raise StoreError(
            f"{where}: rating of user {int(user_id)} for item {int(item_id)} has a missing or "
            "non-numeric rating or timestamp"
        )
    return int(user_id), int(item_id), rating, int(timestamp)


# --------------------------------------------------------------------------- abuse caps

DAY_SECONDS = 86400


def screen_api_ratings(
    ratings: Ratings, *, per_user: int, per_user_per_day: int
) -> tuple[Ratings, dict[str, int]]:
    """Leave out every API user with more than ``per_user`` ratings, or more than
    ``per_user_per_day`` in one UTC day: the API's own caps, applied again so that a flood
    which got past them (or was written to the table directly) never reaches training.

    Returns the ratings kept and the counts for the pipeline report.
    """
    import numpy as np

    if per_user < 1 or per_user_per_day < 1:
        raise ValueError(f"caps must be at least 1, got {per_user} and {per_user_per_day}")
    users = np.asarray(ratings.user_id, dtype=np.int64)
    report = {
        "api_users": 0,
        "api_ratings": len(users),
        "api_max_ratings_per_user": 0,
        "api_max_ratings_per_user_day": 0,
        "api_users_over_caps": 0,
        "api_ratings_left_out": 0,
        "cap_ratings_per_user": per_user,
        "cap_ratings_per_user_per_day": per_user_per_day,
    }
    if not len(users):
        return ratings, report
    user_ids, per_user_counts = np.unique(users, return_counts=True)
    days = np.asarray(ratings.timestamp, dtype=np.int64) // DAY_SECONDS
    user_days, per_day_counts = np.unique(
        np.stack([users, days], axis=1), axis=0, return_counts=True
    )
    over = np.union1d(
        user_ids[per_user_counts > per_user], user_days[per_day_counts > per_user_per_day, 0]
    )
    keep = ~np.isin(users, over)
    report.update(
        api_users=len(user_ids),
        api_max_ratings_per_user=int(per_user_counts.max()),
        api_max_ratings_per_user_day=int(per_day_counts.max()),
        api_users_over_caps=len(over),
        api_ratings_left_out=int((~keep).sum()),
    )
    if keep.all():
        return ratings, report
    rows = np.flatnonzero(keep)
    kept = Ratings(
        user_id=ratings.user_id[rows],
        item_id=ratings.item_id[rows],
        rating=ratings.rating[rows],
        timestamp=ratings.timestamp[rows],
    )
    return kept, report
