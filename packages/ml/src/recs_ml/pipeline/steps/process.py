"""Processing step: ``python -m recs_ml.pipeline.steps.process --data ml-100k --output DIR
[--store DB] [--ratings-table TABLE] [--engine local|spark]``: the dataset plus the ratings
people added through the API. ``local`` (the default) splits in memory, columnar; ``spark`` runs
the same protocol as a PySpark job (Spark local mode here, the cluster inside spark-submit)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

CONTAINER_OUTPUT = "/opt/ml/processing/output"
ENGINES = ("local", "spark")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="recs_ml.pipeline.steps.process", description=__doc__)
    parser.add_argument(
        "--data", default="ml-100k", help="ml-100k, or a path (.inter, u.data, .csv)"
    )
    parser.add_argument(
        "--store",
        type=Path,
        default=None,
        help="SQLite ratings store whose API ratings are added (default RECS_HOME/store.db "
        "when it exists)",
    )
    parser.add_argument("--no-store", action="store_true", help="ignore the ratings store")
    parser.add_argument(
        "--ratings-table",
        default="",
        help="the API's DynamoDB ratings table on AWS, whose API ratings are added too "
        "(region from AWS_DEFAULT_REGION; empty or 'none': no table)",
    )
    parser.add_argument(
        "--output",
        default=CONTAINER_OUTPUT,
        help="output directory (the spark engine also takes s3:// or s3a:// URIs)",
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="local: columnar, one machine (small data); spark: PySpark (large data)",
    )
    parser.add_argument(
        "--driver-memory",
        default=None,
        help="spark engine, local mode: the driver JVM's heap (default 2g)",
    )
    args = parser.parse_args(argv)
    if args.engine == "local" and str(args.output).startswith(("s3://", "s3a://")):
        parser.error("--output s3://... needs --engine spark; the local engine writes a directory")
    return args


def main(argv: list[str] | None = None) -> int:
    from recs_ml.data.datasets import DataError
    from recs_ml.data.embedded import FetchError
    from recs_ml.data.processing import process
    from recs_ml.data.spark_processing import SparkUnavailable
    from recs_ml.data.store import StoreError
    from recs_ml.pipeline.sagemaker import NO_RATINGS_TABLE
    from recs_ml.settings import get_settings

    args = parse_args(argv)
    store = args.store
    if store is None and not args.no_store and get_settings().store_path.is_file():
        store = get_settings().store_path
    table = None if args.ratings_table in ("", NO_RATINGS_TABLE) else args.ratings_table
    try:
        if args.engine == "spark":
            from recs_ml.data.spark_processing import (
                DEFAULT_DRIVER_MEMORY,
                SparkSettings,
                process_spark,
            )

            settings = SparkSettings(driver_memory=args.driver_memory or DEFAULT_DRIVER_MEMORY)
            summary = process_spark(
                args.data,
                args.output,
                store=None if args.no_store else store,
                ratings_table=table,
                settings=settings,
            )
        else:
            summary = process(
                args.data,
                Path(args.output),
                store=None if args.no_store else store,
                ratings_table=table,
            )
    except (DataError, FetchError, StoreError, SparkUnavailable) as exc:
        print(f"process: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"output": str(args.output), "engine": args.engine, **summary}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
