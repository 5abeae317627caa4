"""cfn-lint and cdk-nag over the synthesized app."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from recs_infra.stacks import COMPONENTS, add_compliance_checks


def _cfn_lint() -> list[str]:
    found = shutil.which("cfn-lint") or str(Path(sys.executable).with_name("cfn-lint"))
    return [found]


def test_cfn_lint_finds_no_errors_in_any_template(synthesized):
    templates = sorted(synthesized.outdir.glob("*.template.json"))
    expected = [c for c in COMPONENTS if c not in synthesized.missing]
    assert len(templates) == len(expected), templates
    result = subprocess.run(
        [*_cfn_lint(), "--non-zero-exit-code", "error", *map(str, templates)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_validation_report_has_no_failing_plugin(synthesized):
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    failing = [p["pluginName"] for p in report["pluginReports"] if p["conclusion"] != "success"]
    assert failing == []
    for plugin in report["pluginReports"]:
        assert plugin["violations"] == [], plugin["pluginName"]


def _acknowledgements(root: cdk.App) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for construct in root.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == "aws:cdk:acknowledged-rules":
                found.setdefault(construct.node.path, {}).update(entry.data)
    return found


def test_every_cdk_nag_acknowledgement_carries_a_reason(synthesized):
    # The session fixture synthesized with AwsSolutions enabled: any unacknowledged finding
    # would have failed it. Here: each acknowledgement says why.
    app = synthesized.stacks.storage.node.root
    acknowledged = _acknowledgements(app)
    assert acknowledged, "expected the app's documented acknowledgements"
    for path, rules in acknowledged.items():
        for rule, reason in rules.items():
            assert rule.startswith("Annotation::AwsSolutions-"), (path, rule)
            assert len(reason.split()) >= 5, f"{path} {rule}: reason too thin: {reason!r}"


def test_cdk_nag_fails_synthesis_on_an_unacknowledged_finding(tmp_path):
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = cdk.Stack(app, "Careless")
    s3.Bucket(stack, "NoLogsNoTls")
    add_compliance_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = (tmp_path / "cdk.out" / "validation-report.json").read_text()
    assert "AwsSolutions-S1" in report and "AwsSolutions-S10" in report
