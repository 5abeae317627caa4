"""The whole local stack — endpoint, API, web page — on free ports with a temporary RECS_HOME,
driven by Debian's Chromium through Playwright.

Screenshots of every scenario go to ``test-results/e2e/<scenario>.png``; a failing test also
leaves ``test-results/e2e/failed/<test>.png`` and ``<test>.console.txt``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from e2e_support import ARTIFACTS
from playwright.sync_api import ConsoleMessage, Page, expect
from services import API, BIN, REPO, WEB, Service, free_port, stack_env

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


@dataclass
class Ports:
    endpoint: int = field(default_factory=free_port)
    api: int = field(default_factory=free_port)
    web: int = field(default_factory=free_port)


@dataclass
class Stack:
    home: Path
    ports: Ports
    endpoint: Service
    api: Service
    web: Service

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.web}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.api}"

    def api_json(
        self, path: str, body: dict[str, Any] | None = None, token: str | None = None
    ) -> Any:
        """GET (or POST ``body`` to) the API, as the holder of ``token`` if given; an error
        status fails with the API's message."""
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            self.api_url + path,
            data=None if body is None else json.dumps(body).encode(),
            headers=headers,
            method="GET" if body is None else "POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{path}: {error.code} {error.read().decode()}") from None


# Two shared cores: an answer can take seconds, a hang still fails well within a minute.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def ports() -> Ports:
    return Ports()


@pytest.fixture(scope="session")
def web_build(tmp_path_factory: pytest.TempPathFactory, ports: Ports) -> Iterator[WebBuild]:
    """Build the page for this session's API URL. Session scope, requested before the
    session-scoped ``trained_home``, so the build runs while the model trains."""
    if not (WEB / "node_modules" / ".bin" / "vite").exists():
        pytest.fail("packages/web/node_modules is missing; run scripts/setup.sh first")
    build = WebBuild(tmp_path_factory.mktemp("web-dist"))
    build.start(f"http://127.0.0.1:{ports.api}")
    yield build
    build.kill()


class WebBuild:
    """``vite build`` into ``out`` with VITE_API_URL baked in, in the background."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.log = out.parent / f"{out.name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, api_url: str) -> None:
        argv = [str(WEB / "node_modules" / ".bin" / "vite"), "build", "--logLevel", "warn"]
        argv += ["--outDir", str(self.out), "--emptyOutDir"]
        with open(self.log, "wb") as handle:
            self.process = subprocess.Popen(
                argv,
                cwd=WEB,
                env={**os.environ, "VITE_API_URL": api_url},
                stdout=handle,
                stderr=subprocess.STDOUT,
            )

    def wait(self, timeout: float = 300.0) -> Path:
        assert self.process is not None
        code = self.process.wait(timeout)
        if code != 0 or not (self.out / "index.html").is_file():
            tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])
            raise RuntimeError(f"vite build exited {code}; last lines of {self.log}:\n{tail}")
        return self.out

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def stack(
    ports: Ports,
    web_build: WebBuild,
    trained_home: Path,
    started_services: list[Service],
) -> Stack:
    home = trained_home
    logs = home / "logs" / "e2e"
    env = stack_env(
        home,
        RECS_ENDPOINT_URL=f"http://127.0.0.1:{ports.endpoint}",
        # CORS compares exact origins: the page is served from 127.0.0.1, never "localhost".
        RECS_WEB_ORIGIN=f"http://127.0.0.1:{ports.web}",
        # Every test user comes from this one client; a kept RECS_TEST_HOME reruns them within
        # the hour. The cap itself is tested in packages/api and tests/hardening.
        RECS_MAX_USERS_PER_CLIENT_PER_HOUR="1000",
    )
    endpoint = Service(
        "endpoint",
        [str(BIN / "recs"), "serve", "--host", "127.0.0.1", "--port", str(ports.endpoint)],
        cwd=REPO,
        env=env,
        log=logs / "endpoint.log",
        ready_url=f"http://127.0.0.1:{ports.endpoint}/ping",
    )
    started_services.append(endpoint)
    endpoint.start(timeout=240)
    api = Service(
        "api",
        [str(BIN / "chalice"), "local", "--host", "127.0.0.1", "--port", str(ports.api)]
        + ["--no-autoreload"],
        cwd=API,
        env=env,
        log=logs / "api.log",
        ready_url=f"http://127.0.0.1:{ports.api}/health",
    )
    started_services.append(api)
    api.start(timeout=120)
    dist = web_build.wait()
    web = Service(
        "web",
        [str(WEB / "node_modules" / ".bin" / "vite"), "preview", "--host", "127.0.0.1"]
        + ["--port", str(ports.web), "--strictPort", "--outDir", str(dist)],
        cwd=WEB,
        env=env,
        log=logs / "web.log",
        ready_url=f"http://127.0.0.1:{ports.web}/",
    )
    started_services.append(web)
    web.start(timeout=120)
    return Stack(home=home, ports=ports, endpoint=endpoint, api=api, web=web)


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
