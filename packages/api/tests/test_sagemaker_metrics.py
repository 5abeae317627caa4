"""GET /models on AWS: a version's metrics come from the evaluation report its model package
names in S3 (``ModelMetrics.ModelQuality.Statistics``), as the SageMaker pipeline registers it.
SageMaker through a botocore Stubber, S3 through moto."""

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber
from conftest import stub_model_packages
from moto import mock_aws

from chalicelib import registry as registry_module
from chalicelib.registry import SageMakerRegistry

GROUP = "recs-movielens"
BUCKET = "recs-dev-data"
WHEN = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
REPORT = {
    "default_model": "tfrs",
    "split": "test",
    "metrics": {"tfrs": {"ndcg@10": 0.259}, "mostpop": {"ndcg@10": 0.111}},
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        yield boto3.client("sagemaker", region_name="us-east-1"), s3


def _report_key(version: int) -> str:
    return f"pipeline/evaluation/execution-{version}/evaluation.json"


def _stub_listing(stub: Stubber, versions: list[int], metrics_uri=None) -> None:
    packages = []
    for version in versions:
        uri = metrics_uri or f"s3://{BUCKET}/{_report_key(version)}"
        statistics = {"ContentType": "application/json", "S3Uri": uri}
        fields = {"ModelMetrics": {"ModelQuality": {"Statistics": statistics}}}
        packages.append((version, "Approved", f"s3://{BUCKET}/{version}.tgz", fields))
    stub_model_packages(stub, GROUP, WHEN, packages)


def _put_report(s3, version: int, body: bytes) -> None:
    s3.put_object(Bucket=BUCKET, Key=_report_key(version), Body=body)


def test_each_version_shows_the_metrics_of_its_own_evaluation_report(aws) -> None:
    sagemaker, s3 = aws
    _put_report(s3, 1, json.dumps(REPORT).encode())
    second = {**REPORT, "metrics": {"tfrs": {"ndcg@10": 0.3}}, "split": "validation"}
    _put_report(s3, 2, json.dumps(second).encode())
    with Stubber(sagemaker) as stub:
        _stub_listing(stub, [1, 2])
        versions = SageMakerRegistry(sagemaker, GROUP, s3).versions()
    assert versions[0].metrics == REPORT["metrics"]
    assert versions[1].metrics == {"tfrs": {"ndcg@10": 0.3}}
    # Each version says which split its figures come from, as its report does.
    assert [v.metrics_split for v in versions] == ["test", "validation"]


def test_a_report_is_read_once_per_version(aws) -> None:
    sagemaker, s3 = aws
    _put_report(s3, 1, json.dumps(REPORT).encode())
    registry = SageMakerRegistry(sagemaker, GROUP, s3)
    with Stubber(sagemaker) as stub:
        _stub_listing(stub, [1])
        _stub_listing(stub, [1])
        first = registry.versions()
        s3.delete_object(Bucket=BUCKET, Key=_report_key(1))  # a second read would now fail
        again = registry.versions()
    assert first[0].metrics == again[0].metrics == REPORT["metrics"]


def test_an_unreadable_report_leaves_metrics_empty_and_is_retried(aws, caplog) -> None:
    sagemaker, s3 = aws
    registry = SageMakerRegistry(sagemaker, GROUP, s3)
    with Stubber(sagemaker) as stub:
        _stub_listing(stub, [1])
        _stub_listing(stub, [1])
        missing = registry.versions()
        _put_report(s3, 1, json.dumps(REPORT).encode())  # the report arrives later
        found = registry.versions()
    assert (missing[0].version, missing[0].status, missing[0].metrics) == (1, "Approved", {})
    # NoSuchKey: the API role may list the reports' prefix (without it S3 answers 403).
    assert "NoSuchKey" in caplog.text
    assert found[0].metrics == REPORT["metrics"]


@pytest.mark.parametrize(
    ("body", "uri", "warning"),
    [
        (b"{not json", None, "not JSON"),
        (b'["metrics"]', None, None),
        (json.dumps({"metrics": [0.2]}).encode(), None, None),
        (b"{}", "https://example.com/evaluation.json", "not an s3:// object URI"),
        (b"{}", f"s3://{BUCKET}", "not an s3:// object URI"),
    ],
)
def test_a_report_that_is_not_ours_gives_no_metrics(aws, caplog, body, uri, warning) -> None:
    sagemaker, s3 = aws
    _put_report(s3, 1, body)
    with Stubber(sagemaker) as stub:
        _stub_listing(stub, [1], metrics_uri=uri)
        (version,) = SageMakerRegistry(sagemaker, GROUP, s3).versions()
    assert version.metrics == {}
    if warning:
        assert warning in caplog.text


def test_an_oversized_report_is_not_parsed(aws, caplog, monkeypatch) -> None:
    sagemaker, s3 = aws
    monkeypatch.setattr(registry_module, "MAX_REPORT_BYTES", 64)
    _put_report(s3, 1, json.dumps({**REPORT, "padding": "x" * 100}).encode())
    with Stubber(sagemaker) as stub:
        _stub_listing(stub, [1])
        (version,) = SageMakerRegistry(sagemaker, GROUP, s3).versions()
    assert version.metrics == {}
    assert "larger than 64 bytes" in caplog.text


def test_without_an_s3_client_metrics_are_empty(aws) -> None:
    sagemaker, _ = aws
    with Stubber(sagemaker) as stub:
        _stub_listing(stub, [1])
        (version,) = SageMakerRegistry(sagemaker, GROUP, s3=None).versions()
    assert (version.version, version.metrics) == (1, {})


def test_only_finite_numbers_are_kept_from_a_report(aws) -> None:
    sagemaker, s3 = aws
    body = b'{"metrics": {"tfrs": {"ndcg@10": NaN, "recall@10": 0.2, "note": "x", "ok": true},'
    body += b' "ease": [0.1], "mostpop": {"ndcg@10": Infinity, "mrr@10": 1}}}'
    _put_report(s3, 1, body)
    with Stubber(sagemaker) as stub:
        _stub_listing(stub, [1])
        (version,) = SageMakerRegistry(sagemaker, GROUP, s3).versions()
    assert version.metrics == {"tfrs": {"recall@10": 0.2}, "mostpop": {"mrr@10": 1.0}}
    json.dumps(version.metrics, allow_nan=False)  # what the API sends is valid JSON
