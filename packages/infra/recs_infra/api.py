"""The Chalice app of packages/api on API Gateway + Lambda, its DynamoDB ratings table and role."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aws_cdk import CfnResource, RemovalPolicy, Stack, Token
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from chalice.cdk import Chalice
from constructs import Construct

from recs_infra.nag import acknowledge_resources, arn_label
from recs_infra.paths import API_DIR, require_file
from recs_ml.pipeline.sagemaker import EVALUATION_KEYS

# The name of the Chalice-generated REST API resource in the SAM template it packages.
_REST_API = "RestAPI"
_API_HANDLER = "APIHandler"
API_STAGE = "api"
ENDPOINT_TIMEOUT_SECONDS = 10
LAMBDA_TIMEOUT_SECONDS = 30


def _chalice_region(region: str) -> None:
    """`chalice package` builds a boto3 session, which needs a region even offline."""
    if not Token.is_unresolved(region):
        os.environ.setdefault("AWS_DEFAULT_REGION", region)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


@contextmanager
def _chalice_app_importable(source_dir: Path) -> Iterator[None]:
    """Chalice imports the module named ``app``; make that packages/api's, not cdk's app.py."""
    saved_path, saved_app = list(sys.path), sys.modules.pop("app", None)
    sys.path.insert(0, str(source_dir))
    try:
        yield
    finally:
        sys.path[:] = saved_path
        sys.modules.pop("app", None)
        if saved_app is not None:
            sys.modules["app"] = saved_app


class _ChaliceScope(Construct):
    """Chalice names its stage after the scope's string form; give it the bare stage name."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        self._stage = stage

    def to_string(self) -> str:
        return self._stage


def _api_environment(
    *, table_name: str, endpoint_name: str, model_package_group: str, web_origin: str | None
) -> dict[str, str]:
    """The API Lambda's settings (packages/api reads them into its settings object)."""
    environment = {
        "RECS_STORE": "dynamodb",
        "RECS_RATINGS_TABLE": table_name,
        "RECS_ENDPOINT_NAME": endpoint_name,
        "RECS_MODEL_PACKAGE_GROUP": model_package_group,
        # A serverless endpoint's cold start takes seconds; the API's default is for local.
        "RECS_ENDPOINT_TIMEOUT": str(ENDPOINT_TIMEOUT_SECONDS),
        # The page calls the API through Amplify's /api proxy: the per-client caps count
        # the address it forwards, not the proxy's.
        "RECS_CLIENT_IP_HEADER": "x-forwarded-for",
    }
    if web_origin:
        environment["RECS_WEB_ORIGIN"] = web_origin
    return environment


