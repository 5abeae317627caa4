"""The deployer handler: event parsing, the local backend, the SageMaker backend's state
machine (moto for what it models, botocore Stubber for the rest: moto has no update_endpoint
and no endpoint status changes)."""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto import mock_aws

from recs_ml.ops import deployer

ARN = "arn:aws:sagemaker:us-east-1:111122223333:model-package/recs-movielens/3"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-inference:2.20-cpu-py312"
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
    """A stand-in for `recs serve`: /ping reports ``serving``, /admin/load swaps it in."""

    received: list = []
    serving: int | None = 2
    load_answer: tuple[int, dict] | None = None
    invocation: tuple[int, dict] = (200, {"predictions": [{"item_ids": [50], "scores": [1.0]}]})
    answered_by: int | None = None  # the version /invocations reports, default ``serving``

    def _send(self, code, payload, headers=()):
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 - http.server's naming
        cls = type(self)
        cls.received.append((self.path, None))
        if cls.serving is None:
            self._send(503, {"status": "no model loaded", "group": "recs-movielens"})
        else:
            self._send(200, {"status": "ok", "group": "recs-movielens", "version": cls.serving})

    def do_POST(self):  # noqa: N802
        cls = type(self)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        cls.received.append((self.path, body))
        if self.path == "/admin/load":
            if cls.load_answer is not None:
                self._send(*cls.load_answer)
                return
            cls.serving = body["version"]
            self._send(200, {"status": "serving", "version": body["version"]})
        else:
            version = cls.answered_by if cls.answered_by is not None else cls.serving
            self._send(*cls.invocation, headers=[("X-Recs-Model-Version", str(version))])

    def log_message(self, *args):
        pass


