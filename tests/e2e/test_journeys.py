"""Whole journeys through the staff app in a real browser."""
from __future__ import annotations

import hashlib
import re

import pytest
from playwright.sync_api import expect

from ..webapp.support import tiny_png
from .conftest import sign_in, snap

pytestmark = pytest.mark.e2e


def test_a_case_from_filing_to_evidence(open_page, tmp_path):
    officer = open_page()
    officer.goto("/login")
    expect(officer.get_by_role("heading", name="工作人员登录")).to_be_visible()
    snap(officer, "01-login")
    sign_in(officer, "officer1")
    expect(officer.get_by_role("heading", name="待办事项")).to_be_visible()
    snap(officer, "02-inbox-empty")

    officer.get_by_role("navigation", name="主导航").get_by_role("link", name="立案").click()
    snap(officer, "03-start-case")
    officer.get_by_label("执法事项").select_option("MZ-CF-0011")
    officer.get_by_label("当事人").fill("新市区夕阳红养老院")
    officer.get_by_role("button", name="立案并开始办理").click()
    expect(officer.get_by_role("heading", name="立案登记")).to_be_visible()
    expect(officer.get_by_label("当事人")).to_have_value("新市区夕阳红养老院")
    snap(officer, "04-filing-form")

    officer.get_by_label("违法事实").fill("未与入住老人签订服务协议，共涉及12名老人。")
    officer.get_by_label("违法日期").fill("2026-10-20")
    officer.get_by_role("button", name="保存草稿").click()
    expect(officer.get_by_text("草稿已保存")).to_be_visible()
    expect(officer.get_by_label("违法事实")).to_have_value("未与入住老人签订服务协议，共涉及12名老人。")
    snap(officer, "05-draft-saved")
    officer.get_by_role("button", name="提交").click()
    expect(officer.locator("#second_officer-error")).to_have_text("请选择协办执法人员")
    snap(officer, "05-filing-missing-field")

    officer.get_by_label("协办执法人员").select_option("officer2")
    officer.get_by_role("button", name="提交").click()
    expect(officer.get_by_role("heading", name="“立案登记”已办理完成")).to_be_visible()
    expect(officer.get_by_text("立案审批")).to_be_visible()
    case_no = officer.locator("a.case-link").inner_text()
    snap(officer, "06-filing-done")

    head = open_page()
    sign_in(head, "head")
    head.get_by_role("link", name=re.compile("待认领")).first.click()
    row = head.get_by_role("row").filter(has_text=case_no)
    expect(row).to_contain_text("立案审批")
    snap(head, "07-head-pool")
    row.get_by_role("button", name="认领").click()
    expect(head.get_by_role("heading", name="立案审批")).to_be_visible()
    snap(head, "08-approval-form")
    head.get_by_label("同意立案").check()
    head.get_by_label("审批意见").fill("同意立案，请依法调查取证。")
    head.get_by_role("button", name="提交").click()
    expect(head.get_by_text("调查取证")).to_be_visible()
    snap(head, "09-approval-done")

    officer.goto("/")
    row = officer.get_by_role("row").filter(has_text=case_no)
    expect(row).to_contain_text("调查取证")
    snap(officer, "10-inbox-with-task")
    row.get_by_role("link", name="办理").click()
    photo = tmp_path / "现场照片.png"
    photo.write_bytes(tiny_png(7))
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    officer.get_by_label("现场照片").set_input_files(photo)
    expect(officer.locator("#group-photos .evidence-list")).to_contain_text(digest)
    snap(officer, "11-evidence-uploaded")
    officer.get_by_role("button", name="提交").click()
    expect(officer.get_by_text("流程已全部完成，案件已办结。")).to_be_visible()

    officer.get_by_role("link", name="查看案件").click()
    expect(officer.get_by_role("heading", name=case_no)).to_be_visible()
    expect(officer.locator("#evidence-title + ul")).to_contain_text(digest)
    expect(officer.get_by_text("同意立案，请依法调查取证。")).to_be_visible()
    snap(officer, "12-case-file")


def test_an_officer_with_an_expired_credential_is_refused(open_page):
    page = open_page()
    sign_in(page, "officer3")
    page.goto("/cases/new")
    expect(page.get_by_role("heading", name="您不能立案")).to_be_visible()
    expect(page.get_by_text("没有当日有效的行政执法证件")).to_be_visible()
    expect(page.get_by_role("button", name="立案并开始办理")).to_have_count(0)
    snap(page, "13-expired-credential")
    page.goto("/cases/999")
    expect(page.get_by_role("heading", name="页面不存在")).to_be_visible()
    snap(page, "13-not-found")


def test_switching_to_english_translates_the_inbox(open_page):
    page = open_page()
    sign_in(page, "officer2")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    page.get_by_role("link", name="New case").first.click()
    page.get_by_label("Enforcement matter").select_option("MZ-CF-0031")
    page.get_by_label("Party").fill("某街道办事处")
    page.get_by_role("button", name="File and start").click()
    expect(page.get_by_role("heading", name="File the case")).to_be_visible()
    snap(page, "14-task-english")
    page.goto("/")
    expect(page.get_by_role("row").filter(has_text="某街道办事处")).to_contain_text("File the case")
    expect(page.get_by_role("link", name=re.compile("My tasks"))).to_be_visible()
    snap(page, "15-inbox-english")
    page.get_by_role("row").filter(has_text="某街道办事处").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Full-process record")).to_be_visible()
    snap(page, "16-case-english")
