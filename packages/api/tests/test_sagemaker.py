"""The SageMaker side: invoke_endpoint and the registry through botocore Stubbers, and a real
read timeout from a slow server standing in for the runtime API."""

import io
import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.config import Config
from botocore.response import StreamingBody
from botocore.stub import Stubber
from chalice.test import Client
from conftest import body, stub_model_packages

from chalicelib import wiring
from chalicelib.endpoint import EndpointRejected, SageMakerEndpoint
from chalicelib.models_info import model_info
from chalicelib.registry import SageMakerRegistry
from chalicelib.service import RecsService
from chalicelib.sqlite_store import SqliteStore

NAME = "recs-movielens"
WHEN = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def _clients(**runtime_kwargs):
    runtime = boto3.client("sagemaker-runtime", region_name="us-east-1", **runtime_kwargs)
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    return runtime, sagemaker


def _stub_endpoint_description(stubber: Stubber, version: int) -> None:
    stubber.add_response(
        "describe_endpoint",
        {"EndpointName": NAME, "EndpointArn": f"arn:aws:sagemaker:us-east-1:1:endpoint/{NAME}",
         "EndpointConfigName": f"{NAME}-config-v{version}", "EndpointStatus": "InService",
         "CreationTime": WHEN, "LastModifiedTime": WHEN},
        {"EndpointName": NAME},
    )  # fmt: skip
    stubber.add_response(
        "describe_endpoint_config",
        {"EndpointConfigName": f"{NAME}-config-v{version}",
         "EndpointConfigArn": "arn:aws:sagemaker:us-east-1:1:endpoint-config/c",
         "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": f"{NAME}-v{version}"}],
         "CreationTime": WHEN},
        {"EndpointConfigName": f"{NAME}-config-v{version}"},
    )  # fmt: skip


def _invoke_response(item_ids, scores) -> dict:
    data = json.dumps({"predictions": [{"item_ids": item_ids, "scores": scores}]}).encode()
    return {"Body": StreamingBody(io.BytesIO(data), len(data)), "ContentType": "application/json"}


def test_recommendations_through_invoke_endpoint(home) -> None:
    runtime, sagemaker = _clients()
    endpoint = SageMakerEndpoint(NAME, runtime, sagemaker, default_model="tfrs")
    service = RecsService(
        SqliteStore(home / "store.db"), endpoint, SageMakerRegistry(sagemaker, NAME)
    )
    with Stubber(runtime) as runtime_stub, Stubber(sagemaker) as sagemaker_stub:
        runtime_stub.add_response(
            "invoke_endpoint",
            _invoke_response([4, 1, 6], [0.9, 0.8, 0.7]),
            {
                "EndpointName": NAME,
                "ContentType": "application/json",
                "Accept": "application/json",
                "CustomAttributes": "tfs-model-name=ease",
                "Body": json.dumps(
                    {"instances": [{"user_id": 2, "history": [1, 2], "exclude": [0], "k": 3}]}
                ).encode(),
            },
        )
        _stub_endpoint_description(sagemaker_stub, 3)
        wiring.use(service)
        from app import app

        with Client(app) as client:
            result = body(client.http.get("/users/2/recommendations?k=3&model=ease"))
        runtime_stub.assert_no_pending_responses()
    assert result["model"] == {"name": "ease", "version": 3, **model_info("ease")}
    assert result["fallback"] is False
    assert result["movies"] == [4, 6]  # 1 is in user 2's history


def test_filters_reach_invoke_endpoint_as_exclude(home) -> None:
    """Comedy leaves out movies 2, 3, 5 and 6: they go in the request's exclude."""
    runtime, sagemaker = _clients()
    endpoint = SageMakerEndpoint(NAME, runtime, sagemaker, default_model="tfrs")
    service = RecsService(
        SqliteStore(home / "store.db"), endpoint, SageMakerRegistry(sagemaker, NAME)
    )
    instance = {"user_id": 2, "history": [1, 2], "exclude": [2, 3, 5, 6], "k": 3}
    with Stubber(runtime) as runtime_stub, Stubber(sagemaker) as sagemaker_stub:
        runtime_stub.add_response(
            "invoke_endpoint",
            _invoke_response([4], [0.9]),
            {"EndpointName": NAME, "ContentType": "application/json",
             "Accept": "application/json", "CustomAttributes": "tfs-model-name=tfrs",
             "Body": json.dumps({"instances": [instance]}).encode()},
        )  # fmt: skip
        _stub_endpoint_description(sagemaker_stub, 3)
        result = service.recommend(2, 3, "", genres="Comedy")
        runtime_stub.assert_no_pending_responses()
    assert result["movies"] == [4] and result["filters"]["genres"] == ["Comedy"]


