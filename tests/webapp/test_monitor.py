"""Supervision pages: the dashboard, the case list and its exports, the process view, and the
operations and notices that act on a case."""
from __future__ import annotations

import csv
import io
import json
import re

from openpyxl import load_workbook

from tests.conftest import bpmn
from workflows.core.db import session_scope
from workflows.core.models import Instance
from workflows.design import deployment
from workflows.domain import cases
from workflows.domain.people import get_user

from .conftest import FILING, complete, post, start_case


def _json(page: str, block: str):
    return json.loads(re.search(rf'<script type="application/json" id="{block}">(.*?)</script>', page, re.S).group(1))


def _cases(settings, frozen_clock):
    """Three cases of officer1's unit: two left at filing until overdue, one moved on to approval."""
    made = [start_case(settings, party=party) for party in ("甲协会", "乙基金会", "丙协会")]
    complete(settings, "officer1", made[2].task_id, {**FILING, "party_name": "丙协会"})
    frozen_clock.advance(days=8)  # past the filing tasks' due time
    return made


def test_the_dashboard_shows_tiles_and_charts_with_their_tables(client, auth, app_settings, frozen_clock):
    _cases(app_settings, frozen_clock)
    auth.login("manager")
    page = client.get("/monitor/").get_data(as_text=True)
    assert re.search(r'data-tile="open">3<', page) and re.search(r'data-tile="red">2<', page)
    charts = {c["key"]: c for c in _json(page, "dashboard-data")}
    assert charts["open_by_unit"]["labels"] == ["社会组织管理科"] and charts["open_by_unit"]["series"][0]["values"] == [3]
    assert 'data-chart-table="open_by_stage"' in page and "立案登记" in page
    assert "vendor/chart.js/chart.umd.min.js" in page


def test_the_case_list_filters_by_url_and_exports_exactly_its_rows(client, auth, app_settings, frozen_clock):
    _cases(app_settings, frozen_clock)
    auth.login("manager")
    page = client.get("/monitor/cases?overdue=y").get_data(as_text=True)
    listed = re.findall(r'class="case-no" href="/cases/\d+">([^<]+)</a>', page)
    assert len(listed) == 2 and "共2件" in page and "红牌" in page
    assert re.findall(r'class="case-no"[^>]*>([^<]+)<', client.get("/monitor/cases?q=乙基金会").get_data(as_text=True)) \
        == ["新民罚〔2026〕0002号"]
    exported = client.get("/monitor/cases.csv?overdue=y")
    assert exported.headers["Content-Disposition"].startswith("attachment; filename=cases-")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "案号" and [r[0] for r in rows[1:]] == listed
    book = load_workbook(io.BytesIO(client.get("/monitor/cases.xlsx?overdue=y").data), read_only=True)
    assert [r[0] for r in list(book.active.values)[1:]] == listed


def test_the_process_view_counts_cases_per_element(client, auth, app_settings, frozen_clock):
    _cases(app_settings, frozen_clock)
    auth.login("head")  # a unit head sees the view for the cases of the unit
    page = client.get("/monitor/processes/web_case/1").get_data(as_text=True)
    elements = _json(page, "diagram-data")["elements"]
    assert (elements["file_case"]["waiting"], elements["file_case"]["overdue"]) == (2, 2)
    assert elements["approve_filing"]["waiting"] == 1
    assert elements["file_case"]["url"] == "/monitor/cases?process_id=web_case&stage=file_case&status=running"
    heat = _json(client.get("/monitor/processes/web_case/1?mode=heat").get_data(as_text=True), "diagram-data")
    assert heat["elements"]["file_case"]["count"] == 1  # the one filing completed, on its first day
    assert client.get("/monitor/processes/web_case/1/diagram.bpmn").data.startswith(b"<?xml")


def test_a_notice_shows_in_the_holders_inbox_until_acknowledged(client, auth, app_settings, frozen_clock):
    first, *_ = _cases(app_settings, frozen_clock)
    auth.login("manager")
    assert post(client, f"/cases/{first.instance_id}/supervise", {"message": "请三日内办结。"}).status_code == 302
    auth.logout()
    auth.login("officer1")
    inbox = client.get("/").get_data(as_text=True)
    notice = re.search(r'action="/cases/notices/(\d+)/ack"', inbox)
    assert "请三日内办结。" in inbox and notice
    post(client, f"/cases/notices/{notice.group(1)}/ack")
    assert "请三日内办结。" not in client.get("/").get_data(as_text=True)
    assert re.search(r"张明 已于 [^<]+ 确认", client.get(f"/cases/{first.instance_id}").get_data(as_text=True))


def test_suspending_needs_a_legal_ground_and_resuming_restores_the_case(client, auth, app_settings, frozen_clock):
    first, *_ = _cases(app_settings, frozen_clock)
    auth.login("head")
    refused = post(client, f"/cases/{first.instance_id}/suspend", {"reason": "当事人住院"}, follow_redirects=True)
    assert "请选择中止的法定事由" in refused.get_data(as_text=True)
    post(client, f"/cases/{first.instance_id}/suspend", {"reason": "当事人住院", "ground": "party_incapacitated"})
    page = client.get(f"/cases/{first.instance_id}").get_data(as_text=True)
    assert "已中止" in page and "案件已中止，期限暂停计算。" not in page  # not filed yet: no handling limit
    assert f'action="/cases/{first.instance_id}/resume"' in page
    post(client, f"/cases/{first.instance_id}/resume", {"reason": "已出院"})
    with session_scope(app_settings, write=False) as session:
        assert session.get(Instance, first.instance_id).status == "running"


def test_an_administrator_sees_a_failed_case_and_retries_it(client, auth, app_settings, frozen_clock):
    with session_scope(app_settings) as session:
        deployment.deploy(session, {"approval.bpmn": bpmn("approval.bpmn")}, "designer")
        officer1 = get_user(session, "officer1")
        started = cases.start(session, app_settings, officer1, "approval", {"party_name": "某协会"})
        case_id, task_id = started.instance.id, started.tasks[0].task_id
    complete(app_settings, "officer1", task_id, {"party_name": "某协会", "fine": "100", "divisor": "0",
                                                 "second_officer": "officer2"})
    with session_scope(app_settings, write=False) as session:
        message = session.get(Instance, case_id).error_message
    auth.login("admin")
    errors = client.get("/monitor/errors").get_data(as_text=True)
    assert "<code>compute</code>" in errors and message.split(":")[0] in errors
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "流程在环节 compute 出错" in page and f'action="/cases/{case_id}/retry"' in page
    again = post(client, f"/cases/{case_id}/retry", follow_redirects=True).get_data(as_text=True)
    assert "重试后仍然出错" in again  # the data still divides by zero
