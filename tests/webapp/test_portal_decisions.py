"""事后公开 on the portal: decisions listed, searched and shown on permalinks, redacted; withdrawn ones say
so without content, expired and taken-down ones are gone; Atom and JSON Feed 1.1 with conditional GETs;
the sitemap; the staff register with the request to withdraw or correct and the take-down on credit
repair; and the privacy of every public page and feed over the whole demo bureau."""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import feedparser
import pytest
from lxml import etree
from sqlalchemy import select

from tests.conftest import NOON
from webapp import create_app
from workflows import demo
from workflows.bootstrap import init_database
from workflows.core import clock
from workflows.core.db import get_engine, session_scope
from workflows.core.models import Disclosure, Instance
from workflows.core.settings import load_settings
from workflows.core.workdays import TZ
from workflows.design import deployment
from workflows.domain import disclosure
from workflows.engine.runtime import current_data, load_workflow

from .conftest import Auth, post, start_case
from .support import TEMPLATE_CACHE, app_config, compile_translations, copy_database

MODELS = Path(__file__).resolve().parents[2] / "bpmn"
PERSON = {"party_type": "natural_person", "party_name": "李小明", "party_id_number": "110105199003071239",
          "party_phone": "13912345678", "party_address": "新市区幸福路8号3单元"}
ORGANISATION = {"party_type": "organisation", "party_name": "新市区夕阳红养老服务协会",
                "party_id_number": "51650100MJ0000000D", "party_phone": "0991-4567890",
                "party_address": "新市区北京路100号"}


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def publish(settings, party=ORGANISATION, **data) -> int:
    """A decided web case's record, written as the disclosure hook writes it."""
    case = start_case(settings, party=party["party_name"])
    with session_scope(settings) as session:
        instance = session.get(Instance, case.instance_id)
        values = {**party, "matter_code": "MZ-CF-0001", "decision_kind": "penalty", "penalty_type": "warning",
                  "decision_date": date(2026, 10, 30), "decision_doc_no": f"新民罚决〔2026〕{instance.id}号",
                  "disclosure_facts": f"当事人{party['party_name']}（电话{party['party_phone']}）出借社会团体登记证书。",
                  "disclosure_basis": "《社会团体登记管理条例》第三十条", "disclosure_decision_text": "给予警告。",
                  "publish": True, "agency_name": "新市区民政局", **data}
        return disclosure.write(session, instance, "enforcement_case", values).id


def withdraw(settings, record_id: int) -> None:
    with session_scope(settings) as session:
        record = session.get(Disclosure, record_id)
        disclosure.apply_change(session, session.get(Instance, record.instance_id), {
            "target_disclosure_id": record_id, "change_kind": "withdraw", "change_ground": "review_revoked",
            "change_reason": "原处罚决定经行政复议撤销。", "last_actor": "director"})


def at(frozen_clock, day: date, hour: int = 9) -> None:
    frozen_clock.set(datetime(day.year, day.month, day.day, hour, tzinfo=TZ))


# --- the list, the search, the permalinks -----------------------------------------------------

def test_published_decisions_are_listed_searched_and_shown_redacted(client, app_settings):
    person = publish(app_settings, PERSON)
    organisation = publish(app_settings, decision_date=date(2026, 10, 20), penalty_type="fine", fine_amount="3000")
    listing = client.get("/gongshi/decisions")
    assert listing.status_code == 200
    text = text_of(listing)
    assert "李某" in text and "新市区夕阳红养老服务协会" in text and "51650100MJ0000000D" in text
    assert text.index("李某") < text.index("夕阳红")  # newest decision first
    for secret in ("李小明", "110105199003071239", "13912345678", "幸福路", "0991-4567890", "北京路100号"):
        assert secret not in listing.get_data(as_text=True)

    found = text_of(client.get("/gongshi/decisions?party=夕阳红"))
    assert "夕阳红" in found and "李某" not in found
    assert "李某" in text_of(client.get("/gongshi/decisions?party=李某"))
    assert "没有找到" in text_of(client.get("/gongshi/decisions?party=李小明"))
    assert "至少输入两个字" in text_of(client.get("/gongshi/decisions?party=李"))
    assert "夕阳红" in text_of(client.get("/gongshi/decisions?party=51650100mj0000000d"))
    by_type = text_of(client.get("/gongshi/decisions?type=fine"))
    assert "夕阳红" in by_type and "李某" not in by_type
    assert "李某" not in text_of(client.get("/gongshi/decisions?until=2026-10-25"))
    assert "夕阳红" in text_of(client.get("/gongshi/decisions?matter=MZ-CF-0001&since=2026-10-01&until=bad"))

    page = client.get(f"/gongshi/decisions/{organisation}")
    assert page.status_code == 200
    shown = text_of(page)
    for part in ("执法主体 新市区民政局", "出借社会团体登记证书", "《社会团体登记管理条例》第三十条", "3000.00元",
                 "新民罚决〔2026〕", "决定日期 2026年10月20日", "公开日期 2026年11月2日", "公示期至 2027年10月20日"):
        assert part in shown, part
    assert "电话＊＊" in shown and "0991-4567890" not in shown
    assert f'href="/gongshi/decisions/{person}"' in listing.get_data(as_text=True)
    assert client.get("/gongshi/decisions/999").status_code == 404


