"""Browser tests: the real server on a free loopback port, driven by Debian's Chromium.

The server and the browser are per xdist worker (session scope), each on its own fresh
database, so workers never share state. Every page a journey visits is photographed at a laptop
and a phone size into ``test-output/screenshots/``.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from werkzeug.serving import make_server

from webapp import create_app
from workflows.bootstrap import init_database
from workflows.core.db import get_engine, session_scope
from workflows.core.settings import Settings, load_settings
from workflows.demo import load_demo

from ..webapp.support import app_config, build_demo_database, compile_translations, copy_database

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
# Assertions wait as long as actions: on a loaded CI machine an upload can take more than the default 5 s.
expect.set_options(timeout=10_000)

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@contextmanager
def _serving(settings: Settings, config: dict) -> Iterator[str]:
    app = create_app(config)
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join()
    http.server_close()
    get_engine(settings.database_url).dispose()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The test diagram ``web_case`` and the demo people, no cases."""
    folder = tmp_path_factory.mktemp("e2e")
    settings = copy_database(build_demo_database(folder / "template"), folder / "instance")
    with _serving(settings, app_config(settings, compile_translations(folder / "translations"))) as url:
        yield url


@contextmanager
def _demo_bureau(folder: Path) -> Iterator[str]:
    """The whole demo bureau: the ``bpmn/`` models and the demo cases, as `sanxiang init --demo` makes them."""
    settings = load_settings({"SANXIANG_INSTANCE_PATH": str(folder / "instance")})
    with session_scope(settings) as session:
        init_database(settings, session)
        load_demo(session, settings)
    config = app_config(settings, compile_translations(folder / "translations"), CASE_PROCESS="enforcement_case")
    with _serving(settings, config) as url:
        yield url


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    with _demo_bureau(tmp_path_factory.mktemp("e2e-demo")) as url:
        yield url


@pytest.fixture
def own_demo_page(browser, tmp_path):
    """Pages on a demo bureau of the test's own, for journeys that change what every other test
    reads (a new model version, migrated cases)."""
    with _demo_bureau(tmp_path) as url:
        yield from _pages(browser, url)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _pages(browser, url: str):
    """``open_page()`` gives a page in a fresh browser profile (its own cookies), in Chinese."""
    contexts = []

    def open_page() -> Page:
        context = browser.new_context(base_url=url, locale="zh-CN", viewport=LAPTOP)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def open_page(browser, server):
    yield from _pages(browser, server)


@pytest.fixture
def open_demo_page(browser, demo_server):
    yield from _pages(browser, demo_server)


def snap(page: Page, name: str) -> None:
    """Photograph the whole page at laptop and phone width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}-1366.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=SCREENSHOTS / f"{name}-390.png", full_page=True)
    page.set_viewport_size(LAPTOP)


def sign_in(page: Page, username: str, password: str = "demo1234") -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")
