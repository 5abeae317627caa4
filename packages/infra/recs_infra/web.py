"""Web: the React page on Amplify Hosting, built with the repo's amplify.yml.

The page calls the API on its own origin: Amplify proxies ``/api/<path>`` to the API's URL
(a reverse-proxy rewrite), and the page is built with ``VITE_API_URL=/api``. The browser then
makes same-origin requests, so the API needs no CORS entry for the page and one deploy of
Api then Web is enough: the origin Amplify assigns is not needed before the API exists.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import SecretValue
from aws_cdk import aws_amplify as amplify
from constructs import Construct

from recs_infra import paths
from recs_infra.paths import require_file

# Paths without a file extension (client-side routes) get the single page; assets pass through.
SPA_REWRITE_SOURCE = (
    "</^[^.]+$|\\.(?!(css|gif|ico|jpg|jpeg|js|json|map|png|svg|txt|webp|woff|woff2|ttf)$)([^.]+$)/>"
)
WEB_APP_ROOT = "packages/web"
# Where the page reaches the API on its own origin (Amplify proxies it to the API's URL).
API_PROXY_PATH = "/api"


def api_proxy_rule(api_url: str) -> amplify.CfnApp.CustomRuleProperty:
    """``/api/<*>`` → ``<api_url>/<*>``, status 200: Amplify fetches it and answers."""
    return amplify.CfnApp.CustomRuleProperty(
        source=f"{API_PROXY_PATH}/<*>", target=f"{api_url.rstrip('/')}/<*>", status="200"
    )


class Web(Construct):
    """Attributes: ``app`` (CfnApp), ``branch`` (CfnBranch), ``url`` (the branch's address)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        app_name: str,
        api_url: str,
        branch_name: str = "main",
        production: bool = False,
        repository: str | None = None,
        access_token_secret: str | None = None,
        build_spec: Path | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        spec = require_file(
            build_spec or paths.AMPLIFY_BUILD_SPEC,
            "the Amplify build spec (amplify.yml at the repo root)",
        )
        if repository and not access_token_secret:
            raise ValueError(
                "Web: a repository needs access_token_secret, the Secrets Manager secret "
                "holding the Git provider token"
            )
        environment = [
            amplify.CfnApp.EnvironmentVariableProperty(
                name="AMPLIFY_MONOREPO_APP_ROOT", value=WEB_APP_ROOT
            ),
            amplify.CfnApp.EnvironmentVariableProperty(name="VITE_API_URL", value=API_PROXY_PATH),
        ]
        self.app = amplify.CfnApp(
            self,
            "App",
            name=app_name,
            platform="WEB",
            description="Movie recommendations page (packages/web)",
            build_spec=spec.read_text(),
            environment_variables=environment,
            # The first matching rule applies: the API proxy before the single-page rewrite.
            custom_rules=[
                api_proxy_rule(api_url),
                amplify.CfnApp.CustomRuleProperty(
                    source=SPA_REWRITE_SOURCE, target="/index.html", status="200"
                ),
            ],
            repository=repository,
            access_token=(
                SecretValue.secrets_manager(access_token_secret).unsafe_unwrap()
                if repository and access_token_secret
                else None
            ),
        )
        self.branch = amplify.CfnBranch(
            self,
            "Branch",
            app_id=self.app.attr_app_id,
            branch_name=branch_name,
            stage="PRODUCTION" if production else "DEVELOPMENT",
            enable_auto_build=bool(repository),
        )
        self.url = f"https://{branch_name}.{self.app.attr_default_domain}"
