"""事后公开 in a real browser, on the demo bureau, as an anonymous visitor on a phone: finds a decision by
the party's name, opens it, subscribes to the feeds (which validate as Atom and as JSON Feed 1.1),
and follows the withdrawal in the feed to a decision that shows as withdrawn, without its content."""
from __future__ import annotations

import json

import feedparser
import pytest
from lxml import etree
from playwright.sync_api import expect

from .conftest import LAPTOP, PHONE, snap

pytestmark = pytest.mark.e2e

ATOM = "{http://www.w3.org/2005/Atom}"


def photo(page, name: str) -> None:
    """Both widths, then back to the phone the visitor holds."""
    page.set_viewport_size(LAPTOP)
    snap(page, name)
    page.set_viewport_size(PHONE)


def test_a_visitor_on_a_phone_finds_a_decision_subscribes_and_sees_a_withdrawal(open_demo_page):
    visitor = open_demo_page()
    visitor.set_viewport_size(PHONE)
    visitor.goto("/gongshi/")
    visitor.get_by_role("navigation", name="公示导航").get_by_role("link", name="执法决定").click()
    expect(visitor.get_by_role("heading", name="执法决定公开", exact=True)).to_be_visible()
    photo(visitor, "70-portal-decisions")

    visitor.get_by_label("当事人名称或统一社会信用代码").fill("雪莲文化")
    visitor.get_by_role("button", name="查找").click()
    expect(visitor.get_by_role("heading", name="查找结果")).to_be_visible()
    results = visitor.locator(".decision-card")
    expect(results).to_have_count(1)
    expect(results).to_contain_text("51650100MJ000000DM")  # an organisation is shown with its credit code
    expect(results).to_contain_text("已更正")
    photo(visitor, "71-portal-decisions-search")

    results.get_by_role("link", name="新市区雪莲文化艺术交流协会").click()
    expect(visitor.get_by_role("heading", name="行政处罚决定")).to_be_visible()
    expect(visitor.get_by_role("note")).to_contain_text("以下为更正后的内容")
    record = visitor.locator(".decision-record")
    for shown in ("超出章程规定的业务范围", "《社会团体登记管理条例》第三十条", "给予警告。", "新民罚决〔2026〕"):
        expect(record).to_contain_text(shown)
    expect(visitor.get_by_role("heading", name="更正记录")).to_be_visible()
    photo(visitor, "72-portal-decision")

    # a natural person is found as surname + 某, never by name, ID number, phone or address
    visitor.goto("/gongshi/decisions?party=刘某")
    person = visitor.locator(".decision-card")
    expect(person).to_have_count(1)
    expect(person).to_contain_text("刘某")
    body = visitor.locator("body").inner_text()
    for secret in ("刘建国", "650102198503150015", "13899887766", "红山路88号"):
        assert secret not in body

    # subscribing: the list links both feeds; each validates
    visitor.goto("/gongshi/decisions")
    atom_href = visitor.get_by_role("link", name="Atom 订阅").get_attribute("href")
    json_href = visitor.get_by_role("link", name="JSON Feed 订阅").get_attribute("href")
    atom = visitor.request.get(atom_href)
    assert atom.ok and atom.headers["content-type"].startswith("application/atom+xml") and atom.headers.get("etag")
    parsed = feedparser.parse(atom.body())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10" and parsed.feed.title == "新市区民政局执法决定公开"
    root = etree.fromstring(atom.body())
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{required}") is not None, required
    entries = root.findall(f"{ATOM}entry")
    assert entries and all(e.find(f"{ATOM}{tag}") is not None for e in entries for tag in ("id", "title", "updated"))
    assert len({e.findtext(f"{ATOM}id") for e in entries}) == len(entries)
    again = visitor.request.get(atom_href, headers={"If-None-Match": atom.headers["etag"]})
    assert again.status == 304

    feed = visitor.request.get(json_href)
    assert feed.ok and feed.headers["content-type"].startswith("application/feed+json")
    document = json.loads(feed.body())
    assert document["version"] == "https://jsonfeed.org/version/1.1" and document["title"]
    assert isinstance(document["items"], list) and document["items"]
    for item in document["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert isinstance(item.get("content_html") or item.get("content_text"), str)
    assert [i["title"] for i in document["items"]] == [e.title for e in parsed.entries]

    # the withdrawal in the feed leads to a page that says so, and when, without the content
    [withdrawn] = [i for i in document["items"] if i["_gongshi"]["kind"] == "withdrawn"]
    assert "晨光" not in json.dumps(withdrawn, ensure_ascii=False)
    assert all("晨光" not in json.dumps(i, ensure_ascii=False) for i in document["items"])
    visitor.goto(withdrawn["url"])
    expect(visitor.get_by_role("heading", name="该执法决定信息已撤回")).to_be_visible()
    expect(visitor.get_by_role("note")).to_contain_text("撤回")
    expect(visitor.locator(".decision-record")).to_contain_text("原决定经行政复议被撤销")
    assert "晨光" not in visitor.locator("body").inner_text()
    assert "未与入住老人签订服务协议" not in visitor.locator("body").inner_text()
    photo(visitor, "73-portal-decision-withdrawn")
