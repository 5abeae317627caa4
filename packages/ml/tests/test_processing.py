"""The evaluation protocol's split, the store's API ratings and the files the steps exchange."""

import sqlite3

import numpy as np
import pytest

from recs_ml.data.datasets import DataError, Ratings
from recs_ml.data.processed import read_processed, read_ratings, write_ratings
from recs_ml.data.processing import process
from recs_ml.data.split import deduplicate, holdout_tail, split_protocol


def ratings(rows):
    return Ratings.from_rows(rows)


def pairs(r: Ratings):
    return sorted(zip(r.user_id.tolist(), r.item_id.tolist(), strict=True))


def test_tail_is_last_max1_floor_fifth_by_time_then_item():
    rows = [(1, item, 4.0, ts) for item, ts in [(5, 10), (3, 30), (4, 20), (9, 30), (1, 40)]]
    # user 2: 11 ratings -> floor(2.2) = 2 held out
    rows += [(2, 100 + i, 3.0, 1000 + i) for i in range(11)]
    # user 3: 2 ratings -> max(1, 0) = 1 held out
    rows += [(3, 7, 5.0, 5), (3, 8, 5.0, 1)]
    head, tail = holdout_tail(ratings(rows))
    # user 1 sorted: (10,5) (20,4) (30,3) (30,9) (40,1): tail is item 1
    assert pairs(tail) == [(1, 1), (2, 109), (2, 110), (3, 7)]
    assert len(head) + len(tail) == len(rows)
    assert (3, 8) in pairs(head)


def test_ties_broken_by_item_id():
    rows = [(1, item, 1.0, 50) for item in (9, 2, 5, 7, 3)]
    _, tail = holdout_tail(ratings(rows))
    assert pairs(tail) == [(1, 9)]


def test_validation_is_carved_from_train_the_same_way():
    rows = [(1, i, 1.0, i) for i in range(1, 26)]  # 25 ratings
    split = split_protocol(ratings(rows))
    assert pairs(split.test) == [(1, i) for i in range(21, 26)]  # floor(5.0)
    assert pairs(split.train) == [(1, i) for i in range(1, 21)]
    assert pairs(split.validation) == [(1, i) for i in range(17, 21)]  # floor(4.0) of 20


def test_deduplicate_keeps_latest():
    merged = deduplicate(ratings([(1, 2, 1.0, 10), (1, 2, 5.0, 20), (1, 3, 2.0, 5)]))
    assert pairs(merged) == [(1, 2), (1, 3)]
    assert float(merged.rating[merged.item_id == 2][0]) == 5.0


def _write_inter(path, rows):
    lines = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    lines += [f"{u}\t{i}\t{r}\t{t}" for u, i, r, t in rows]
    path.write_text("\n".join(lines) + "\n")


def _store(path, rows):
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE ratings (user_id INTEGER NOT NULL, item_id INTEGER NOT NULL, "
            "rating REAL NOT NULL, timestamp INTEGER NOT NULL, source TEXT NOT NULL, "
            "PRIMARY KEY (user_id, item_id))"
        )
        db.executemany("INSERT INTO ratings VALUES (?, ?, ?, ?, ?)", rows)


def test_process_writes_splits_meta_and_store_ratings(tmp_path):
    rows = [(u, i, 4.0, 100 * u + i) for u in (1, 2) for i in range(1, 11)]
    _write_inter(tmp_path / "tiny.inter", rows)
    _store(
        tmp_path / "store.db",
        [(1, 3, 4.0, 300, "base"), (3, 4, 5.0, 10, "api"), (3, 5, 4.0, 11, "api")],
    )
    out = tmp_path / "out"
    summary = process(tmp_path / "tiny.inter", out, store=tmp_path / "store.db")
    assert summary["store_ratings"] == 2 and summary["ratings"] == 22
    data = read_processed(out)
    assert (3, 5) in pairs(data.test) and (3, 4) in pairs(data.train)
    assert len(data.train) + len(data.test) == 22
    assert set(pairs(data.validation)) <= set(pairs(data.train))
    assert not set(pairs(data.fit)) & set(pairs(data.validation))
    assert (out / "meta" / "item_ids.txt").read_text().split() == [str(i) for i in range(1, 11)]
    assert len(data.data_checksum) == 64
    # The store's ratings change the training data's checksum.
    plain = tmp_path / "plain"
    process(tmp_path / "tiny.inter", plain)
    assert read_processed(plain).data_checksum != data.data_checksum


def test_bad_inputs_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match="ratings store not found"):
        process("ml-100k", tmp_path / "o", store=tmp_path / "none.db")
    (tmp_path / "x.csv").write_text("user,item\n1,2\n")
    with pytest.raises(DataError, match="missing column"):
        process(tmp_path / "x.csv", tmp_path / "o")
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,item_id,rating,timestamp\n1,2,x,3\n")
    with pytest.raises(DataError, match="line 2"):
        read_ratings(bad)
    with pytest.raises(DataError, match="not a process step output"):
        read_processed(tmp_path)


def test_ratings_file_round_trip(tmp_path):
    original = ratings([(1, 2, 3.5, 4), (5, 6, 1.0, 7)])
    write_ratings(tmp_path / "r.csv", original)
    again = read_ratings(tmp_path / "r.csv")
    assert pairs(again) == pairs(original)
    np.testing.assert_array_equal(again.rating, original.rating)


def test_process_leaves_out_api_users_over_the_caps_and_reports_them(tmp_path, monkeypatch):
    from recs_ml.settings import get_settings

    monkeypatch.setenv("RECS_MAX_RATINGS_PER_USER_PER_DAY", "2")
    get_settings.cache_clear()
    try:
        rows = [(u, i, 4.0, 100 * u + i) for u in (1, 2) for i in range(1, 11)]
        _write_inter(tmp_path / "tiny.inter", rows)
        flood = [(4, i, 1.0, 50 + i, "api") for i in range(1, 4)]  # 3 ratings in one day
        _store(tmp_path / "store.db", [(3, 4, 5.0, 10, "api"), (3, 5, 4.0, 11, "api"), *flood])
        summary = process(tmp_path / "tiny.inter", tmp_path / "out", store=tmp_path / "store.db")
    finally:
        get_settings.cache_clear()
    assert summary["store_ratings"] == 2 and summary["ratings"] == 22
    assert summary["api_users"] == 2 and summary["api_users_over_caps"] == 1
    assert summary["api_ratings_left_out"] == 3 and summary["api_max_ratings_per_user_day"] == 3
    assert 4 not in set(read_processed(tmp_path / "out").train.user_id.tolist())