@pytest.fixture
def local_endpoint(monkeypatch):
    """A loopback HTTP listener standing where `recs serve` would, recording what it gets."""
    _Endpoint.received = []
    _Endpoint.serving = 2
    _Endpoint.load_answer = None
    _Endpoint.invocation = (200, {"predictions": [{"item_ids": [50], "scores": [1.0]}]})
    _Endpoint.answered_by = None
    server = HTTPServer(("127.0.0.1", 0), _Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("RECS_DEPLOY_BACKEND", "local")
    monkeypatch.setenv("RECS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_port}")
    yield _Endpoint
    server.shutdown()


def test_local_backend_loads_the_approved_artifact_then_checks_it_serves(local_endpoint):
    detail = event(url="file:///tmp/models/3/model.tar.gz")
    detail["detail"]["CustomerMetadataProperties"] = {"sha256": "ab" * 32}
    result = deployer.handler(detail, None)
    assert result["backend"] == "local" and result["version"] == 3
    assert result["action"] == "loaded" and result["status"] == "serving"
    assert [path for path, _ in local_endpoint.received] == [
        "/ping",
        "/admin/load",
        "/ping",
        "/invocations",
    ]
    assert local_endpoint.received[1][1] == {
        "group": "recs-movielens",
        "version": 3,
        "model_data_url": "file:///tmp/models/3/model.tar.gz",
        "sha256": "ab" * 32,
    }
    assert local_endpoint.received[3][1] == deployer.SMOKE_REQUEST


def test_local_backend_duplicate_event_does_not_load_again(local_endpoint):
    local_endpoint.serving = 3
    result = deployer.handler(event(url="file:///tmp/m.tar.gz"), None)
    assert result["action"] == "unchanged"
    assert "/admin/load" not in [path for path, _ in local_endpoint.received]
    assert local_endpoint.received[-1][0] == "/invocations"  # still verified


def test_local_backend_reports_the_endpoints_refusal(local_endpoint):
    local_endpoint.load_answer = (409, {"error": "checksum mismatch", "serving_version": 2})
    with pytest.raises(deployer.DeployError, match="refused version 3: checksum mismatch"):
        deployer.handler(event(url="file:///tmp/m.tar.gz"), None)


def test_local_backend_fails_when_the_smoke_request_fails(local_endpoint):
    local_endpoint.invocation = (500, {"error": "signature mismatch"})
    with pytest.raises(deployer.DeployError, match=r"smoke request on version 3 \(HTTP 500\)"):
        deployer.handler(event(url="file:///tmp/m.tar.gz"), None)
    local_endpoint.invocation = (200, {"predictions": []})
    with pytest.raises(deployer.DeployError, match="without predictions"):
        deployer.handler(event(url="file:///tmp/m.tar.gz"), None)


def test_local_backend_fails_when_another_version_answers(local_endpoint):
    local_endpoint.answered_by = 2
    with pytest.raises(deployer.DeployError, match="answered by version 2, not 3"):
        deployer.handler(event(url="file:///tmp/m.tar.gz"), None)


def test_local_backend_is_loopback_only_and_explains_a_stopped_endpoint(monkeypatch):
    monkeypatch.setenv("RECS_DEPLOY_BACKEND", "local")
    monkeypatch.setenv("RECS_ENDPOINT_URL", "http://10.1.2.3:8080")
    with pytest.raises(deployer.DeployError, match="not a loopback address"):
        deployer.handler(event(url="file:///tmp/m.tar.gz"), None)
    monkeypatch.setenv("RECS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: nobody there
    with pytest.raises(deployer.DeployError, match="start it with `recs serve`"):
        deployer.handler(event(url="file:///tmp/m.tar.gz"), None)


# ------------------------------------------------------------------------------------ SageMaker

ENDPOINT_ARN = "arn:aws:sagemaker:us-east-1:111122223333:endpoint/recs-movielens"
V3, V4 = "recs-movielens-v3-serverless", "recs-movielens-v4-serverless"
PREDICTIONS = {"predictions": [{"item_ids": [50], "scores": [0.9]}]}


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


class FakeClock(deployer._Clock):
    """Time passes only when the deployer sleeps; the sleeps are recorded."""

    def __init__(self, budget=840.0, poll=15.0):
        self.t = 0.0
        self.sleeps: list[float] = []
        super().__init__(budget, poll, sleep=self._sleep, now=lambda: self.t)

    def _sleep(self, seconds):
        self.sleeps.append(seconds)
        self.t += seconds


class SageMaker:
    """A stubbed sagemaker + sagemaker-runtime pair; each ``expect_*`` queues one call."""

    def __init__(self):
        self.client = boto3.client("sagemaker", region_name="us-east-1")
        self.runtime = boto3.client("sagemaker-runtime", region_name="us-east-1")
        self.stub = Stubber(self.client)
        self.runtime_stub = Stubber(self.runtime)

    def expect_model_and_config(self, version=4, exist=False):
        model, config = f"recs-movielens-v{version}", f"recs-movielens-v{version}-serverless"
        model_params = {
            "ModelName": model,
            "ExecutionRoleArn": ROLE,
            "PrimaryContainer": {
                "Image": IMAGE,
                "ModelDataUrl": f"s3://bucket/models/{version}/model.tar.gz",
                "Environment": {"SAGEMAKER_TFS_DEFAULT_MODEL_NAME": "tfrs"},
            },
            "Tags": [{"Key": "ModelPackageArn", "Value": ARN}],
        }
        config_params = {
            "EndpointConfigName": config,
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": model,
                    "ServerlessConfig": {"MemorySizeInMB": 4096, "MaxConcurrency": 8},
                }
            ],
        }
        if exist:
            self.stub.add_client_error(
                "create_model",
                "ValidationException",
                f'Cannot create already existing model "arn:...:model/{model}".',
                expected_params=model_params,
            )
            self.stub.add_client_error(
                "create_endpoint_config",
                "ValidationException",
                f'Cannot create already existing endpoint configuration "{config}".',
                expected_params=config_params,
            )
            return
        self.stub.add_response(
            "create_model", {"ModelArn": f"arn:aws:sagemaker:::model/{model}"}, model_params
        )
        self.stub.add_response(
            "create_endpoint_config",
            {"EndpointConfigArn": f"arn:aws:sagemaker:::endpoint-config/{config}"},
            config_params,
        )

    def expect_describe(self, status, config=V4, reason=None):
        response = {
            "EndpointName": "recs-movielens",
            "EndpointArn": ENDPOINT_ARN,
            "EndpointConfigName": config,
            "EndpointStatus": status,
            "CreationTime": "2026-11-23T10:00:00Z",
            "LastModifiedTime": "2026-11-23T10:00:00Z",
        }
        if reason:
            response["FailureReason"] = reason
        self.stub.add_response("describe_endpoint", response, {"EndpointName": "recs-movielens"})

    def expect_absent(self):
        self.stub.add_client_error(
            "describe_endpoint",
            "ValidationException",
            'Could not find endpoint "recs-movielens".',
            expected_params={"EndpointName": "recs-movielens"},
        )

    def expect(self, operation, **params):
        answers = {
            "create_endpoint": {"EndpointArn": ENDPOINT_ARN},
            "update_endpoint": {"EndpointArn": ENDPOINT_ARN},
            "delete_endpoint": {},
            "update_model_package": {"ModelPackageArn": ARN},
        }
        self.stub.add_response(operation, answers[operation], params)

    def expect_smoke(self, payload=PREDICTIONS, error=None):
        params = {
            "EndpointName": "recs-movielens",
            "ContentType": "application/json",
            "Accept": "application/json",
            "Body": json.dumps(deployer.SMOKE_REQUEST).encode(),
        }
        if error:
            self.runtime_stub.add_client_error(
                "invoke_endpoint", "ModelError", error, 424, expected_params=params
            )
            return
        body = json.dumps(payload).encode()
        self.runtime_stub.add_response(
            "invoke_endpoint",
            {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentType": "application/json"},
            params,
        )

    def expect_package(self, properties=None):
        response = {
            "ModelPackageName": "recs-movielens",
            "ModelPackageArn": ARN,
            "CreationTime": "2026-11-23T10:00:00Z",
            "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": []},
        }
        if properties is not None:
            response["CustomerMetadataProperties"] = properties
        self.stub.add_response("describe_model_package", response, {"ModelPackageName": ARN})

    def deploy(self, version=4, clock=None):
        detail = deployer.parse_event(
            event(version=version, url=f"s3://bucket/models/{version}/model.tar.gz")
        )
        with self.stub, self.runtime_stub:
            result = deployer.deploy_sagemaker(
                detail, self.client, self.runtime, clock=clock or FakeClock()
            )
        self.done()
        return result

    def done(self):
        self.stub.assert_no_pending_responses()
        self.runtime_stub.assert_no_pending_responses()


def test_first_deploy_creates_model_config_and_endpoint_with_moto(sagemaker_env, monkeypatch):
    monkeypatch.setenv("RECS_DEPLOY_WAIT", "false")
    with mock_aws():
        result = deployer.handler(event(), None)
        client = boto3.client("sagemaker")
        model = client.describe_model(ModelName="recs-movielens-v3")
        config = client.describe_endpoint_config(EndpointConfigName=V3)
        endpoint = client.describe_endpoint(EndpointName="recs-movielens")
        # A retried event finds everything in place: no error, and no update.
        again = deployer.deploy_sagemaker(deployer.parse_event(event()), client)
    assert result["action"] == "created" and result["model"] == "recs-movielens-v3"
    assert result["verified"] is False
    assert again["action"] == "unchanged"
    assert model["PrimaryContainer"]["Image"] == IMAGE
    assert model["PrimaryContainer"]["ModelDataUrl"] == "s3://bucket/models/3/model.tar.gz"
    assert model["ExecutionRoleArn"] == ROLE
    (variant,) = config["ProductionVariants"]
    assert variant["ModelName"] == "recs-movielens-v3"
    assert variant["ServerlessConfig"] == {"MemorySizeInMB": 4096, "MaxConcurrency": 8}
    assert endpoint["EndpointConfigName"] == V3


