from aws_cdk.assertions import Match, Template

from recs_infra.stacks import build_app


def test_storage_bucket_is_private_encrypted_versioned_and_tls_only():
    app = build_app({"stage": "dev"})
    template = Template.from_stack(app.node.find_child("Recs-dev-Storage"))
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
            "BucketEncryption": Match.any_value(),
        },
    )
    policy = template.find_resources("AWS::S3::BucketPolicy")
    statements = next(iter(policy.values()))["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )
