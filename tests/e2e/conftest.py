"""The whole local stack — endpoint, API, web page — on free ports with a temporary RECS_HOME,
driven by Debian's Chromium through Playwright.

Screenshots of every scenario go to ``test-results/e2e/<scenario>.png``; a failing test also
leaves ``test-results/e2e/failed/<test>.png`` and ``<test>.console.txt``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import ARTIFACTS
from harness import LocalStack, Ports, Service, WebBuild, bearer, call, post_json
from playwright.sync_api import ConsoleMessage, Page, expect

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Stack(LocalStack):
    """The stack the page under test talks to, and the API as the page's user reaches it."""

    def api_json(
        self, path: str, body: dict[str, Any] | None = None, token: str | None = None
    ) -> Any:
        """GET (or POST ``body`` to) the API, as the holder of ``token`` if given; an error
        status fails with the API's message."""
        url = self.api_url + path
        if body is None:
            reply = call(url, headers=bearer(token))
        else:
            reply = post_json(url, body, token=token)
        if reply.status >= 400:
            raise AssertionError(f"{path}: {reply.status} {reply.body.decode()}")
        return reply.json()


# Two shared cores: an answer can take seconds, a hang still fails well within a minute.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def ports() -> Ports:
    return Ports()


@pytest.fixture(scope="session")
def web_build(tmp_path_factory: pytest.TempPathFactory, ports: Ports) -> Iterator[WebBuild]:
    """Build the page for this session's API URL. Session scope, requested before the
    session-scoped ``trained_home``, so the build runs while the model trains."""
    build = WebBuild(tmp_path_factory.mktemp("web-dist"))
    build.start(f"http://127.0.0.1:{ports.api}")
    yield build
    build.kill()


@pytest.fixture(scope="module")
def stack(
    ports: Ports,
    web_build: WebBuild,
    trained_home: Path,
    started_services: list[Service],
) -> Stack:
    stack = Stack(
        trained_home,
        ports,
        # Every test user comes from this one client; a kept RECS_TEST_HOME reruns them within
        # the hour. The cap itself is tested in packages/api and tests/hardening.
        extra_env={"RECS_MAX_USERS_PER_CLIENT_PER_HOUR": "1000"},
        logs=trained_home / "logs" / "e2e",
    )
    started_services += [stack.endpoint_server, stack.api_server]
    stack.start()
    stack.start_web(web_build.wait())
    assert stack.web_server is not None
    started_services.append(stack.web_server)
    return stack


# --------------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; scripts/setup.sh installs Debian's chromium")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def ui(page: Page, stack: Stack, request: pytest.FixtureRequest) -> Iterator[Page]:
    """The browser page, its console recorded; on failure its screenshot and console log."""
    console: list[str] = []

    def record(message: ConsoleMessage) -> None:
        console.append(f"[{message.type}] {message.text}")

    page.on("console", record)
    page.on("pageerror", lambda error: console.append(f"[pageerror] {error}"))
    page.set_default_timeout(30_000)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        failed = ARTIFACTS / "failed"
        failed.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        try:
            page.screenshot(path=str(failed / f"{name}.png"), full_page=True)
        except Exception as error:  # noqa: BLE001 - a dead page must not hide the real failure
            console.append(f"[screenshot failed] {error}")
        (failed / f"{name}.console.txt").write_text("\n".join(console) + "\n", encoding="utf-8")
