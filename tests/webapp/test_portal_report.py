"""The annual statistics report on the web: the staff page with the live figures and the approval,
and the public page, CSV and PDF of what was approved and published (and nothing before)."""
from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from workflows.core.db import session_scope
from workflows.core.models import HumanTask, Instance, ModelSet
from workflows.design import deployment
from workflows.domain.people import get_user

from .conftest import Auth, complete, post

MODEL = Path(__file__).resolve().parents[2] / "bpmn" / "annual_report.bpmn"


@pytest.fixture
def bureau(app, app_settings):
    """The demo people with the annual-report model deployed and two penalties decided this year."""
    with session_scope(app_settings) as session:
        deployment.deploy(session, {MODEL.name: MODEL.read_bytes()}, "designer")
        decided(session, "warning", None, date(2026, 3, 2))
        decided(session, "fine", "30000", date(2026, 6, 8))
    return app_settings


def decided(session, penalty: str, fine: str | None, day: date) -> None:
    n = session.scalar(select(Instance.id).order_by(Instance.id.desc())) or 0
    session.add(Instance(case_no=f"新民罚〔2026〕{900 + n}号", process_id="web_case", status="completed",
                         model_version=session.scalar(select(ModelSet.version).order_by(ModelSet.version)),
                         unit_id=get_user(session, "officer1").unit_id, state="{}", created_by="officer1",
                         decision_kind="penalty", decided_on=day, penalty_type=penalty,
                         fine_amount=Decimal(fine) if fine else None, audit_seq=0, audit_head="0" * 64,
                         lock_version=1))
    session.flush()


def ready(settings, spec_id: str) -> str:
    with session_scope(settings) as session:
        return session.scalar(select(HumanTask.task_id).where(HumanTask.spec_id == spec_id,
                                                             HumanTask.state == "ready"))


def approve_2026(client, settings) -> None:
    """The office starts the approval from the staff page; the reviewer and the agency head agree."""
    Auth(client).login("office")
    started = post(client, "/monitor/report/2026/approval")
    assert started.status_code == 302 and "/tasks/" in started.headers["Location"]
    draft = started.headers["Location"].rsplit("/", 1)[-1]
    complete(settings, "office", draft, {"report_summary": "本年度作出行政处罚决定2件。\n罚款3万元。",
                                         "report_checked": True})
    page = client.get("/monitor/report/2026").get_data(as_text=True)
    assert "审批中（新民统〔2026〕0001号）" in page and "审核年度统计报告" in page
    Auth(client).logout()
    complete(settings, "reviewer", ready(settings, "review_annual_report"),
             {"annual_review_result": "pass", "annual_review_opinion": "数据准确。"})
    complete(settings, "director", ready(settings, "approve_annual_report"),
             {"annual_approval": "approve", "annual_approval_opinion": "同意公开。"})


