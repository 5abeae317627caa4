"""Reading the API's ratings store for retraining, and the weekly schedule."""

from __future__ import annotations

import sqlite3

import pytest

from recs_ml.data.store import StoreError, read_api_ratings
from recs_ml.pipeline.schedule import CRON_SCHEDULE, MARKER, cron_line
from recs_ml.settings import get_settings

SCHEMA = """
CREATE TABLE users   (user_id INTEGER PRIMARY KEY, age INTEGER, gender TEXT, occupation TEXT,
                      source TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE ratings (user_id INTEGER NOT NULL, item_id INTEGER NOT NULL, rating REAL NOT NULL,
                      timestamp INTEGER NOT NULL, source TEXT NOT NULL,
                      PRIMARY KEY (user_id, item_id));
CREATE TABLE movies  (item_id INTEGER PRIMARY KEY, title TEXT NOT NULL, year INTEGER,
                      genres TEXT NOT NULL);
"""


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "store.db"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        db.executemany(
            "INSERT INTO users VALUES (?, ?, ?, ?, ?, 0)",
            [(1, 24, "M", "technician", "base"), (944, None, None, None, "api")],
        )
        db.executemany(
            "INSERT INTO ratings VALUES (?, ?, ?, ?, ?)",
            [
                (1, 50, 5.0, 100, "base"),
                (944, 181, 4.0, 300, "api"),
                (944, 50, 5.0, 200, "api"),
            ],
        )
    return path


def test_only_api_ratings_are_read_in_time_order(store):
    added = read_api_ratings(store)
    assert added.ratings.user_id.tolist() == [944, 944]
    assert added.ratings.item_id.tolist() == [50, 181]  # by timestamp
    assert added.ratings.rating.tolist() == [5.0, 4.0]
    assert list(added.users) == [944]


def test_checksum_changes_with_new_ratings_and_not_with_base_rows(store):
    before = read_api_ratings(store).checksum()
    with sqlite3.connect(store) as db:
        db.execute("INSERT INTO ratings VALUES (2, 7, 3.0, 400, 'base')")
    assert read_api_ratings(store).checksum() == before
    with sqlite3.connect(store) as db:
        db.execute("INSERT INTO ratings VALUES (944, 7, 3.0, 400, 'api')")
    assert read_api_ratings(store).checksum() != before


def test_unusable_stores_are_clear_errors(tmp_path, store):
    with pytest.raises(StoreError, match="ratings store not found"):
        read_api_ratings(tmp_path / "missing.db")
    (tmp_path / "junk.db").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a readable SQLite ratings store"):
        read_api_ratings(tmp_path / "junk.db")
    with sqlite3.connect(tmp_path / "old.db") as db:
        db.execute("CREATE TABLE ratings (user_id INTEGER, item_id INTEGER)")
        db.execute("CREATE TABLE users (user_id INTEGER)")
    with pytest.raises(StoreError, match="lacks column"):
        read_api_ratings(tmp_path / "old.db")
    with sqlite3.connect(store) as db:
        db.execute("INSERT INTO ratings VALUES (945, 'x', 3.0, 1, 'api')")
    with pytest.raises(StoreError, match="non-integer id"):
        read_api_ratings(store)


def test_schedule_mirrors_the_weekly_eventbridge_rule(tmp_path, monkeypatch):
    monkeypatch.setenv("RECS_HOME", str(tmp_path))
    get_settings.cache_clear()
    try:
        line = cron_line("ml-100k")
    finally:
        get_settings.cache_clear()
    env, entry = line.splitlines()
    assert env == "CRON_TZ=UTC"
    assert entry.startswith(CRON_SCHEDULE + " ") and entry.endswith(MARKER)
    assert "recs pipeline run --data ml-100k" in entry and f"RECS_HOME={tmp_path}" in entry


def test_screening_leaves_out_api_users_over_the_caps_and_counts_them():
    from recs_ml.data.datasets import Ratings
    from recs_ml.data.store import screen_api_ratings

    day = 86400
    rows = [(10, i, 4.0, 5 * day + i) for i in range(1, 4)]  # 3 in one day: at the daily cap
    rows += [(11, i, 3.0, 5 * day + i) for i in range(1, 5)]  # 4 in one day: over it
    rows += [(12, i, 5.0, i * day) for i in range(1, 6)]  # 5 on 5 days: over the total of 4
    rows += [(13, 1, 2.0, 7 * day)]
    kept, report = screen_api_ratings(Ratings.from_rows(rows), per_user=4, per_user_per_day=3)
    assert sorted(set(kept.user_id.tolist())) == [10, 13]
    assert len(kept) == 4 and kept.rating.tolist() == [4.0, 4.0, 4.0, 2.0]
    assert report == {
        "api_users": 4,
        "api_ratings": 13,
        "api_max_ratings_per_user": 5,
        "api_max_ratings_per_user_day": 4,
        "api_users_over_caps": 2,
        "api_ratings_left_out": 9,
        "cap_ratings_per_user": 4,
        "cap_ratings_per_user_per_day": 3,
    }
    nothing, empty = screen_api_ratings(Ratings.from_rows([]), per_user=4, per_user_per_day=3)
    assert len(nothing) == 0 and empty["api_users"] == 0
    with pytest.raises(ValueError, match="at least 1"):
        screen_api_ratings(Ratings.from_rows(rows), per_user=0, per_user_per_day=3)
