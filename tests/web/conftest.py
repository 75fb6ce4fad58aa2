"""A real store filled with generated data, and a real server for it on loopback."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from ashyq.store.store import Store
from ashyq.web.alerts import SmtpConfig
from ashyq.web.app import Config, make_app

from .datagen import TARGETS, Scenario, build

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
ADMIN_PASSWORD = "correct horse battery"


@dataclass
class Server:
    url: str
    app: web.Application
    loop: asyncio.AbstractEventLoop
    data_dir: Path


class ServerThread:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.url = ""
        self.error: BaseException | None = None
        self.store: Store | None = None  # default: the store of config.data_dir, read-only

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            store = self.store or Store.open(self.config.data_dir, read_only=True)
            self.app = make_app(self.config, store)
            self.runner = web.AppRunner(self.app, access_log=None)
            self.loop.run_until_complete(self.runner.setup())
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            self.loop.run_until_complete(site.start())
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.url = f"http://127.0.0.1:{port}"
        except BaseException as exc:
            self.error = exc
            self.ready.set()
            return
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.runner.cleanup())

    def start(self) -> Server:
        self.thread.start()
        self.ready.wait(30)
        if self.error:
            raise self.error
        return Server(self.url, self.app, self.loop, self.config.data_dir)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    data = tmp_path_factory.mktemp("web-store")
    sc = build(data)
    from ashyq.web.state import WebState

    state = WebState.open(data)
    state.set_categories(TARGETS)
    state.set_user("editor", "editor-password-1")
    state.close()
    return sc


@pytest.fixture(scope="session")
def server(scenario: Scenario) -> Iterator[Server]:
    config = Config(
        data_dir=scenario.data_dir,
        base_url="http://example.invalid",
        smtp=SmtpConfig(host="127.0.0.1", port=1),
        admin_password=ADMIN_PASSWORD,
        chromium=CHROMIUM,
    )
    thread = ServerThread(config)
    srv = thread.start()
    yield srv
    thread.stop()


def chromium_or_skip() -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (Debian package chromium)")


@pytest.fixture(scope="module")
def browser():
    """Module-scoped: Playwright's sync API keeps an event loop running in this thread while
    it is open, and other modules call asyncio.run()."""
    chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(accept_downloads=True, locale="en-US")
    p = context.new_page()
    p.set_default_timeout(15_000)
    yield p
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