def test_the_staff_page_shows_the_live_figures_to_report_readers(client, bureau):
    Auth(client).login("manager")
    page = client.get("/monitor/report/2026")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "2026年度行政执法统计" in html and "年度统计" in html
    charts = {c["key"]: c for c in json.loads(re.search(r'id="report-data">(.*?)</script>', html, re.S).group(1))}
    assert charts["decisions"]["series"][0]["values"] == [2, 0, 0]
    assert not charts["penalties"]["empty"] and charts["reviews"]["empty"]
    assert re.search(r'<th scope="row" class="fw-normal">合计</th><td class="num">2</td><td class="num">30,000.00</td>',
                     html)
    assert "尚未发起审批" in html and "编制并报送审批" not in html  # the office starts it, not a manager
    assert client.get("/monitor/report").headers["Location"].endswith("/monitor/report/2026")
    csv = client.get("/monitor/report/2026.csv")
    assert csv.mimetype == "text/csv" and "罚款（元）,30000.00" in csv.get_data(as_text=True)
    pdf = client.get("/monitor/report/2026.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


@pytest.mark.parametrize("who", ["officer1", "head", "designer"])
def test_others_may_not_read_the_live_figures(client, bureau, who):
    Auth(client).login(who)
    assert client.get("/monitor/report/2026").status_code == 403
    assert post(client, "/monitor/report/2026/approval").status_code == 403


def test_nothing_is_public_before_approval(client, bureau):
    page = client.get("/gongshi/report/2026")
    assert page.status_code == 404 and "2026年度行政执法统计报告尚未公开" in page.get_data(as_text=True)
    assert client.get("/gongshi/report/2026.csv").status_code == 404
    assert client.get("/gongshi/report/2026.pdf").status_code == 404
    assert "尚无公开的年度报告" in client.get("/gongshi/report").get_data(as_text=True)


def test_the_approved_report_is_published_frozen_with_csv_and_pdf(app, bureau):
    approve_2026(app.test_client(), bureau)
    with session_scope(bureau) as session:  # decided after the approval: the live figures move, the report not
        decided(session, "warning", None, date(2026, 10, 9))
    client = app.test_client()  # a visitor with no session: the page may be cached by anyone

    index = client.get("/gongshi/report")
    assert 'href="/gongshi/report/2026"' in index.get_data(as_text=True)
    page = client.get("/gongshi/report/2026")
    assert page.status_code == 200 and "public" in page.headers["Cache-Control"] and page.headers["ETag"]
    html = page.get_data(as_text=True)
    assert "<h1>2026年度行政执法统计报告</h1>" in html
    assert "本报告经法制审核人员审核、机关负责人审批，于2026年11月2日公开。" in html
    assert "<p>罚款3万元。</p>" in html  # the office's summary, line by line
    assert html.count('data-report-table="') == 8 and 'canvas data-chart="penalties"' in html
    assert '<th scope="row" class="fw-normal">行政处罚决定</th><td class="num">2</td>' in html  # as approved
    assert "office" not in html and "director" not in html and "郑敏" not in html  # roles, never names
    assert client.get("/gongshi/report/2026", headers={"If-None-Match": page.headers["ETag"]}).status_code == 304

    csv = client.get("/gongshi/report/2026.csv")
    text = csv.get_data(as_text=True)
    assert csv.mimetype == "text/csv" and text.startswith("\ufeff年度,栏目,项目,指标,数值")
    assert "2026,执法决定,行政处罚决定,件数,2" in text
    pdf = client.get("/gongshi/report/2026.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")

    Auth(client).login("manager")
    staff = client.get("/monitor/report/2026").get_data(as_text=True)
    assert '<th scope="row" class="fw-normal">行政处罚决定</th><td class="num">3</td>' in staff  # live
    assert "已于2026年11月2日公开（新民统〔2026〕0001号）" in staff


def test_a_second_approval_of_the_same_year_waits_for_the_first(client, bureau):
    Auth(client).login("office")
    assert post(client, "/monitor/report/2026/approval").status_code == 302
    again = post(client, "/monitor/report/2026/approval")
    assert again.status_code == 409
    refused = post(client, "/monitor/report/2031/approval", follow_redirects=True)
    assert "统计年度应为2000年至今年之间的年份" in refused.get_data(as_text=True)


def test_the_public_report_in_english(app, client, bureau):
    approve_2026(app.test_client(), bureau)
    client.get("/gongshi/lang/en?next=/gongshi/report/2026")
    html = client.get("/gongshi/report/2026").get_data(as_text=True)
    assert "Annual law enforcement statistics report 2026" in html
    assert "Penalty decisions" in html and "Not recorded" in html
    assert "reviewed by the Legal reviewer, approved by the Agency head" in html


def test_the_office_drafts_from_its_task_page_and_the_reviewer_finds_the_figures(client, bureau):
    Auth(client).login("office")
    task = post(client, "/monitor/report/2026/approval").headers["Location"]
    page = client.get(task).get_data(as_text=True)
    assert "编制年度统计报告" in page and "统计年度" in page and 'value="2026"' in page  # the year, read-only
    assert 'href="/monitor/report"' in page  # the instructions lead to the live figures
    case_page = client.get(re.search(r'href="(/cases/\d+)"', page).group(1))
    assert case_page.status_code == 200 and "新民统〔2026〕0001号" in case_page.get_data(as_text=True)
    complete(bureau, "office", task.rsplit("/", 1)[-1], {"report_summary": "说明。", "report_checked": True})
    Auth(client).logout()
    Auth(client).login("reviewer")
    page = client.get("/monitor/report", follow_redirects=True).get_data(as_text=True)
    assert "继续办理：审核年度统计报告" in page and "执法监督" not in page.split("<main")[1].split("审批与公开")[0]
