"""The administration pages: people and credentials, settings, the working calendar, the audit log.

Each page calls the same engine operations the CLI does, so these tests follow what an
administrator sees: a change takes effect for the people it concerns at once, a refusal is a
message on the page and changes nothing."""
from __future__ import annotations

import io
import json
from datetime import date

import pytest
from sqlalchemy import select, update

from workflows.core.db import session_scope
from workflows.core.models import AuditEvent, DeadlineSetting, HolidayOverride, HumanTask, SettingChange, User
from workflows.domain.people import get_user

from .conftest import Auth, csrf_token, post, start_case

NEW_OFFICER = {"username": "officer9", "full_name": "钱多", "unit": "social", "password": "first-pass-1",
               "roles": ["officer"], "contact": "0571-1234", "credential_number": "15010099999", "area": "新市区",
               "valid_from": "2026-01-01", "valid_to": "2028-12-31"}


def test_a_new_officer_sets_a_password_then_files_and_a_revocation_stops_them(app, client, auth, app_settings):
    auth.login("admin")
    created = post(client, "/admin/users", NEW_OFFICER)
    assert created.headers["Location"] == "/admin/users/officer9"
    page = client.get("/admin/users/officer9").get_data(as_text=True)
    assert "已添加钱多。首次登录时须修改密码。" in page and "15010099999" in page

    officer = app.test_client()
    Auth(officer).login("officer9", "first-pass-1")
    assert officer.get("/cases/new").headers["Location"] == "/me"  # the password comes first
    token = csrf_token(officer, "/me")
    refused = officer.post("/me", data={"current": "first-pass-1", "password": "first-pass-1", "repeat": "first-pass-1",
                                        "_csrf_token": token})
    assert refused.status_code == 422 and "新密码不能与当前密码相同" in refused.get_data(as_text=True)
    changed = officer.post("/me", data={"current": "first-pass-1", "password": "own-secret-9", "repeat": "own-secret-9",
                                        "_csrf_token": token})
    assert changed.headers["Location"] == "/me"
    started = post(officer, "/cases/new", {"matter_code": "MZ-CF-0001", "party_name": "某某协会"})
    assert started.headers["Location"].startswith("/tasks/")
    task_id = started.headers["Location"].split("/")[2]
    post(officer, f"/tasks/{task_id}/claim")

    revoked = post(client, "/admin/credentials/15010099999/revoke", {"reason": "违规执法"})
    assert "执法证已吊销" in client.get(revoked.headers["Location"]).get_data(as_text=True)
    assert officer.get("/").headers["Location"].startswith("/login")  # signed out at once
    with session_scope(app_settings, write=False) as session:
        assert session.scalars(select(HumanTask).where(HumanTask.task_id == task_id)).one().assignee is None
    Auth(officer).login("officer9", "own-secret-9")
    assert officer.get("/cases/new").status_code == 403


def test_a_bad_new_user_is_refused_with_messages_and_nothing_is_added(client, auth, app_settings):
    auth.login("admin")
    response = post(client, "/admin/users", {**NEW_OFFICER, "username": "officer1", "password": "short",
                                             "credential_number": ""})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "登录名officer1已被使用" in page and "密码至少需要8个字符" in page
    with session_scope(app_settings, write=False) as session:
        taken = get_user(session, "officer1").credentials[0].number
    response = post(client, "/admin/users", {**NEW_OFFICER, "credential_number": taken})
    assert f"证件编号{taken}已存在" in client.get(response.headers["Location"]).get_data(as_text=True)
    with session_scope(app_settings, write=False) as session:
        assert session.scalar(select(User).where(User.username == "officer9")) is None  # nothing half-made


def test_deactivating_sends_claims_back_and_ends_the_sessions(app, client, auth, app_settings):
    case = start_case(app_settings)
    officer = app.test_client()
    Auth(officer).login("officer1")
    post(officer, f"/tasks/{case.task_id}/claim")
    auth.login("admin")
    response = post(client, "/admin/users/officer1/deactivate", {"reason": "调离本局"})
    assert "其认领的1项任务已放回待认领" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert officer.get("/").headers["Location"].startswith("/login")
    refused = Auth(officer).login("officer1")
    assert refused.status_code == 422 and "用户名或密码错误" in refused.get_data(as_text=True)


def test_a_password_reset_forces_a_new_password_and_ends_sessions(app, client, auth):
    officer = app.test_client()
    Auth(officer).login("officer2")
    auth.login("admin")
    refused = post(client, "/admin/users/officer2/password", {"password": "abc"})
    assert "密码至少需要8个字符" in client.get(refused.headers["Location"]).get_data(as_text=True)
    post(client, "/admin/users/officer2/password", {"password": "reset-pass-1"})
    assert officer.get("/").headers["Location"].startswith("/login")
    Auth(officer).login("officer2", "reset-pass-1")
    page = officer.get("/me").get_data(as_text=True)
    assert "管理员已为您重置密码" in page


@pytest.mark.parametrize("copied", ["session", "remember_token"])
def test_a_copied_cookie_is_dead_after_sign_out(app, client, auth, copied):
    auth.login("officer1", remember=True)
    stolen = app.test_client()
    cookie = next(c for c in client._cookies.values() if c.key == copied)
    stolen.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    assert stolen.get("/").status_code == 200
    auth.logout()
    assert stolen.get("/").headers["Location"].startswith("/login")


def test_a_deadline_change_needs_its_basis_and_is_kept_in_history(client, auth, app_settings):
    auth.login("admin")
    with session_scope(app_settings, write=False) as session:
        before = session.get(DeadlineSetting, "payment").amount
    refused = post(client, "/admin/settings/deadlines/payment", {"amount": "-3", "unit": "days", "basis": "", "note": ""})
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "请填写法律依据" in page and "请说明修改原因" in page
    response = post(client, "/admin/settings/deadlines/payment",
                    {"amount": "20", "unit": "days", "basis": "行政处罚法第67条", "note": "按新规定调整"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "期限已修改" in page and "按新规定调整" in page and "admin" in page
    with session_scope(app_settings, write=False) as session:
        change = session.scalars(select(SettingChange)).one()
        assert change.old.startswith(f"{before} days") and change.new == "20 days · 行政处罚法第67条"
        assert session.get(DeadlineSetting, "payment").amount == 20


def test_holidays_are_imported_and_a_bad_file_changes_nothing(client, auth, app_settings):
    auth.login("admin")
    good = "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-07,workday,春节调休\n"
    response = post(client, "/admin/holidays/import",
                    {"file": (io.BytesIO(good.encode()), "2027.csv"), "year": "2027"},
                    content_type="multipart/form-data")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已导入2天" in page and "元旦" in page
    bad = "date,kind,name\n2027-03-01,holiday,x\n2027-13-45,holiday,坏日期\n"
    response = post(client, "/admin/holidays/import", {"file": (io.BytesIO(bad.encode()), "bad.csv")},
                    content_type="multipart/form-data")
    assert "2027-13-45" in client.get(response.headers["Location"]).get_data(as_text=True)
    with session_scope(app_settings, write=False) as session:
        days = {row.day: row.is_working for row in session.scalars(select(HolidayOverride))}
    assert days == {date(2027, 1, 1): False, date(2027, 2, 7): True}


def test_the_audit_log_filters_exports_and_verifies(client, auth, app_settings, case):
    auth.login("admin")
    page = client.get("/admin/audit?chain=case").get_data(as_text=True)
    assert "立案启动" in page and "登录" not in page.split("<tbody>")[1]
    exported = json.loads(client.get("/admin/audit.json?actor=admin").get_data(as_text=True))
    assert exported and {e["actor"] for e in exported} == {"admin"}
    assert "全部审计链首尾相接" in post(client, "/admin/audit/verify").get_data(as_text=True)
    with session_scope(app_settings) as session:
        session.execute(update(AuditEvent).where(AuditEvent.action == "case.start").values(actor="someone-else"))
    page = post(client, "/admin/audit/verify").get_data(as_text=True)
    assert "发现1处问题" in page


def test_only_administrators_reach_the_pages_and_their_posts(client, auth):
    auth.login("manager")
    assert client.get("/admin/").status_code == 403
    assert post(client, "/admin/users/officer1/deactivate", {"reason": "x"}).status_code == 403
