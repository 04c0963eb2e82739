"""Page tests drive Debian's Chromium (through Playwright) against the real app served by uvicorn."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Playwright, sync_playwright
from sqlalchemy import Engine

from app.config import REPO_ROOT, Settings

# Debian's Chromium (what CI installs); elsewhere the browser `playwright install chromium` fetched
# (make browser falls back to it when it cannot install the system package).
CHROMIUM: str | None = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO_ROOT / "test-artifacts"
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
OPS_EMAIL = "ops@example.com"
OPS_PASSWORD = "a long and unguessable passphrase 42"

# Collects what the page reports about itself: CSP violations (as events, which the console may not
# show in headless mode), hostile-markup side effects, and the refresh-pausing hook for hidden tabs.
PAGE_PROBES = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
// Headless Chromium never hides a tab, so tests switch document.hidden through this flag.
window.__testHidden = false;
Object.defineProperty(Document.prototype, 'hidden', { get: () => window.__testHidden, configurable: true });
Object.defineProperty(Document.prototype, 'visibilityState', {
  get: () => (window.__testHidden ? 'hidden' : 'visible'), configurable: true,
});
"""


@dataclass
class LiveServer:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class PageLog:
    """Console errors and dialogs seen by one page."""

    console: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def _start_server(settings: Settings, engine: Engine) -> LiveServer:
    from app.main import create_app

    app = create_app(settings, engine)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # a free port, held from here on so nobody else takes it
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return LiveServer(url=f"http://127.0.0.1:{port}", server=server, thread=thread)


@pytest.fixture
def serve(settings: Settings, engine: Engine) -> Iterator[Callable[..., LiveServer]]:
    """Start the app on a free localhost port; `refresh_seconds` shortens the page's auto-refresh."""
    started: list[LiveServer] = []

    def start(refresh_seconds: int = 30) -> LiveServer:
        live = _start_server(
            settings.model_copy(update={"dashboard_refresh_seconds": refresh_seconds}), engine
        )
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()


@pytest.fixture
def ops_account(engine: Engine) -> int:
    from app.auth.employees import create_employee

    return create_employee(engine, OPS_EMAIL, OPS_PASSWORD, "employee")


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def open_page(browser: Browser, page_log: PageLog) -> Iterator[Callable[..., Page]]:
    """New pages in fresh browser contexts (own sessionStorage), with their console and dialogs logged."""
    contexts = []

    def open_(viewport: dict[str, int] = LAPTOP) -> Page:
        context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
        contexts.append(context)
        context.add_init_script(PAGE_PROBES)
        page = context.new_page()
        page.set_default_timeout(20_000)  # generous: the test machine is shared

        def on_console(message: ConsoleMessage) -> None:
            if message.type in ("error", "warning"):
                page_log.console.append(message.text)

        def on_dialog(dialog: Dialog) -> None:
            page_log.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("console", on_console)
        page.on("dialog", on_dialog)
        return page

    yield open_
    for context in contexts:
        context.close()


def sign_in(page: Page, base_url: str, email: str = OPS_EMAIL, password: str = OPS_PASSWORD) -> None:
    page.goto(base_url + "/dashboard/signin")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#signin-button")
    page.wait_for_url(base_url + "/dashboard/monitoring")
    wait_loaded(page)


def wait_loaded(page: Page) -> None:
    """Wait until a load has put figures on the page."""
    page.wait_for_selector("body[data-loads]")


def token_of(page: Page) -> str:
    token = page.evaluate("sessionStorage.getItem('agentMetrics.token')")
    assert token, "no token in sessionStorage"
    return str(token)


def screenshot(page: Page, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=full_page)
    return path
