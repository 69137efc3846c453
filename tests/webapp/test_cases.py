"""Starting a case, the case file page, and evidence downloads."""
from __future__ import annotations

import hashlib
import io
import re

from sqlalchemy import func, select, update

from tests.conftest import bpmn
from workflows.domain import cases
from workflows.design import deployment
from workflows.core.db import session_scope
from workflows.core.models import AuditEvent, HumanTask, Instance
from workflows.domain.people import get_user

from .conftest import FILING, complete, post
from .support import tiny_png


def _events(settings, action: str) -> int:
    with session_scope(settings, write=False) as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def test_starting_a_case_lands_on_its_first_task(client, auth, app_settings):
    auth.login("officer1")
    page = client.get("/cases/new").get_data(as_text=True)
    assert '<optgroup label="养老服务">' in page and "MZ-CF-0011 养老机构未与老年人或其代理人签订服务协议" in page
    response = post(client, "/cases/new", {"matter_code": "MZ-CF-0011", "party_name": "  夕阳红养老院 "})
    with session_scope(app_settings, write=False) as session:
        instance = session.scalars(select(Instance)).one()
        assert (instance.matter_code, instance.party_name, instance.created_by) == ("MZ-CF-0011", "夕阳红养老院", "officer1")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert response.headers["Location"].startswith("/tasks/")
    assert '<h1 class="h3 mb-0" id="summary-title">立案登记</h1>' in page


def test_the_start_form_names_what_is_missing(client, auth):
    auth.login("officer1")
    response = post(client, "/cases/new", {"matter_code": "MZ-CF-9999", "party_name": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "请填写当事人名称" in page and "不是有效的选择" in page


def test_no_case_can_be_started_before_the_process_is_deployed(app, client, auth):
    app.config["CASE_PROCESS"] = "enforcement_case_not_deployed"
    auth.login("officer1")
    response = client.get("/cases/new")
    assert response.status_code == 503 and "尚未部署" in response.get_data(as_text=True)


def test_the_case_page_shows_everything_gathered_so_far(client, auth, app_settings, case):
    approval = complete(app_settings, "officer1", case.task_id, {**FILING, "urgent": True, "fine": "3000.50"})[0]
    evidence_task = complete(app_settings, "head", approval, {"approved": "yes", "opinion": "同意"})[0]
    auth.login("officer1")
    photo = tiny_png(4)
    sha = post(client, f"/tasks/{evidence_task}/evidence", {"field": "photos", "file": (io.BytesIO(photo), "现场.png")},
               headers={"Accept": "application/json"}).json["sha256"]
    page = client.get(f"/cases/{case.instance_id}").get_data(as_text=True)
    for text in ("新民罚〔2026〕0001号", "办理中", "社会组织管理科", "张明", "《社会团体登记管理条例》第三十条",
                 "调查取证",  # the current stage and task
                 "立案登记", "协办执法人员", "李华", "检查发现", "3000.50", "需要紧急处理", "同意立案", "王芳",
                 "现场.png", sha, "image/png", "现场照片"):
        assert text in page, text
    assert f'href="/cases/{case.instance_id}/evidence/{sha}"' in page
    assert re.search(r"需要紧急处理</dt>\s*<dd[^>]*>\s*是", page)
    assert "立案启动" in page and "上传证据" in page


def test_viewing_a_case_is_recorded_and_shown_on_request(client, auth, app_settings, case):
    auth.login("head")
    client.get(f"/cases/{case.instance_id}")
    page = client.get(f"/cases/{case.instance_id}").get_data(as_text=True)
    assert _events(app_settings, "case.view") == 2
    assert "显示调阅记录（2 条）" in page and "查看案卷" not in page
    assert "查看案卷" in client.get(f"/cases/{case.instance_id}?events=all").get_data(as_text=True)


def test_evidence_downloads_stream_the_file_and_are_recorded(client, auth, app_settings, case):
    approval = complete(app_settings, "officer1", case.task_id, FILING)[0]
    evidence_task = complete(app_settings, "head", approval, {"approved": "yes"})[0]
    auth.login("officer1")
    photo = tiny_png(6)
    post(client, f"/tasks/{evidence_task}/evidence", {"field": "photos", "file": (io.BytesIO(photo), "现场 照片.png")})
    sha = hashlib.sha256(photo).hexdigest()
    auth.logout()
    auth.login("manager")
    response = client.get(f"/cases/{case.instance_id}/evidence/{sha}")
    assert response.status_code == 200 and response.is_streamed and response.data == photo
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename*=UTF-8''%E7%8E%B0%E5%9C%BA%20%E7%85%A7%E7%89%87.png")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert _events(app_settings, "evidence.read") == 1


def test_other_units_may_not_see_a_case(client, auth, case):
    auth.login("officer4")
    response = client.get(f"/cases/{case.instance_id}")
    assert response.status_code == 403 and "无权访问" in response.get_data(as_text=True)


def test_someone_of_another_unit_sees_the_case_while_they_hold_one_of_its_tasks(client, auth, app_settings):
    with session_scope(app_settings) as session:
        deployment.deploy(session, {"approval.bpmn": bpmn("approval.bpmn")}, "system")
        instance = cases.start(session, app_settings, get_user(session, "officer4"), "approval").instance
        register = cases.ready_tasks_of(session, instance.id)[0].task_id
        instance_id = instance.id
    auth.login("officer1")
    assert client.get(f"/cases/{instance_id}").status_code == 403
    with session_scope(app_settings) as session:  # handed over by an administrator across units
        session.execute(update(HumanTask).where(HumanTask.task_id == register).values(assignee="officer1"))
    assert client.get(f"/cases/{instance_id}").status_code == 200
