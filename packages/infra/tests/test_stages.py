"""Stage configuration reaches the templates: the same code, other values."""

import pytest
from aws_cdk.assertions import Template
from conftest import CDK_CONTEXT, missing_components
from infra_template import only, resources

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