def test_first_deploy_waits_for_in_service_and_sends_a_smoke_request(sagemaker_env):
    sm = SageMaker()
    sm.expect_model_and_config()
    sm.expect_absent()
    sm.expect("create_endpoint", EndpointName="recs-movielens", EndpointConfigName=V4)
    sm.expect_describe("Creating")
    sm.expect_describe("InService")
    sm.expect_smoke()
    clock = FakeClock()
    result = sm.deploy(clock=clock)
    assert result["action"] == "created" and result["status"] == "InService"
    assert result["verified"] is True and clock.sleeps == [15.0]


def test_update_of_an_in_service_endpoint(sagemaker_env):
    sm = SageMaker()
    sm.expect_model_and_config()
    sm.expect_describe("InService", config=V3)
    sm.expect("update_endpoint", EndpointName="recs-movielens", EndpointConfigName=V4)
    sm.expect_describe("Updating")
    sm.expect_describe("InService")
    sm.expect_smoke()
    result = sm.deploy()
    assert result == {
        "backend": "sagemaker",
        "action": "updated",
        "steps": ["updated"],
        "endpoint": "recs-movielens",
        "endpoint_config": V4,
        "model": "recs-movielens-v4",
        "version": 4,
        "status": "InService",
        "verified": True,
    }


def test_failed_endpoint_is_deleted_then_created_again(sagemaker_env):
    sm = SageMaker()
    sm.expect_model_and_config()
    sm.expect_describe("Failed", config=V3, reason="image pull failed")
    sm.expect("delete_endpoint", EndpointName="recs-movielens")
    sm.expect_describe("Deleting", config=V3)
    sm.expect_absent()
    sm.expect("create_endpoint", EndpointName="recs-movielens", EndpointConfigName=V4)
    sm.expect_describe("Creating")
    sm.expect_describe("InService")
    sm.expect_smoke()
    result = sm.deploy()
    assert result["steps"] == ["deleted (Failed)", "created"]
    assert result["status"] == "InService"


def test_update_rolled_back_with_a_failure_reason_is_an_error(sagemaker_env):
    sm = SageMaker()
    sm.expect_model_and_config()
    sm.expect_describe("InService", config=V3)
    sm.expect("update_endpoint", EndpointName="recs-movielens", EndpointConfigName=V4)
    sm.expect_describe("Updating")
    sm.expect_describe("InService", config=V3, reason="health check failed")
    with pytest.raises(
        deployer.DeployError,
        match=f"did not deploy {V4}: it is InService on {V3}; FailureReason: health check failed",
    ):
        sm.deploy()
    sm.done()  # no smoke request was sent to the old model


def test_a_failed_deploy_is_recorded_on_the_package_and_reaches_the_dead_letter_queue(
    sagemaker_env, monkeypatch
):
    """The handler raises (Lambda's retry, then the DLQ) after writing the failure down."""
    sm = SageMaker()
    sm.expect_model_and_config()
    sm.expect_describe("InService", config=V3)
    sm.expect("update_endpoint", EndpointName="recs-movielens", EndpointConfigName=V4)
    sm.expect_describe("InService", config=V3, reason="health check failed")
    sm.expect_package({"sha256": "ab"})
    message = f"endpoint recs-movielens did not deploy {V4}: it is InService on {V3}; "
    message += "FailureReason: health check failed"
    sm.expect(
        "update_model_package",
        ModelPackageArn=ARN,
        CustomerMetadataProperties={"deploy_status": "Failed", "deploy_error": message},
    )
    monkeypatch.setattr(deployer, "_sagemaker_client", lambda: sm.client)
    monkeypatch.setattr(deployer, "_sagemaker_runtime_client", lambda: sm.runtime)
    monkeypatch.setenv("RECS_DEPLOY_POLL_SECONDS", "0")
    with sm.stub, sm.runtime_stub, pytest.raises(deployer.DeployError, match="FailureReason"):
        deployer.handler(event(version=4, url="s3://bucket/models/4/model.tar.gz"), None)
    sm.done()


