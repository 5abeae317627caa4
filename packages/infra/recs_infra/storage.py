"""S3 bucket for data and models: TLS only, encrypted, versioned, private, access-logged."""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from recs_infra.nag import acknowledge


def data_bucket_name(*, stage: str, region: str) -> str:
    """A fixed name, so other stacks find the bucket without cross-stack exports."""
    return f"recs-{stage}-data-{Aws.ACCOUNT_ID}-{region}"


def data_bucket_label(*, stage: str, region: str, keys: str = "*") -> str:
    """The ARN pattern of the bucket's objects ``keys`` as cdk-nag prints it in findings."""
    return f"arn:<AWS::Partition>:s3:::recs-{stage}-data-<AWS::AccountId>-{region}/{keys}"


def grant_bucket_access(role: iam.IRole, bucket: s3.IBucket, *, write: bool) -> None:
    """Exact S3 actions (no ``s3:Get*``-style wildcards) on the bucket and its objects."""
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:GetBucketLocation", "s3:ListBucket"], resources=[bucket.bucket_arn]
        )
    )
    object_actions = ["s3:GetObject"]
    if write:
        object_actions += ["s3:PutObject", "s3:AbortMultipartUpload"]
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=object_actions, resources=[bucket.arn_for_objects("*")])
    )


class Storage(Construct):
    """The data-and-models bucket plus the bucket that receives its server access logs.

    Attributes: ``bucket`` (data, pipeline runs, model artifacts), ``access_log_bucket``.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, bucket_name: str | None, retain: bool = True
    ) -> None:
        super().__init__(scope, construct_id)
        removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
        self.access_log_bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
            removal_policy=removal,
            auto_delete_objects=not retain,
        )
        acknowledge(
            self.access_log_bucket,
            "S1",
            "This is the access-log destination; logging it into itself would loop.",
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix="data-bucket/",
            # Old versions of retrained artifacts are only needed for a short rollback window.
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=Duration.days(90))],
            removal_policy=removal,
            auto_delete_objects=not retain,
        )
