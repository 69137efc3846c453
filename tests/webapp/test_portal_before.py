"""The public portal's 事前公开 pages and the credential check: no sign-in, cacheable, only what the law
makes public."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.conftest import NOON
from webapp import create_app
from workflows import demo
from workflows.bootstrap import init_database
from workflows.core import clock
from workflows.core.db import get_engine, session_scope
from workflows.core.models import Credential, User
from workflows.core.settings import load_settings
from workflows.domain import catalogue, cases, credentials, people, public_info
from workflows.domain.people import get_user

from .support import TEMPLATE_CACHE, app_config, copy_database

PAGES = ["/gongshi/", "/gongshi/matters", "/gongshi/matters/MZ-CF-0011", "/gongshi/duties", "/gongshi/personnel",
         "/gongshi/procedure", "/gongshi/remedies", "/gongshi/inspections", "/gongshi/guides", "/gongshi/zheng"]


def credential_of(settings, username: str) -> str:
    with session_scope(settings) as session:
        return get_user(session, username).credentials[0].number


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.mark.parametrize("path", PAGES)
def test_public_pages_need_no_sign_in_and_are_cacheable(client, path):
    page = client.get(path)
    assert page.status_code == 200
    assert "public" in page.headers["Cache-Control"] and "max-age=300" in page.headers["Cache-Control"]
    assert page.headers["ETag"] and "Cookie" in page.headers["Vary"]
    assert "Set-Cookie" not in page.headers  # no session, no form token: the same page for everyone
    assert 'name="csrf-token"' not in page.get_data(as_text=True)
    again = client.get(path, headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_the_layout_has_landmarks_a_skip_link_and_the_language_switch(client):
    html = client.get("/gongshi/").get_data(as_text=True)
    assert 'href="#main"' in html and '<main id="main"' in html and "<header" in html and "<footer" in html
    assert 'aria-current="page"' in html and 'lang="zh-CN"' in html
    switch = client.get("/gongshi/lang/en?next=/gongshi/matters")
    assert switch.status_code == 302 and switch.headers["Location"].endswith("/gongshi/matters")
    assert "lang=en" in switch.headers["Set-Cookie"]
    english = client.get("/gongshi/matters").get_data(as_text=True)
    assert '<html lang="en">' in english and "Catalogue of enforcement matters" in english
    for evil in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        assert client.get(f"/gongshi/lang/zh?next={evil}").headers["Location"].endswith("/gongshi/")


def test_the_catalogue_shows_basis_penalties_and_discretion_and_whose_approval(client):
    listing = text_of(client.get("/gongshi/matters"))
    assert "MZ-CF-0011" in listing and "养老机构未与老年人或其代理人签订服务协议" in listing
    assert "经办公室审核同意" in listing
    page = text_of(client.get("/gongshi/matters/MZ-CF-0011"))
    for row in demo.MATTERS:
        if row[0] == "MZ-CF-0011":
            assert row[3] in page and row[4] in page and row[5] in page  # basis, penalty types, discretion
    assert "服务指南" in page and "受理机构 养老服务科" in page
    assert "MZ-CF-0001" in text_of(client.get("/gongshi/matters?field=社会组织"))
    assert "MZ-CF-0011" not in text_of(client.get("/gongshi/matters?field=社会组织"))
    assert "MZ-CF-0031" in text_of(client.get("/gongshi/matters?q=地名"))
    missing = client.get("/gongshi/matters/MZ-CF-9999")
    assert missing.status_code == 404 and "执法事项目录中没有这个事项" in text_of(missing)


def test_an_abolished_matter_is_listed_as_abolished_and_not_offered_for_filing(app, client, app_settings):
    with session_scope(app_settings) as session:
        entry = demo.catalogue_entry(session, app_settings, next(r for r in demo.MATTERS if r[0] == "MZ-CF-0031"))
        catalogue.publish(session, entry | {"matter_status": "abolished"}, approved_by="office", approved_role="office")
    listing = client.get("/gongshi/matters").get_data(as_text=True)
    in_force, abolished = listing.split('id="abolished-title"')
    assert "MZ-CF-0031" not in in_force and "MZ-CF-0031" in abolished
    assert "本事项已废止" in text_of(client.get("/gongshi/matters/MZ-CF-0031"))
    assert "MZ-CF-0031" not in text_of(client.get("/gongshi/"))


def test_personnel_are_those_with_a_credential_valid_today(client, app_settings):
    page = text_of(client.get("/gongshi/personnel"))
    for name in ("张明", "李华", "孙丽", "马骏"):
        assert name in page
    assert "赵强" not in page  # officer3's credential expired
    assert credential_of(app_settings, "officer1") in page and "新市区" in page


def test_the_credential_check_says_valid_expired_suspended_or_revoked(client, app_settings):
    number = credential_of(app_settings, "officer1")
    page = client.get(f"/gongshi/zheng/{number}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "public, no-cache"
    text = text_of(page)
    assert "证件有效" in text and "张明" in text and "社会组织管理科" in text and "新市区" in text
    assert "officer1" not in text and "有效期" not in text  # nothing else about the holder
    assert "证件已过期" in text_of(client.get(f"/gongshi/zheng/{credential_of(app_settings, 'officer3')}"))
    with session_scope(app_settings) as session:
        credentials.suspend(session, "admin", number, "调查中")
    assert "证件暂扣" in text_of(client.get(f"/gongshi/zheng/{number}"))
    with session_scope(app_settings) as session:
        credentials.revoke(session, "admin", number, "违规")
    assert "证件已吊销" in text_of(client.get(f"/gongshi/zheng/{number}"))
    unknown = client.get("/gongshi/zheng/NO-SUCH")
    assert unknown.status_code == 404 and "未查到该证件" in text_of(unknown)
    found = client.get(f"/gongshi/zheng?number=%20{number}%20")
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/gongshi/zheng/{number}")


def test_every_credential_has_a_qr_code_pointing_to_its_check_page(client, app_settings):
    number = credential_of(app_settings, "officer2")
    qr = client.get(f"/gongshi/zheng/{number}.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert qr.data.startswith(b"<svg") and b"<path" in qr.data
    card = client.get(f"/gongshi/zheng/{number}/card").get_data(as_text=True)
    assert f"http://localhost/gongshi/zheng/{number}" in card and f"/gongshi/zheng/{number}.svg" in card
    assert client.get("/gongshi/zheng/NO-SUCH.svg").status_code == 404


def test_the_admin_finds_the_check_page_and_the_card_next_to_each_credential(client, auth, app_settings):
    number = credential_of(app_settings, "officer1")
    auth.login("admin")
    page = client.get("/admin/users/officer1").get_data(as_text=True)
    assert f'href="/gongshi/zheng/{number}"' in page and f'src="/gongshi/zheng/{number}.svg"' in page
    assert f'href="/gongshi/zheng/{number}/card"' in page
    signed_in = client.get("/gongshi/")
    assert "private" in signed_in.headers["Cache-Control"]  # a visitor with a session is not cached for others


def test_the_procedure_page_shows_the_deployed_model_and_its_text_version(client):
    page = client.get("/gongshi/procedure").get_data(as_text=True)
    assert 'class="bpmn-diagram"' in page and 'data-xml-url="/gongshi/procedure/web_case.bpmn"' in page
    assert "bpmn-viewer.production.min.js" in page and 'class="procedure-outline"' in page
    assert "现行流程为第1版" in page
    xml = client.get("/gongshi/procedure/web_case.bpmn")
    assert xml.status_code == 200 and b'id="web_case"' in xml.data
    assert client.get("/gongshi/procedure/no_such.bpmn").status_code == 404
    assert client.get("/gongshi/procedure/no_such").status_code == 404


def test_remedies_state_bodies_addresses_and_time_limits(client):
    page = text_of(client.get("/gongshi/remedies"))
    assert "新市区人民政府" in page and "60日内" in page and "新市区人民法院" in page and "6个月内" in page


# --- privacy: the whole demo (cases included), every page added here ------------------------------

@pytest.fixture(scope="module")
def full_demo(tmp_path_factory):
    """`sanxiang init --demo`: the bpmn/ models, the catalogue through pre_disclosure, the demo cases."""
    folder = tmp_path_factory.mktemp("full-demo")
    settings = load_settings({"SANXIANG_INSTANCE_PATH": str(folder)})
    with clock.frozen(NOON), session_scope(settings) as session:
        init_database(settings, session)
        demo.load_demo(session, settings)
    get_engine(settings.database_url).dispose()
    return folder / "sanxiang.db"


ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]")
MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")


def test_no_personal_data_reaches_a_public_page(full_demo, tmp_path, translations, frozen_clock):
    settings = copy_database(full_demo, tmp_path / "instance")
    person = {"party_type": "natural_person", "party_name": "李小明", "party_id_number": "110105199003071239",
              "party_phone": "13912345678", "party_address": "新市区幸福路8号3单元"}
    with session_scope(settings) as session:  # a natural person's case, and staff with private contacts
        cases.start(session, settings, get_user(session, "officer1"), "enforcement_case",
                    {"matter_code": "MZ-CF-0001", "party_name": person["party_name"]})
        people.update_user(session, "admin", "officer1", "张明", "social", "13800138000 新市区光明路1号2单元")
        people.update_user(session, "admin", "reviewer", "周静", "law", "13900139000")
        holders = {c.holder.full_name for c in session.scalars(select(Credential))}
        staff = {u.full_name for u in session.scalars(select(User)).unique()} - holders - {"管理员"}
        numbers = [c.number for c in session.scalars(select(Credential))]
        matters = [m.code for m in catalogue.entries(session, catalogue.Search(with_abolished=True))]
        stages = sorted(public_info.procedure(session, "enforcement_case").processes)
    app = create_app(app_config(settings, translations, TESTING=True, CASE_PROCESS="enforcement_case"))
    app.jinja_env.bytecode_cache = TEMPLATE_CACHE
    client = app.test_client()
    paths = PAGES + [f"/gongshi/matters/{code}" for code in matters] + [f"/gongshi/zheng/{n}" for n in numbers] \
        + [f"/gongshi/zheng/{n}/card" for n in numbers] + [f"/gongshi/procedure/{p}" for p in stages if p != "enforcement_case"]
    assert staff >= {"王芳", "周静", "吴刚", "郑敏"}
    for language in ("zh", "en"):
        client.get(f"/gongshi/lang/{language}")
        for path in paths:
            page = client.get(path)
            assert page.status_code == 200, path
            html = page.get_data(as_text=True)
            assert not ID_NUMBER.search(html) and not MOBILE.search(html), path
            for secret in [person["party_name"], person["party_address"], "光明路", "新市区幸福路", *staff]:
                assert secret not in html, (path, secret)
    get_engine(settings.database_url).dispose()
