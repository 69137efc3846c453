"""The task page: instructions, the diagram's form, the engine's messages, drafts, evidence, outcomes."""
from __future__ import annotations

import hashlib
import io
import json
import re

import pytest
from sqlalchemy import func, select

from webapp import create_app
from workflows.domain import cases, tasks
from workflows.core.db import session_scope, statements
from workflows.core.models import AuditEvent, EvidenceLink, HumanTask, TaskDraft
from workflows.domain.people import get_user
from workflows.core.settings import load_settings

from .conftest import FILING, PROCESS, Auth, complete, csrf_token, post, start_case
from .support import TEMPLATE_CACHE, app_config, copy_database, tiny_png


def _gathering(settings) -> str:
    """A case at its evidence task (assigned to officer1); the task id."""
    case = start_case(settings)
    approval = complete(settings, "officer1", case.task_id, FILING)[0]
    return complete(settings, "head", approval, {"approved": "yes"})[0]


def _count(settings, model, *where) -> int:
    with session_scope(settings, write=False) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _submit(client, task_id: str, data: dict, action: str = "complete", **kw):
    return post(client, f"/tasks/{task_id}", {**data, "_action": action}, **kw)


def test_the_page_shows_the_case_and_the_instructions_safely(client, auth, case):
    auth.login("officer1")
    page = client.get(f"/tasks/{case.task_id}").get_data(as_text=True)
    assert "新民罚〔2026〕0001号" in page and "新市区某某养老协会" in page and "2026年11月9日 23:59" in page
    assert "<strong>立案审批表</strong>" in page and "<ol>" in page
    assert '<a href="https://example.org/manual" rel="noopener noreferrer nofollow">执法手册</a>' in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_form_is_built_from_the_diagram(client, auth, case):
    auth.login("officer1")
    page = client.get(f"/tasks/{case.task_id}").get_data(as_text=True)
    assert re.search(r'<input class="form-control-plaintext[^>]*value="新民罚〔2026〕0001号" readonly>', page)
    assert re.search(r'<input[^>]*name="party_name"[^>]*value="新市区某某养老协会"', page)  # from the start data
    assert re.search(r'<optgroup label="社会组织">', page)
    assert re.search(r'<option value="MZ-CF-0001" selected>', page)
    assert re.search(r'<textarea[^>]*minlength="5"[^>]*name="facts"', page)
    assert re.search(r'<input[^>]*name="violation_date"[^>]*type="date"', page)
    assert re.search(r'<input[^>]*inputmode="numeric"[^>]*name="witness_count"[^>]*type="number"', page)
    assert re.search(r'<input checked[^>]*name="kind"[^>]*value="inspection"', page)  # the field's default
    assert re.search(r'<input[^>]*name="urgent"[^>]*type="checkbox"', page)
    assert page.count('name="addresses"') == 1
    picker = re.search(r'<select[^>]*name="second_officer".*?</select>', page, re.S).group(0)
    assert "张明（officer1）" in picker and "李华（officer2）" in picker and "孙丽（officer4）" in picker
    assert "officer3" not in picker  # an expired credential does not qualify


def test_a_missing_required_field_gets_the_engines_message_next_to_it(client, auth, app_settings, case):
    auth.login("officer1")
    response = _submit(client, case.task_id, {**FILING, "second_officer": "", "fine": "12,5x", "facts": "太短"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="second_officer-error">请选择协办执法人员<', page)
    assert re.search(r'id="fine-error">拟罚款金额（元）的格式不正确<', page)
    assert re.search(r'id="facts-error">违法事实至少需要5个字<', page)
    assert re.search(r'<input[^>]*name="fine"[^>]*value="12,5x"', page)  # what was typed stays
    assert _count(app_settings, HumanTask, HumanTask.state == "ready") == 1


def test_submitting_completes_the_task_and_shows_where_the_case_went(client, auth, app_settings, case):
    auth.login("officer1")
    forged = _submit(client, case.task_id, {**FILING, "case_no": "改过的案号"})  # a read-only field is never posted
    assert forged.status_code == 422 and "为只读字段，不能修改" in forged.get_data(as_text=True)
    response = _submit(client, case.task_id, {**FILING, "addresses": ["甲路1号", "乙路2号"], "urgent": "true"})
    assert response.status_code == 302 and response.headers["Location"] == f"/tasks/{case.task_id}/done"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "“立案登记”已办理完成" in page and "立案审批" in page and "承办机构负责人" in page and "待认领" in page
    with session_scope(app_settings, write=False) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "task.complete")).one()
    data = json.loads(event.payload)["data"]
    assert data["addresses"] == ["甲路1号", "乙路2号"] and data["urgent"] is True and "case_no" not in data


