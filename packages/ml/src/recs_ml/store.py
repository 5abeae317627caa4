"""Read access to the ratings store (``RECS_HOME/store.db``) that the API writes.

The pipeline's processing step adds every ``source = 'api'`` rating to the base dataset, so
people who rate movies through the API are personalised by the next run. The schema is in
docs/contracts.md ("Ratings store"); only the API creates and writes the database.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from recs_ml.data import Ratings, User


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
