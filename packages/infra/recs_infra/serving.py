"""Serving: approval event → deployer Lambda → SageMaker serverless endpoint.

The Lambda runs the very module the local loop calls (``recs_ml/ops/deployer.py``), shipped with
only the standard-library ``recs_contracts`` it imports:
a state machine over the endpoint's status that waits, verifies the endpoint serves the new
config and answers a request, and raises otherwise. Deployments are serialized by a reserved
concurrency of 1: a serverless create or update takes minutes, well inside one 15-minute
invocation, and a deployment that outlasts it is resumed by the retry from the endpoint's
state, so a Step Functions state machine would add resources without adding a guarantee.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import (
    ArnFormat,
    AssetHashType,
    BundlingOptions,
    DockerImage,
    Duration,
    ILocalBundling,
    RemovalPolicy,
    Stack,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from recs_contracts import events as events_contract
from recs_contracts.registry import APPROVED
from recs_infra.nag import acknowledge, acknowledge_resources, arn_label
from recs_infra.paths import CONTRACTS_DIR, DEPLOYER_MODULE, require_file
from recs_infra.pipeline_definition import ecr_repository_arn
from recs_infra.storage import grant_bucket_access

DEPLOYER_HANDLER = "deployer.handler"
# Lambda stops a function at 15 minutes; the deployer waits for InService a little less.
DEPLOY_TIMEOUT = Duration.minutes(15)
DEPLOY_WAIT_SECONDS = 840
# An approval that finds a deployment running waits in Lambda's queue (throttled, retried)
# for up to this long before it is parked in the dead-letter queue.
MAX_APPROVAL_AGE = Duration.hours(6)


def approval_event_pattern(model_package_group: str) -> dict[str, object]:
    """The EventBridge pattern (CloudFormation form) of 'our group's package was approved'."""
    return events_contract.approval_pattern(model_package_group, APPROVED)


@jsii.implements(ILocalBundling)
class _DeployerBundle:
    """Copies the deployer module and the ``recs_contracts`` package it imports (standard
    library only) into the asset; no Docker, no pip."""

    def __init__(self, module: Path) -> None:
        self.module = module

    # jsii hands the bundling options over as it likes; none of them matter for a copy.
    def try_bundle(self, output_dir: str, *_options: Any, **_named: Any) -> bool:
        target = Path(output_dir)
        shutil.copy2(self.module, target / self.module.name)
        shutil.copytree(
            CONTRACTS_DIR,
            target / CONTRACTS_DIR.name,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            dirs_exist_ok=True,
        )
        return True


def deployer_code(deployer_module: Path) -> lambda_.Code:
    """The deployer Lambda's code: ``deployer.py`` and ``recs_contracts/``, nothing else."""
    require_file(CONTRACTS_DIR / "__init__.py", "the contracts package (packages/contracts)")
    return lambda_.Code.from_asset(
        str(deployer_module.parent),
        exclude=["*", f"!{deployer_module.name}"],
        # The hash of what ships: a change to recs_contracts alone redeploys the function too.
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            image=DockerImage.from_registry("unused-local-bundling"),
            local=_DeployerBundle(deployer_module),
        ),
    )


def _sagemaker_arn(stack: Stack, resource: str, name: str) -> str:
    return stack.format_arn(service="sagemaker", resource=resource, resource_name=name)


def _model_statements(
    stack: Stack, endpoint_name: str, inference_image_uri: str
) -> list[iam.PolicyStatement]:
    """Pull the inference image, write the endpoint's logs and SageMaker's metrics."""
    return [
        iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]),
        iam.PolicyStatement(
            actions=[
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
            ],
            resources=[ecr_repository_arn(inference_image_uri, stack.partition)],
        ),
        iam.PolicyStatement(
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[
                stack.format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=f"/aws/sagemaker/Endpoints/{endpoint_name}:*",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
        ),
        iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
        ),
    ]