def test_pages_follow_one_another_and_report_whether_more_follow(client, app_settings):
    for i in range(21):
        publish(app_settings, decision_date=date(2026, 10, 1) + timedelta(days=i))
    first = client.get("/gongshi/decisions").get_data(as_text=True)
    assert first.count('class="decision-card"') == 20 and 'rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/gongshi/decisions?page=2").get_data(as_text=True)
    assert second.count('class="decision-card"') == 1 and 'rel="prev"' in second and 'rel="next"' not in second
    assert client.get("/gongshi/decisions?page=99999999999").status_code == 200


def test_a_withdrawn_decision_says_so_and_when_without_its_content(client, app_settings):
    record = publish(app_settings, PERSON)
    withdraw(app_settings, record)
    page = client.get(f"/gongshi/decisions/{record}")
    assert page.status_code == 200
    text = text_of(page)
    assert "该执法决定信息已撤回" in text and "撤回日期 2026年11月2日" in text and "原决定经行政复议被撤销" in text
    for gone in ("李某", "出借社会团体登记证书", "给予警告", "新民罚决"):
        assert gone not in text
    assert 'name="robots" content="noindex"' in page.get_data(as_text=True)
    assert "李某" not in text_of(client.get("/gongshi/decisions"))
    assert "没有找到" in text_of(client.get("/gongshi/decisions?party=李某"))


def test_records_past_their_retention_or_taken_down_are_gone(client, app_settings, frozen_clock):
    record = publish(app_settings)  # a warning to an organisation: public until 30 January 2027
    at(frozen_clock, date(2027, 1, 30))
    assert client.get(f"/gongshi/decisions/{record}").status_code == 200
    at(frozen_clock, date(2027, 1, 31))
    gone = client.get(f"/gongshi/decisions/{record}")
    assert gone.status_code == 410 and "公示期已满，已于2027年1月31日起停止公示" in text_of(gone)
    assert "夕阳红" not in text_of(gone) and "夕阳红" not in text_of(client.get("/gongshi/decisions"))


def test_a_withheld_decision_does_not_exist_publicly(client, app_settings):
    record = publish(app_settings, publish=False, not_published_reason="minors")
    assert client.get(f"/gongshi/decisions/{record}").status_code == 404


# --- caching ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/gongshi/decisions", "/gongshi/decisions?party=夕阳红", "/gongshi/decisions/{id}",
                                  "/gongshi/feed.atom", "/gongshi/feed.json"])
