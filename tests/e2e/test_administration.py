"""The administrator's journey in a real browser, on the demo bureau: a new officer is added with a
credential, sets a password and files a case; the credential is revoked and the officer is out at
once; a statutory deadline changes with its basis; next year's holidays are imported; the audit
chains verify."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import sign_in, snap

pytestmark = pytest.mark.e2e

HOLIDAYS_2027 = ("date,kind,name\n2027-01-01,holiday,元旦\n2027-02-06,holiday,春节\n2027-02-07,holiday,春节\n"
                 "2027-02-08,holiday,春节\n2027-02-14,workday,春节调休\n")


def test_an_administrator_brings_in_an_officer_and_later_stops_them(open_demo_page, tmp_path):
    admin = open_demo_page()
    sign_in(admin, "admin")
    admin.get_by_role("navigation", name="主导航").get_by_role("link", name="系统管理").click()
    expect(admin.get_by_role("heading", name="系统管理", exact=True)).to_be_visible()
    snap(admin, "30-admin-overview")

    admin.get_by_role("link", name="添加人员并发放执法证").click()
    form = admin.locator("#new-user")
    form.get_by_label("登录名").fill("officer9")
    form.get_by_label("姓名").fill("钱多")
    form.get_by_label("科室", exact=True).select_option(label="养老服务科")
    form.get_by_label("初始密码（首次登录须修改）").fill("first-pass-1")
    form.get_by_label("执法人员", exact=True).check()
    form.get_by_label("证件编号").fill("15010099999")
    form.get_by_label("有效期自").fill("2026-01-01")
    form.get_by_label("有效期至").fill("2028-12-31")
    form.get_by_role("button", name="添加", exact=True).click()
    expect(admin.get_by_text("已添加钱多。首次登录时须修改密码。")).to_be_visible()
    expect(admin.locator(".credential", has_text="15010099999")).to_contain_text("有效")
    snap(admin, "31-admin-new-officer")

    officer = open_demo_page()
    officer.goto("/login")
    officer.get_by_label("用户名").fill("officer9")
    officer.get_by_label("密码").fill("first-pass-1")
    officer.get_by_role("button", name="登录").click()
    expect(officer.get_by_text("管理员已为您重置密码")).to_be_visible()  # the password comes first
    officer.get_by_label("当前密码").fill("first-pass-1")
    officer.get_by_label("新密码", exact=True).fill("own-secret-9")
    officer.get_by_label("再次输入新密码").fill("own-secret-9")
    officer.get_by_role("button", name="修改密码").click()
    expect(officer.get_by_text("密码已修改。")).to_be_visible()
    snap(officer, "32-me-password-changed")
    officer.goto("/cases/new")
    officer.get_by_label("执法事项").select_option("MZ-CF-0011")
    officer.get_by_label("当事人").fill("新市区晨光颐养院")
    officer.get_by_role("button", name="立案并开始办理").click()
    expect(officer.get_by_role("heading", name="立案登记", level=1)).to_be_visible()
    task_url = officer.url

    credential = admin.locator(".credential", has_text="15010099999")
    credential.locator("summary").click()
    credential.get_by_label("理由").fill("违规执法，依法吊销。")
    credential.get_by_role("button", name="吊销").click()
    expect(admin.get_by_text("执法证已吊销，持证人的执法任务已放回待认领。")).to_be_visible()
    expect(admin.locator(".credential", has_text="15010099999")).to_contain_text("已吊销")
    officer.reload()
    expect(officer.get_by_role("button", name="登录")).to_be_visible()  # signed out at once
    officer.get_by_label("用户名").fill("officer9")
    officer.get_by_label("密码").fill("own-secret-9")
    officer.get_by_role("button", name="登录").click()
    officer.goto(task_url)
    expect(officer.get_by_text("没有当日有效的行政执法证件")).to_be_visible()  # refused at the next task
    snap(officer, "33-officer-refused")


def test_an_administrator_changes_a_deadline_imports_holidays_and_verifies(open_demo_page, tmp_path):
    admin = open_demo_page()
    sign_in(admin, "admin")
    admin.goto("/admin/settings")
    row = admin.locator("tr", has=admin.locator("code", has_text="payment"))
    row.get_by_label("数值").fill("20")
    row.get_by_label("修改原因").fill("")
    row.get_by_role("button", name="修改").click()
    expect(admin.get_by_text("请说明修改原因")).to_be_visible()
    row = admin.locator("tr", has=admin.locator("code", has_text="payment"))
    row.get_by_label("数值").fill("20")
    row.get_by_label("修改原因").fill("按本省新规定调整。")
    row.get_by_role("button", name="修改").click()
    expect(admin.get_by_text("期限已修改，自现在起的计算使用新值。")).to_be_visible()
    expect(admin.locator("#history")).to_contain_text("按本省新规定调整。")
    snap(admin, "34-admin-settings-history")

    admin.goto("/admin/")
    admin.get_by_role("link", name="导入2027年安排").click()
    expect(admin.get_by_text("未覆盖：按周一至周五推算")).to_be_visible()
    csv = tmp_path / "2027.csv"
    csv.write_text(HOLIDAYS_2027, encoding="utf-8")
    admin.get_by_label("CSV文件").set_input_files(csv)
    admin.get_by_role("button", name="导入").click()
    expect(admin.get_by_text("已导入5天。")).to_be_visible()
    expect(admin.get_by_text("2027年的节假日安排尚未导入")).to_have_count(0)
    expect(admin.locator(".cal-day.override").first).to_be_visible()
    snap(admin, "35-admin-holidays")

    admin.goto("/admin/audit")
    admin.get_by_role("button", name="立即校验").click()
    expect(admin.get_by_text("全部审计链首尾相接、未被改动")).to_be_visible()
    snap(admin, "36-admin-verify")
