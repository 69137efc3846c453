"""The public portal in a real browser, on the demo bureau: an anonymous visitor on a phone opens the
portal, finds a matter of the catalogue, reads the procedure, and checks officers' credentials by their
URL; an administrator prints a credential's QR card."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import LAPTOP, PHONE, sign_in, snap

pytestmark = pytest.mark.e2e


def shot(page, name: str) -> None:
    """Photograph at laptop and phone width, then carry on as the visitor: on a phone."""
    page.set_viewport_size(LAPTOP)
    snap(page, name)
    page.set_viewport_size(PHONE)


def test_a_visitor_on_a_phone_finds_a_matter_and_checks_a_credential(open_demo_page):
    visitor = open_demo_page()
    visitor.set_viewport_size(PHONE)
    visitor.goto("/gongshi/")
    expect(visitor.get_by_role("heading", name="行政执法公示", level=1)).to_be_visible()
    expect(visitor.get_by_role("heading", name="执法主体")).to_be_visible()
    expect(visitor.get_by_text("新市区北京南路100号")).to_be_visible()
    shot(visitor, "50-portal-home")

    nav = visitor.get_by_role("navigation", name="公示导航")
    nav.get_by_role("link", name="执法事项").click()
    expect(visitor.get_by_role("heading", name="执法事项目录", level=1)).to_be_visible()
    expect(visitor.get_by_text("经办公室审核同意")).to_be_visible()
    visitor.get_by_role("searchbox", name="事项名称、编码或依据").fill("养老")
    visitor.get_by_role("button", name="查找").click()
    results = visitor.locator("#in-force-title + .matter-list > li")
    expect(results).to_have_count(2)
    shot(visitor, "51-portal-matters-search")

    visitor.get_by_role("link", name="养老机构未与老年人或其代理人签订服务协议").click()
    expect(visitor.get_by_role("heading", name="养老机构未与老年人或其代理人签订服务协议")).to_be_visible()
    expect(visitor.get_by_text("裁量基准")).to_be_visible()
    expect(visitor.get_by_text("5人以上或者拒不改正的")).to_be_visible()
    expect(visitor.get_by_role("heading", name="服务指南")).to_be_visible()
    shot(visitor, "52-portal-matter")

    visitor.get_by_role("navigation", name="公示导航").get_by_role("link", name="执法流程").click()
    diagram = visitor.locator(".bpmn-diagram")
    expect(diagram.locator('.djs-element[data-element-id="filing"]')).to_be_visible()
    outline = visitor.locator(".procedure-outline").first
    expect(outline.get_by_role("link", name="立案", exact=True)).to_be_visible()
    expect(outline.get_by_text("立案登记")).to_be_visible()
    shot(visitor, "53-portal-procedure")

    visitor.get_by_role("navigation", name="公示导航").get_by_role("link", name="执法人员").click()
    row = visitor.locator("tbody tr", has_text="张明")
    number = row.get_by_role("link").inner_text().strip()
    expect(visitor.locator("tbody tr", has_text="赵强")).to_have_count(0)  # credential expired
    shot(visitor, "54-portal-personnel")

    visitor.goto(f"/gongshi/zheng/{number}")  # as the QR code on 张明's card would open it
    result = visitor.locator(".check-result")
    expect(result).to_contain_text("证件有效")
    expect(result).to_contain_text("张明")
    expect(result).to_contain_text("社会组织管理科")
    expect(result).to_contain_text("新市区")
    shot(visitor, "55-portal-credential-valid")

    expired = f"{int(number) + 2}"  # officer3, 赵强, issued after officer1 and officer2
    visitor.goto(f"/gongshi/zheng/{expired}")
    expect(visitor.locator(".check-result")).to_contain_text("证件已过期")
    expect(visitor.locator(".check-result")).to_contain_text("赵强")
    shot(visitor, "56-portal-credential-expired")

    visitor.get_by_label("执法证件编号").fill("NO-SUCH-1")
    visitor.get_by_role("button", name="查验").click()
    expect(visitor.get_by_text("未查到该证件")).to_be_visible()

    visitor.get_by_role("link", name="English").click()
    expect(visitor.get_by_role("heading", name="Credential check", level=1)).to_be_visible()
    visitor.goto(f"/gongshi/zheng/{number}")
    expect(visitor.locator(".check-result")).to_contain_text("Credential")
    shot(visitor, "57-portal-credential-english")


def test_the_administrator_prints_a_credentials_qr_card(open_demo_page):
    admin = open_demo_page()
    sign_in(admin, "admin")
    admin.goto("/admin/users/officer1")
    credential = admin.locator(".credential").first
    expect(credential.locator(".credential-public img")).to_be_visible()
    card_link = credential.get_by_role("link", name="打印二维码卡片")
    href = card_link.get_attribute("href")
    assert re.fullmatch(r"/gongshi/zheng/\d+/card", href)
    card_link.click()
    expect(admin.locator(".qr-card img.qr")).to_be_visible()
    assert admin.locator(".qr-card img.qr").evaluate("img => img.naturalWidth") > 0
    expect(admin.locator(".qr-card")).to_contain_text("张明")
    snap(admin, "58-credential-qr-card")