def test_an_updating_endpoint_is_waited_for_then_updated(sagemaker_env):
    sm = SageMaker()
    sm.expect_model_and_config()
    sm.expect_describe("Updating", config=V3)  # an earlier approval still deploying
    sm.expect_describe("Updating", config=V3)
    sm.expect_describe("InService", config=V3)
    sm.expect("update_endpoint", EndpointName="recs-movielens", EndpointConfigName=V4)
    sm.expect_describe("InService")
    sm.expect_smoke()
    clock = FakeClock()
    result = sm.deploy(clock=clock)
    assert result["steps"] == ["waited (Updating)", "updated"]
    assert clock.sleeps == [15.0, 15.0]


def test_an_update_refused_because_another_deploy_started_waits_and_retries(sagemaker_env):
    sm = SageMaker()
    sm.expect_model_and_config()
    sm.expect_describe("InService", config=V3)
    sm.stub.add_client_error(
        "update_endpoint",
        "ValidationException",
        'Cannot update in-progress endpoint "arn:...:endpoint/recs-movielens".',
    )
    sm.expect_describe("Updating", config=V3)
    sm.expect_describe("InService", config=V3)
    sm.expect("update_endpoint", EndpointName="recs-movielens", EndpointConfigName=V4)
    sm.expect_describe("InService")
    sm.expect_smoke()
    result = sm.deploy()
    assert result["steps"] == ["update_endpoint refused", "waited (Updating)", "updated"]


def test_a_create_refused_because_a_duplicate_delivery_created_it_waits_and_does_nothing(
    sagemaker_env,
):
    sm = SageMaker()
    sm.expect_model_and_config(exist=True)
    sm.expect_absent()
    sm.stub.add_client_error(
        "create_endpoint",
        "ValidationException",
        'Cannot create already existing endpoint "arn:...:endpoint/recs-movielens".',
    )
    sm.expect_describe("Creating")  # the other delivery's create, to the same config
    sm.expect_describe("InService")
    sm.expect_describe("InService")
    sm.expect_smoke()
    result = sm.deploy()
    assert result["steps"] == ["create_endpoint refused", "waited (Creating)", "unchanged"]


def test_a_failed_endpoint_that_does_not_go_away_is_an_error(sagemaker_env):
    sm = SageMaker()
    sm.expect_model_and_config()
    sm.expect_describe("Failed", config=V3, reason="image pull failed")
    sm.expect("delete_endpoint", EndpointName="recs-movielens")
    sm.expect_describe("Failed", config=V3, reason="image pull failed")
    with pytest.raises(deployer.DeployError, match="is Failed after its deletion"):
        sm.deploy()
    sm.done()


def test_a_duplicate_event_does_not_update_again(sagemaker_env):
    sm = SageMaker()
    sm.expect_model_and_config(exist=True)
    sm.expect_describe("InService")  # already on v4's config
    sm.expect_describe("InService")
    sm.expect_smoke()
    result = sm.deploy()  # the stubber fails on any update_endpoint call
    assert result["action"] == "unchanged" and result["status"] == "InService"


def test_a_duplicate_event_during_the_first_update_waits_and_does_nothing(sagemaker_env):
    sm = SageMaker()
    sm.expect_model_and_config(exist=True)
    sm.expect_describe("Updating")  # the first delivery's update to v4 is under way
    sm.expect_describe("InService")
    sm.expect_describe("InService")
    sm.expect_smoke()
    assert sm.deploy()["steps"] == ["waited (Updating)", "unchanged"]


