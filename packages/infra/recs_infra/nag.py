"""cdk-nag acknowledgements: every one names the rule finding and says why it does not apply."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one AwsSolutions finding (e.g. ``IAM5[Resource::*]``) on ``construct``."""
    if not reason.strip():
        raise ValueError(f"acknowledging {finding} needs a written reason")
    Validations.of(construct).acknowledge(
        Acknowledgment(id=f"AwsSolutions-{finding}", reason=reason)
    )


def arn_label(stack_region: str, service: str, resource: str, *, account: bool = True) -> str:
    """An ARN as cdk-nag prints it in a finding id (pseudo parameters in angle brackets)."""
    account_part = "<AWS::AccountId>" if account else ""
    return f"arn:<AWS::Partition>:{service}:{stack_region}:{account_part}:{resource}"


def acknowledge_resources(construct: IConstruct, labels: dict[str, str]) -> None:
    """Acknowledge IAM5 wildcard-resource findings, one reason per resource."""
    for label, reason in labels.items():
        acknowledge(construct, f"IAM5[Resource::{label}]", reason)
