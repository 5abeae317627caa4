"""The Spark processing engine: the same split, vocabularies and shards as the local engine.

One Spark session (local mode, bound to 127.0.0.1) serves the whole module: starting the JVM
is the slow part.
"""

from __future__ import annotations

import json
import shutil
import sqlite3

import numpy as np
import pytest

from recs_ml.data.datasets import DataError
from recs_ml.data.embedded import embedded_is_ready
from recs_ml.data.processed import data_digest, read_processed, shard_paths
from recs_ml.data.processing import process

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("the Spark engine needs a Java runtime (scripts/setup.sh)", allow_module_level=True)

from recs_ml.data.spark_processing import SparkSettings, process_spark, spark_session  # noqa: E402


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    session = spark_session(
        SparkSettings(
            master="local[2]",
            driver_memory="1g",
            local_dir=str(tmp_path_factory.mktemp("spark-local")),
        )
    )
    yield session
    session.stop()


def both_engines(data, tmp_path, **kwargs):
    local, spark_out = tmp_path / "local", tmp_path / "spark"
    local_summary = process(data, local, **kwargs)
    spark_summary = process_spark(data, spark_out, **kwargs)
    return (local, local_summary), (spark_out, spark_summary)


def test_session_binds_to_localhost_with_bounded_driver_memory(spark):
    conf = spark.sparkContext.getConf()
    assert conf.get("spark.driver.host") == "127.0.0.1"
    assert conf.get("spark.driver.bindAddress") == "127.0.0.1"
    assert conf.get("spark.driver.memory") == "1g"
    assert conf.get("spark.ui.enabled") == "false"


def test_same_digest_as_local_engine_on_ml100k(spark, tmp_path):
    if not embedded_is_ready():
        pytest.skip("MovieLens-100K not fetched (scripts/setup.sh)")
    (local, local_summary), (spark_out, spark_summary) = both_engines(
        "ml-100k", tmp_path, store=None
    )
    assert spark_summary == local_summary
    local_digest, spark_digest = data_digest(local), data_digest(spark_out)
    assert spark_digest["parts"] == local_digest["parts"]
    assert spark_digest["digest"] == local_digest["digest"]
    assert spark_digest["rows"] == {"train": 80367, "validation": 15707, "test": 19633}
    for name in ("items.json", "users.json", "data_checksum"):
        assert (spark_out / "meta" / name).read_bytes() == (local / "meta" / name).read_bytes()


def test_edge_cases_duplicates_ties_short_users_and_api_ratings(spark, tmp_path):
    # user 1: a re-rating (latest wins), equal timestamps (item id breaks the tie);
    # user 2: one rating (test only); user 3: two (one train, one test); user 4: API only.
    csv = tmp_path / "ratings.csv"
    rows = [
        (1, 10, 3.0, 100), (1, 11, 4.0, 100), (1, 12, 5.0, 101), (1, 10, 1.5, 102),
        (1, 13, 2.0, 103), (1, 14, 4.5, 104), (1, 15, 1.0, 105), (2, 10, 4.0, 50),
        (3, 11, 2.0, 60), (3, 12, 3.0, 61),
    ]  # fmt: skip
    csv.write_text(
        "user_id,item_id,rating,timestamp\n" + "".join(f"{u},{i},{r},{t}\n" for u, i, r, t in rows)
    )
    store = tmp_path / "store.db"
    with sqlite3.connect(store) as connection:
        connection.execute(
            "CREATE TABLE ratings (user_id INTEGER, item_id INTEGER, rating REAL, "
            "timestamp INTEGER, source TEXT)"
        )
        connection.executemany(
            "INSERT INTO ratings VALUES (?, ?, ?, ?, 'api')",
            [(4, 10, 5.0, 200), (4, 16, 4.0, 201), (3, 12, 1.0, 61)],
        )
    (local, local_summary), (spark_out, spark_summary) = both_engines(csv, tmp_path, store=store)
    assert spark_summary == local_summary
    assert data_digest(spark_out) == data_digest(local)
    data = read_processed(spark_out)
    latest = data.train.concat(data.test)
    keys = zip(latest.user_id.tolist(), latest.item_id.tolist(), strict=True)
    pairs = dict(zip(keys, latest.rating.tolist(), strict=True))
    assert pairs[(1, 10)] == pytest.approx(1.5)  # the re-rating replaced the first
    assert pairs[(3, 12)] == pytest.approx(1.0)  # the API's rating wins an equal timestamp
    assert data.test.user_id.tolist().count(2) == 1 and 2 not in data.train.user_id.tolist()
    assert sorted(data.test.item_id[data.test.user_id == 1].tolist()) == [15]


def test_shards_hold_whole_users_in_order(spark, tmp_path):
    import recs_ml.data.spark_processing as engine
    from recs_ml.data.streaming import read_shard

    csv = tmp_path / "ratings.csv"
    rng = np.random.default_rng(0)
    users = rng.integers(1, 60, 3000)
    items = rng.integers(1, 200, 3000)
    csv.write_text(
        "user_id,item_id,rating,timestamp\n"
        + "".join(f"{u},{i},4,{t}\n" for t, (u, i) in enumerate(zip(users, items, strict=True)))
    )
    original = engine.SHARD_ROWS
    engine.SHARD_ROWS = 500  # several shards from a small file
    try:
        process_spark(csv, tmp_path / "out")
    finally:
        engine.SHARD_ROWS = original
    shards = [read_shard(path) for path in shard_paths(tmp_path / "out")]
    assert len(shards) > 1
    seen: set[int] = set()
    last_user = 0
    for shard in shards:
        shard_users = set(shard.user_id.tolist())
        assert not shard_users & seen  # whole users: none is split across shards
        seen |= shard_users
        assert shard.user_id[0] > last_user and np.all(np.diff(shard.user_id) >= 0)
        last_user = int(shard.user_id[-1])
    process(csv, tmp_path / "local")
    assert data_digest(tmp_path / "out")["digest"] == data_digest(tmp_path / "local")["digest"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("user_id,rating\n1,4\n", "missing column.*item_id"),
        ("user_id,item_id,rating,timestamp\n1,2,4,10\nx,3,4,11\n", "user_id='x'"),
        ("user_id,item_id,rating,timestamp\n1,0,4,10\n", "positive integers"),
        ("user_id,item_id,rating,timestamp\n1,2,4,1.5\n", "timestamp='1.5'"),
    ],
)
def test_bad_input_is_a_clear_error_naming_the_file(spark, tmp_path, content, message):
    csv = tmp_path / "bad.csv"
    csv.write_text(content)
    with pytest.raises(DataError, match=message) as error:
        process_spark(csv, tmp_path / "out")
    assert "bad.csv" in str(error.value)
    assert not (tmp_path / "out").exists()


def test_process_step_cli_takes_the_engine(spark, tmp_path, capsys):
    from recs_ml.pipeline.steps.process import main

    csv = tmp_path / "ratings.csv"
    csv.write_text("user_id,item_id\n1,2\n1,3\n1,4\n2,2\n2,3\n")
    assert main(["--engine", "spark", "--no-store", "--data", str(csv), "--output",
                 str(tmp_path / "out")]) == 0  # fmt: skip
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["engine"] == "spark" and summary["ratings"] == 5
    assert main(["--engine", "local", "--no-store", "--data", str(csv), "--output",
                 str(tmp_path / "local")]) == 0  # fmt: skip
    assert data_digest(tmp_path / "out") == data_digest(tmp_path / "local")
