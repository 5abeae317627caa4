from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from infra_template import flatten, only

from recs_infra import paths
from recs_infra.web import SPA_REWRITE_SOURCE, Web, api_proxy_rule

BUILD_SPEC = """version: 1
applications:
  - appRoot: packages/web
    frontend:
      phases:
        build:
          commands: [npm ci, npm run build]
      artifacts:
        baseDirectory: dist
        files: ['**/*']
"""


@pytest.fixture(scope="module")
def template(synthesized):
    return synthesized.template("web")


def test_amplify_app_uses_the_repo_build_spec_and_rewrites_client_routes(template):
    app = only(template, "AWS::Amplify::App")["Properties"]
    assert app["BuildSpec"] == paths.AMPLIFY_BUILD_SPEC.read_text()
    assert app["Platform"] == "WEB"
    proxy, spa = app["CustomRules"]
    assert spa == {"Source": SPA_REWRITE_SOURCE, "Target": "/index.html", "Status": "200"}
    assert (proxy["Source"], proxy["Status"]) == ("/api/<*>", "200")
    variables = {v["Name"]: v["Value"] for v in app["EnvironmentVariables"]}
    assert variables["AMPLIFY_MONOREPO_APP_ROOT"] == "packages/web"
    assert variables["VITE_API_URL"] == "/api"


def test_the_page_reaches_the_api_through_its_own_origin_so_one_deploy_needs_no_cors(template):
    """Amplify proxies /api/<*> to the API stack's URL; the page calls /api, same-origin."""
    proxy = only(template, "AWS::Amplify::App")["Properties"]["CustomRules"][0]
    target = flatten(proxy["Target"])
    assert target.startswith("https://<import:") and ".execute-api." in target
    assert target.endswith("/api/<*>")
    branch = only(template, "AWS::Amplify::Branch")["Properties"]
    assert branch["BranchName"] == "main"
    assert "EnvironmentVariables" not in branch  # the app's VITE_API_URL=/api applies


def test_the_proxy_rule_comes_before_the_single_page_rewrite_that_would_match_it():
    import re

    # Amplify applies the first matching rule; the SPA rewrite matches /api/users too.
    pattern = SPA_REWRITE_SOURCE.removeprefix("</").removesuffix("/>")
    assert re.search(pattern, "/api/users/1/recommendations")
    assert api_proxy_rule("https://a.execute-api.us-east-1.amazonaws.com/api/").target == (
        "https://a.execute-api.us-east-1.amazonaws.com/api/<*>"
    )


def _web(tmp_path: Path, **options) -> Template:
    spec = tmp_path / "amplify.yml"
    spec.write_text(BUILD_SPEC)
    stack = cdk.Stack(cdk.App(), "WebOnly")
    Web(
        stack,
        "Web",
        app_name="recs-web-test",
        api_url="https://api.test/api",
        build_spec=spec,
        **options,
    )
    return Template.from_stack(stack)


def test_without_a_repository_the_app_is_for_manual_deploys(tmp_path):
    template = _web(tmp_path)
    app = only(template, "AWS::Amplify::App")["Properties"]
    assert "Repository" not in app and "AccessToken" not in app
    assert only(template, "AWS::Amplify::Branch")["Properties"]["EnableAutoBuild"] is False


def test_with_a_repository_the_token_comes_from_secrets_manager(tmp_path):
    template = _web(
        tmp_path, repository="https://github.com/example/recs", access_token_secret="recs/gh"
    )
    app = only(template, "AWS::Amplify::App")["Properties"]
    assert app["Repository"] == "https://github.com/example/recs"
    assert app["AccessToken"] == "{{resolve:secretsmanager:recs/gh:SecretString:::}}"
    assert only(template, "AWS::Amplify::Branch")["Properties"]["EnableAutoBuild"] is True


def test_missing_build_spec_is_a_clear_error(tmp_path):
    stack = cdk.Stack(cdk.App(), "WebOnly")
    with pytest.raises(FileNotFoundError, match="amplify.yml"):
        Web(
            stack, "Web", app_name="x", api_url="https://a/api", build_spec=tmp_path / "amplify.yml"
        )
