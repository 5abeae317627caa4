from aws_cdk.assertions import Match
from infra_template import flatten, resources


def test_data_bucket_is_private_encrypted_versioned_logged_and_named_per_stage(synthesized):
    template = synthesized.template("storage")
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "VersioningConfiguration": {"Status": "Enabled"},
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "LoggingConfiguration": {
                "DestinationBucketName": Match.any_value(),
                "LogFilePrefix": "data-bucket/",
            },
        },
    )
    names = [
        flatten(b["Properties"]["BucketName"])
        for b in resources(template, "AWS::S3::Bucket").values()
        if "BucketName" in b["Properties"]
    ]
    assert names == ["recs-dev-data-<AWS::AccountId>-us-east-1"]


def test_both_buckets_refuse_plain_http(synthesized):
    template = synthesized.template("storage")
    policies = resources(template, "AWS::S3::BucketPolicy")
    assert len(policies) == 2
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny"
            and s["Principal"] == {"AWS": "*"}
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )


def test_dev_stage_data_is_deleted_with_the_stack(synthesized):
    template = synthesized.template("storage")
    bucket = next(
        b
        for b in resources(template, "AWS::S3::Bucket").values()
        if "BucketName" in b["Properties"]
    )
    assert bucket["DeletionPolicy"] == "Delete"
    assert len(resources(template, "Custom::S3AutoDeleteObjects")) == 2
