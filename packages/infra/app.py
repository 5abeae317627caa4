#!/usr/bin/env python3
"""CDK app: synthesizes the stacks into cdk.out (no AWS credentials needed)."""

import aws_cdk as cdk

from recs_infra.stacks import build_app

app: cdk.App = build_app()
app.synth()
