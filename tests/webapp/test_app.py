"""The app shell: health, headers, error pages, the unit of work, vendored front-end files."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from webapp import create_app
from webapp.markdown import render
from workflows.core.db import session_scope
from workflows.core.models import User

from .conftest import Auth, post
from .support import app_config

STATIC = Path(__file__).resolve().parents[2] / "webapp" / "static"


def test_health_answers(client):
    assert client.get("/health").json == {"status": "ok"}


def test_pages_carry_security_headers(client):
    headers = client.get("/login").headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("path", "status", "text"), [
    ("/no-such-page", 404, "页面不存在"),
    ("/tasks/no-such-task", 404, "页面不存在"),
    ("/cases/new", 403, "无权访问"),
])
def test_error_pages_are_plain_and_in_chinese(client, auth, path, status, text):
    auth.login("reviewer")
    response = client.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == status and text in page and "返回待办事项" in page


def test_an_unexpected_error_shows_a_calm_page_and_keeps_nothing(app_settings, translations, frozen_clock):
    app = create_app(app_config(app_settings, translations))

    @app.get("/boom")
    def boom():
        from webapp import db
        db.session().get(User, 1).full_name = "不该保存"
        raise RuntimeError("boom")

    client = app.test_client()
    response = client.get("/boom")
    assert response.status_code == 500 and "系统出错" in response.get_data(as_text=True)
    with session_scope(app_settings, write=False) as session:
        assert session.get(User, 1).full_name != "不该保存"


def test_a_post_commits_its_work_once_the_response_is_ready(client, auth, app_settings):
    auth.login("officer1")
    post(client, "/language", {"lang": "en"})
    with session_scope(app_settings, write=False) as session:
        assert session.scalars(select(User.language).where(User.username == "officer1")).one() == "en"


def test_navigation_shows_only_what_the_role_may_use(client, auth):
    Auth(client).login("officer1")
    assert 'href="/cases/new"' in client.get("/").get_data(as_text=True)
    Auth(client).logout()
    Auth(client).login("manager")
    page = client.get("/").get_data(as_text=True)
    assert 'href="/cases/new"' not in page and "待办事项" in page


@pytest.mark.parametrize("name", ["bootstrap"])
def test_front_end_libraries_are_vendored_with_version_and_licence(name):
    folder = STATIC / "vendor" / name
    assert (folder / "VERSION").read_text().strip().startswith("5.")
    assert "MIT License" in (folder / "LICENSE").read_text()
    assert (folder / "css" / "bootstrap.min.css").is_file() and (folder / "js" / "bootstrap.bundle.min.js").is_file()


def test_templates_load_no_third_party_hosts(client, auth, case):
    auth.login("officer1")
    for path in ("/login", "/", f"/tasks/{case.task_id}", f"/cases/{case.instance_id}", "/cases/new"):
        page = client.get(path).get_data(as_text=True)
        assert "//cdn" not in page and "https://" not in page.replace("https://example.org/manual", "")


def test_instructions_are_sanitised():
    html = render("[x](javascript:alert(1)) <img src=x onerror=alert(1)> **ok**\n\n<script>bad()</script>")
    assert "href" not in html and "<img" not in html and "<script>" not in html
    assert "<strong>ok</strong>" in html


def test_numbers_no_row_can_have_are_not_found_never_a_server_error(client, auth):
    auth.login("admin")
    for path in ("/?page=4611686018427387904", "/cases/99999999999999999999999", "/monitor/cases?page=-1",
                 "/admin/audit?page=99999999999999999999", "/admin/holidays?year=99999999999999999999",
                 "/studio/files/web_case.bpmn?draft=99999999999999999999", "/tasks/x/done"):
        assert client.get(path).status_code in (200, 404), path
