"""Small readers over synthesized templates."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Template

from recs_infra import paths


def resources(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    return dict(template.find_resources(resource_type))


def only(template: Template, resource_type: str) -> dict[str, Any]:
    found = resources(template, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.values()))


def policy_statements(template: Template, role_logical_prefix: str) -> list[dict[str, Any]]:
    """Statements of the inline policies attached to roles whose logical id starts so."""
    statements: list[dict[str, Any]] = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        roles = policy["Properties"].get("Roles", [])
        if any(r.get("Ref", "").startswith(role_logical_prefix) for r in roles):
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    assert statements, f"no policy attached to a role {role_logical_prefix}*"
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def flatten(value: Any) -> str:
    """A CloudFormation string expression with intrinsic functions rendered as <...> markers."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(flatten(part) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    if isinstance(value, dict) and "Fn::ImportValue" in value:
        return f"<import:{flatten(value['Fn::ImportValue'])}>"
    if isinstance(value, dict) and len(value) == 1:
        return f"<{next(iter(value))}>"
    raise AssertionError(f"unexpected expression {value!r}")


def statements_allowing(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [s for s in statements if s["Effect"] == "Allow" and action in as_list(s["Action"])]


INFRA_DIR = Path(__file__).resolve().parents[1]
CDK_CONTEXT: dict[str, Any] = json.loads((INFRA_DIR / "cdk.json").read_text())["context"]


def missing_components() -> dict[str, str]:
    """Components whose code from another package has not landed, with the reason."""
    missing = {}
    try:
        pipeline_module = importlib.util.find_spec("recs_ml.pipeline.sagemaker")
    except ModuleNotFoundError:
        pipeline_module = None
    if pipeline_module is None:
        missing["training"] = "recs_ml.pipeline.sagemaker (get_pipeline) is not in packages/ml yet"
    if not paths.DEPLOYER_MODULE.is_file():
        missing["serving"] = "recs_ml/ops/deployer.py is not in packages/ml yet"
    elif "training" in missing:
        missing["serving"] = "the inference image comes from recs_ml.pipeline.sagemaker (missing)"
    if not paths.AMPLIFY_BUILD_SPEC.is_file():
        missing["web"] = "amplify.yml is not at the repository root yet"
    return missing
