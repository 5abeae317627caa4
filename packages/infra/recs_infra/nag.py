"""cdk-nag acknowledgements: every one names the rule finding and says why it does not apply."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Token, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one AwsSolutions finding (e.g. ``IAM5[Resource::*]``) on ``construct``."""
    if not reason.strip():
        raise ValueError(f"acknowledging {finding} needs a written reason")
    Validations.of(construct).acknowledge(
        Acknowledgment(id=f"AwsSolutions-{finding}", reason=reason)
    )


def arn_label(stack: Stack, service: str, resource: str) -> str:
    """An ARN of ``stack`` as cdk-nag prints it in a finding id (unresolved values in <>)."""
    region = "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region
    account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
    return f"arn:<AWS::Partition>:{service}:{region}:{account}:{resource}"


def acknowledge_resources(construct: IConstruct, labels: dict[str, str]) -> None:
    """Acknowledge IAM5 wildcard-resource findings, one reason per resource."""
    for label, reason in labels.items():
        acknowledge(construct, f"IAM5[Resource::{label}]", reason)
