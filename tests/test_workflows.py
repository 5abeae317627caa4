"""The GitHub Actions workflows run what the README promises, on the project's versions."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml
from harness import REPO

WORKFLOWS = REPO / ".github" / "workflows"


def workflow(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key "on" as True.
    return {("on" if key is True else key): value for key, value in loaded.items()}


def steps(flow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in flow["jobs"].values() for step in job["steps"]]


def uses(flow: dict[str, Any], action: str) -> dict[str, Any]:
    found = [s for s in steps(flow) if str(s.get("uses", "")).startswith(action + "@")]
    assert found, f"no step uses {action}"
    return found[0].get("with", {})


def test_actionlint_passes_on_every_workflow() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"ci.yml", "infra.yml", "web.yml"}
    actionlint = Path(sys.executable).with_name("actionlint")
    result = subprocess.run(
        [str(actionlint), *map(str, files)], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_test_command_on_the_projects_python_and_node() -> None:
    ci = workflow("ci.yml")
    assert {"push", "pull_request"} <= set(ci["on"])
    assert [s["run"] for s in steps(ci) if "run" in s] == ["scripts/test.sh"]
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    python = uses(ci, "actions/setup-python")["python-version"]
    assert re.fullmatch(r">=3\.11,<3\.12", requires) and python == "3.11"
    engines = json.loads((REPO / "packages/web/package.json").read_text())["engines"]["node"]
    node = str(uses(ci, "actions/setup-node")["node-version"])
    assert engines.startswith(f">={node}.")
    assert uses(ci, "actions/setup-node")["cache"] == "npm"
    assert uses(ci, "astral-sh/setup-uv")["enable-cache"] is True
    upload = uses(ci, "actions/upload-artifact")
    assert upload["path"] == "test-results/"
    assert any(
        s.get("if") == "always()" for s in steps(ci) if "upload-artifact" in s.get("uses", "")
    )


def test_package_workflows_run_only_on_their_package() -> None:
    infra, web = workflow("infra.yml"), workflow("web.yml")
    assert "packages/infra/**" in infra["on"]["pull_request"]["paths"]
    assert "packages/web/**" in web["on"]["pull_request"]["paths"]
    infra_runs = " ".join(s.get("run", "") for s in steps(infra))
    assert "app.py" in infra_runs and "cfn-lint" in infra_runs
    assert "pytest packages/infra/tests" in infra_runs  # template, cdk-nag and cfn-lint tests
    web_runs = [s.get("run", "") for s in steps(web)]
    for command in ("npm ci", "npm run lint", "npm run typecheck", "npm test", "npm run build"):
        assert any(run.startswith(command) for run in web_runs), command