class Serving(Construct):
    """Attributes: ``function`` (deployer), ``model_role`` (SageMaker model execution role),
    ``rule`` (approval rule), ``endpoint_arn``, ``dead_letter_queue`` (approvals that were not
    delivered or whose deployment failed after its retry), ``failed_deploys_alarm`` (in ALARM
    while that queue holds a message).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        bucket_object_label: str,
        model_package_group: str,
        endpoint_name: str,
        memory_mb: int = 2048,
        max_concurrency: int = 5,
        inference_image_uri: str,
        deployer_module: Path = DEPLOYER_MODULE,
    ) -> None:
        super().__init__(scope, construct_id)
        require_file(deployer_module, "the deployer module (recs_ml/ops/deployer.py)")
        self.endpoint_arn = _sagemaker_arn(Stack.of(self), "endpoint", endpoint_name)
        self.model_role = self._model_role(
            bucket=bucket,
            bucket_object_label=bucket_object_label,
            model_package_group=model_package_group,
            endpoint_name=endpoint_name,
            inference_image_uri=inference_image_uri,
        )
        self.log_group = logs.LogGroup(
            self,
            "DeployerLogs",
            retention=logs.RetentionDays.THREE_MONTHS,
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = self._deployer_role(model_package_group)
        self.dead_letter_queue = self._dead_letter_queue()
        self.function = self._deployer_function(
            role=role,
            deployer_module=deployer_module,
            environment={
                "RECS_DEPLOY_BACKEND": "sagemaker",
                "RECS_ENDPOINT_NAME": endpoint_name,
                "RECS_SAGEMAKER_ROLE_ARN": self.model_role.role_arn,
                "RECS_SERVERLESS_MEMORY_MB": str(memory_mb),
                "RECS_SERVERLESS_MAX_CONCURRENCY": str(max_concurrency),
                "RECS_DEPLOY_WAIT_SECONDS": str(DEPLOY_WAIT_SECONDS),
                "RECS_DEPLOY_POLL_SECONDS": "15",
                "RECS_INFERENCE_IMAGE_URI": inference_image_uri,
            },
        )
        self.rule = self._approval_rule(model_package_group)
        self.failed_deploys_alarm = self._failed_deploys_alarm(model_package_group)

    def _model_role(
        self,
        *,
        bucket: s3.IBucket,
        bucket_object_label: str,
        model_package_group: str,
        endpoint_name: str,
        inference_image_uri: str,
    ) -> iam.Role:
        """The role SageMaker assumes to run the model: read artifacts, pull the image, log."""
        stack = Stack.of(self)
        role = iam.Role(
            self,
            "ModelRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=(
                f"SageMaker models {model_package_group}-v*: read artifacts, pull image, write logs"
            ),
        )
        grant_bucket_access(role, bucket, write=False)
        for statement in _model_statements(stack, endpoint_name, inference_image_uri):
            role.add_to_policy(statement)
        acknowledge_resources(
            role,
            {
                "*": "ecr:GetAuthorizationToken and cloudwatch:PutMetricData take no resource; "
                "the metrics are limited to SageMaker's namespace by a condition.",
                bucket_object_label: "The model reads its artifact, whose key is only known "
                "when a version is approved; read-only, our bucket only.",
                arn_label(
                    stack, "logs", f"log-group:/aws/sagemaker/Endpoints/{endpoint_name}:*"
                ): "Log streams of our endpoint's own log group are created per instance.",
            },
        )
        return role

    def _deployer_role(self, model_package_group: str) -> iam.Role:
        """The deployer Lambda's role: our model packages, models, configs and endpoint only."""
        stack = Stack.of(self)
        model_prefix = f"{model_package_group}-v"
        role = iam.Role(
            self,
            "DeployerRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Deployer Lambda: our model packages, models, configs and endpoint only",
        )
        self.log_group.grant_write(role)
        for statement in self._deployer_statements(model_package_group):
            role.add_to_policy(statement)
        acknowledge_resources(
            role,
            {
                arn_label(stack, "sagemaker", f"model-package/{model_package_group}/*"): (
                    "Every version of our own model package group; versions appear at run time."
                ),
                arn_label(stack, "sagemaker", f"model/{model_prefix}*"): (
                    "One model per approved version, named <group>-v<version> at run time."
                ),
                arn_label(stack, "sagemaker", f"endpoint-config/{model_prefix}*"): (
                    "One serverless endpoint config per approved version, named at run time."
                ),
            },
        )
        return role

    def _deployer_statements(self, model_package_group: str) -> list[iam.PolicyStatement]:
        """Our group's packages, its versions' models and configs, our endpoint, the model role."""
        stack = Stack.of(self)
        model_prefix = f"{model_package_group}-v"
        model_arns = _sagemaker_arn(stack, "model", f"{model_prefix}*")
        config_arns = _sagemaker_arn(stack, "endpoint-config", f"{model_prefix}*")
        package_arns = _sagemaker_arn(stack, "model-package", f"{model_package_group}/*")
        return [
            # Read the package's container; write (and clear) a failed deployment on it.
            iam.PolicyStatement(
                actions=["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"],
                resources=[package_arns],
            ),
            iam.PolicyStatement(
                actions=["sagemaker:CreateModel", "sagemaker:AddTags"], resources=[model_arns]
            ),
            iam.PolicyStatement(
                actions=["sagemaker:CreateEndpointConfig"], resources=[config_arns]
            ),
            iam.PolicyStatement(
                actions=["sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint"],
                resources=[self.endpoint_arn, config_arns],
            ),
            # Read its state, delete it when Failed (the only call AWS allows then), smoke-test.
            iam.PolicyStatement(
                actions=[
                    "sagemaker:DescribeEndpoint",
                    "sagemaker:DeleteEndpoint",
                    "sagemaker:InvokeEndpoint",
                ],
                resources=[self.endpoint_arn],
            ),
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.model_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
        ]

    def _dead_letter_queue(self) -> sqs.Queue:
        queue = sqs.Queue(
            self,
            "UndeliveredApprovals",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            queue,
            "SQS3",
            "This queue is itself the dead-letter queue of the approval rule and the deployer.",
        )
        return queue

    def _deployer_function(
        self, *, role: iam.Role, deployer_module: Path, environment: dict[str, str]
    ) -> lambda_.Function:
        """The deployer module shipped alone, one deployment at a time."""
        return lambda_.Function(
            self,
            "Deployer",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler=DEPLOYER_HANDLER,
            code=deployer_code(deployer_module),
            role=role,
            log_group=self.log_group,
            timeout=DEPLOY_TIMEOUT,
            memory_size=256,
            # A failed deployment is retried once (the deployer resumes from the endpoint's
            # state), then parked.
            retry_attempts=1,
            max_event_age=MAX_APPROVAL_AGE,
            dead_letter_queue=self.dead_letter_queue,
            # One deployment at a time: a second approval waits until the first is done.
            reserved_concurrent_executions=1,
            description="Deploys an approved model package version to the serverless endpoint",
            environment=environment,
        )

    def _approval_rule(self, model_package_group: str) -> events.Rule:
        """Approved versions of our group → the deployer; undelivered ones are parked."""
        pattern = events_contract.approval_pattern(model_package_group, APPROVED)
        return events.Rule(
            self,
            "OnApproval",
            description=f"Deploy {model_package_group} versions when they are approved",
            event_pattern=events.EventPattern(
                source=pattern["source"],
                detail_type=pattern["detail-type"],
                detail=pattern["detail"],
            ),
            targets=[
                targets.LambdaFunction(
                    self.function,
                    dead_letter_queue=self.dead_letter_queue,
                    retry_attempts=2,
                    max_event_age=Duration.hours(2),
                )
            ],
        )

    def _failed_deploys_alarm(self, model_package_group: str) -> cloudwatch.Alarm:
        """In ALARM while the dead-letter queue holds an approval."""
        return cloudwatch.Alarm(
            self,
            "FailedDeploys",
            alarm_description=(
                f"An approval of {model_package_group} was not deployed: its event is in the "
                "dead-letter queue, the reason in the deployer's log and on the model package "
                "(deploy_error)"
            ),
            metric=self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic="Maximum"
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
