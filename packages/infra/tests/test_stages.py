"""Stage configuration reaches the templates: the same code, other values."""

import pytest
from aws_cdk.assertions import Template
from infra_template import (
    CDK_CONTEXT,
    flatten,
    missing_components,
    only,
    policy_statements,
    resources,
    statements_allowing,
)

from recs_infra.pipeline_definition import ecr_repository_arn, inference_image_uri
from recs_infra.stacks import build


def test_prod_keeps_its_data_when_the_stack_is_deleted(tmp_path):
    app, stacks = build(
        {**CDK_CONTEXT, "stage": "prod"}, outdir=str(tmp_path), components=("storage",)
    )
    template = Template.from_stack(stacks.storage)
    buckets = resources(template, "AWS::S3::Bucket")
    assert {b["DeletionPolicy"] for b in buckets.values()} == {"Retain"}
    assert not resources(template, "Custom::S3AutoDeleteObjects")
    named = [b for b in buckets.values() if "BucketName" in b["Properties"]]
    assert "recs-prod-data-" in str(named[0]["Properties"]["BucketName"])


def test_endpoint_memory_and_concurrency_come_from_context(tmp_path):
    if "serving" in missing_components():
        pytest.skip(missing_components()["serving"])
    app, stacks = build(
        {
            **CDK_CONTEXT,
            "stage": "prod",
            "endpoint_memory_mb": "4096",
            "endpoint_max_concurrency": "20",
        },
        outdir=str(tmp_path),
        components=("serving",),
    )
    function = only(Template.from_stack(stacks.serving), "AWS::Lambda::Function")
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["RECS_SERVERLESS_MEMORY_MB"] == "4096"
    assert variables["RECS_SERVERLESS_MAX_CONCURRENCY"] == "20"
    assert variables["RECS_ENDPOINT_NAME"] == "recs-movielens"
    rule = only(Template.from_stack(stacks.serving), "AWS::Events::Rule")
    assert rule["Properties"]["EventPattern"]["detail"]["ModelPackageGroupName"] == [
        "recs-movielens"
    ]


def test_a_stage_pinned_to_an_account_passes_cdk_nag(tmp_path):
    # Finding ids then carry the literal account; every acknowledgement must follow.
    missing = missing_components()
    components = tuple(c for c in ("storage", "training", "serving") if c not in missing)
    app, stacks = build(
        {**CDK_CONTEXT, "stage": "prod", "account": "123456789012", "region": "eu-west-1"},
        outdir=str(tmp_path),
        components=components,
    )
    app.synth()
    if stacks.serving is not None:
        statements = policy_statements(Template.from_stack(stacks.serving), "ServingModelRole")
        (pull,) = statements_allowing(statements, "ecr:BatchGetImage")
        expected = ecr_repository_arn(inference_image_uri("eu-west-1"), "<AWS::Partition>")
        assert ":ecr:eu-west-1:" in expected
        assert flatten(pull["Resource"]) == expected
