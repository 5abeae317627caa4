import json
import subprocess
import sys
from datetime import UTC, datetime

import boto3
import pytest
from infra_template import as_list, flatten, only, policy_statements, statements_allowing
from moto import mock_aws

from recs_contracts import events as events_contract
from recs_contracts.events import PackageStateChange
from recs_infra.serving import approval_event_pattern

GROUP = "recs-movielens-dev"
ENDPOINT = "recs-movielens-dev"
REGION = "us-east-1"


def state_change_event(status: str, group: str = GROUP, version: int = 3) -> dict:
    """The event as EventBridge delivers it (docs/contracts.md, Registry and events)."""
    change = PackageStateChange(
        group, version, status, "s3://bucket/runs/1/model.tar.gz", created_at=1795400000000
    )
    return events_contract.state_change_event(
        change,
        region=REGION,
        event_id="6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        time=datetime(2026, 11, 23, 10, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
def rule_pattern(synthesized) -> dict:
    rule = only(synthesized.template("serving"), "AWS::Events::Rule")
    return rule["Properties"]["EventPattern"]


def test_rule_pattern_is_approval_of_our_group_only(rule_pattern):
    assert rule_pattern == approval_event_pattern(GROUP)


@pytest.mark.parametrize(
    ("event", "matches"),
    [
        (state_change_event("Approved"), True),
        (state_change_event("Rejected"), False),
        (state_change_event("PendingManualApproval"), False),
        (state_change_event("Approved", group="someone-elses-models"), False),
        ({**state_change_event("Approved"), "source": "custom.app"}, False),
    ],
)
def test_eventbridge_matches_the_pattern_against_real_shaped_events(rule_pattern, event, matches):
    """moto's EventBridge routes the event through a rule with our pattern to an SQS queue."""
    with mock_aws():
        events = boto3.client("events", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="approvals")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(Name="on-approval", EventPattern=json.dumps(rule_pattern))
        events.put_targets(Rule="on-approval", Targets=[{"Id": "queue", "Arn": queue_arn}])
        sent = events.put_events(
            Entries=[
                {
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Detail": json.dumps(event["detail"]),
                    "Resources": event["resources"],
                }
            ]
        )
        assert sent["FailedEntryCount"] == 0
        delivered = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0).get("Messages", [])
    assert bool(delivered) is matches
    if matches:
        body = json.loads(delivered[0]["Body"])
        assert body["detail"]["ModelPackageVersion"] == event["detail"]["ModelPackageVersion"]


def test_rule_targets_the_deployer_with_retries_and_a_dead_letter_queue(synthesized):
    template = synthesized.template("serving")
    rule = only(template, "AWS::Events::Rule")
    (target,) = rule["Properties"]["Targets"]
    function_id = next(iter(template.find_resources("AWS::Lambda::Function")))
    assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2
    queue_id = next(iter(template.find_resources("AWS::SQS::Queue")))
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    function = only(template, "AWS::Lambda::Function")["Properties"]
    assert function["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    invoke_config = only(template, "AWS::Lambda::EventInvokeConfig")["Properties"]
    assert invoke_config["MaximumRetryAttempts"] == 1
    # A throttled approval (a deployment is running) waits in Lambda's queue this long.
    assert invoke_config["MaximumEventAgeInSeconds"] == 6 * 3600


def test_deploys_are_serialized_and_a_failed_one_raises_an_alarm(synthesized):
    template = synthesized.template("serving")
    function = only(template, "AWS::Lambda::Function")["Properties"]
    assert function["ReservedConcurrentExecutions"] == 1
    alarm = only(template, "AWS::CloudWatch::Alarm")["Properties"]
    queue_id = next(iter(template.find_resources("AWS::SQS::Queue")))
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}
    ]
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    outputs = template.to_json()["Outputs"]
    assert "FailedDeploysAlarm" in outputs and "UndeliveredApprovalsQueue" in outputs


def test_deployer_function_runs_the_shared_handler_with_the_sagemaker_backend(synthesized):
    function = only(synthesized.template("serving"), "AWS::Lambda::Function")["Properties"]
    assert function["Handler"] == "deployer.handler"
    assert function["Runtime"].startswith("python3.")
    assert function["Timeout"] == 900
    variables = function["Environment"]["Variables"]
    assert variables["RECS_DEPLOY_BACKEND"] == "sagemaker"
    assert variables["RECS_ENDPOINT_NAME"] == ENDPOINT
    assert variables["RECS_SERVERLESS_MEMORY_MB"] == "2048"
    assert variables["RECS_SERVERLESS_MAX_CONCURRENCY"] == "5"
    assert variables["RECS_SAGEMAKER_ROLE_ARN"] == {
        "Fn::GetAtt": [
            next(
                k
                for k in synthesized.template("serving").find_resources("AWS::IAM::Role")
                if k.startswith("ServingModelRole")
            ),
            "Arn",
        ]
    }


