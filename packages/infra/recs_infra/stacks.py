"""Stacks only compose constructs; each stack deploys on its own (`cdk deploy Recs-dev-Api`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from recs_infra.api import Api
from recs_infra.config import StageConfig, stage_config_from_context
from recs_infra.pipeline_definition import (
    DefinitionFactory,
    inference_image_uri,
    recs_ml_definition,
    spark_image_uri,
)
from recs_infra.serving import Serving
from recs_infra.storage import Storage, data_bucket_label, data_bucket_name
from recs_infra.training_pipeline import TrainingPipeline
from recs_infra.waf import ApiFirewall
from recs_infra.web import Web
from recs_ml.pipeline.sagemaker import EVALUATION_KEYS


def _data_bucket(scope: Construct, config: StageConfig) -> s3.IBucket:
    """The Storage stack's bucket, found by its fixed name (deploy Storage first)."""
    name = data_bucket_name(stage=config.stage, region=config.region)
    return s3.Bucket.from_bucket_name(scope, "DataBucket", name)


class StorageStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs):
        super().__init__(scope, construct_id, **kwargs)
        self.storage = Storage(
            self,
            "Storage",
            bucket_name=data_bucket_name(stage=config.stage, region=config.region),
            retain=config.retain_data,
        )
        cdk.CfnOutput(self, "DataBucket", value=self.storage.bucket.bucket_name)


class TrainingStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        definition: DefinitionFactory | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        bucket = _data_bucket(self, config)
        self.training = TrainingPipeline(
            self,
            "Training",
            bucket=bucket,
            bucket_object_label=data_bucket_label(stage=config.stage, region=config.region),
            pipeline_name=config.pipeline_name,
            model_package_group_name=config.model_package_group,
            definition=definition
            or recs_ml_definition(
                pipeline_name=config.pipeline_name,
                model_package_group=config.model_package_group,
                region=config.region,
                ratings_table=config.ratings_table,
                process_engine=config.process_engine,
            ),
            image_repository_name=f"recs-ml-{config.stage}",
            spark_image_uri=spark_image_uri(config.region)
            if config.process_engine == "spark"
            else None,
            image_tag=config.pipeline_image_tag,
            ratings_table=config.ratings_table,
            schedule_expression=config.training_schedule,
            schedule_enabled=config.training_schedule_enabled,
            retain=config.retain_data,
        )
        cdk.CfnOutput(self, "PipelineName", value=config.pipeline_name)
        cdk.CfnOutput(
            self,
            "StepImageRepository",
            value=self.training.repository.repository_uri,
            description=f"push the recs-ml step image here, tag {config.pipeline_image_tag}",
        )


class ServingStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        bucket = _data_bucket(self, config)
        self.serving = Serving(
            self,
            "Serving",
            bucket=bucket,
            bucket_object_label=data_bucket_label(stage=config.stage, region=config.region),
            model_package_group=config.model_package_group,
            endpoint_name=config.endpoint_name,
            memory_mb=config.endpoint_memory_mb,
            max_concurrency=config.endpoint_max_concurrency,
            inference_image_uri=inference_image_uri(config.region),
        )
        cdk.CfnOutput(self, "DeployerFunction", value=self.serving.function.function_name)
        cdk.CfnOutput(
            self,
            "FailedDeploysAlarm",
            value=self.serving.failed_deploys_alarm.alarm_name,
            description="in ALARM while an approval's deployment has failed (see the queue)",
        )
        cdk.CfnOutput(
            self,
            "UndeliveredApprovalsQueue",
            value=self.serving.dead_letter_queue.queue_url,
            description="approvals not delivered, or whose deployment failed",
        )


class ApiStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs):
        super().__init__(scope, construct_id, **kwargs)
        self.api = Api(
            self,
            "Api",
            stage=config.stage,
            endpoint_name=config.endpoint_name,
            model_package_group=config.model_package_group,
            web_origin=config.web_origin,
            table_name=config.ratings_table,
            reports_bucket=_data_bucket(self, config),
            reports_label=data_bucket_label(
                stage=config.stage, region=config.region, keys=EVALUATION_KEYS
            ),
            retain_data=config.retain_data,
        )
        rest_api = self.api.rest_api.logical_id
        self.firewall = ApiFirewall(
            self,
            "Firewall",
            # SAM's "<api>.Stage" reference: the stage's name, and an association made after it.
            stage_arn=cdk.Fn.sub(
                f"arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}::/restapis/${{{rest_api}}}"
                f"/stages/${{{rest_api}.Stage}}"
            ),
            name=f"recs-api-{config.stage}",
        )
        cdk.CfnOutput(self, "ApiUrl", value=self.api.url, description="the API's base URL")


class WebStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        api_url: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.web = Web(
            self,
            "Web",
            app_name=f"recs-web-{config.stage}",
            api_url=api_url,
            branch_name=config.web_branch,
            production=config.stage == "prod",
            repository=config.web_repository,
            access_token_secret=config.web_access_token_secret,
        )
        cdk.CfnOutput(
            self, "WebUrl", value=self.web.url, description="the page; it reaches the API at /api"
        )


COMPONENTS = ("storage", "training", "serving", "api", "web")


@dataclass
class RecsStacks:
    config: StageConfig
    storage: StorageStack | None = None
    training: TrainingStack | None = None
    serving: ServingStack | None = None
    api: ApiStack | None = None
    web: WebStack | None = None


def add_stacks(
    app: cdk.App,
    config: StageConfig,
    *,
    definition: DefinitionFactory | None = None,
    components: tuple[str, ...] = COMPONENTS,
) -> RecsStacks:
    """Add the stacks of ``components`` (all by default; web needs api) for one stage."""
    unknown = sorted(set(components) - set(COMPONENTS))
    if unknown:
        raise ValueError(f"unknown components {unknown}; choose from {list(COMPONENTS)}")
    if "web" in components and "api" not in components:
        raise ValueError("the web component needs the api component (for VITE_API_URL)")
    env = cdk.Environment(
        account=config.account or os.environ.get("CDK_DEFAULT_ACCOUNT"), region=config.region
    )
    prefix = config.prefix
    common: dict[str, Any] = {
        "config": config,
        "env": env,
        "tags": {"project": "recs", "stage": config.stage},
    }
    stacks = RecsStacks(config)
    if "storage" in components:
        stacks.storage = StorageStack(app, f"{prefix}-Storage", **common)
    if "training" in components:
        stacks.training = TrainingStack(app, f"{prefix}-Training", definition=definition, **common)
    if "serving" in components:
        stacks.serving = ServingStack(app, f"{prefix}-Serving", **common)
    if "api" in components:
        stacks.api = ApiStack(app, f"{prefix}-Api", **common)
    for dependent in (stacks.training, stacks.serving, stacks.api):
        if dependent is not None and stacks.storage is not None:
            dependent.add_stack_dependency(stacks.storage, "the data bucket lives in Storage")
    if "web" in components and stacks.api is not None:
        stacks.web = WebStack(app, f"{prefix}-Web", api_url=stacks.api.api.url, **common)
    return stacks


# Feature flags this app relies on (the CLI also reads them from cdk.json).
FEATURE_FLAGS: dict[str, Any] = {
    # Access-log delivery through a bucket policy instead of the legacy LogDeliveryWrite ACL.
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
    # Web reads the API URL through an export; keep the producer protected while it is used.
    "@aws-cdk/core:defaultCrossStackReferences": "strong",
}


def build(
    context: dict[str, Any] | None = None,
    *,
    outdir: str | None = None,
    definition: DefinitionFactory | None = None,
    components: tuple[str, ...] = COMPONENTS,
) -> tuple[cdk.App, RecsStacks]:
    """The app and its stacks, checked by cdk-nag's AwsSolutions pack at synthesis."""
    app = cdk.App(context={**FEATURE_FLAGS, **(context or {})}, outdir=outdir)
    config = stage_config_from_context(_context_of(app, context))
    stacks = add_stacks(app, config, definition=definition, components=components)
    add_compliance_checks(app)
    return app, stacks


def build_app(context: dict[str, Any] | None = None, **options: Any) -> cdk.App:
    return build(context, **options)[0]


def add_compliance_checks(app: cdk.App) -> None:
    """cdk-nag AwsSolutions on every stack: synthesis fails on any unacknowledged finding."""
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def _context_of(app: cdk.App, given: dict[str, Any] | None) -> dict[str, Any]:
    """Context from cdk.json / `-c` (the CLI passes it via the environment) or the caller."""
    keys = ("stage", "stages", *StageConfig.__dataclass_fields__)
    found = {key: app.node.try_get_context(key) for key in keys}
    return {key: value for key, value in found.items() if value is not None} | (given or {})
