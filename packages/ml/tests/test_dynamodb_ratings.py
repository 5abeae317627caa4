"""Retraining on AWS: the Process step adds the ratings people made through the API, read from
its DynamoDB table (docs/contracts.md, "Ratings table on AWS"), against moto."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from test_processing import _write_inter, pairs

from recs_ml.data.processed import read_processed
from recs_ml.data.processing import process
from recs_ml.data.store import StoreError, read_dynamodb_ratings

TABLE = "recs-dev-ratings"


@pytest.fixture
def dynamodb(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        resource = boto3.resource("dynamodb")
        table = resource.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "user_id", "KeyType": "HASH"},
                {"AttributeName": "item_id", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "user_id", "AttributeType": "N"},
                {"AttributeName": "item_id", "AttributeType": "N"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        with table.batch_writer() as batch:
            # The reserved partitions: a movie, a profile, the id counter.
            batch.put_item(Item={"user_id": 0, "item_id": 5, "title": "Copycat (1995)"})
            batch.put_item(Item={"user_id": -1, "item_id": 3, "source": "api", "age": 30})
            batch.put_item(Item={"user_id": -2, "item_id": 0, "value": 3})
            # A base rating (already in the dataset) and a user's ratings through the API.
            batch.put_item(
                Item={"user_id": 1, "item_id": 3, "rating": 4, "timestamp": 300, "source": "base"}
            )
            for item_id, rating, timestamp in ((5, Decimal("4.5"), 11), (4, 5, 10)):
                batch.put_item(
                    Item={"user_id": 3, "item_id": item_id, "rating": rating,
                          "timestamp": timestamp, "source": "api"}
                )  # fmt: skip
        yield table


def test_only_the_api_ratings_are_read_in_time_order(dynamodb):
    added = read_dynamodb_ratings(TABLE)
    assert pairs(added) == [(3, 4), (3, 5)]
    assert added.item_id.tolist() == [4, 5]  # by timestamp
    assert added.rating.tolist() == [5.0, 4.5]
    assert added.timestamp.tolist() == [10, 11]


def test_process_adds_them_to_the_dataset(dynamodb, tmp_path):
    rows = [(u, i, 4.0, 100 * u + i) for u in (1, 2) for i in range(1, 11)]
    _write_inter(tmp_path / "tiny.inter", rows)
    out = tmp_path / "out"
    summary = process(tmp_path / "tiny.inter", out, ratings_table=TABLE)
    assert summary["store_ratings"] == 2 and summary["ratings"] == 22
    data = read_processed(out)
    assert (3, 5) in pairs(data.test) and (3, 4) in pairs(data.train)
    plain = tmp_path / "plain"
    process(tmp_path / "tiny.inter", plain)
    assert read_processed(plain).data_checksum != data.data_checksum


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"user_id": Decimal("3.5"), "item_id": 9, "rating": 4, "timestamp": 12}, "integer id"),
        ({"user_id": 3, "item_id": 9, "timestamp": 12}, "missing or non-numeric rating"),
        ({"user_id": 3, "item_id": 9, "rating": "five", "timestamp": 12}, "non-numeric rating"),
        ({"user_id": 3, "item_id": 9, "rating": 4, "timestamp": Decimal("1.5")}, "timestamp"),
    ],
)
def test_a_malformed_rating_is_a_clear_error_naming_the_table(dynamodb, item, message):
    dynamodb.put_item(Item={**item, "source": "api"})
    with pytest.raises(StoreError, match=f"DynamoDB table '{TABLE}'.*{message}"):
        read_dynamodb_ratings(TABLE)


def test_a_table_not_created_yet_holds_no_ratings(dynamodb, capsys):
    assert len(read_dynamodb_ratings("recs-prod-ratings")) == 0
    assert "'recs-prod-ratings' does not exist: no API ratings added" in capsys.readouterr().err


def test_a_table_that_cannot_be_read_is_a_clear_error(dynamodb):
    client = boto3.client("dynamodb")
    with Stubber(client) as stub:
        stub.add_client_error(
            "scan",
            service_error_code="AccessDeniedException",
            service_message="not authorized to perform: dynamodb:Scan",
            http_status_code=400,
        )
        with pytest.raises(StoreError, match=f"'{TABLE}': cannot read the API's ratings.*Scan"):
            read_dynamodb_ratings(TABLE, client=client)


def test_without_a_region_the_error_says_so(monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(StoreError, match="cannot read the API's ratings.*region"):
        read_dynamodb_ratings(TABLE)


def test_the_process_step_reports_an_unreachable_table_and_writes_nothing(tmp_path):
    rows = [(u, i, 4.0, 100 * u + i) for u in (1, 2) for i in range(1, 6)]
    _write_inter(tmp_path / "tiny.inter", rows)
    out = tmp_path / "out"
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        # Nothing listens here: the scan fails fast instead of reaching AWS.
        "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9",
        "AWS_MAX_ATTEMPTS": "1",
        "RECS_HOME": str(tmp_path / "home"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "recs_ml.pipeline.steps.process",
         "--data", str(tmp_path / "tiny.inter"), "--output", str(out),
         "--ratings-table=recs-dev-ratings"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "process: error: DynamoDB table 'recs-dev-ratings': cannot read" in done.stderr
    assert not out.exists()
    # "none" (the pipeline parameter's default) or empty: the step runs on the dataset alone.
    for value in ("none", ""):
        done = subprocess.run(
            [sys.executable, "-m", "recs_ml.pipeline.steps.process",
             "--data", str(tmp_path / "tiny.inter"), "--output", str(out),
             f"--ratings-table={value}"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout.splitlines()[-1])["store_ratings"] == 0
