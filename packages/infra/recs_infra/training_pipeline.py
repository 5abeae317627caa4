"""TrainingPipeline: the SageMaker Pipeline from recs_ml, its model package group, a
least-privilege execution role and the schedule that starts it.

One module over the usual size on purpose: the execution role's grants and their cdk-nag
acknowledgements must be read side by side with the pipeline that needs them.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from aws_cdk import ArnFormat, DefaultStackSynthesizer, RemovalPolicy, Stack, Token
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from recs_infra.nag import acknowledge, acknowledge_resources, arn_label
from recs_infra.pipeline_definition import (
    DefinitionFactory,
    PipelineTargets,
    ecr_repository_arn,
    render_with_placeholders,
    substitute,
)
from recs_infra.spark_code import build_spark_code
from recs_infra.storage import grant_bucket_access
from recs_ml.pipeline.sagemaker import S3_PREFIX, SPARK_CODE_PREFIX

# The Spark Process step writes the splits straight to S3 under this prefix (per execution).
SPARK_OUTPUT_PREFIX = f"{S3_PREFIX}/processed"
# SageMaker Pipelines names the jobs of a step "pipelines-<execution id>-<step>-<suffix>".
PIPELINE_JOB_PREFIX = "pipelines-"


def _sagemaker_arn(stack: Stack, resource: str, name: str) -> str:
    return stack.format_arn(service="sagemaker", resource=resource, resource_name=name)


class TrainingPipeline(Construct):
    """Attributes: ``pipeline`` (CfnPipeline), ``pipeline_arn``, ``role`` (execution role),
    ``repository`` (ECR, the step image with recs-ml installed), ``image_uri``,
    ``model_package_group`` (CfnModelPackageGroup), ``schedule`` (CfnSchedule),
    ``definition`` (the parsed definition, with placeholders, for inspection),
    ``spark_code`` (with a Spark Process step: the BucketDeployment that uploads the job's
    code to ``s3://<bucket>/pipeline/code/spark/``, else None).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        bucket_object_label: str,
        pipeline_name: str,
        model_package_group_name: str,
        definition: DefinitionFactory,
        image_repository_name: str,
        image_tag: str = "latest",
        ratings_table: str | None = None,
        spark_image_uri: str | None = None,
        schedule_expression: str = "rate(7 days)",
        schedule_enabled: bool = True,
        retain: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.model_package_group = self._model_package_group(model_package_group_name)
        self.pipeline_arn = _sagemaker_arn(Stack.of(self), "pipeline", pipeline_name)
        self.role = self._execution_role(
            bucket=bucket,
            pipeline_name=pipeline_name,
            model_package_group_name=model_package_group_name,
        )
        self._grant_experiments(pipeline_name)
        self.repository = self._step_image_repository(image_repository_name, retain=retain)
        self.image_uri = self.repository.repository_uri_for_tag(image_tag)
        self.repository.grant_pull(self.role)
        self._grant_job_logs_and_metrics()
        self.spark_code: s3_deployment.BucketDeployment | None = None
        if spark_image_uri:
            self._grant_spark(bucket, spark_image_uri, bucket_object_label=bucket_object_label)
            self.spark_code = self._deploy_spark_code(
                bucket, bucket_object_label=bucket_object_label, retain=retain
            )
        if ratings_table:
            self._grant_ratings_scan(ratings_table)
        self._acknowledge_role_wildcards(bucket_object_label, model_package_group_name)
        self.definition = render_with_placeholders(definition, Stack.of(self).region)
        self.pipeline = self._pipeline(
            definition=self.definition, bucket=bucket, name=pipeline_name
        )
        self.schedule = self._schedule(
            pipeline_name, expression=schedule_expression, enabled=schedule_enabled
        )

    def _model_package_group(self, name: str) -> sagemaker.CfnModelPackageGroup:
        group = sagemaker.CfnModelPackageGroup(
            self,
            "ModelPackageGroup",
            model_package_group_name=name,
            model_package_group_description="Recommendation models; approval deploys a version",
        )
        # The versions, their metrics and approvals are the model history, and CloudFormation
        # cannot delete a group that still holds versions: kept when the stack goes (README).
        group.apply_removal_policy(RemovalPolicy.RETAIN)
        return group

    def _execution_role(
        self, *, bucket: s3.IBucket, pipeline_name: str, model_package_group_name: str
    ) -> iam.Role:
        """Runs the pipeline's jobs and registers versions in our model package group."""
        stack = Stack.of(self)

        def sagemaker_arn(resource: str, name: str) -> str:
            return _sagemaker_arn(stack, resource, name)

        role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Runs {pipeline_name}: its jobs, our bucket, our model package group",
        )
        grant_bucket_access(role, bucket, write=True)
        jobs = [
            sagemaker_arn(kind, f"{PIPELINE_JOB_PREFIX}*")
            for kind in ("processing-job", "training-job")
        ]
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "sagemaker:AddTags",
                    "sagemaker:CreateProcessingJob",
                    "sagemaker:CreateTrainingJob",
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:StopProcessingJob",
                    "sagemaker:StopTrainingJob",
                ],
                resources=jobs,
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage"],
                resources=[sagemaker_arn("model-package", f"{model_package_group_name}/*")],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                # Registering a version is authorized against the group as well as the version.
                actions=["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackageGroup"],
                resources=[sagemaker_arn("model-package-group", model_package_group_name)],
            )
        )
        return role

    def _grant_experiments(self, pipeline_name: str) -> None:
        """Record each execution as a trial; let SageMaker pass the role on to the jobs."""
        stack = Stack.of(self)

        def sagemaker_arn(resource: str, name: str) -> str:
            return _sagemaker_arn(stack, resource, name)

        # Each execution is recorded as a trial of the experiment named after the pipeline.
        experiment_arns = [
            sagemaker_arn("experiment", pipeline_name),
            sagemaker_arn("experiment-trial", "*"),
            sagemaker_arn("experiment-trial-component", "*"),
        ]
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "sagemaker:AddTags",
                    "sagemaker:AssociateTrialComponent",
                    "sagemaker:CreateExperiment",
                    "sagemaker:CreateTrial",
                    "sagemaker:DescribeExperiment",
                    "sagemaker:DescribeTrial",
                ],
                resources=experiment_arns,
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )

    def _step_image_repository(self, name: str, *, retain: bool) -> ecr.Repository:
        return ecr.Repository(
            self,
            "StepImage",
            repository_name=name,
            image_scan_on_push=True,
            lifecycle_rules=[ecr.LifecycleRule(max_image_count=10)],
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
            empty_on_delete=not retain,
        )

    def _grant_job_logs_and_metrics(self) -> None:
        stack = Stack.of(self)
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[
                    stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=f"/aws/sagemaker/{kind}:*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                    for kind in ("ProcessingJobs", "TrainingJobs")
                ],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            )
        )

    def _grant_spark(
        self, bucket: s3.IBucket, spark_image_uri: str, *, bucket_object_label: str
    ) -> None:
        stack = Stack.of(self)
        # The Spark Process step: AWS's Spark image (another account's repository), and
        # Spark's output committer deletes its _temporary files under the processed prefix.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                resources=[ecr_repository_arn(spark_image_uri, stack.partition)],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:DeleteObject"],
                resources=[bucket.arn_for_objects(f"{SPARK_OUTPUT_PREFIX}/*")],
            )
        )
        acknowledge_resources(
            self.role,
            {
                bucket_object_label.rsplit("/", 1)[0] + f"/{SPARK_OUTPUT_PREFIX}/*": (
                    "Spark's committer deletes its temporary files under the per-execution "
                    "processed/ prefix only."
                )
            },
        )

    def _grant_ratings_scan(self, ratings_table: str) -> None:
        stack = Stack.of(self)
        # The Process step adds the ratings people made through the API (a table scan).
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["dynamodb:Scan"],
                resources=[
                    stack.format_arn(
                        service="dynamodb", resource="table", resource_name=ratings_table
                    )
                ],
            )
        )

    def _acknowledge_role_wildcards(
        self, bucket_object_label: str, model_package_group_name: str
    ) -> None:
        stack = Stack.of(self)
        acknowledge_resources(
            self.role,
            {
                "*": "ecr:GetAuthorizationToken and cloudwatch:PutMetricData take no resource; "
                "the metrics are limited to SageMaker's namespace by a condition.",
                bucket_object_label: "Pipeline runs read data and write outputs under keys made "
                "per execution; our bucket only.",
                **{
                    arn_label(stack, "sagemaker", f"{kind}/{PIPELINE_JOB_PREFIX}*"): (
                        f"SageMaker Pipelines names each {kind} pipelines-<execution>-<step>-*."
                    )
                    for kind in ("processing-job", "training-job")
                },
                arn_label(stack, "sagemaker", "experiment-trial/*"): (
                    "Trials are named after pipeline execution ids, known only at run time."
                ),
                arn_label(stack, "sagemaker", "experiment-trial-component/*"): (
                    "Trial components are the executions' jobs, named only at run time."
                ),
                arn_label(stack, "sagemaker", f"model-package/{model_package_group_name}/*"): (
                    "The register step adds a new version to our own model package group."
                ),
                **{
                    arn_label(stack, "logs", f"log-group:/aws/sagemaker/{kind}:*"): (
                        f"Each {kind[:-1]} writes its own log stream, named at run time."
                    )
                    for kind in ("ProcessingJobs", "TrainingJobs")
                },
            },
        )

    def _pipeline(
        self, *, definition: dict[str, Any], bucket: s3.IBucket, name: str
    ) -> sagemaker.CfnPipeline:
        """The definition with our role, bucket and image; created after the role's policy."""
        pipeline_name = name
        region = Stack.of(self).region
        body = substitute(
            json.dumps(definition),
            region=region,
            targets=PipelineTargets(
                role_arn=self.role.role_arn, bucket=bucket.bucket_name, image_uri=self.image_uri
            ),
        )
        pipeline = sagemaker.CfnPipeline(
            self,
            "Pipeline",
            pipeline_name=pipeline_name,
            pipeline_display_name=pipeline_name,
            pipeline_description="process -> train -> evaluate -> condition -> register",
            role_arn=self.role.role_arn,
            pipeline_definition={"PipelineDefinitionBody": body},
        )
        pipeline.add_resource_dependency(self.model_package_group)
        # Create the pipeline only once its role's policy is attached (the role itself is a GetAtt).
        policy = self.role.node.try_find_child("DefaultPolicy")
        if policy is not None:
            pipeline.node.add_dependency(policy)
        if self.spark_code is not None:
            # An execution must find the Spark job's code in place.
            pipeline.node.add_dependency(self.spark_code)
        return pipeline

    def _schedule(
        self, pipeline_name: str, *, expression: str, enabled: bool
    ) -> scheduler.CfnSchedule:
        """EventBridge Scheduler starts the pipeline, through a role that can do only that."""
        stack = Stack.of(self)
        scheduler_role = iam.Role(
            self,
            "ScheduleRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
            description=f"Lets EventBridge Scheduler start {pipeline_name} only",
        )
        scheduler_role.add_to_policy(
            iam.PolicyStatement(
                actions=["sagemaker:StartPipelineExecution"], resources=[self.pipeline_arn]
            )
        )
        schedule = scheduler.CfnSchedule(
            self,
            "Schedule",
            description=f"Retrain {pipeline_name} on the latest ratings",
            schedule_expression=expression,
            state="ENABLED" if enabled else "DISABLED",
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(
                mode="FLEXIBLE", maximum_window_in_minutes=60
            ),
            target=scheduler.CfnSchedule.TargetProperty(
                arn=self.pipeline_arn,
                role_arn=scheduler_role.role_arn,
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_retry_attempts=3, maximum_event_age_in_seconds=3600
                ),
            ),
        )
        schedule.add_resource_dependency(self.pipeline)
        return schedule

    def _deploy_spark_code(
        self, bucket: s3.IBucket, *, bucket_object_label: str, retain: bool
    ) -> s3_deployment.BucketDeployment:
        """``process_spark.py`` and ``recs_ml.zip``, built from the repo at synth, copied to
        the keys the Spark Process step reads; an unchanged build is not uploaded again."""
        with tempfile.TemporaryDirectory(prefix="recs-spark-code-") as scratch:
            # The asset is staged (copied into the cloud assembly) here, so scratch can go.
            source = s3_deployment.Source.asset(str(build_spark_code(Path(scratch))))
            deployment = s3_deployment.BucketDeployment(
                self,
                "SparkCode",
                sources=[source],
                destination_bucket=bucket,
                destination_key_prefix=f"{SPARK_CODE_PREFIX}/",
                retain_on_delete=retain,
            )
        self._acknowledge_deployment_handler(deployment, bucket_object_label)
        return deployment

    def _acknowledge_deployment_handler(
        self, deployment: s3_deployment.BucketDeployment, bucket_object_label: str
    ) -> None:
        """cdk-nag findings on CDK's own BucketDeployment handler (one per stack), whose
        runtime and grants aws-cdk-lib sets."""
        handler = deployment.handler_role.node.scope
        if handler is None:
            return
        stack = Stack.of(self)
        qualifier = stack.node.try_get_context("@aws-cdk/core:bootstrapQualifier") or (
            DefaultStackSynthesizer.DEFAULT_QUALIFIER
        )
        region = "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region
        assets = f"arn:<AWS::Partition>:s3:::cdk-{qualifier}-assets-<AWS::AccountId>-{region}/*"
        copy = (
            "CDK's BucketDeployment handler copies the Spark job's code from the CDK asset "
            "bucket to pipeline/code/spark/ and removes files no longer in it there; "
            "aws-cdk-lib writes these grants."
        )
        acknowledge(
            handler,
            "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]",
            "CDK's BucketDeployment handler logs with the managed basic execution policy "
            "(CloudWatch Logs only).",
        )
        for finding in ("s3:GetObject*", "s3:GetBucket*", "s3:List*", "s3:DeleteObject*",
                        "s3:Abort*"):  # fmt: skip
            acknowledge(handler, f"IAM5[Action::{finding}]", copy)
        acknowledge_resources(handler, {assets: copy, bucket_object_label: copy})
        acknowledge(
            handler,
            "L1",
            "The runtime of CDK's BucketDeployment handler is chosen by aws-cdk-lib, which "
            "this app pins; it runs only while the stack deploys.",
        )
