"""Reading the API's ratings store for retraining, and the weekly schedule."""

from __future__ import annotations

import sqlite3

import pytest

from recs_contracts.store import API, BASE, RatingsStore
from recs_ml.data.store import StoreError, read_api_ratings
from recs_ml.pipeline.schedule import CRON_SCHEDULE, MARKER, cron_line
from recs_ml.settings import get_settings


@pytest.fixture
def store(tmp_path):
    store = RatingsStore(tmp_path / "store.db")
    store.create_schema()
    store.put_users([(1, 24, "M", "technician")], source=BASE, created_at=0)
    store.put_users([(944, None, None, None)], source=API, created_at=0)
    store.put_ratings([(1, 50, 5.0, 100)], source=BASE)
    store.put_ratings([(944, 181, 4.0, 300), (944, 50, 5.0, 200)], source=API)
    store.close()
    return store.path


def test_only_api_ratings_are_read_in_time_order(store):
    added = read_api_ratings(store)
    assert added.ratings.user_id.tolist() == [944, 944]
    assert added.ratings.item_id.tolist() == [50, 181]  # by timestamp
    assert added.ratings.rating.tolist() == [5.0, 4.0]
    assert list(added.users) == [944]


def test_checksum_changes_with_new_ratings_and_not_with_base_rows(store):
    before = read_api_ratings(store).checksum()
    writer = RatingsStore(store)
    writer.put_ratings([(2, 7, 3.0, 400)], source=BASE)
    assert read_api_ratings(store).checksum() == before
    writer.put_ratings([(944, 7, 3.0, 400)], source=API)
    assert read_api_ratings(store).checksum() != before
    writer.close()


def test_unusable_stores_are_clear_errors(tmp_path, store):
    with pytest.raises(StoreError, match="ratings store not found"):
        read_api_ratings(tmp_path / "missing.db")
    (tmp_path / "junk.db").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a readable SQLite ratings store"):
        read_api_ratings(tmp_path / "junk.db")
    writer = RatingsStore(store)
    writer.put_ratings([(945, "x", 3.0, 1)], source=API)  # what a buggy writer might leave
    writer.close()
    with pytest.raises(StoreError, match="non-integer id"):
        read_api_ratings(store)
    with sqlite3.connect(store) as db:  # a store of another shape: no timestamp column
        db.execute("ALTER TABLE ratings DROP COLUMN timestamp")
    with pytest.raises(StoreError, match="lacks column"):
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
