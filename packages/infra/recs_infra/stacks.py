"""Stacks only compose constructs; each stack deploys on its own."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from recs_infra.storage import Storage


class StorageStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.storage = Storage(self, "Storage", retain=stage == "prod")


def build_app(context: dict | None = None) -> cdk.App:
    app = cdk.App(context=context or {})
    stage = app.node.try_get_context("stage") or "dev"
    StorageStack(app, f"Recs-{stage}-Storage", stage=stage)
    return app