def test_lambda_asset_holds_the_deployer_and_contracts_and_its_handler_runs_alone(synthesized):
    function = only(synthesized.template("serving"), "AWS::Lambda::Function")["Properties"]
    asset_hash = function["Code"]["S3Key"].removesuffix(".zip")
    asset_dir = synthesized.outdir / f"asset.{asset_hash}"
    module_name, handler_name = function["Handler"].split(".")
    assert sorted(p.name for p in asset_dir.iterdir()) == [f"{module_name}.py", "recs_contracts"]
    shipped = {p.name for p in (asset_dir / "recs_contracts").iterdir()}
    assert "events.py" in shipped and "__pycache__" not in shipped
    # A rejection is acknowledged without touching AWS: proof the shipped handler really runs.
    # -S: no site-packages, so every import must come from the asset or the standard library.
    run = (
        "import json, sys\n"
        f"from {module_name} import {handler_name} as handler\n"
        "print(json.dumps(handler(json.loads(sys.argv[1]), None)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", run, json.dumps(state_change_event("Rejected"))],
        cwd=asset_dir,
        env={"RECS_DEPLOY_BACKEND": "sagemaker", "PYTHONPATH": str(asset_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["action"] == "ignored"


def test_deployer_permissions_name_our_models_configs_and_endpoint_only(synthesized):
    statements = policy_statements(synthesized.template("serving"), "ServingDeployerRole")
    prefix = f"arn:<AWS::Partition>:sagemaker:{REGION}:<AWS::AccountId>:"
    allowed = {
        action: sorted(
            flatten(r)
            for s in statements_allowing(statements, action)
            for r in as_list(s["Resource"])
        )
        for action in (
            "sagemaker:DescribeModelPackage",
            "sagemaker:UpdateModelPackage",
            "sagemaker:CreateModel",
            "sagemaker:CreateEndpointConfig",
            "sagemaker:UpdateEndpoint",
            "sagemaker:CreateEndpoint",
            "sagemaker:DescribeEndpoint",
            "sagemaker:DeleteEndpoint",
            "sagemaker:InvokeEndpoint",
        )
    }
    for action in ("sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"):
        assert allowed[action] == [f"{prefix}model-package/{GROUP}/*"]
    assert allowed["sagemaker:CreateModel"] == [f"{prefix}model/{GROUP}-v*"]
    assert allowed["sagemaker:CreateEndpointConfig"] == [f"{prefix}endpoint-config/{GROUP}-v*"]
    for action in ("sagemaker:UpdateEndpoint", "sagemaker:CreateEndpoint"):
        assert allowed[action] == sorted(
            [f"{prefix}endpoint/{ENDPOINT}", f"{prefix}endpoint-config/{GROUP}-v*"]
        )
    # The state machine's reads, its delete of a Failed endpoint and its smoke request.
    for action in ("sagemaker:DescribeEndpoint", "sagemaker:DeleteEndpoint"):
        assert allowed[action] == [f"{prefix}endpoint/{ENDPOINT}"]
    assert allowed["sagemaker:InvokeEndpoint"] == [f"{prefix}endpoint/{ENDPOINT}"]
    # Exactly the actions the deployer calls: nothing else (no DeleteModel, no wildcard).
    actions = sorted({a for s in statements for a in as_list(s["Action"])})
    assert [a for a in actions if a.startswith("sagemaker:")] == sorted(
        [
            "sagemaker:AddTags",
            "sagemaker:CreateEndpoint",
            "sagemaker:CreateEndpointConfig",
            "sagemaker:CreateModel",
            "sagemaker:DeleteEndpoint",
            "sagemaker:DescribeEndpoint",
            "sagemaker:DescribeModelPackage",
            "sagemaker:InvokeEndpoint",
            "sagemaker:UpdateEndpoint",
            "sagemaker:UpdateModelPackage",
        ]
    )
    for statement in statements:
        assert "*" not in as_list(statement["Resource"]), statement


def test_pass_role_is_limited_to_the_model_role_and_to_sagemaker(synthesized):
    statements = policy_statements(synthesized.template("serving"), "ServingDeployerRole")
    (pass_role,) = statements_allowing(statements, "iam:PassRole")
    assert flatten(pass_role["Resource"]).startswith("<ServingModelRole")
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }


def test_model_role_reads_our_bucket_and_is_assumed_by_sagemaker_only(synthesized):
    template = synthesized.template("serving")
    role = next(
        r
        for k, r in template.find_resources("AWS::IAM::Role").items()
        if k.startswith("ServingModelRole")
    )
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    statements = policy_statements(template, "ServingModelRole")
    (read,) = statements_allowing(statements, "s3:GetObject")
    assert flatten(read["Resource"]).endswith("recs-dev-data-<AWS::AccountId>-us-east-1/*")
    assert not statements_allowing(statements, "s3:PutObject")
