"""Browser tests: the real server on a free loopback port, driven by Debian's Chromium.

The server and the browser are per xdist worker (session scope), each on its own fresh
database, so workers never share state. Every page a journey visits is photographed at a laptop
and a phone size into ``test-output/screenshots/``.
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import make_server

from webapp import create_app
from workflows.core.db import get_engine

from ..webapp.support import app_config, build_demo_database, compile_translations, copy_database

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e")
    settings = copy_database(build_demo_database(folder / "template"), folder / "instance")
    app = create_app(app_config(settings, compile_translations(folder / "translations")))
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join()
    http.server_close()
    get_engine(settings.database_url).dispose()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser, server):
    """``open_page()`` gives a page in a fresh browser profile (its own cookies), in Chinese."""
    contexts = []

    def open_page() -> Page:
        context = browser.new_context(base_url=server, locale="zh-CN", viewport=LAPTOP)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


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
