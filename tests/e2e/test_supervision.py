"""The supervisors' journey in a real browser, on the demo bureau: a manager finds the overdue case
and where it stands; an administrator revives a failed case and suspends and resumes another."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import sign_in, snap

pytestmark = pytest.mark.e2e


def test_a_manager_finds_the_overdue_case_on_its_diagram(open_demo_page):
    manager = open_demo_page()
    sign_in(manager, "manager")
    manager.get_by_role("navigation", name="主导航").get_by_role("link", name="执法监督").click()
    expect(manager.get_by_role("heading", name="执法监督", exact=True)).to_be_visible()
    expect(manager.locator('[data-tile="red"]')).to_have_text("1")
    expect(manager.locator('canvas[data-chart="open_by_unit"]')).to_be_visible()
    snap(manager, "20-monitor-dashboard")

    manager.get_by_role("link", name="红牌案件").click()
    expect(manager.get_by_role("checkbox", name="只看红牌（逾期）")).to_be_checked()
    row = manager.locator("tbody tr", has_text="新市区福寿养老院")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("超期")
    snap(manager, "21-monitor-overdue")

    row.get_by_role("link", name="新民罚〔2026〕0007号").click()
    diagram = manager.locator(".case-diagram")
    # the case's own diagram is its chain of stages: the overdue task is in the stage of notice and hearing
    expect(diagram.locator('.djs-element.current[data-element-id="notice"]')).to_be_visible()
    expect(diagram.locator(".djs-element.overdue")).to_have_count(1)
    expect(diagram.locator('.djs-element.overdue[data-element-id="notice"]')).to_be_visible()
    expect(diagram.locator(".djs-element.done").first).to_be_visible()
    expect(manager.get_by_text("该案已超过九十日办案期限")).to_be_visible()
    snap(manager, "22-case-diagram")
    diagram.get_by_role("link", name="告知与听证 · 打开子流程").click()
    stage = manager.locator(".case-diagram")
    expect(stage.locator('.djs-element.current[data-element-id="record_statement"]')).to_be_visible()
    expect(stage.locator(".djs-element.overdue")).to_have_count(1)
    expect(stage.locator('.djs-element.overdue[data-element-id="record_statement"]')).to_be_visible()
    expect(stage.locator(".djs-element.done").first).to_be_visible()
    expect(manager.get_by_role("link", name="返回主流程")).to_be_visible()
    snap(manager, "22-case-diagram-stage")

    manager.get_by_role("navigation", name="主导航").get_by_role("link", name="执法监督").click()
    manager.get_by_role("link", name="流程", exact=True).click()
    manager.get_by_role("link", name="行政处罚案件").first.click()
    expect(manager.locator(".process-diagram .diagram-badge-waiting").first).to_be_visible()
    expect(manager.get_by_role("link", name="告知与听证: 在办 2")).to_be_visible()  # the two cases in the stage
    snap(manager, "23-process-view")
    manager.get_by_role("link", name="告知与听证", exact=True).click()
    expect(manager.get_by_role("heading", name="告知与听证")).to_be_visible()
    expect(manager.get_by_role("link", name="陈述申辩: 在办 2")).to_be_visible()
    snap(manager, "23-process-view-stage")


def test_an_administrator_retries_a_failed_case_and_suspends_another(open_demo_page):
    admin = open_demo_page()
    sign_in(admin, "admin")
    admin.goto("/monitor/errors")
    expect(admin.get_by_text("open_case")).to_be_visible()
    snap(admin, "24-monitor-errors")
    admin.get_by_role("link", name="新民罚〔2026〕0010号").click()
    expect(admin.get_by_text("流程在环节 open_case 出错")).to_be_visible()
    admin.get_by_role("button", name="重试出错的环节").click()
    expect(admin.get_by_text("已重新执行出错的环节，案件继续办理。")).to_be_visible()
    expect(admin.locator(".badge.status-running")).to_be_visible()
    snap(admin, "25-case-retried")

    admin.goto("/monitor/cases?q=青年创业")
    admin.get_by_role("link", name="新民罚〔2026〕0001号").click()
    admin.get_by_label("中止案件").select_option("force_majeure")
    admin.get_by_label("中止理由").fill("暴雪封路，无法前往现场。")
    admin.get_by_role("button", name="中止", exact=True).click()
    expect(admin.get_by_text("案件已中止，办案期限和待办任务暂停。")).to_be_visible()
    admin.get_by_label("恢复办理").fill("道路恢复通行。")
    admin.get_by_role("button", name="恢复", exact=True).click()
    expect(admin.get_by_text("案件已恢复办理。")).to_be_visible()
    snap(admin, "26-case-resumed")
