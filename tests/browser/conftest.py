"""Browser tests: the real hub served by uvicorn on a free port, driven in a real headless
Chromium (Debian's ``chromium``, through Playwright with the system browser).

``live_hub`` is one hub per test module on a SQLite file with the demo data loaded. ``page``
is a fresh browser page that records console errors and failed requests; ``shoot`` saves a
screenshot under ``test-artifacts/`` (or ``$CITYHUB_ARTIFACTS``) so a failing run can be seen.
Tests skip with a reason when no Chromium is installed, unless ``CITYHUB_REQUIRE_BROWSER=1``
(as CI sets it) makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from cityhub.app import create_app
from cityhub.demo import load_demo, with_demo_settings
from cityhub.settings import Settings, load_settings
from cityhub.store.database import Store

ADMIN_TOKEN = "browser-admin-token"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("CITYHUB_ARTIFACTS", "test-artifacts"))
REQUIRE_BROWSER = os.environ.get("CITYHUB_REQUIRE_BROWSER") == "1"


def chromium_path() -> str | None:
    """The system Chromium: ``$CITYHUB_CHROMIUM`` or the first of Debian's names on PATH."""
    named = os.environ.get("CITYHUB_CHROMIUM")
    if named:
        return named
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class LiveHub:
    """The hub served over real HTTP by uvicorn in a background thread, on a free port."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        sock = socket.socket()
        # Connections accepted from it inherit the flag, so ``stop`` can bind the port again
        # while they are still closing.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._socket = sock
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        self.admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    @property
    def store(self) -> Store:
        return self.app.state.store

    def start(self) -> None:
        self.server.should_exit = False
        self.server.started = False
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the hub did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop serving (the port closes), as an outage would; ``start`` serves again."""
        # An outage does not wait for open streams (server-sent events) to finish.
        self.server.config.timeout_graceful_shutdown = 1
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=30)
        self._socket.close()
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self._socket = sock
        self.app = create_app(self.settings)
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="on"))

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self.server.should_exit = True
            self._thread.join(timeout=30)
        self._socket.close()

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)


@pytest.fixture(scope="module")
def live_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHub]:
    """A hub with the demo data, served on a free port for the whole test module."""
    hub = start_demo_hub(tmp_path_factory.mktemp("live-hub"))
    yield hub
    hub.close()


def start_demo_hub(folder: Path, **overrides: Any) -> LiveHub:
    """A started hub on a new SQLite file in ``folder`` with the demo loaded; ``overrides``
    are settings beyond the defaults of browser tests (a module's own fixture uses them)."""
    flags = {"data_dir": folder, "admin_token": ADMIN_TOKEN, "mqtt_enabled": False, **overrides}
    settings = with_demo_settings(load_settings(flags, environ={}))  # as ``serve --demo``
    store = Store(settings)
    store.migrate()
    load_demo(store)
    store.close()
    hub = LiveHub(settings)
    hub.start()
    return hub


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Playwright's synchronous API runs an event loop in the
    main thread while it is open, so it must close before the other tests' ``asyncio.run``."""
    executable = chromium_path()
    if executable is None:
        if REQUIRE_BROWSER:
            pytest.fail("no Chromium found, but CITYHUB_REQUIRE_BROWSER=1")
        pytest.skip("no Chromium installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@dataclass
class PageLog:
    """What went wrong in a page: console errors, uncaught exceptions, failed requests."""

    errors: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.errors == [], "the page reported errors:\n" + "\n".join(self.errors)


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser: Any, page_log: PageLog, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page (1280×800, German) that records errors; screenshot kept on failure."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="de-DE")
    new_page = context.new_page()
    new_page.on(
        "console",
        lambda message: (
            page_log.errors.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    new_page.on("pageerror", lambda error: page_log.errors.append(f"page error: {error}"))
    yield new_page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        _screenshot(new_page, f"{request.node.name}-failed")
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def shoot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """Save a screenshot of ``page`` as ``test-artifacts/<test>-<label>.png``."""
    return lambda page, label: _screenshot(page, f"{request.node.name}-{label}")


def axe_violations(page: Any, impact: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """Run axe-core (WCAG 2.1 A/AA rules) in ``page``; the violations of the given impact."""
    # Evaluated rather than added as a script tag: the pages' Content-Security-Policy
    # rightly refuses inline scripts, and axe is the test's, not the page's.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"""
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in impact
    ]
