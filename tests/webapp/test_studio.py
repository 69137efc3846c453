"""The studio through the web: the editor's calls (save, validate, preview) answer in JSON with the
engine's messages; drafts are deployed from the index with a note; bad uploads change nothing."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from workflows.core.db import session_scope
from workflows.core.models import Instance, ModelDraft
from workflows.design import deployment, studio
from workflows.engine import specs

from .conftest import FILING, csrf_token, post, start_case
from .support import PROCESS, WEB_BPMN

WEB_CASE = (WEB_BPMN / "web_case.bpmn").read_text(encoding="utf-8")
FILE = "web_case.bpmn"


def _json(client, path: str, body: dict):
    return client.post(path, json=body, headers={"X-CSRFToken": csrf_token(client, "/studio/"),
                                                 "Accept": "application/json"})


def test_the_index_lists_the_deployed_files_and_opens_the_editor(client, auth):
    auth.login("designer")
    page = client.get("/studio/").get_data(as_text=True)
    assert f'href="/studio/files/{FILE}"' in page and "版本1" in page
    editor = client.get(f"/studio/files/{FILE}").get_data(as_text=True)
    assert 'data-kind="bpmn"' in editor and 'data-parent-version="1"' in editor
    assert client.get(f"/studio/files/{FILE}/source").get_data(as_text=True) == WEB_CASE


def test_the_editor_saves_validates_and_previews_through_the_engine(client, auth, app_settings):
    auth.login("designer")
    broken = WEB_CASE.replace('approved == "yes"', 'approved == = "yes"')
    problems = _json(client, f"/studio/files/{FILE}/validate", {"xml": broken}).get_json()["problems"]
    assert [p["element"] for p in problems] == ["f_yes"]
    saved = _json(client, f"/studio/files/{FILE}/draft", {"xml": broken, "parent_version": 1})
    assert saved.status_code == 200 and "草稿已保存" in saved.get_json()["message"]
    assert 'data-kind="bpmn"' in client.get(f"/studio/files/{FILE}").get_data(as_text=True)
    assert client.get(f"/studio/files/{FILE}/source?draft={saved.get_json()['id']}").get_data(as_text=True) == broken

    relabelled = WEB_CASE.replace('label="审批意见"', 'label="负责人意见"')
    html = _json(client, f"/studio/files/{FILE}/preview", {"xml": relabelled, "element": "approve_filing"}).get_json()["html"]
    assert "负责人意见" in html and "审批意见" not in html and "disabled" in html
    refused = _json(client, f"/studio/files/{FILE}/preview", {"xml": relabelled, "element": "decide"})
    assert refused.status_code == 422 and "请选择一个用户任务" in refused.get_json()["errors"]["element"][0]
    hostile = _json(client, f"/studio/files/{FILE}/draft", {"xml": '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'})
    assert hostile.status_code == 422 and "不是可接受的XML文件" in hostile.get_json()["errors"]["file"][0]
    with session_scope(app_settings, write=False) as session:
        assert session.scalar(select(func.count()).select_from(ModelDraft)) == 1


def test_a_draft_is_deployed_with_a_note_and_new_cases_use_it(client, auth, app_settings):
    auth.login("designer")
    relabelled = WEB_CASE.replace('name="立案审批"', 'name="负责人立案审批"')
    draft_id = _json(client, f"/studio/files/{FILE}/draft", {"xml": relabelled, "parent_version": 1}).get_json()["id"]
    refused = post(client, "/studio/deploy", {"draft": str(draft_id), "note": ""})
    assert "请填写变更说明" in client.get(refused.headers["Location"]).get_data(as_text=True)
    done = post(client, "/studio/deploy", {"draft": str(draft_id), "note": "审批环节改名"})
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "已部署为版本2" in page and "审批环节改名" in page
    with session_scope(app_settings, write=False) as session:
        assert specs.current_version(session) == 2
        assert studio.content(session, FILE).decode() == relabelled
    history = client.get(f"/studio/files/{FILE}/history").get_data(as_text=True)
    assert "版本2" in history and "版本1" in history
    old = client.get(f"/studio/files/{FILE}/source?version=1&download=1")
    assert old.get_data(as_text=True) == WEB_CASE and "web_case.v1.bpmn" in old.headers["Content-Disposition"]


def test_an_upload_becomes_a_draft_and_a_hostile_one_changes_nothing(client, auth, app_settings):
    auth.login("designer")
    sent = post(client, "/studio/upload", {"file": (io.BytesIO(WEB_CASE.encode()), FILE)},
                content_type="multipart/form-data")
    assert sent.headers["Location"] == f"/studio/files/{FILE}"
    bad = post(client, "/studio/upload", {"file": (io.BytesIO(b"<html>no</html>"), "other.bpmn")},
               content_type="multipart/form-data")
    assert "文件内容不是BPMN模型" in client.get(bad.headers["Location"]).get_data(as_text=True)
    with session_scope(app_settings, write=False) as session:
        assert [d.filename for d in studio.drafts_of(session)] == [FILE]


def test_only_designers_and_administrators_reach_the_studio(client, auth):
    auth.login("officer1")
    assert client.get("/studio/").status_code == 403
    assert _json(client, f"/studio/files/{FILE}/draft", {"xml": WEB_CASE}).status_code == 403


def test_a_dry_run_shows_the_path_and_stops_at_a_bad_value(client, auth, app_settings):
    auth.login("designer")
    scenario = {"data": {"matter_code": "MZ-CF-0001", "party_name": "某协会"},
                "steps": [{"task": "file_case", "data": FILING}, {"task": "approve_filing", "data": {"approved": "yes"}}]}
    run = _json(client, f"/studio/files/{FILE}/dryrun", {"xml": WEB_CASE, "process": PROCESS, "scenario": scenario})
    result = run.get_json()
    assert result["status"] == "waiting" and result["waiting"] == ["gather_evidence"]
    assert {"file_case", "approve_filing"} <= set(result["paths"][PROCESS]["done"])
    scenario["steps"][1]["data"] = {"approved": "perhaps"}
    failed = _json(client, f"/studio/files/{FILE}/dryrun",
                   {"xml": WEB_CASE, "process": PROCESS, "scenario": scenario}).get_json()
    assert failed["status"] == "failed" and failed["error"]["fields"]["approved"]
    with session_scope(app_settings, write=False) as session:
        assert session.scalar(select(func.count()).select_from(Instance)) == 0  # nothing was stored


def test_the_diff_names_what_the_editor_changed(client, auth):
    auth.login("designer")
    relabelled = WEB_CASE.replace('name="立案审批"', 'name="负责人立案审批"')
    found = _json(client, f"/studio/files/{FILE}/diff", {"xml": relabelled}).get_json()
    assert [(e["id"], e["status"]) for e in found["elements"]] == [("approve_filing", "changed")]


def test_cases_on_the_old_version_are_checked_and_migrated(client, auth, app_settings):
    case = start_case(app_settings)  # waits at the filing form on version 1
    with session_scope(app_settings) as session:
        deployment.deploy(session, {FILE: WEB_CASE.replace('name="立案审批"', 'name="负责人立案审批"').encode()},
                          "designer", "审批改名")
    auth.login("designer")
    page = client.get("/studio/migrations").get_data(as_text=True)
    assert "可以迁移" in page and f'value="{case.instance_id}:' in page
    seen = page.split(f'value="{case.instance_id}:')[1].split('"')[0]
    done = post(client, "/studio/migrations", {"case": f"{case.instance_id}:{seen}"})
    assert "已迁移1件案件" in client.get(done.headers["Location"]).get_data(as_text=True)
    again = post(client, "/studio/migrations", {"case": f"{case.instance_id}:{seen}"})  # the page was stale
    assert "已被他人同时修改" in client.get(again.headers["Location"]).get_data(as_text=True)
    with session_scope(app_settings, write=False) as session:
        assert session.get(Instance, case.instance_id).model_version == 2