class Api(Construct):
    """Attributes: ``table`` (ratings), ``role`` (the API Lambda's), ``url`` (API base URL).

    ``reports_bucket``: the data bucket, whose pipeline evaluation reports the API reads for
    GET /models (``reports_label``: those objects' ARN as cdk-nag prints it)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        endpoint_name: str,
        model_package_group: str,
        web_origin: str | None = None,
        table_name: str | None = None,
        reports_bucket: s3.IBucket | None = None,
        reports_label: str | None = None,
        retain_data: bool = False,
        throttle_rate_per_second: int = 50,
        throttle_burst: int = 100,
        source_dir: Path = API_DIR,
    ) -> None:
        super().__init__(scope, construct_id)
        require_file(source_dir / "app.py", "the Chalice app (packages/api/app.py)")
        stack = Stack.of(self)
        self.table = self._ratings_table(table_name=table_name, retain_data=retain_data)
        function_name = f"recs-api-{stage}-{_API_HANDLER}"
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="API Lambda: its logs, the ratings table, invoking our endpoint only",
        )
        self.log_group.grant_write(self.role)
        self.table.grant_read_write_data(self.role)
        self.endpoint_arn = stack.format_arn(
            service="sagemaker", resource="endpoint", resource_name=endpoint_name
        )
        self._grant_endpoint_and_registry(model_package_group)
        if reports_bucket is not None:
            self._grant_evaluation_reports(reports_bucket, reports_label)
        environment = _api_environment(
            table_name=self.table.table_name,
            endpoint_name=endpoint_name,
            model_package_group=model_package_group,
            web_origin=web_origin,
        )
        self.chalice = self._chalice_app(
            stage=stage, source_dir=source_dir, environment=environment
        )
        self.chalice.node.add_dependency(self.log_group)
        # A fixed name, so the function logs into the log group above (retention, no wildcard).
        self.function = self.chalice.get_resource(_API_HANDLER)
        self.function.add_property_override("FunctionName", function_name)
        self.rest_api = self._throttled_rest_api(throttle_rate_per_second, throttle_burst)
        self.stage_name = API_STAGE
        self.url = f"https://{self.rest_api.ref}.execute-api.{stack.region}.{stack.url_suffix}/api"

    def _ratings_table(self, *, table_name: str | None, retain_data: bool) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            "Ratings",
            table_name=table_name,
            partition_key=dynamodb.Attribute(name="user_id", type=dynamodb.AttributeType.NUMBER),
            sort_key=dynamodb.Attribute(name="item_id", type=dynamodb.AttributeType.NUMBER),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=RemovalPolicy.RETAIN if retain_data else RemovalPolicy.DESTROY,
            # The API's per-client hourly counters (user_id = -3) expire by themselves.
            time_to_live_attribute="expires_at",
        )

    def _grant_endpoint_and_registry(self, model_package_group: str) -> None:
        """Invoke our endpoint, read its config and our group's model packages."""
        stack = Stack.of(self)

        def sagemaker_arn(resource: str, name: str) -> str:
            return stack.format_arn(service="sagemaker", resource=resource, resource_name=name)

        config_arns = sagemaker_arn("endpoint-config", f"{model_package_group}-v*")
        package_arns = sagemaker_arn("model-package", f"{model_package_group}/*")
        for actions, resources in (
            (["sagemaker:InvokeEndpoint", "sagemaker:DescribeEndpoint"], [self.endpoint_arn]),
            # The serving version is read from the deployed config's model name.
            (["sagemaker:DescribeEndpointConfig"], [config_arns]),
            (["sagemaker:DescribeModelPackage"], [package_arns]),
            # GET /models lists the group's versions; ListModelPackages takes no resource.
            (["sagemaker:ListModelPackages"], ["*"]),
        ):
            self.role.add_to_policy(iam.PolicyStatement(actions=actions, resources=resources))
        acknowledge_resources(
            self.role,
            {
                "*": "sagemaker:ListModelPackages supports no resource-level scope; the API "
                "passes our group name and describes only our group's packages.",
                arn_label(stack, "sagemaker", f"endpoint-config/{model_package_group}-v*"): (
                    "One endpoint config per approved version, named by the deployer at run time."
                ),
                arn_label(stack, "sagemaker", f"model-package/{model_package_group}/*"): (
                    "Every version of our own model package group, for GET /models."
                ),
            },
        )

    def _grant_evaluation_reports(self, bucket: s3.IBucket, label: str | None) -> None:
        """GET /models shows each version's metrics from the pipeline's evaluation report."""
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(EVALUATION_KEYS)],
            )
        )
        # Listing that prefix makes a missing report a 404 (NoSuchKey), not a 403.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [EVALUATION_KEYS]}},
            )
        )
        if label:
            acknowledge_resources(
                self.role,
                {
                    label: "Evaluation reports, one per pipeline execution (keyed "
                    "by its id); read-only, that prefix of our bucket only."
                },
            )

    def _chalice_app(self, *, stage: str, source_dir: Path, environment: dict[str, str]) -> Chalice:
        """packages/api packaged by Chalice (SAM), running as ``self.role``."""
        _chalice_region(Stack.of(self).region)
        with _chalice_app_importable(source_dir):
            return Chalice(
                _ChaliceScope(self, "App", stage=stage),
                "Chalice",
                source_dir=str(source_dir),
                stage_config={
                    "api_gateway_stage": API_STAGE,
                    "manage_iam_role": False,
                    "iam_role_arn": self.role.role_arn,
                    "environment_variables": environment,
                    "lambda_memory_size": 512,
                    "lambda_timeout": LAMBDA_TIMEOUT_SECONDS,
                    "autogen_policy": False,
                },
            )

    def _throttled_rest_api(self, rate_per_second: int, burst: int) -> CfnResource:
        """Stage-wide throttling keeps a burst of page loads from exhausting the endpoint."""
        rest_api = self.chalice.get_resource(_REST_API)
        rest_api.add_property_override(
            "MethodSettings",
            [
                {
                    "ResourcePath": "/*",
                    "HttpMethod": "*",
                    "ThrottlingRateLimit": rate_per_second,
                    "ThrottlingBurstLimit": burst,
                }
            ],
        )
        return rest_api
