"""The SageMaker Pipeline definition JSON, rendered offline from ``recs_ml``'s ``get_pipeline()``.

The definition is rendered with placeholder role, bucket and image values that CDK then swaps
for deploy-time tokens, and inside moto's ``mock_aws`` so that building it never reaches AWS
(the SDK would otherwise look for, or even create, the bucket it is given).
"""

from __future__ import annotations

import json
import logging
import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PLACEHOLDER_ACCOUNT = "111122223333"


@dataclass(frozen=True)
class PipelineTargets:
    """What the definition refers to: literal placeholders at render time, tokens in CDK."""

    role_arn: str
    bucket: str
    image_uri: str

    @classmethod
    def placeholders(cls, region: str) -> PipelineTargets:
        return cls(
            role_arn=f"arn:aws:iam::{PLACEHOLDER_ACCOUNT}:role/recs-cdk-placeholder-role",
            bucket="recs-cdk-placeholder-bucket",
            image_uri=(
                f"{PLACEHOLDER_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/"
                "recs-cdk-placeholder-image:placeholder"
            ),
        )


# PipelineTargets (placeholders) -> definition JSON
DefinitionFactory = Callable[[PipelineTargets], str]


def inference_image_uri(region: str) -> str:
    """The TF Serving image the register step names (and the deployer falls back to), as the
    SageMaker SDK resolves it for ``region`` (the image's ECR account differs by region)."""
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    from recs_ml.pipeline.sagemaker_images import inference_image_uri as resolve

    return resolve(region)


def spark_image_uri(region: str) -> str:
    """The SageMaker Spark processing image the Spark Process step runs in ``region``."""
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    from recs_ml.pipeline.sagemaker_spark import spark_image_uri as resolve

    return resolve(region)


def ecr_repository_arn(image_uri: str, partition: str = "aws") -> str:
    """``<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repo>:<tag>`` → the repository's ARN."""
    match = re.match(
        r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/([^:@]+)", image_uri
    )
    if not match:
        raise ValueError(f"{image_uri!r} is not an ECR image URI")
    account, region, repository = match.groups()
    return f"arn:{partition}:ecr:{region}:{account}:repository/{repository}"


def recs_ml_definition(
    *, pipeline_name: str, model_package_group: str, region: str, **options: Any
) -> DefinitionFactory:
    """A factory calling ``recs_ml.pipeline.sagemaker.get_pipeline`` with our names."""

    def render(targets: PipelineTargets) -> str:
        # The SDK needs a region at import and must not look the role up in IAM.
        os.environ.setdefault("AWS_DEFAULT_REGION", region)
        os.environ.setdefault("SAGEMAKER_VALIDATE_ROLE", "false")
        from moto import mock_aws

        # The SDK logs every field it drops from an offline definition; synthesis stays quiet.
        logging.disable(logging.WARNING)
        try:
            with mock_aws(), warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                from recs_ml.pipeline.sagemaker import get_pipeline

                pipeline = get_pipeline(
                    role_arn=targets.role_arn,
                    bucket=targets.bucket,
                    model_package_group=model_package_group,
                    region=region,
                    pipeline_name=pipeline_name,
                    image_uris={"processing": targets.image_uri, "training": targets.image_uri},
                    **options,
                )
                return str(pipeline.definition())
        finally:
            logging.disable(logging.NOTSET)

    return render


def render_with_placeholders(factory: DefinitionFactory, region: str) -> dict[str, Any]:
    """Render and parse the definition, checking it has steps and uses the role placeholder."""
    placeholders = PipelineTargets.placeholders(region)
    text = factory(placeholders)
    try:
        definition = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the pipeline definition is not JSON: {exc}") from None
    if not isinstance(definition, dict) or not definition.get("Steps"):
        raise ValueError("the pipeline definition has no Steps")
    if placeholders.role_arn not in text:
        raise ValueError("the pipeline definition does not use the execution role it was given")
    return definition


def substitute(text: str, *, region: str, targets: PipelineTargets) -> str:
    """Swap the placeholders for real values (CDK tokens at synthesis)."""
    placeholders = PipelineTargets.placeholders(region)
    return (
        text.replace(placeholders.role_arn, targets.role_arn)
        .replace(placeholders.bucket, targets.bucket)
        .replace(placeholders.image_uri, targets.image_uri)
    )
