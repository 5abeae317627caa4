import json
import zipfile
from pathlib import Path

import pytest
from infra_template import as_list, flatten, only, policy_statements, statements_allowing

ENDPOINT = "recs-movielens-dev"
GROUP = "recs-movielens-dev"
SAGEMAKER = "arn:<AWS::Partition>:sagemaker:us-east-1:<AWS::AccountId>:"


@pytest.fixture(scope="module")
def template(synthesized):
    return synthesized.template("api")


def test_chalice_app_is_packaged_as_sam_function_and_rest_api(template):
    assert template.to_json()["Transform"] == "AWS::Serverless-2016-10-31"
    function = only(template, "AWS::Serverless::Function")["Properties"]
    assert function["Handler"] == "app.app"
    assert function["FunctionName"] == "recs-api-dev-APIHandler"
    assert flatten(function["Role"]).startswith("<ApiRole")
    assert set(function["CodeUri"]) == {"Bucket", "Key"}
    api = only(template, "AWS::Serverless::Api")["Properties"]
    assert api["StageName"] == "api"
    assert "/health" in api["DefinitionBody"]["paths"]
    assert api["MethodSettings"] == [
        {
            "ResourcePath": "/*",
            "HttpMethod": "*",
            "ThrottlingRateLimit": 50,
            "ThrottlingBurstLimit": 100,
        }
    ]


def test_function_gets_the_table_endpoint_and_group_from_the_stage(template):
    variables = only(template, "AWS::Serverless::Function")["Properties"]["Environment"][
        "Variables"
    ]
    table_id = next(iter(template.find_resources("AWS::DynamoDB::Table")))
    assert variables["RECS_STORE"] == "dynamodb"
    assert variables["RECS_RATINGS_TABLE"] == {"Ref": table_id}
    assert variables["RECS_ENDPOINT_NAME"] == ENDPOINT
    assert variables["RECS_MODEL_PACKAGE_GROUP"] == GROUP
    # Requests arrive through Amplify's /api proxy: caps count the forwarded client address.
    assert variables["RECS_CLIENT_IP_HEADER"] == "x-forwarded-for"


def test_ratings_table_has_the_keys_the_api_store_uses(template):
    table = only(template, "AWS::DynamoDB::Table")["Properties"]
    assert table["TableName"] == "recs-dev-ratings"  # the training pipeline reads it by name
    assert table["KeySchema"] == [
        {"AttributeName": "user_id", "KeyType": "HASH"},
        {"AttributeName": "item_id", "KeyType": "RANGE"},
    ]
    assert table["AttributeDefinitions"] == [
        {"AttributeName": "user_id", "AttributeType": "N"},
        {"AttributeName": "item_id", "AttributeType": "N"},
    ]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    # The API's per-client hourly counters carry expires_at (chalicelib.dynamodb_store).
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_invoke_endpoint_is_allowed_on_our_endpoint_only(template):
    statements = policy_statements(template, "ApiRole")
    (invoke,) = statements_allowing(statements, "sagemaker:InvokeEndpoint")
    assert [flatten(r) for r in as_list(invoke["Resource"])] == [f"{SAGEMAKER}endpoint/{ENDPOINT}"]
    table_id = next(iter(template.find_resources("AWS::DynamoDB::Table")))
    (put,) = statements_allowing(statements, "dynamodb:PutItem")
    assert [flatten(r) for r in as_list(put["Resource"]) if r != {"Ref": "AWS::NoValue"}] == [
        f"<{table_id}.Arn>"
    ]
    for statement in statements:
        if "*" in as_list(statement["Resource"]):
            assert as_list(statement["Action"]) == ["sagemaker:ListModelPackages"], statement


def test_function_logs_into_a_log_group_with_retention(template):
    log_group = only(template, "AWS::Logs::LogGroup")["Properties"]
    assert log_group["LogGroupName"] == "/aws/lambda/recs-api-dev-APIHandler"
    assert log_group["RetentionInDays"] == 30