def test_pages_and_feeds_answer_conditional_gets_and_change_with_a_publication(client, app_settings, frozen_clock,
                                                                              path):
    url = path.format(id=publish(app_settings))
    page = client.get(url)
    assert page.status_code == 200 and "public" in page.headers["Cache-Control"] and "Cookie" in page.headers["Vary"]
    assert page.headers["ETag"] and page.headers["Last-Modified"]
    assert "Set-Cookie" not in page.headers
    assert client.get(url, headers={"If-None-Match": page.headers["ETag"]}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": page.headers["Last-Modified"]}).status_code == 304
    frozen_clock.advance(minutes=5)
    publish(app_settings, PERSON)
    if "decisions/" not in url:  # a record's own page changes only with the record
        again = client.get(url, headers={"If-None-Match": page.headers["ETag"]})
        assert again.status_code == 200 and again.headers["ETag"] != page.headers["ETag"]
    client.set_cookie("lang", "en")
    assert client.get(url, headers={"If-None-Match": page.headers["ETag"]}).status_code == 200  # per language


def test_the_english_pages(client, app_settings):
    record = publish(app_settings)
    client.set_cookie("lang", "en")
    listing = text_of(client.get("/gongshi/decisions"))
    assert "Published enforcement decisions" in listing and "Warning, circulated criticism" in listing
    assert "Date of decision" in text_of(client.get(f"/gongshi/decisions/{record}"))


# --- feeds and sitemap ------------------------------------------------------------------------

def test_the_atom_feed_and_the_json_feed_carry_publications_corrections_and_withdrawals(client, app_settings):
    kept, corrected, withdrawn = publish(app_settings), publish(app_settings), publish(app_settings, PERSON)
    with session_scope(app_settings) as session:
        record = session.get(Disclosure, corrected)
        disclosure.apply_change(session, session.get(Instance, record.instance_id), {
            "target_disclosure_id": corrected, "change_kind": "correct", "change_ground": "content_error",
            "corrected_decision_text": "给予警告，责令改正。", "change_reason": "决定内容漏写责令改正。"})
    withdraw(app_settings, withdrawn)

    atom = client.get("/gongshi/feed.atom")
    assert atom.mimetype == "application/atom+xml"
    parsed = feedparser.parse(atom.data)
    assert not parsed.bozo and parsed.version == "atom10"
    assert [e.tags[0].term for e in parsed.entries] == ["withdrawn", "corrected", "published", "published"]
    root = etree.fromstring(atom.data)
    ns = "{http://www.w3.org/2005/Atom}"
    assert root.findtext(f"{ns}id") and root.findtext(f"{ns}title") and root.findtext(f"{ns}updated")
    assert root.find(f"{ns}link[@rel='self']").get("href") == "http://localhost/gongshi/feed.atom"
    assert "给予警告，责令改正。" in parsed.entries[1].content[0].value
    assert parsed.entries[1].link == f"http://localhost/gongshi/decisions/{corrected}"

    feed = client.get("/gongshi/feed.json")
    assert feed.mimetype == "application/feed+json"
    document = json.loads(feed.data)
    assert document["version"] == "https://jsonfeed.org/version/1.1" and document["title"] == "新市区民政局执法决定公开"
    assert document["feed_url"] == "http://localhost/gongshi/feed.json"
    items = document["items"]
    assert [i["_gongshi"]["kind"] for i in items] == ["withdrawn", "corrected", "published", "published"]
    assert all(isinstance(i["id"], str) and (i.get("content_html") or i.get("content_text")) for i in items)
    assert {i["id"] for i in items} == {e.id for e in parsed.entries}
    assert items[0]["_gongshi"] == {"kind": "withdrawn", "record": withdrawn, "ground": "review_revoked"}
    assert "李某" not in feed.get_data(as_text=True) and "李某" not in atom.get_data(as_text=True)
    assert items[2]["_gongshi"]["party_code"] == "51650100MJ0000000D" and kept


def test_the_sitemap_lists_the_portal_and_the_public_permalinks(client, app_settings):
    public, withdrawn = publish(app_settings), publish(app_settings)
    withdraw(app_settings, withdrawn)
    sitemap = client.get("/gongshi/sitemap.xml")
    assert sitemap.mimetype == "application/xml"
    root = etree.fromstring(sitemap.data)
    urls = [u.findtext("{http://www.sitemaps.org/schemas/sitemap/0.9}loc") for u in root]
    assert "http://localhost/gongshi/" in urls and "http://localhost/gongshi/decisions" in urls
    assert f"http://localhost/gongshi/decisions/{public}" in urls
    assert f"http://localhost/gongshi/decisions/{withdrawn}" not in urls
    assert not any(u.endswith((".atom", ".json", "sitemap.xml")) for u in urls)


# --- staff: the register, requests, credit repair, warnings -----------------------------------

@pytest.fixture
def correction_deployed(app_settings):
    with session_scope(app_settings) as session:
        deployment.deploy(session, {"disclosure_correction.bpmn": (MODELS / "disclosure_correction.bpmn").read_bytes()},
                          "designer")


def test_a_unit_head_asks_to_withdraw_from_the_register(client, auth, app_settings, correction_deployed):
    record = publish(app_settings)
    auth.login("head")
    register = client.get("/monitor/disclosures")
    assert register.status_code == 200
    html = register.get_data(as_text=True)
    assert "执法决定公开台账" in html and "新市区夕阳红养老服务协会" in html and "申请撤回或更正" in html
    assert "按时" in html  # decided 30 October, published 2 November: within 7 working days
    started = post(client, f"/monitor/disclosures/{record}/change")
    assert started.status_code == 302 and "/tasks/" in started.headers["Location"]
    form = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "提出撤回或更正申请" in form and "新民罚决〔2026〕" in form
    again = post(client, f"/monitor/disclosures/{record}/change")
    assert again.status_code == 409 and "已有未办结的撤回或更正申请" in text_of(again)
    assert "申请办理中" in client.get("/monitor/disclosures").get_data(as_text=True)


def test_credit_repair_takes_a_record_down_from_the_register(client, auth, app_settings):
    record = publish(app_settings)  # a warning: credit repair possible at once (minor information)
    auth.login("head")
    assert "信用修复，提前停止公示" in client.get("/monitor/disclosures").get_data(as_text=True)
    refused = post(client, f"/monitor/disclosures/{record}/remove", {"applied_on": "", "reason": ""})
    assert refused.status_code == 302
    flashed = client.get("/monitor/disclosures").get_data(as_text=True)
    assert "请填写信用修复申请日期" in flashed and "当事人须已纠正违法行为" in flashed
    done = post(client, f"/monitor/disclosures/{record}/remove",
                {"applied_on": "2026-11-01", "reason": "已整改并申请信用修复。", "obligations_met": "y"})
    assert done.status_code == 302
    assert "已提前撤下" in client.get("/monitor/disclosures?state=removed").get_data(as_text=True)
    Auth(client).logout()
    gone = client.get(f"/gongshi/decisions/{record}")
    assert gone.status_code == 410 and "信用修复" in text_of(gone)


def test_officers_see_no_register_and_managers_may_not_take_down(client, auth, app_settings):
    record = publish(app_settings)
    auth.login("officer1")
    assert client.get("/monitor/disclosures").status_code == 403
    Auth(client).logout()
    auth.login("manager")
    assert client.get("/monitor/disclosures").status_code == 200
    assert post(client, f"/monitor/disclosures/{record}/remove",
                {"applied_on": "2026-11-01", "reason": "x", "obligations_met": "y"}).status_code == 403


def test_the_warnings_show_decisions_still_to_publish(client, auth, app_settings):
    case = start_case(app_settings, party="新市区某某协会")
    with session_scope(app_settings) as session:
        instance = session.get(Instance, case.instance_id)
        instance.decided_on, instance.decision_kind = date(2026, 10, 20), "penalty"  # due 29 October: late
    auth.login("manager")
    page = client.get("/monitor/warnings").get_data(as_text=True)
    assert "公示到期" in page and "新市区某某协会" in page and "2026年10月29日" in page and "红牌" in page


# --- privacy over the whole demo bureau -------------------------------------------------------

@pytest.fixture(scope="module")
def demo_bureau(tmp_path_factory):
    """The demo bureau as `sanxiang init --demo` makes it (the bpmn/ models, the demo cases), on 2 November 2026."""
    folder = tmp_path_factory.mktemp("privacy")
    settings = load_settings({"SANXIANG_INSTANCE_PATH": str(folder / "template")})
    with clock.frozen(NOON):
        with session_scope(settings) as session:
            init_database(settings, session)
            demo.load_demo(session, settings)
    get_engine(settings.database_url).dispose()
    return folder / "template" / "sanxiang.db", compile_translations(folder / "translations")


def secrets_of(settings) -> set[str]:
    """What no public page may show: every party's ID number (an organisation's credit code is public),
    phone and address, and a natural person's full name."""
    found = set()
    with session_scope(settings, write=False) as session:
        for instance in session.scalars(select(Instance).where(Instance.process_id == "enforcement_case")):
            data = current_data(load_workflow(session, instance))
            person = data.get("party_type") == "natural_person"
            for key in ("party_phone", "party_address") + (("party_id_number", "party_name") if person else ()):
                if data.get(key):
                    found.add(str(data[key]))
    return found


def crawl(client, paths: list[str]) -> dict[str, str]:
    pages = {}
    while paths:
        path = paths.pop()
        if path in pages:
            continue
        response = client.get(path)
        assert response.status_code in (200, 404, 410), (path, response.status_code)
        body = response.get_data(as_text=True)
        query = re.search(r"[?&]party=([^&]*)", path)
        if query:  # a search shows what was searched for: that is the visitor's own text
            body = body.replace(query.group(1), "").replace(quote(query.group(1)), "")
        pages[path] = body
        if path.startswith("/gongshi/decisions"):
            paths += [link for link in re.findall(r'href="(/gongshi/decisions[^"#]*)"', pages[path])
                      if link not in pages and "&amp;" not in link]
    return pages


def test_no_public_page_or_feed_shows_personal_data_and_gone_records_keep_no_content(demo_bureau, tmp_path):
    source, translations = demo_bureau
    settings = copy_database(source, tmp_path / "instance")
    secrets = secrets_of(settings)
    assert {"刘建国", "650102198503150015", "13899887766", "新市区红山路88号2栋3单元"} <= secrets
    with session_scope(settings, write=False) as session:
        records = list(session.scalars(select(Disclosure).where(Disclosure.kind == "decision")))
        withdrawn = [r for r in records if r.status == "withdrawn"]
        contents = {r.id: json.loads(r.content) for r in records}
    assert len(records) >= 4 and withdrawn
    app = create_app(app_config(settings, translations, CASE_PROCESS="enforcement_case", TESTING=True))
    app.jinja_env.bytecode_cache = TEMPLATE_CACHE
    client = app.test_client()

    def everything() -> dict[str, str]:
        sitemap = client.get("/gongshi/sitemap.xml").get_data(as_text=True)
        paths = [re.sub(r"^http://localhost", "", u) for u in re.findall(r"<loc>([^<]+)</loc>", sitemap)]
        paths += [f"/gongshi/decisions/{r.id}" for r in records] + ["/gongshi/feed.atom", "/gongshi/feed.json"]
        paths += [f"/gongshi/decisions?party={c['party']}" for c in contents.values() if c.get("party")]
        paths += ["/gongshi/decisions?type=warning", "/gongshi/decisions?matter=MZ-CF-0022"]
        for lang in ("zh", "en"):
            client.set_cookie("lang", lang)
            pages = crawl(client, list(paths))
        client.delete_cookie("lang")
        return pages | {"/gongshi/sitemap.xml": sitemap}

    def content_of(record_id: int) -> list[str]:
        c = contents[record_id]
        return [v for v in (c.get("facts"), c.get("decision_doc_no"), c.get("party")) if v and len(v) > 3]

    with clock.frozen(NOON):
        pages = everything()
        assert len(pages) > 20
        for path, body in pages.items():
            for secret in secrets:
                assert secret not in body, (path, secret)
            for record in withdrawn:
                for value in content_of(record.id):
                    assert value not in body, (path, value)
        assert "刘某" in pages["/gongshi/decisions"]
        for secret in ("刘建国", "650102198503150015", "13899887766"):  # searching by them finds nothing
            assert 'class="decision-card"' not in client.get(f"/gongshi/decisions?party={secret}").get_data(as_text=True)

    with clock.frozen(NOON + timedelta(days=400)):  # every demo record's retention has ended
        pages = everything()
        for path, body in pages.items():
            for secret in secrets:
                assert secret not in body, (path, secret)
            for record in records:
                for value in content_of(record.id):
                    assert value not in body, (path, value)
        feed = json.loads(pages["/gongshi/feed.json"])
        assert {i["_gongshi"]["kind"] for i in feed["items"]} <= {"expired", "withdrawn", "removed"}
        assert all(client.get(f"/gongshi/decisions/{r.id}").status_code in (200, 410) for r in records)
    get_engine(settings.database_url).dispose()
