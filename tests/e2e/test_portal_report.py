"""The annual statistics report in a real browser, on the demo bureau: an anonymous visitor on a phone
opens the demo year's published report, reads its charts and tables, and takes the PDF and CSV; the
office sees the same year's live figures on the staff page."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from workflows.engine.runtime import today

from .conftest import LAPTOP, PHONE, sign_in, snap

pytestmark = pytest.mark.e2e


def test_a_visitor_on_a_phone_opens_the_annual_report(open_demo_page):
    year = today().year  # the demo's cases and its published report are of the year it was loaded in
    visitor = open_demo_page()
    visitor.set_viewport_size(PHONE)
    visitor.goto("/gongshi/")
    visitor.get_by_role("navigation", name="公示导航").get_by_role("link", name="年度报告").click()
    expect(visitor.get_by_role("heading", name="行政执法统计年度报告")).to_be_visible()
    visitor.get_by_role("link", name=f"{year}年度行政执法统计报告").click()

    expect(visitor.get_by_role("heading", name=f"{year}年度行政执法统计报告", level=1)).to_be_visible()
    expect(visitor.get_by_text("本报告经法制审核人员审核、机关负责人审批")).to_be_visible()
    expect(visitor.get_by_role("heading", name="报告说明")).to_be_visible()
    penalties = visitor.locator('canvas[data-chart="penalties"]')
    expect(penalties).to_be_visible()
    assert penalties.bounding_box()["width"] <= PHONE["width"]  # the chart fits the phone
    table = visitor.locator('table[data-report-table="penalties"]')
    expect(table.get_by_role("row", name="合计")).to_contain_text("8,000.00")  # the demo's confiscation
    expect(visitor.locator('table[data-report-table="remedies"]')).to_contain_text("未记录")
    expect(visitor.locator('table[data-report-table="inspections"]')).to_contain_text("不适用")
    assert visitor.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing runs off the side
    visitor.set_viewport_size(LAPTOP)
    snap(visitor, "60-portal-report")  # at laptop width, then at the phone's again

    pdf = visitor.request.get(visitor.get_by_role("link", name="下载 PDF").get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    csv = visitor.request.get(visitor.get_by_role("link", name="下载数据（CSV）").get_attribute("href"))
    assert csv.ok and "行政处罚种类与罚没金额" in csv.text()

    visitor.get_by_role("link", name="English").click()
    expect(visitor.get_by_role("heading", name=f"Annual law enforcement statistics report {year}")).to_be_visible()
    expect(visitor.locator('table[data-report-table="remedies"]')).to_contain_text("Not recorded")
    snap(visitor, "61-portal-report-english")


def test_the_office_reads_the_live_figures_and_the_publication(open_demo_page):
    year = today().year
    office = open_demo_page()
    sign_in(office, "office")
    office.goto("/monitor/report")
    expect(office.get_by_role("heading", name=f"{year}年度行政执法统计", level=1)).to_be_visible()
    expect(office.get_by_text("已于")).to_contain_text("公开")
    expect(office.locator('canvas[data-chart="decisions"]')).to_be_visible()
    expect(office.get_by_role("button", name="更正并重新报送审批")).to_be_visible()
    snap(office, "62-monitor-report")