@pytest.mark.parametrize(
    ("smoke", "message"),
    [
        ({"error": "Received server error (500) from model"}, "failed the smoke request: Rec"),
        ({"payload": {"predictions": []}}, "answered the smoke request without predictions"),
    ],
)
def test_a_failing_smoke_request_is_an_error(sagemaker_env, smoke, message):
    sm = SageMaker()
    sm.expect_model_and_config()
    sm.expect_describe("InService", config=V3)
    sm.expect("update_endpoint", EndpointName="recs-movielens", EndpointConfigName=V4)
    sm.expect_describe("InService")
    sm.expect_smoke(**smoke)
    with pytest.raises(deployer.DeployError, match=message):
        sm.deploy()
    sm.done()


def test_the_wait_is_bounded_and_says_a_retry_resumes(sagemaker_env):
    sm = SageMaker()
    sm.expect_model_and_config()
    for _ in range(3):
        sm.expect_describe("Updating", config=V3)
    with pytest.raises(deployer.DeployError, match="gave up after 30s waiting for endpoint"):
        sm.deploy(clock=FakeClock(budget=30))
    sm.done()


def test_names_longer_than_sagemaker_allows_are_refused_before_any_call(sagemaker_env):
    detail = deployer.parse_event(event())
    detail["ModelPackageGroupName"] = "g" * 50
    with pytest.raises(deployer.DeployError, match="serverless. has 64 characters; SageMaker"):
        deployer.deploy_sagemaker(detail, object())


def test_the_lambda_budget_leaves_time_to_report(monkeypatch):
    class Context:
        def get_remaining_time_in_millis(self):
            return 300_000

    monkeypatch.setenv("RECS_DEPLOY_WAIT_SECONDS", "840")
    settings = deployer.DeployerSettings.from_env()
    assert deployer._clock_for(Context(), settings).budget == 270
    assert deployer._clock_for(None, settings).budget == 840


def test_settings_are_read_from_the_environment_once_with_clear_errors():
    settings = deployer.DeployerSettings.from_env(
        {
            "RECS_DEPLOY_BACKEND": "sagemaker",
            "RECS_ENDPOINT_NAME": "",
            "RECS_SERVERLESS_MEMORY_MB": "4096",
            "RECS_DEPLOY_WAIT": "no",
        }
    )
    assert settings.backend == "sagemaker" and settings.endpoint_name is None
    assert settings.serverless_memory_mb == 4096 and settings.serverless_max_concurrency == 5
    assert settings.wait is False and settings.endpoint_url == deployer.LOCAL_ENDPOINT_URL
    assert deployer.DeployerSettings.from_env({}) == deployer.DeployerSettings()
    with pytest.raises(deployer.DeployError, match="RECS_DEPLOY_TIMEOUT='soon' is not an integer"):
        deployer.DeployerSettings.from_env({"RECS_DEPLOY_TIMEOUT": "soon"})


def test_a_success_clears_an_earlier_failure_and_failures_are_written_once(sagemaker_env):
    sm = SageMaker()
    sm.expect_package({"deploy_status": "Failed", "deploy_error": "old", "sha256": "ab"})
    sm.expect(
        "update_model_package",
        ModelPackageArn=ARN,
        CustomerMetadataPropertiesToRemove=["deploy_status", "deploy_error"],
    )
    sm.expect_package({"sha256": "ab"})  # nothing to clear: no write, so no new event
    sm.expect_package({"deploy_status": "Failed", "deploy_error": "first"})
    with sm.stub:
        deployer.record_deploy_outcome(sm.client, ARN, None)
        deployer.record_deploy_outcome(sm.client, ARN, None)
        deployer.record_deploy_outcome(sm.client, ARN, "second failure, same version")
    sm.done()


def test_the_image_comes_from_the_package_and_a_role_is_required(sagemaker_env, monkeypatch):
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
