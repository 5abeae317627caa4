"""A WAF web ACL in front of the API stage: a rate limit per source IP and AWS's managed rules.

The API enforces its own caps (writes per user, users per client per hour) in every
environment; this ACL adds what only the edge can do on AWS: it drops a client's flood before
it reaches Lambda, and blocks the common exploit patterns of AWS's managed rule groups.
"""

from __future__ import annotations

import json

from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

_BLOCKED_BODY = "too_many_requests"


_TOO_MANY_REQUESTS = json.dumps(
    {
        "error": {
            "code": "too_many_requests",
            "message": "too many requests from this address; wait a few minutes",
        }
    }
)


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True,
        metric_name=metric,
        sampled_requests_enabled=True,
    )


def _rate_per_forwarded_ip_rule(name: str, limit: int) -> wafv2.CfnWebACL.RuleProperty:
    """Block a client address over ``limit`` requests in 5 minutes with a JSON 429."""
    return wafv2.CfnWebACL.RuleProperty(
        name="rate-per-ip",
        priority=0,
        action=wafv2.CfnWebACL.RuleActionProperty(
            block=wafv2.CfnWebACL.BlockActionProperty(
                custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                    response_code=429, custom_response_body_key=_BLOCKED_BODY
                )
            )
        ),
        statement=wafv2.CfnWebACL.StatementProperty(
            # Counted per client address as the page's proxy (Amplify) forwards
            # it; per source IP, every visitor would share the proxy's budget.
            rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                aggregate_key_type="FORWARDED_IP",
                forwarded_ip_config=wafv2.CfnWebACL.ForwardedIPConfigurationProperty(
                    header_name="X-Forwarded-For", fallback_behavior="MATCH"
                ),
                limit=limit,
                evaluation_window_sec=300,
            )
        ),
        visibility_config=_visibility(f"{name}-rate-per-ip"),
    )


def _managed_rule_group(name: str, priority: int, group: str) -> wafv2.CfnWebACL.RuleProperty:
    """AWS's managed rule group ``group``, with its own actions."""
    return wafv2.CfnWebACL.RuleProperty(
        name=f"aws-{group}",
        priority=priority,
        override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS", name=group
            )
        ),
        visibility_config=_visibility(f"{name}-{group}"),
    )


class ApiFirewall(Construct):
    """Attributes: ``web_acl`` and ``association`` (with the REST API stage ``stage_arn``,
    ``arn:<partition>:apigateway:<region>::/restapis/<id>/stages/<stage>``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage_arn: str,
        name: str,
        requests_per_ip_per_5_minutes: int = 600,
    ) -> None:
        super().__init__(scope, construct_id)
        if not 10 <= requests_per_ip_per_5_minutes <= 2_000_000_000:
            raise ValueError(
                "requests_per_ip_per_5_minutes must be between 10 and 2e9 (WAF's range), got "
                f"{requests_per_ip_per_5_minutes}"
            )
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=name,
            scope="REGIONAL",
            description="recs API: a rate limit per source IP and AWS managed rule groups",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(name),
            custom_response_bodies={
                _BLOCKED_BODY: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON", content=_TOO_MANY_REQUESTS
                )
            },
            rules=[
                _rate_per_forwarded_ip_rule(name, requests_per_ip_per_5_minutes),
                _managed_rule_group(name, 1, "AWSManagedRulesCommonRuleSet"),
                _managed_rule_group(name, 2, "AWSManagedRulesKnownBadInputsRuleSet"),
            ],
        )
        self.association = wafv2.CfnWebACLAssociation(
            self,
            "Association",
            resource_arn=stage_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )
