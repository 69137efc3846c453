"""The `sanxiang` command: the README's example works, bad input gets one clear line."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, update

from tests.conftest import BPMN_DIR, seed_people
from workflows.cli import main
from workflows.core.db import session_scope
from workflows.core.models import AuditEvent, Instance
from workflows.core.settings import load_settings

APPROVAL = str(BPMN_DIR / "approval.bpmn")


@pytest.fixture
def cli(tmp_path, database_url, frozen_clock, monkeypatch):
    monkeypatch.setenv("SANXIANG_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("SANXIANG_DATABASE_URL", database_url)
    runner = CliRunner()

    def run(*args, ok=True):
        result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
        assert (result.exit_code == 0) is ok, result.output
        return result

    run("init")
    with session_scope(load_settings()) as session:
        seed_people(session)
    return run


def test_readme_example_advances_a_case(cli):
    assert "deployed model set version 1" in cli("deploy", APPROVAL).output
    assert "unchanged" in cli("deploy", APPROVAL).output
    started = json.loads(cli("start", "approval", "--user", "zhang", "--data", '{"party_name": "某协会"}', "--json").output)
    assert started["case_no"] == "新民罚〔2026〕0001号"
    [task] = json.loads(cli("tasks", "--user", "zhang", "--json").output)
    assert task["name"] == "立案登记" and task["case_no"] == started["case_no"]
    cli("claim", task["task_id"], "--user", "zhang")
    bad = cli("complete", task["task_id"], "--user", "zhang", "--data", '{"fine": "x"}', ok=False)
    assert "party_name: 请填写当事人" in bad.output and "Traceback" not in bad.output
    done = json.loads(cli("complete", task["task_id"], "--user", "zhang", "--json", "--data",
                          json.dumps({"party_name": "某协会", "second_officer": "li"})).output)
    assert done["tasks"][0]["assignee"] == "li"
    assert "ok" in cli("verify").output
    assert "error: --data is not valid JSON" in cli("start", "approval", "--user", "zhang", "--data", "{", ok=False).output
    assert "does not exist" in cli("tasks", "--user", "nobody", ok=False).output


def test_users_add_and_holidays_import(cli, tmp_path):
    cli("users", "add", "officer9", "--name", "新人", "--unit", "social", "--role", "officer", "--password", "pass-1234")
    assert "roles: 没有这些角色：king" in cli("users", "add", "x", "--name", "某", "--unit", "social", "--role", "king",
                                             "--password", "pass-1234", ok=False).output
    csv = tmp_path / "h.csv"
    csv.write_text("date,kind,name\n2027-01-01,holiday,元旦\n2027-02-06,workday,春节调休\n", encoding="utf-8")
    assert "imported 2 days" in cli("holidays", "import", csv).output
    csv.write_text("date,kind,name\n2027-13-01,holiday,x\n", encoding="utf-8")
    assert "line 2" in cli("holidays", "import", csv, ok=False).output


def test_validate_names_each_problem_and_deploy_stores_nothing(cli):
    out = cli("validate", BPMN_DIR / "hostile", ok=False).output
    lines = [line for line in out.splitlines() if line.strip()]
    assert any(line.startswith("xxe.bpmn:") for line in lines)
    assert any(line.startswith("script_import_os.bpmn:") and "compute" in line for line in lines)
    assert "Traceback" not in out
    assert "ok" in cli("validate", APPROVAL).output
    cli("deploy", BPMN_DIR / "hostile" / "laughs.bpmn", ok=False)
    assert "deployed model set version 1" in cli("deploy", APPROVAL).output


def test_the_console_script_prints_no_traceback_for_a_hostile_file(tmp_path):
    exe = Path(sys.executable).parent / "sanxiang"
    result = subprocess.run([str(exe), "validate", str(BPMN_DIR / "hostile" / "random.bpmn")],
                            capture_output=True, text=True, env={"SANXIANG_INSTANCE_PATH": str(tmp_path), "PATH": ""})
    assert result.returncode == 1
    assert result.stderr.startswith("random.bpmn:1: -: not well-formed XML")
    assert "Traceback" not in result.stderr + result.stdout


def test_layout_writes_diagram_interchange_for_every_element(cli, tmp_path):
    copy = tmp_path / "approval.bpmn"
    copy.write_bytes((BPMN_DIR / "approval.bpmn").read_bytes())
    assert "laid out" in cli("layout", copy).output
    text = copy.read_text()
    for element in ("register", "compute", "confirm", "approve", "decide", "end_ok", "end_rejected", "f_yes"):
        assert f'bpmnElement="{element}"' in text
    assert "ok" in cli("validate", copy).output


def test_commands_other_than_serve_load_no_web_code():
    probe = ("import sys\nfrom workflows.cli import main\nsys.argv = ['sanxiang', 'worker', '--help']\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'webapp', 'wtforms')))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "Fire due timers" in loaded.stdout and loaded.stdout.strip().endswith("[]")


def test_the_refusals_of_the_engine_reach_the_command_line(cli):
    cli("deploy", APPROVAL)
    refused = cli("start", "approval", "--user", "wang", ok=False).output  # a unit head files no cases
    assert "王五不能发起“测试审批”：只有执法人员可以发起" in refused and "Traceback" not in refused
    expired = cli("start", "approval", "--user", "zhao", ok=False).output
    assert "没有当日有效的行政执法证件" in expired


def test_administration_from_the_command_line(cli):
    cli("deploy", APPROVAL)
    assert "issued JZ7001" in cli("credentials", "issue", "wang", "JZ7001", "--area", "新市区",
                                  "--from", "2026-01-01", "--to", "2028-12-31").output
    cli("users", "roles", "wang", "--role", "unit_head", "--role", "officer")
    assert json.loads(cli("start", "approval", "--user", "wang", "--data", '{"party_name": "某协会"}', "--json").output)
    assert "revoke: JZ7001" in cli("credentials", "revoke", "JZ7001", "--reason", "违规执法").output
    assert "没有当日有效的行政执法证件" in cli("start", "approval", "--user", "wang", ok=False).output
    refused = cli("settings", "deadline", "payment", "20", "days", "--basis", "", "--note", "调整", ok=False).output
    assert "basis: 请填写法律依据" in refused
    cli("settings", "deadline", "payment", "20", "days", "--basis", "行政处罚法第67条", "--note", "调整")
    listed = json.loads(cli("settings", "list", "--json").output)
    assert listed["deadlines"]["payment"][:2] == [20, "days"]
    assert "系统至少需要一名在职的系统管理员" in cli("users", "deactivate", "admin", "--reason", "x", ok=False).output
    bad_date = cli("users", "roles", "wang", "--role", "officer:2026-13-01:", ok=False).output
    assert "2026-13-01" in bad_date and "Traceback" not in bad_date


def test_verify_reports_as_json_writes_signed_checkpoints_and_catches_a_cut_log(cli):
    cli("deploy", APPROVAL)
    cli("start", "approval", "--user", "zhang", "--data", '{"party_name": "某协会"}')
    report = json.loads(cli("verify", "--json").output)
    assert report["ok"] is True and report["problems"] == [] and report["checkpoint"] is None
    assert report["checked"]["cases"] == 1 and len(report["key_id"]) == 16
    out = cli("verify", "--checkpoint").output
    assert "audit checkpoint #1" in out and "wrote to" in out
    statement = json.loads(out.strip().splitlines()[-1])
    assert statement["seq"] == 1 and statement["events"] == report["checked"]["events"] and statement["signature"]
    assert "the log extends checkpoint #1" in cli("verify").output
    with session_scope(load_settings()) as session:  # the case's last event deleted, its head moved back
        last = session.scalars(select(AuditEvent).where(AuditEvent.chain == "case:1")
                               .order_by(AuditEvent.seq.desc())).first()
        session.execute(delete(AuditEvent).where(AuditEvent.id == last.id))
        session.execute(update(Instance).values(audit_seq=last.seq - 1, audit_head=last.prev_hash))
    broken = json.loads(cli("verify", "--json", ok=False).output)
    assert broken["ok"] is False and broken["checkpoint"]["seq"] == 1
    assert any(p["kind"] == "audit" and p["subject"] == f"audit chain case:1 #{last.seq}"
               and "deleted from its end: checkpoint #1" in p["message"] for p in broken["problems"])
    text = cli("verify", "--checkpoint", ok=False).output
    assert f"BROKEN audit chain case:1 #{last.seq}: 1 event(s) deleted" in text and "wrote to" not in text
    assert len(load_settings().checkpoint_path.read_text().splitlines()) == 1  # nothing written over the cut