def test_a_draft_is_kept_without_completing_and_fills_the_form_again(client, auth, app_settings, case):
    auth.login("officer1")
    response = _submit(client, case.task_id, {"facts": "草稿中的违法事实", "second_officer": ""}, action="draft")
    assert response.headers["Location"] == f"/tasks/{case.task_id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "草稿已保存" in page and "已载入您于 2026年11月2日 12:00 保存的草稿" in page
    assert "草稿中的违法事实</textarea>" in page
    assert _count(app_settings, HumanTask, HumanTask.task_id == case.task_id, HumanTask.state == "ready") == 1
    _submit(client, case.task_id, FILING)
    assert _count(app_settings, TaskDraft) == 0


def test_a_task_completed_meanwhile_is_reported_and_nothing_is_doubled(client, auth, app_settings, case):
    auth.login("officer1")
    client.get(f"/tasks/{case.task_id}")
    complete(app_settings, "officer1", case.task_id, FILING)  # the same task, finished in another window
    response = _submit(client, case.task_id, {**FILING, "facts": "另一个窗口里填写的事实"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "这项任务已由他人办理" in page
    assert "另一个窗口里填写的事实" in page and "<fieldset disabled>" in page
    assert _count(app_settings, AuditEvent, AuditEvent.action == "task.complete") == 1


def test_an_officer_without_a_valid_credential_sees_why_and_cannot_act(client, auth, app_settings):
    with session_scope(app_settings) as session:
        filer = get_user(session, "officer1")
        instance = cases.start(session, app_settings, filer, PROCESS,
                                    {"matter_code": "MZ-CF-0001", "party_name": "某协会"}).instance
        task_id = cases.ready_tasks_of(session, instance.id)[0].task_id
        tasks.release(session, filer, task_id)  # back to the unit's pool, where officer3 finds it
    auth.login("officer3")
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "您不能办理这项任务" in page and "没有当日有效的行政执法证件" in page and "<fieldset disabled>" in page
    response = _submit(client, task_id, FILING)
    assert response.status_code == 403 and "没有当日有效的行政执法证件" in response.get_data(as_text=True)


def test_someone_elses_task_is_shown_read_only(client, auth, case):
    auth.login("officer2")
    page = client.get(f"/tasks/{case.task_id}").get_data(as_text=True)
    assert "此任务已由他人认领" in page and "<fieldset disabled>" in page


def test_the_uploader_stores_a_file_and_answers_with_its_hash(client, auth, app_settings):
    task_id = _gathering(app_settings)
    auth.login("officer1")
    photo = tiny_png(5)
    response = post(client, f"/tasks/{task_id}/evidence", {"field": "photos", "file": (io.BytesIO(photo), "现场.png")},
                    headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json == {"sha256": hashlib.sha256(photo).hexdigest(), "filename": "现场.png", "size": len(photo),
                             "size_text": f"{len(photo)} B", "mime": "image/png"}
    assert _count(app_settings, EvidenceLink, EvidenceLink.task_id == task_id, EvidenceLink.field_id == "photos") == 1


@pytest.mark.parametrize(("body", "status", "message"), [
    ({"field": "photos", "file": (io.BytesIO(b"\x7fELF\x02\x01\x01" + bytes(200)), "tool.png")}, 422, "不接受这种文件"),
    ({"field": "notes", "file": (io.BytesIO(tiny_png()), "a.png")}, 403, "无权访问"),
    ({"field": "photos"}, 400, "没有收到文件"),
])
def test_the_uploader_refuses_clearly(client, auth, app_settings, body, status, message):
    task_id = _gathering(app_settings)
    auth.login("officer1")
    response = post(client, f"/tasks/{task_id}/evidence", body, headers={"Accept": "application/json"})
    assert response.status_code == status
    assert message in json.dumps(response.json, ensure_ascii=False)


def test_files_sent_with_the_form_itself_are_stored_and_linked(client, auth, app_settings):
    task_id = _gathering(app_settings)
    auth.login("officer1")
    photos = [tiny_png(1), tiny_png(2)]
    response = _submit(client, task_id, {"photos": [(io.BytesIO(p), f"照片{i}.png") for i, p in enumerate(photos)]},
                       content_type="multipart/form-data")
    assert response.status_code == 302
    with session_scope(app_settings, write=False) as session:
        stored = {link.sha256 for link in session.scalars(select(EvidenceLink).where(EvidenceLink.task_id == task_id))}
        event = session.scalars(select(AuditEvent).where(AuditEvent.task_id == task_id,
                                                         AuditEvent.action == "task.complete")).one()
    hashes = [hashlib.sha256(p).hexdigest() for p in photos]
    assert stored == set(hashes) and json.loads(event.payload)["data"]["photos"] == hashes


def test_a_refused_form_keeps_the_files_already_stored(client, auth, app_settings):
    task_id = _gathering(app_settings)
    auth.login("officer1")
    record = tiny_png(9)
    response = _submit(client, task_id, {"record": (io.BytesIO(record), "笔录.png")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    digest = hashlib.sha256(record).hexdigest()
    assert response.status_code == 422 and "请上传现场照片" in page
    assert f'<input type="hidden" name="record" value="{digest}">' in page and "笔录.png" in page
    assert _count(app_settings, EvidenceLink, EvidenceLink.sha256 == digest) == 1
    photo = tiny_png(10)
    response = _submit(client, task_id, {"record": digest, "photos": (io.BytesIO(photo), "p.png")},
                       content_type="multipart/form-data")
    assert response.status_code == 302


def test_a_refused_file_type_is_named_next_to_its_field(client, auth, app_settings):
    task_id = _gathering(app_settings)
    auth.login("officer1")
    response = _submit(client, task_id, {"photos": (io.BytesIO(b"\x00\x01\x02" * 50), "x.png")},
                       content_type="multipart/form-data")
    assert response.status_code == 422
    assert re.search(r'id="photos-error">不接受这种文件', response.get_data(as_text=True))


def test_a_file_over_the_store_limit_is_refused_with_the_limit(tmp_path, demo_database, translations, frozen_clock):
    copy_database(demo_database, tmp_path / "instance")
    settings = load_settings({"SANXIANG_INSTANCE_PATH": str(tmp_path / "instance"),
                              "SANXIANG_EVIDENCE_MAX_BYTES": "100"})
    app = create_app(app_config(settings, translations, TESTING=True))
    app.jinja_env.bytecode_cache = TEMPLATE_CACHE
    task_id = _gathering(settings)
    client = app.test_client()
    Auth(client).login("officer1")
    response = post(client, f"/tasks/{task_id}/evidence",
                    {"field": "photos", "file": (io.BytesIO(tiny_png() + bytes(200)), "big.png")},
                    headers={"Accept": "application/json"})
    assert response.status_code == 422 and response.json["error"] == "文件过大：每个文件不能超过 100 B。"


def test_a_request_over_the_size_limit_gets_a_clear_413_page(app, client, auth, app_settings):
    task_id = _gathering(app_settings)
    auth.login("officer1")
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    token = csrf_token(client, "/")
    response = client.post(f"/tasks/{task_id}", data={"_csrf_token": token,
                                                      "photos": (io.BytesIO(bytes(20_000)), "big.png")})
    assert response.status_code == 413 and "文件过大" in response.get_data(as_text=True)
    response = client.post(f"/tasks/{task_id}/evidence", data={"_csrf_token": token,
                                                               "file": (io.BytesIO(bytes(20_000)), "big.png")},
                           headers={"Accept": "application/json"})
    assert response.status_code == 413 and response.json["error"] == "文件过大"


def test_one_completion_over_http_costs_at_most_eight_statements(client, auth, app_settings, case):
    approval = complete(app_settings, "officer1", case.task_id, FILING)[0]
    auth.login("head")
    token = csrf_token(client, "/")
    with statements(app_settings.database_url) as seen:
        response = client.post(f"/tasks/{approval}", data={"approved": "yes", "opinion": "同意。", "_csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == f"/tasks/{approval}/done"
    assert len(seen) <= 8, "\n".join(seen)
