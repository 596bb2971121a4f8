"""The dashboard and the API docs in a real browser: Debian's chromium, headless, driven by
Playwright (never a browser of its own: none is downloaded), against a real `timeline serve`
with the demo loaded. Without /usr/bin/chromium these tests skip (CI installs it).

Every request the browser makes outside the service is recorded and refused, so the pages
are shown as they are on a machine with no internet.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Route, sync_playwright

from tests.api.live_server import free_port
from tests.conftest import TABLES
from tests.e2e.conftest import TIMELINE, service_env, timeline_env

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Quiet, offline and reproducible: no sandbox (CI runs as root), no GPU, no updates or sync.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# Set to a folder (docs/) to keep the screenshots; else they go to the test's temporary folder.
SCREENSHOT_DIR_VARIABLE = "TIMELINE_SCREENSHOT_DIR"
START_SECONDS = 60


@dataclass(frozen=True)
class Service:
    url: str
    editor_key: str
    head: int


@dataclass
class Visit:
    """A page and what it did: console errors, uncaught errors, requests refused."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)


async def _empty_log(owner_url: str) -> None:
    connection = await asyncpg.connect(owner_url)
    try:
        await connection.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")
    finally:
        await connection.close()


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [TIMELINE, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _wait_until_serving(url: str, key: str, head: int, server: subprocess.Popen[str]) -> None:
    """Until the service answers and its views hold the demo."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()
        try:
            answer = httpx.get(
                f"{url}/v1/holdings",
                params={"min_position": head},
                headers={"Authorization": f"Bearer {key}"},
                timeout=10,
            )
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        if answer.status_code == 200:
            return
        time.sleep(0.2)
    raise AssertionError(f"timeline serve did not serve the demo within {START_SECONDS} s")


@pytest.fixture(scope="module")
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); CI installs it")
    return CHROMIUM


@pytest.fixture(scope="module")
def service(database_url: str, service_url: str, chromium: str) -> Iterator[Service]:
    """`timeline serve` on an empty log with the demo loaded, and an editor key."""
    asyncio.run(_empty_log(database_url))
    # Every test's tabs read with one key, seconds apart, where a reader opens one tab: a
    # redraw about the past is 8 questions costing 10 each, so the default burst (100) would
    # answer 429 across tests (the page waits those out, but Chromium logs each as an error).
    env = timeline_env(
        {
            **service_env(service_url, database_url),
            "TIMELINE_RATE_LIMIT": "1000",
            "TIMELINE_RATE_BURST": "2000",
        }
    )
    _run(env, "demo")
    key = _run(env, "keys", "create", "--role", "editor", "--name", "browser").split()[0]
    head = len(_run(env, "log", "--json").splitlines())
    port = free_port()
    server = subprocess.Popen(
        [TIMELINE, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, key, head, server)
        yield Service(url=url, editor_key=key, head=head)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def playwright(service: Service) -> Iterator[Playwright]:
    """After the service: Playwright's sync API runs an event loop in this thread, and the
    database fixtures' asyncio.run() cannot run inside one."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright, chromium: str) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


def visit(browser: Browser, service: Service, *, width: int = 1280, height: int = 800) -> Visit:
    """A new tab of `width` x `height` whose requests outside the service are refused."""
    context = browser.new_context(viewport={"width": width, "height": height})
    visit = Visit(page=context.new_page())

    def only_the_service(route: Route) -> None:
        url = route.request.url
        visit.urls.append(url)
        if url.startswith(f"{service.url}/") or url.startswith("data:"):
            route.continue_()
        else:
            visit.outside_requests.append(url)
            route.abort()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            visit.console_errors.append(message.text)

    context.route("**/*", only_the_service)
    visit.page.on("console", on_console)
    visit.page.on("pageerror", lambda error: visit.console_errors.append(str(error)))
    return visit


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    configured = os.environ.get(SCREENSHOT_DIR_VARIABLE)
    folder = Path(configured) if configured else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder
