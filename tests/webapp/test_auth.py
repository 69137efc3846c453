"""Signing in and out: lockout bookkeeping, cookies, session renewal, remember me, safe redirects."""
from __future__ import annotations

import json
from dataclasses import replace

from sqlalchemy import select

from webapp import create_app
from workflows.core.db import session_scope
from workflows.core.models import AuditEvent, User
from workflows.domain.people import get_user, hash_password

from .conftest import Auth, app_config, csrf_token


def _user(settings, username: str) -> User:
    with session_scope(settings, write=False) as session:
        return session.scalars(select(User).where(User.username == username)).unique().one()


def _actions(settings) -> list[str]:
    with session_scope(settings, write=False) as session:
        return list(session.scalars(select(AuditEvent.action).where(AuditEvent.chain == "system")
                                    .order_by(AuditEvent.seq)))


def test_the_sign_in_page_is_in_chinese(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "工作人员登录" in page and "用户名" in page and "密码" in page


def test_signing_in_lands_on_the_inbox_with_a_renewed_session(client, auth):
    before = csrf_token(client)
    response = auth.login("officer1")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/").get_data(as_text=True)
    assert "张明" in page and "待办事项" in page
    assert csrf_token(client, "/") != before  # the old session (and its token) did not survive


def test_a_failed_sign_in_is_recorded_even_though_it_fails(client, auth, app_settings):
    response = auth.login("officer1", "wrong-password")
    assert response.status_code == 422
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert _user(app_settings, "officer1").failed_logins == 1
    assert _actions(app_settings)[-1] == "auth.fail"


def test_five_failures_lock_the_account(client, auth, app_settings):
    for _ in range(5):
        auth.login("officer2", "wrong-password")
    response = auth.login("officer2")  # the right password, but locked
    assert response.status_code == 422
    assert _user(app_settings, "officer2").locked_until is not None
    assert _actions(app_settings)[-1] == "auth.locked"


def test_the_answer_does_not_tell_whether_a_username_exists(client, auth):
    unknown = auth.login("nobody-here", "wrong-password").get_data(as_text=True)
    for _ in range(5):
        auth.login("officer2", "wrong-password")
    locked = auth.login("officer2").get_data(as_text=True)
    wrong = auth.login("officer1", "wrong-password").get_data(as_text=True)
    message = "用户名或密码错误；连续错误5次后账户将锁定15分钟"
    assert message in unknown and message in locked and message in wrong


def test_empty_fields_are_named(client):
    response = client.post("/login", data={"_csrf_token": csrf_token(client)})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "请填写用户名" in page and "请填写密码" in page


def test_remember_me_sets_a_lasting_http_only_cookie(client, auth):
    response = auth.login("officer1", remember=True)
    remember = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]
    assert remember and "HttpOnly" in remember[0] and "SameSite=Lax" in remember[0] and "Expires=" in remember[0]


def test_without_remember_me_no_lasting_cookie(client, auth):
    response = auth.login("officer1")
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]


def test_sign_out_ends_the_session_and_is_recorded(client, auth, app_settings):
    auth.login("officer1")
    response = auth.logout()
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    assert "auth.logout" in _actions(app_settings)


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(client, auth):
    client.get("/cases/new")
    page = client.get("/login?next=/cases/new").get_data(as_text=True)
    assert 'value="/cases/new"' in page
    token = csrf_token(client)
    response = client.post("/login", data={"username": "officer1", "password": "demo1234", "next": "/cases/new",
                                           "_csrf_token": token})
    assert response.headers["Location"] == "/cases/new"
    Auth(client).logout()
    token = csrf_token(client)
    response = client.post("/login", data={"username": "officer1", "password": "demo1234",
                                           "next": "//evil.example/", "_csrf_token": token})
    assert response.headers["Location"] == "/"


def test_a_password_change_ends_existing_sessions(client, auth, app_settings):
    auth.login("officer1")
    assert client.get("/").status_code == 200
    with session_scope(app_settings) as session:
        get_user(session, "officer1").password_hash = hash_password("new-pass")
    assert client.get("/").status_code == 302


def test_pages_that_need_a_user_send_visitors_to_sign_in(client):
    response = client.get("/cases/new")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def test_the_audit_payload_of_a_sign_in_names_its_source(client, auth, app_settings):
    auth.login("officer1")
    with session_scope(app_settings, write=False) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login")).one()
    assert event.actor == "officer1" and json.loads(event.payload)["source"] == "127.0.0.1"


def test_behind_https_cookies_travel_over_tls_only(app_settings, translations):
    app = create_app(app_config(replace(app_settings, secure_cookies=True), translations, TESTING=True))
    session_cookie = [c for c in app.test_client().get("/login").headers.getlist("Set-Cookie")
                      if c.startswith("session=")]
    assert session_cookie and "Secure" in session_cookie[0] and "HttpOnly" in session_cookie[0]
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