def test_model_error_400_becomes_a_client_error(home) -> None:
    runtime, sagemaker = _clients()
    endpoint = SageMakerEndpoint(NAME, runtime, sagemaker, default_model="tfrs")
    with Stubber(runtime) as stub:
        stub.add_client_error(
            "invoke_endpoint",
            service_error_code="ModelError",
            service_message="Received client error (400)",
            http_status_code=424,
            modeled_fields={"OriginalStatusCode": 400, "OriginalMessage": "unknown model 'x'"},
        )
        with pytest.raises(EndpointRejected, match="unknown model 'x'"):
            endpoint.recommend(2, [1], 3, "x")


def test_endpoint_errors_fall_back_to_popular(home) -> None:
    runtime, sagemaker = _clients()
    endpoint = SageMakerEndpoint(NAME, runtime, sagemaker, default_model="tfrs")
    service = RecsService(
        SqliteStore(home / "store.db"), endpoint, SageMakerRegistry(sagemaker, NAME)
    )
    with Stubber(runtime) as stub:
        stub.add_client_error("invoke_endpoint", service_error_code="ValidationError",
                              service_message="Endpoint recs-movielens not found.",
                              http_status_code=400)  # fmt: skip
        result = service.recommend(3, 2, "")
    assert result["fallback"] is True and result["reason"] == "endpoint_unavailable"
    assert result["movies"] == [2, 3]


def test_read_timeout_falls_back_within_the_limit(home, contract_endpoint) -> None:
    """A real botocore ReadTimeoutError: the runtime client points at a server that stalls."""
    contract_endpoint.delay = 3.0
    runtime, sagemaker = _clients(
        endpoint_url=contract_endpoint.url,
        config=Config(connect_timeout=0.3, read_timeout=0.3, retries={"max_attempts": 0}),
    )
    endpoint = SageMakerEndpoint(NAME, runtime, sagemaker, default_model="tfrs")
    service = RecsService(
        SqliteStore(home / "store.db"), endpoint, SageMakerRegistry(sagemaker, NAME)
    )
    result = service.recommend(3, 2, "")
    assert result["fallback"] is True and result["reason"] == "endpoint_unavailable"
    assert len(contract_endpoint.requests) == 1


def test_ping_reads_the_version_from_the_deployed_model_name() -> None:
    runtime, sagemaker = _clients()
    endpoint = SageMakerEndpoint(NAME, runtime, sagemaker, default_model="tfrs")
    with Stubber(sagemaker) as stub:
        _stub_endpoint_description(stub, 12)
        status = endpoint.ping()
        assert endpoint.ping() is status  # cached: one describe per minute
    assert (status.ok, status.version, status.default_model) == (True, 12, "tfrs")


def test_registry_lists_versions_with_metrics() -> None:
    _, sagemaker = _clients()
    metrics = {"CustomerMetadataProperties": {"metrics": json.dumps({"tfrs": {"ndcg@10": 0.2}})}}
    with Stubber(sagemaker) as stub:
        stub_model_packages(
            stub,
            NAME,
            WHEN,
            [(v, s, f"s3://b/{v}.tar.gz", metrics) for v, s in ((1, "Rejected"), (2, "Approved"))],
        )
        versions = SageMakerRegistry(sagemaker, NAME).versions()
    assert [(v.version, v.status) for v in versions] == [(1, "Rejected"), (2, "Approved")]
    assert versions[1].metrics == {"tfrs": {"ndcg@10": 0.2}}
    assert versions[1].artifact_uri == "s3://b/2.tar.gz"
    assert versions[1].created_at == int(WHEN.timestamp() * 1000)


def test_registry_shows_a_failed_deployment_written_on_the_package() -> None:
    _, sagemaker = _clients()
    failed = {
        "CustomerMetadataProperties": {
            "deploy_status": "Failed",
            "deploy_error": "endpoint recs did not deploy: FailureReason: health check failed",
        }
    }
    cleared = {"CustomerMetadataProperties": {"sha256": "ab"}}
    with Stubber(sagemaker) as stub:
        stub_model_packages(
            stub,
            NAME,
            WHEN,
            [(1, "Approved", "s3://b/1", cleared), (2, "Approved", "s3://b/2", failed)],
        )
        versions = SageMakerRegistry(sagemaker, NAME).versions()
    assert versions[0].deploy_error is None
    assert versions[1].deploy_error == failed["CustomerMetadataProperties"]["deploy_error"]
