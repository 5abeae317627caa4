"""The deployer handler: event parsing, the local backend, the SageMaker backend (moto +
botocore Stubber, since moto has no update_endpoint)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from recs_ml import deployer

ARN = "arn:aws:sagemaker:us-east-1:111122223333:model-package/recs-movielens/3"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-inference:2.19.0-cpu"
ROLE = "arn:aws:iam::111122223333:role/recs-endpoint"


def event(status="Approved", version=3, url="s3://bucket/models/3/model.tar.gz", image=IMAGE):
    container = {"ModelDataUrl": url}
    if image:
        container["Image"] = image
    return {
        "version": "0",
        "id": "1",
        "detail-type": "SageMaker Model Package State Change",
        "source": "aws.sagemaker",
        "account": "111122223333",
        "time": "2026-11-23T10:00:00Z",
        "region": "us-east-1",
        "resources": [ARN],
        "detail": {
            "ModelPackageGroupName": "recs-movielens",
            "ModelPackageVersion": version,
            "ModelPackageArn": ARN,
            "ModelApprovalStatus": status,
            "ModelPackageStatus": "Completed",
            "InferenceSpecification": {"Containers": [container]},
            "CreationTime": 1795400000000,
        },
    }


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"detail-type": "EC2 Instance State-change Notification"}, "expected a 'SageMaker Model"),
        ({"detail": None}, "no 'detail' object"),
        ({"detail": {"ModelPackageGroupName": "g"}}, "lacks ModelPackageVersion"),
    ],
)
def test_malformed_events_are_refused_with_the_reason(bad, message):
    with pytest.raises(deployer.DeployError, match=message):
        deployer.handler({**event(), **bad}, None)


def test_only_approved_versions_deploy(monkeypatch):
    monkeypatch.setenv("RECS_DEPLOY_BACKEND", "sagemaker")  # would fail if it tried
    assert deployer.handler(event("Rejected"), None) == {
        "action": "ignored",
        "status": "Rejected",
        "version": 3,
    }


def test_unknown_backend_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("RECS_DEPLOY_BACKEND", "kubernetes")
    with pytest.raises(deployer.DeployError, match="use 'local' or 'sagemaker'"):
        deployer.handler(event(), None)


# ------------------------------------------------------------------------------------ local


class _Endpoint(BaseHTTPRequestHandler):
    received: list = []
    answer = (200, {"status": "serving", "version": 3})

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append((self.path, body))
        code, payload = type(self).answer
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def local_endpoint(monkeypatch):
    """A loopback HTTP listener standing where `recs serve` would, recording what it gets."""
    _Endpoint.received = []
    server = HTTPServer(("127.0.0.1", 0), _Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("RECS_DEPLOY_BACKEND", "local")
    monkeypatch.setenv("RECS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_port}")
    yield _Endpoint
    server.shutdown()


def test_local_backend_posts_the_approved_artifact_to_admin_load(local_endpoint):
    detail = event(url="file:///tmp/models/3/model.tar.gz")
    detail["detail"]["CustomerMetadataProperties"] = {"sha256": "ab" * 32}
    result = deployer.handler(detail, None)
    assert result["backend"] == "local" and result["version"] == 3
    assert local_endpoint.received == [
        (
            "/admin/load",
            {
                "group": "recs-movielens",
                "version": 3,
                "model_data_url": "file:///tmp/models/3/model.tar.gz",
                "sha256": "ab" * 32,
            },
        )
    ]


def test_local_backend_reports_the_endpoints_refusal(local_endpoint):
    local_endpoint.answer = (409, {"error": "checksum mismatch", "serving_version": 2})
    try:
        with pytest.raises(deployer.DeployError, match="refused version 3: checksum mismatch"):
            deployer.handler(event(url="file:///tmp/m.tar.gz"), None)
    finally:
        local_endpoint.answer = (200, {"status": "serving", "version": 3})


def test_local_backend_is_loopback_only_and_explains_a_stopped_endpoint(monkeypatch):
    monkeypatch.setenv("RECS_DEPLOY_BACKEND", "local")
    monkeypatch.setenv("RECS_ENDPOINT_URL", "http://10.1.2.3:8080")
    with pytest.raises(deployer.DeployError, match="not a loopback address"):
        deployer.handler(event(url="file:///tmp/m.tar.gz"), None)
    monkeypatch.setenv("RECS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: nobody there
    with pytest.raises(deployer.DeployError, match="start it with `recs serve`"):
        deployer.handler(event(url="file:///tmp/m.tar.gz"), None)


# ------------------------------------------------------------------------------------ SageMaker


@pytest.fixture
def sagemaker_env(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("RECS_DEPLOY_BACKEND", "sagemaker")
    monkeypatch.setenv("RECS_SAGEMAKER_ROLE_ARN", ROLE)
    monkeypatch.setenv("RECS_ENDPOINT_NAME", "recs-movielens")
    monkeypatch.setenv("RECS_SERVERLESS_MEMORY_MB", "4096")
    monkeypatch.setenv("RECS_SERVERLESS_MAX_CONCURRENCY", "8")


def test_sagemaker_backend_creates_model_config_and_endpoint_with_moto(sagemaker_env, monkeypatch):
    monkeypatch.setenv("RECS_DEPLOY_WAIT", "false")
    with mock_aws():
        result = deployer.handler(event(), None)
        client = boto3.client("sagemaker")
        model = client.describe_model(ModelName="recs-movielens-v3")
        config = client.describe_endpoint_config(EndpointConfigName="recs-movielens-v3-serverless")
        endpoint = client.describe_endpoint(EndpointName="recs-movielens")
        # A retried event finds everything in place and does not fail.
        deployer.deploy_sagemaker(deployer.parse_event(event()), _NoUpdate(client))
    assert result["action"] == "created" and result["model"] == "recs-movielens-v3"
    assert model["PrimaryContainer"]["Image"] == IMAGE
    assert model["PrimaryContainer"]["ModelDataUrl"] == "s3://bucket/models/3/model.tar.gz"
    assert model["ExecutionRoleArn"] == ROLE
    (variant,) = config["ProductionVariants"]
    assert variant["ModelName"] == "recs-movielens-v3"
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 4096, "MaxConcurrency": 8}
    assert endpoint["EndpointConfigName"] == "recs-movielens-v3-serverless"


class _NoUpdate:
    """moto lacks update_endpoint: record the call instead of letting moto raise."""

    def __init__(self, client):
        self.client = client
        self.updated = []

    def update_endpoint(self, **kwargs):
        self.updated.append(kwargs)

    def get_waiter(self, name):
        return self.client.get_waiter(name)

    def __getattr__(self, name):
        return getattr(self.client, name)


def test_sagemaker_backend_updates_an_existing_endpoint_and_waits(sagemaker_env):
    client = boto3.client("sagemaker", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_response(
        "create_model",
        {"ModelArn": "arn:aws:sagemaker:us-east-1:111122223333:model/recs-movielens-v4"},
        {
            "ModelName": "recs-movielens-v4",
            "ExecutionRoleArn": ROLE,
            "PrimaryContainer": {
                "Image": IMAGE,
                "ModelDataUrl": "s3://bucket/models/4/model.tar.gz",
                "Environment": {"SAGEMAKER_TFS_DEFAULT_MODEL_NAME": "tfrs"},
            },
            "Tags": [{"Key": "ModelPackageArn", "Value": ARN}],
        },
    )
    stubber.add_response(
        "create_endpoint_config",
        {"EndpointConfigArn": "arn:aws:sagemaker:us-east-1:111122223333:endpoint-config/c"},
        {
            "EndpointConfigName": "recs-movielens-v4-serverless",
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "recs-movielens-v4",
                    "ServerlessConfig": {"MemorySizeInMB": 4096, "MaxConcurrency": 8},
                }
            ],
        },
    )
    in_service = {
        "EndpointName": "recs-movielens",
        "EndpointArn": "arn:aws:sagemaker:us-east-1:111122223333:endpoint/recs-movielens",
        "EndpointConfigName": "recs-movielens-v4-serverless",
        "EndpointStatus": "InService",
        "CreationTime": "2026-11-23T10:00:00Z",
        "LastModifiedTime": "2026-11-23T10:00:00Z",
    }
    stubber.add_response("describe_endpoint", in_service, {"EndpointName": "recs-movielens"})
    stubber.add_response(
        "update_endpoint",
        {"EndpointArn": in_service["EndpointArn"]},
        {"EndpointName": "recs-movielens", "EndpointConfigName": "recs-movielens-v4-serverless"},
    )
    stubber.add_response("describe_endpoint", in_service, {"EndpointName": "recs-movielens"})
    stubber.add_response("describe_endpoint", in_service, {"EndpointName": "recs-movielens"})
    with stubber:
        result = deployer.deploy_sagemaker(
            deployer.parse_event(event(version=4, url="s3://bucket/models/4/model.tar.gz")),
            client,
        )
    stubber.assert_no_pending_responses()
    assert result == {
        "backend": "sagemaker",
        "action": "updated",
        "endpoint": "recs-movielens",
        "endpoint_config": "recs-movielens-v4-serverless",
        "model": "recs-movielens-v4",
        "version": 4,
        "status": "InService",
    }


def test_sagemaker_backend_reads_the_image_from_the_package_and_needs_a_role(
    sagemaker_env, monkeypatch
):
    client = boto3.client("sagemaker", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_response(
        "describe_model_package",
        {
            "ModelPackageName": "recs-movielens",
            "ModelPackageArn": ARN,
            "CreationTime": "2026-11-23T10:00:00Z",
            "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": []},
            "InferenceSpecification": {
                "Containers": [{"Image": IMAGE, "ModelDataUrl": "s3://b/m.tar.gz"}],
                "SupportedContentTypes": ["application/json"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
        },
        {"ModelPackageName": ARN},
    )
    monkeypatch.delenv("RECS_SAGEMAKER_ROLE_ARN")
    with stubber, pytest.raises(deployer.DeployError, match="RECS_SAGEMAKER_ROLE_ARN is required"):
        deployer.deploy_sagemaker(deployer.parse_event(event(image=None)), client)
    stubber.assert_no_pending_responses()