def test_api_reads_only_the_pipelines_evaluation_reports(template):
    """GET /models shows each version's metrics from its evaluation.json in the data bucket."""
    statements = policy_statements(template, "ApiRole")
    s3_statements = {a: s for s in statements for a in as_list(s["Action"]) if a.startswith("s3:")}
    assert sorted(s3_statements) == ["s3:GetObject", "s3:ListBucket"]
    bucket = "arn:<AWS::Partition>:s3:::recs-dev-data-<AWS::AccountId>-us-east-1"
    read = s3_statements["s3:GetObject"]
    assert [flatten(r) for r in as_list(read["Resource"])] == [f"{bucket}/pipeline/evaluation/*"]
    listing = s3_statements["s3:ListBucket"]
    assert [flatten(r) for r in as_list(listing["Resource"])] == [bucket]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["pipeline/evaluation/*"]}}


def test_waf_web_acl_guards_the_api_stage(template):
    acl_id, acl = next(iter(template.find_resources("AWS::WAFv2::WebACL").items()))
    properties = acl["Properties"]
    assert properties["Scope"] == "REGIONAL" and properties["DefaultAction"] == {"Allow": {}}
    rules = {rule["Name"]: rule for rule in properties["Rules"]}
    rate = rules["rate-per-ip"]
    assert rate["Priority"] == 0
    assert rate["Statement"]["RateBasedStatement"] == {
        # Per client as Amplify's /api proxy forwards it, not per proxy address.
        "AggregateKeyType": "FORWARDED_IP",
        "ForwardedIPConfig": {"HeaderName": "X-Forwarded-For", "FallbackBehavior": "MATCH"},
        "Limit": 600,
        "EvaluationWindowSec": 300,
    }
    block = rate["Action"]["Block"]["CustomResponse"]
    assert block["ResponseCode"] == 429
    body = properties["CustomResponseBodies"][block["CustomResponseBodyKey"]]
    assert body["ContentType"] == "APPLICATION_JSON"
    assert json.loads(body["Content"])["error"]["code"] == "too_many_requests"
    managed = {
        rule["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for rule in properties["Rules"]
        if "ManagedRuleGroupStatement" in rule["Statement"]
    }
    assert managed == {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"}
    assert all(rule["VisibilityConfig"]["CloudWatchMetricsEnabled"] for rule in rules.values())
    association = only(template, "AWS::WAFv2::WebACLAssociation")["Properties"]
    assert association["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    # The REST API's stage, through SAM's "<api>.Stage" reference (made after the stage).
    assert association["ResourceArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${RestAPI}"
        "/stages/${RestAPI.Stage}"
    }


def test_waf_rate_limit_is_checked():
    import aws_cdk as cdk

    from recs_infra.waf import ApiFirewall

    stack = cdk.Stack(cdk.App(), "Waf")
    with pytest.raises(ValueError, match="between 10 and 2e9"):
        ApiFirewall(stack, "F", stage_arn="arn:aws:apigateway:us-east-1::/restapis/x/stages/api",
                    name="n", requests_per_ip_per_5_minutes=5)  # fmt: skip


def test_lambda_bundle_ships_the_app_and_the_shared_contracts(template, synthesized):
    """The API imports recs_contracts; Chalice ships it from packages/api/vendor/."""
    key = only(template, "AWS::Serverless::Function")["Properties"]["CodeUri"]["Key"]
    asset = synthesized.outdir / f"asset.{key.removesuffix('.zip')}"
    if asset.is_dir():
        names = {str(p.relative_to(asset)) for p in asset.rglob("*") if p.is_file()}
    else:
        with zipfile.ZipFile(asset.with_suffix(asset.suffix + ".zip")) as bundle:
            names = set(bundle.namelist())
    assert {"app.py", "chalicelib/sqlite_store.py"} <= names
    contracts = Path(__file__).resolve().parents[2] / "contracts" / "src" / "recs_contracts"
    expected = {f"recs_contracts/{p.name}" for p in contracts.glob("*.py")}
    assert expected and expected <= names
