"""The processing step on Apache Spark (PySpark): the same output as :mod:`recs_ml.data.processing`.

The same protocol — the dataset plus the API's screened ratings, one rating per (user, item)
(the latest), each user's last ``max(1, floor(0.2 n))`` ratings by (timestamp, item_id) as
test and the same tail of train as validation — computed with DataFrame window functions, so
it runs unchanged in Spark local mode on one machine and on a cluster (the SageMaker Spark
processing container, several instances). ``recs data digest`` gives the same digest for the
output of either engine.

Layout written under the output (a local directory, or ``s3://`` / ``s3a://`` on a cluster)::

    train/ratings.csv/part-*.csv   validation/ratings.csv/part-*.csv   test/ratings.csv/part-*.csv
    train/shards/part-*.parquet    (train rows by user then time, whole users per shard)
    meta/items.json  meta/users.json  meta/item_ids.txt  meta/user_ids.txt  meta/data_checksum

Each split is a directory of CSV parts (Spark writes in parallel); ``read_ratings`` reads a
directory of parts in order. Item and user metadata files are small and read on the driver.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recs_ml.data.datasets import DataError, Dataset, Ratings, load_metadata, locate_source
from recs_ml.data.processed import RATINGS_FILE, RATINGS_HEADER, SHARD_ROWS, SHARDS_DIR, write_meta
from recs_ml.data.processing import api_ratings, checksum_with
from recs_ml.data.split import HOLDOUT_FRACTION

DEFAULT_DRIVER_MEMORY = "2g"
# Shuffle partitions when nothing configured them; adaptive execution merges small ones.
DEFAULT_SHUFFLE_PARTITIONS = 32
REMOTE_PREFIXES = ("s3://", "s3a://")


class SparkUnavailable(RuntimeError):
    """PySpark or a Java runtime is missing; the message says how to install them."""


@dataclass(frozen=True)
class SparkSettings:
    """How the local Spark session is started (ignored inside a cluster's spark-submit)."""

    master: str = "local[*]"
    driver_memory: str = DEFAULT_DRIVER_MEMORY
    shuffle_partitions: int = DEFAULT_SHUFFLE_PARTITIONS
    local_dir: str | None = None


def spark_session(settings: SparkSettings | None = None) -> Any:
    """A Spark session bound to 127.0.0.1 with bounded driver memory — or the session a
    cluster's ``spark-submit`` already started (the SageMaker Spark container)."""
    settings = settings or SparkSettings()
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable(
            "the Spark engine needs pyspark: install the extra (uv sync --all-packages, or "
            "pip install 'recs-ml[spark]') and a Java 17 runtime (scripts/setup.sh installs "
            "one with apt where java is missing)"
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    if "SPARK_HOME" not in os.environ and not os.environ.get("PYSPARK_SUBMIT_ARGS"):
        if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
            raise SparkUnavailable(
                "the Spark engine needs a Java runtime (17): install one (Debian/Ubuntu: "
                "apt-get install --no-install-recommends openjdk-17-jre-headless) or set "
                "JAVA_HOME; scripts/setup.sh does this where apt is available"
            )
    # Everything binds to 127.0.0.1: the driver, its block manager and the UI (off).
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.master(settings.master)
        .appName("recs-process")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", settings.driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(settings.shuffle_partitions))
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.sources.partitionOverwriteMode", "static")
        # Parquet shards: plain int64 timestamps, no Spark-specific INT96.
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    )
    if settings.local_dir:
        builder = builder.config("spark.local.dir", settings.local_dir)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


# --------------------------------------------------------------------------- reading


def _is_remote(location: str | Path) -> bool:
    return str(location).startswith(REMOTE_PREFIXES)


def _spark_uri(location: str | Path) -> str:
    """``s3://`` as Hadoop's ``s3a://`` (the SageMaker Spark container reads both)."""
    text = str(location)
    return "s3a://" + text[len("s3://") :] if text.startswith("s3://") else text


def _remote_kind(location: str) -> str:
    for suffix, kind in ((".parquet", "parquet"), (".csv", "csv"), (".inter", "recbole")):
        if location.rstrip("/").endswith(suffix):
            return kind
    if location.rstrip("/").endswith("u.data"):
        return "grouplens"
    raise DataError(
        location, None, "name a .csv, .parquet, .inter or u.data object (or a folder of .parquet)"
    )


def read_source(spark: Any, kind: str, location: str) -> Any:
    """The ratings of ``location`` as a DataFrame of string or numeric columns named
    user_id, item_id and (when the file has them) rating, timestamp."""
    from pyspark.sql import functions as F

    uri = _spark_uri(location)
    if kind == "parquet":
        frame = spark.read.parquet(uri)
    elif kind == "grouplens":
        frame = spark.read.csv(uri, sep="\t", header=False, inferSchema=False)
        if len(frame.columns) != 4:
            raise DataError(
                location, None, f"expected 4 tab-separated fields, found {len(frame.columns)}"
            )
        frame = frame.toDF(*RATINGS_HEADER)
    elif kind == "recbole":
        frame = spark.read.csv(uri, sep="\t", header=True, inferSchema=False)
        frame = frame.toDF(*[name.split(":", 1)[0].strip() for name in frame.columns])
    else:
        frame = spark.read.csv(uri, header=True, inferSchema=False)
    missing = [name for name in ("user_id", "item_id") if name not in frame.columns]
    if missing:
        raise DataError(
            location, 1, f"missing column(s) {', '.join(missing)}; found {frame.columns}"
        )
    wanted = [name for name in RATINGS_HEADER if name in frame.columns]
    frame = frame.select(*wanted)
    if "rating" not in wanted:
        frame = frame.withColumn("rating", F.lit(1.0))
    if "timestamp" not in wanted:
        frame = frame.withColumn("timestamp", F.lit(0))
    return frame.select(*RATINGS_HEADER)


def checked_ratings(frame: Any, location: str) -> tuple[Any, int]:
    """Typed ratings (long, long, float, long, and a ``_valid`` flag to drop) and their count;
    the first bad row is a :class:`DataError` naming the file and the row's values (ids
    positive integers, finite ratings, integral timestamps), before anything is written.

    The typed rows are persisted (memory, spilling to disk), so the input is parsed once: this
    check, the range partitioner's sample and the shuffle all read that copy; the caller
    unpersists the returned frame."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    def integral(name: str) -> Any:
        raw = F.col(name).cast("string")
        return F.trim(raw).rlike(r"^[0-9]+(\.0*)?$")

    rating = F.col("rating").cast("double")
    valid = F.coalesce(
        integral("user_id")
        & integral("item_id")
        & (F.trim(F.col("timestamp").cast("string")).rlike(r"^-?[0-9]+(\.0*)?$"))
        & rating.isNotNull()
        & ~F.isnan(rating)
        & (F.abs(rating) != float("inf"))
        & (F.col("user_id").cast("double") >= 1)
        & (F.col("item_id").cast("double") >= 1),
        F.lit(False),
    )
    typed = frame.select(
        F.col("user_id").cast("double").cast("long").alias("user_id"),
        F.col("item_id").cast("double").cast("long").alias("item_id"),
        rating.cast("float").alias("rating"),
        F.col("timestamp").cast("double").cast("long").alias("timestamp"),
        valid.alias("_valid"),
    ).persist(StorageLevel.MEMORY_AND_DISK)
    counted = typed.agg(
        F.count(F.lit(1)).alias("rows"), F.count(F.when(~F.col("_valid"), 1)).alias("bad")
    ).first()
    if counted["bad"]:
        typed.unpersist()
        row = frame.filter(~valid).limit(1).collect()[0].asDict()
        shown = ", ".join(f"{name}={row.get(name)!r}" for name in RATINGS_HEADER)
        raise DataError(
            location,
            None,
            f"bad rating row ({shown}): ids must be positive integers, rating a finite "
            "number and timestamp an integer",
        )
    return typed, int(counted["rows"])


def extras_frame(spark: Any, extras: list[Ratings]) -> Any | None:
    """The API's ratings as a DataFrame (small: capped per user), in their concat order."""
    from pyspark.sql import types as T

    rows: list[tuple[int, int, float, int]] = []
    for extra in extras:
        rows.extend(
            zip(
                extra.user_id.tolist(),
                extra.item_id.tolist(),
                extra.rating.astype(float).tolist(),
                extra.timestamp.tolist(),
                strict=True,
            )
        )
    if not rows:
        return None
    schema = T.StructType(
        [
            T.StructField("user_id", T.LongType(), False),
            T.StructField("item_id", T.LongType(), False),
            T.StructField("rating", T.DoubleType(), False),
            T.StructField("timestamp", T.LongType(), False),
        ]
    )
    return spark.createDataFrame(
        [(*row, index) for index, row in enumerate(rows)],
        T.StructType([*schema.fields, T.StructField("_order", T.LongType(), False)]),
    )


# --------------------------------------------------------------------------- protocol


def deduplicated(ratings: Any, extras: Any | None, partitions: int) -> Any:
    """One rating per (user, item): the latest; on equal timestamps the later row (the API's
    ratings after the dataset's, then file order), as the local engine's stable sort keeps."""
    from pyspark.sql import functions as F

    rows = ratings.withColumn("_source", F.lit(0)).withColumn(
        "_order", F.monotonically_increasing_id()
    )
    if extras is not None:
        rows = rows.unionByName(
            extras.withColumn("rating", F.col("rating").cast("float")).withColumn(
                "_source", F.lit(1)
            )
        )
    # Range-partitioned by user: the aggregation, the split's window and every output part
    # share this one shuffle, and each partition holds whole users in user order.
    latest = (
        rows.repartitionByRange(partitions, "user_id")
        .groupBy("user_id", "item_id")
        .agg(F.max(F.struct("timestamp", "_source", "_order", "rating")).alias("_latest"))
    )
    return latest.select(
        "user_id",
        "item_id",
        F.col("_latest.rating").alias("rating"),
        F.col("_latest.timestamp").alias("timestamp"),
    )


def with_split(ratings: Any, fraction: float = HOLDOUT_FRACTION) -> Any:
    """Each row with ``split`` = train | validation | test: per user in (timestamp, item_id)
    order, the last ``max(1, floor(fraction n))`` are test; of the n' others (train), the
    last ``max(1, floor(fraction n'))`` are validation too (a ``validation`` row is in train)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    by_user = Window.partitionBy("user_id")
    ordered = by_user.orderBy("timestamp", "item_id")
    n = F.count(F.lit(1)).over(by_user)
    position = F.row_number().over(ordered) - 1
    held = F.greatest(F.lit(1), F.floor(F.lit(fraction) * F.col("_n")))
    frame = ratings.withColumn("_n", n).withColumn("_pos", position)
    frame = frame.withColumn("_train_n", F.col("_n") - held.cast("long"))
    held_validation = F.greatest(F.lit(1), F.floor(F.lit(fraction) * F.col("_train_n")))
    return frame.select(
        "user_id",
        "item_id",
        "rating",
        "timestamp",
        F.when(F.col("_pos") >= F.col("_train_n"), F.lit("test"))
        .when(F.col("_pos") >= F.col("_train_n") - held_validation.cast("long"), "validation")
        .otherwise(F.lit("train"))
        .alias("split"),
    )


# --------------------------------------------------------------------------- writing


def _output_parts(rows: int) -> int:
    """Output parts (and train shards) of about SHARD_ROWS rows each (``rows`` counted before
    deduplication, so parts come out at most that size)."""
    return max(1, math.ceil(rows / SHARD_ROWS))


def _join(base: str, *names: str) -> str:
    return "/".join([base.rstrip("/"), *names])


def _sorted_ids(frame: Any) -> Iterator[int]:
    """Distinct ids ascending, streamed to the driver a part (of ~SHARD_ROWS ids) at a time."""
    ids = frame.distinct()
    parts = max(1, math.ceil(ids.count() / SHARD_ROWS))
    ordered = ids.repartitionByRange(parts, "id").sortWithinPartitions("id")
    for row in ordered.toLocalIterator():
        yield int(row["id"])


def _upload_tree(local: Path, remote: str) -> None:
    import boto3

    bucket, _, prefix = remote.split("://", 1)[1].partition("/")
    client = boto3.client("s3")
    for path in sorted(local.rglob("*")):
        if path.is_file():
            key = "/".join(filter(None, [prefix.rstrip("/"), str(path.relative_to(local))]))
            client.upload_file(str(path), bucket, key)


def process_spark(
    data: str | Path,
    output: str | Path,
    store: Path | None = None,
    ratings_table: str | None = None,
    settings: SparkSettings | None = None,
) -> dict[str, int]:
    """:func:`recs_ml.data.processing.process` on Spark: same inputs, same split, same files."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from recs_ml.progress import progress

    if _is_remote(data):
        location = str(data)
        kind = _remote_kind(location)
        metadata = Dataset(name=Path(location).stem, ratings=Ratings.from_rows([]))
        checksum = _remote_checksum(location)
    else:
        kind, path = locate_source(data)
        location = str(path)
        metadata = load_metadata(data)
        checksum = metadata.checksum()
    extras, caps_report = api_ratings(store, ratings_table)
    checksum = checksum_with(checksum, extras)
    added = sum(len(extra) for extra in extras)

    spark = spark_session(settings)
    if not _is_remote(data):
        # About 32 MB of input per shuffle partition for the vocabularies' aggregations
        # (adaptive execution merges small ones).
        size = sum(p.stat().st_size for p in metadata.source_files[:1])
        spark.conf.set("spark.sql.shuffle.partitions", str(max(2, math.ceil(size / (32 << 20)))))
    source, source_rows = checked_ratings(read_source(spark, kind, location), location)
    with progress("spark: deduplicate and split", total=source_rows + added, unit="rows") as bar:
        rows = deduplicated(
            source.drop("_valid"), extras_frame(spark, extras), _output_parts(source_rows + added)
        )
        # Sorted by (user, time, item) within each range partition, as the window leaves
        # them (Spark plans no second sort): whole users per part, the parts in user order.
        split = (
            with_split(rows)
            .sortWithinPartitions("user_id", "timestamp", "item_id")
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        counts = {
            row["split"]: int(row["count"]) for row in split.groupBy("split").count().collect()
        }
        bar.advance(source_rows + added)
    source.unpersist()
    n_test = counts.get("test", 0)
    n_validation = counts.get("validation", 0)
    n_train = counts.get("train", 0) + n_validation
    total = n_train + n_test
    if total == 0:
        raise DataError(location, None, "no ratings in the input")
    out = _spark_uri(output) if _is_remote(output) else str(Path(output).resolve())
    columns = RATINGS_HEADER
    train = split.filter(F.col("split") != "test").select(*columns)
    with progress("spark: write splits and shards", total=total + n_train, unit="rows") as bar:
        train.write.mode("overwrite").option("header", True).csv(_join(out, "train", RATINGS_FILE))
        for name in ("validation", "test"):
            split.filter(F.col("split") == name).select(*columns).write.mode("overwrite").option(
                "header", True
            ).csv(_join(out, name, RATINGS_FILE))
        train.write.mode("overwrite").option("compression", "snappy").parquet(
            _join(out, "train", SHARDS_DIR)
        )
        bar.advance(total + n_train)

    item_frame = split.select(F.col("item_id").alias("id"))
    if metadata.items:
        item_frame = item_frame.unionByName(
            spark.createDataFrame([(int(i),) for i in metadata.items], "id long")
        )
    vocabulary_sizes = {"users": 0}

    def counted(ids: Iterator[int], name: str) -> Iterator[int]:
        for value in ids:
            vocabulary_sizes[name] += 1
            yield value

    with tempfile.TemporaryDirectory() as scratch:
        meta = Path(scratch) / "meta" if _is_remote(output) else Path(out) / "meta"
        write_meta(
            meta,
            _sorted_ids(item_frame),
            counted(_sorted_ids(split.select(F.col("user_id").alias("id"))), "users"),
            metadata.items,
            metadata.users,
            checksum,
        )
        if _is_remote(output):
            _upload_tree(meta, _join(str(output), "meta"))
    items = split.select("item_id").distinct().count()
    users = vocabulary_sizes["users"]
    split.unpersist()
    return {
        "ratings": total,
        "store_ratings": added,
        **caps_report,
        "train": n_train,
        "validation": n_validation,
        "test": n_test,
        "users": int(users),
        "items": int(items),
    }


def _remote_checksum(location: str) -> str:
    """For an S3 input: sha256 over each object's key, size and ETag (reading every byte of
    a cluster-sized input on the driver would take longer than the job)."""
    import hashlib

    import boto3

    bucket, _, prefix = location.split("://", 1)[1].partition("/")
    digest = hashlib.sha256()
    pages = (
        boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    )
    for page in pages:
        for entry in page.get("Contents", []):
            digest.update(f"{entry['Key']}\t{entry['Size']}\t{entry['ETag']}\n".encode())
    return digest.hexdigest()
