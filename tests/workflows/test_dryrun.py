"""Dry runs play a scenario on a draft model set in memory: the engine, sandbox and form rules of a
live case, nothing written."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select

from tests.conftest import BPMN_DIR, bpmn
from workflows.core.models import AuditEvent, CaseCounter, Disclosure, Evidence, HumanTask, Instance, ModelSet
from workflows.design import dryrun
from workflows.engine.parsing import BPMN

MODELS = Path(__file__).resolve().parents[2] / "bpmn"
# The filing stage by task ids (the elements keep their ids whichever process holds them).
FILING = ["file_case", "init_case", "confirm_participation", "build_officers", "approve_filing_unit",
          "approve_filing_agency", "open_case"]


def models() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in MODELS.iterdir() if p.suffix in (".bpmn", ".dmn")}


def flows_of(files: dict[str, bytes]) -> dict[str, dict[str, tuple[str, str]]]:
    """Process id: flow id: (source, target), read off the files."""
    out = {}
    for content in files.values():
        for process in etree.fromstring(content).iter(BPMN + "process"):
            out[process.get("id")] = {f.get("id"): (f.get("sourceRef"), f.get("targetRef"))
                                      for f in process.iter(BPMN + "sequenceFlow")}
    return out


def holder(result, element: str) -> str:
    """The process whose path holds ``element``."""
    [process] = [p for p, path in result.paths.items() if element in path.done + path.current]
    return process


def passed(step) -> list[str]:
    return [e for ids in step.passed.values() for e in ids]


def assert_path_follows_the_flows(result, files: dict[str, bytes]) -> None:
    """Every flow marked taken leaves a done element for a done or current one of its process."""
    flows = flows_of(files)
    for process, path in result.paths.items():
        for flow in path.flows:
            source, target = flows[process][flow]
            assert source in path.done and target in path.done + path.current + [path.failed], (process, flow)


@pytest.fixture
def scenarios():
    return dryrun.list_scenarios()


@pytest.fixture
def filing(scenarios):
    return copy.deepcopy(scenarios["filing"])


def step(scenario: dict, task: str) -> dict:
    return next(s for s in scenario["steps"] if s["task"] == task)


def variant(name: str, old: str, new: str) -> bytes:
    text = bpmn(name).decode()
    assert old in text, old
    return text.replace(old, new).encode()


def approval_scenario(**register) -> dict:
    return {"data": {}, "steps": [
        {"task": "register", "data": {"party_name": "某协会", "fine": "300", "divisor": "3"} | register},
        {"task": "confirm", "data": {"confirmed": True}},
        {"task": "approve", "as": "unit_head", "data": {"approved": "yes"}},
    ]}


# --- the example scenarios ------------------------------------------------------------------------

def test_scenarios_are_listed_by_name_with_process_and_title(scenarios):
    assert {"filing", "warning_penalty", "pre_disclosure"} <= set(scenarios)
    for scenario in scenarios.values():
        assert scenario["process"] and scenario["title"] and scenario["steps"]
        assert all(isinstance(s["task"], str) for s in scenario["steps"])


def test_filing_scenario_runs_to_the_approval_and_marks_the_path(db, filing):
    files = models()
    result = dryrun.run(db, files, "enforcement_case", filing)

    assert (result.status, result.waiting, result.error) == ("waiting", ["onsite_inspection"], None)
    stage = result.paths[holder(result, "file_case")]
    assert [e for e in stage.done if e in FILING] == FILING and stage.failed is None
    assert result.paths[holder(result, "onsite_inspection")].current[-1] == "onsite_inspection"
    assert "record_not_filed" not in stage.done  # the branch not taken
    assert "flow_file_case_to_init_case" in stage.flows and "flow_gw_limitation_to_record_not_filed" not in stage.flows
    assert_path_follows_the_flows(result, files)

    start, *steps = result.steps
    assert (start.kind, start.task, start.index) == ("start", "start_case", None)
    assert "start_case" in passed(start) and [t.task for t in start.ready] == ["file_case"]
    assert [(s.index, s.task, s.role, s.name, s.lane) for s in steps] == [
        (0, "file_case", "officer", "立案登记", "执法人员"),
        (1, "confirm_participation", "officer", "确认参与调查", "执法人员"),
        (2, "approve_filing_unit", "unit_head", "立案审核", "承办机构负责人"),
        (3, "approve_filing_agency", "agency_head", "立案审批", "机关负责人")]
    assert passed(steps[0])[:2] == ["file_case", "init_case"] and "gw_limitation" in passed(steps[0])
    assert steps[0].flows[holder(result, "file_case")][0] == "flow_file_case_to_init_case"
    assert [t.task for t in steps[0].ready] == ["confirm_participation"]
    assert passed(steps[3])[0] == "approve_filing_agency" and "open_case" in passed(steps[3])
    assert [t.task for t in steps[3].ready] == ["onsite_inspection"]

    # the people of the database: the second officer is picked by role and gets the next task
    lead, second = steps[0].user, steps[0].data["second_officer"]
    assert {lead, second} == {"zhang", "li"}
    assert steps[0].ready[0].assignee == second and steps[1].user == second
    assert (steps[2].user, steps[3].user) == ("wang", "wu")
    # the sandbox ran with the deadline settings and the engine clock; values come back JSON-friendly
    assert steps[0].values["violation_date"] == "2026-10-13"
    assert result.data["limitation_expires"] == "2028-10-13" and result.data["filing_date"] == "2026-11-02"
    assert result.data["officers"] == [lead, second] and result.data["case_status"] == "filed"
    assert json.loads(json.dumps(result.to_dict(), ensure_ascii=False))["waiting"] == ["onsite_inspection"]


def test_the_simple_penalty_case_runs_to_closure_through_the_parallel_split(db, scenarios):
    files = models()
    result = dryrun.run(db, files, "enforcement_case", scenarios["warning_penalty"])

    assert (result.status, result.waiting, result.error) == ("completed", [], None)
    assert all(path.current == [] for path in result.paths.values())
    done = [e for path in result.paths.values() for e in path.done]
    assert set(FILING) | {"serve_decision", "publish_decision", "write_disclosure", "close_case"} <= set(done)
    assert "legal_review" not in done and "collective_discussion" not in done
    joins = [(p, f) for p, flows in flows_of(files).items() for f, (_, target) in flows.items()
             if target == "join_service_disclosure"]
    assert len(joins) == 2 and all(f in result.paths[p].flows for p, f in joins)  # both branches into the join
    assert_path_follows_the_flows(result, files)
    assert result.data["case_status"] == "closed" and result.data["decision_kind"] == "penalty"
    publish = next(s for s in result.steps if s.task == "publish_decision")
    assert "write_disclosure" in passed(publish)
    assert any("公开记录" in note for note in publish.notes)  # it would write one; a dry run does not


def test_pre_disclosure_waits_for_its_annual_review_timer_which_never_fires(db, scenarios):
    result = dryrun.run(db, models(), "pre_disclosure", scenarios["pre_disclosure"])

    assert (result.status, result.waiting, result.error) == ("waiting", [], None)
    assert result.paths["pre_disclosure"].current == ["annual_review"]
    [event] = result.waiting_events
    assert (event.element, event.kind, event.due) == ("annual_review", "timer", "2027-11-02T23:59:59+08:00")
    assert any("计时器不会触发" in note for note in result.notes)


def test_a_timer_already_due_is_held_not_fired(db):
    past = variant("timers.bpmn", '<bpmn:timeDuration>"P1D"</bpmn:timeDuration>',
                   '<bpmn:timeDate>"2020-01-01T00:00:00+08:00"</bpmn:timeDate>')
    result = dryrun.run(db, {"timers.bpmn": past}, "timed", {"data": {}, "steps": []})

    assert (result.status, result.waiting) == ("waiting", [])
    assert [(e.element, e.kind, e.due) for e in result.waiting_events] == [
        ("wait_a_day", "timer", "2020-01-01T00:00:00+08:00")]
    assert result.paths["timed"].done == ["start"] and result.paths["timed"].current == ["wait_a_day"]


def test_tasks_of_called_processes_are_found_and_marked_on_their_own_diagram(db):
    files = {name: bpmn(name) for name in ("caller.bpmn", "sub_review.bpmn", "grade.dmn")}
    scenario = {"data": {"fine": 20000}, "steps": [{"task": "check", "as": "法制审核人员", "data": {"opinion": "同意。"}}]}
    result = dryrun.run(db, files, "caller", scenario)

    assert (result.status, result.error) == ("completed", None)
    assert result.steps[0].passed == {"caller": ["start", "grade"], "sub_review": ["s"]}
    assert [t.process for t in result.steps[0].ready] == ["sub_review"]
    check = result.steps[1]
    assert (check.task, check.process, check.role) == ("check", "sub_review", "legal_reviewer")
    assert check.passed == {"sub_review": ["check", "e"], "caller": ["review", "end"]}
    assert result.paths["sub_review"].flows == ["a", "b"]
    assert result.paths["caller"].flows == ["f1", "f2", "f3"]
    assert result.data["major"] is True and result.data["opinion"] == "同意。"


# --- where a run stops -----------------------------------------------------------------------------

def test_a_bad_form_value_fails_at_the_task_with_the_field_message(db, filing):
    step(filing, "file_case")["data"] |= {"violation_date": "2026-13-45", "party_name": ""}
    result = dryrun.run(db, models(), "enforcement_case", filing)

    assert result.status == "failed" and result.waiting == []
    error = result.error
    assert (error.kind, error.element, error.step) == ("form", "file_case", 0)
    assert error.process == holder(result, "file_case")
    assert error.fields == {"violation_date": ["违法行为发生日期的格式不正确"], "party_name": ["请填写当事人姓名或名称"]}
    assert "立案登记" in error.message
    assert [s.kind for s in result.steps] == ["start"]
    assert "file_case" in result.paths[error.process].current


def test_form_rules_read_the_people_of_the_database_as_staff_meet_them(db, filing):
    step(filing, "file_case")["data"]["second_officer"] = "zhao"
    result = dryrun.run(db, models(), "enforcement_case", filing)
    assert result.error.fields == {"second_officer": ["第二名执法人员：赵六没有当日有效的行政执法证件"]}


def test_a_failing_script_names_its_element(db):
    result = dryrun.run(db, {"approval.bpmn": bpmn("approval.bpmn")}, "approval", approval_scenario(divisor="0"))

    assert result.status == "failed"
    assert (result.error.kind, result.error.element, result.error.step) == ("engine", "compute", 0)
    assert "DivisionByZero" in result.error.message
    path = result.paths["approval"]
    assert (path.done, path.failed, path.current) == (["start", "register"], "compute", [])
    assert result.steps[-1].task == "register" and result.steps[-1].flows == {"approval": ["f2"]}


def test_a_failing_decision_table_names_its_business_rule_task(db):
    files = {name: bpmn(name) for name in ("caller.bpmn", "sub_review.bpmn", "grade.dmn")}
    result = dryrun.run(db, files, "caller", {"data": {"fine": "20000"}, "steps": []})  # text, not a number

    assert (result.error.kind, result.error.element, result.error.process, result.error.step) == (
        "engine", "grade", "caller", None)
    assert "Rule failed on row 1" in result.error.message
    assert result.paths["caller"].failed == "grade"


def test_a_broken_gateway_condition_names_the_gateway(db):
    broken = variant("approval.bpmn", 'approved == "yes"', 'approved == yes')
    result = dryrun.run(db, {"approval.bpmn": broken}, "approval", approval_scenario())

    assert (result.error.kind, result.error.element, result.error.step) == ("engine", "decide", 2)
    assert "yes" in result.error.message
    assert result.paths["approval"].failed == "decide"
    assert result.paths["approval"].done[-1] == "approve"


def test_a_step_for_a_task_that_is_not_ready_says_which_are(db, filing):
    filing["steps"].insert(1, {"task": "approve_filing_unit", "data": {}})
    result = dryrun.run(db, models(), "enforcement_case", filing)

    error = result.error
    assert (error.kind, error.element, error.step, error.ready) == (
        "not_ready", "approve_filing_unit", 1, ["confirm_participation"])
    assert "confirm_participation" in error.message
    assert [s.task for s in result.steps] == ["start_case", "file_case"]


def test_a_step_in_another_roles_lane_is_refused(db, filing):
    step(filing, "approve_filing_unit")["as"] = "agency_head"
    result = dryrun.run(db, models(), "enforcement_case", filing)
    assert (result.error.kind, result.error.element) == ("role", "approve_filing_unit")
    assert "承办机构负责人" in result.error.message


def test_the_person_named_for_a_step_must_be_one_who_may_do_it(db, filing):
    filing["starter"] = "zhang"  # the filer, whose second officer is li
    step(filing, "file_case")["user"] = "zhang"
    step(filing, "file_case")["data"]["second_officer"] = "li"
    step(filing, "confirm_participation")["user"] = "zhang"  # the task is assigned to li
    result = dryrun.run(db, models(), "enforcement_case", filing)
    assert (result.error.kind, result.error.element, result.error.step) == ("access", "confirm_participation", 1)
    assert "li" in result.error.message

    step(filing, "confirm_participation")["user"] = "li"
    step(filing, "approve_filing_unit")["user"] = "qian"  # the unit head of another unit
    result = dryrun.run(db, models(), "enforcement_case", filing)
    assert (result.error.kind, result.error.element) == ("access", "approve_filing_unit")

    step(filing, "approve_filing_unit")["user"] = "wang"
    assert dryrun.run(db, models(), "enforcement_case", filing).status == "waiting"


SPIN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://t">
  <bpmn:process id="spin" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="count" />
    <bpmn:scriptTask id="count"><bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="count" targetRef="again" />
    <bpmn:exclusiveGateway id="again" default="f3" />
    <bpmn:sequenceFlow id="f3" sourceRef="again" targetRef="count" />
  </bpmn:process>
</bpmn:definitions>"""


def test_a_loop_with_no_person_in_it_is_stopped(db):
    result = dryrun.run(db, {"spin.bpmn": SPIN}, "spin", {"data": {"n": 0}, "steps": []})
    assert (result.status, result.error.kind, result.error.process) == ("failed", "engine", "spin")
    assert result.error.element in ("count", "again") and "循环" in result.error.message


def test_a_model_that_does_not_parse_or_lacks_the_process_fails_cleanly(db, filing):
    hostile = (BPMN_DIR / "hostile" / "xxe.bpmn").read_bytes()
    result = dryrun.run(db, {"xxe.bpmn": hostile}, "x", filing)
    assert (result.status, result.error.kind) == ("failed", "model")
    assert "DTDs and entities are not allowed" in result.error.message and "root:" not in result.error.message
    assert dryrun.run(db, models(), "no_such_process", filing).error.kind == "model"
    assert dryrun.run(db, models(), "enforcement_case", {"steps": [{"data": {}}]}).error.kind == "scenario"


# --- nothing is written ----------------------------------------------------------------------------

def test_nothing_is_persisted(db, scenarios):
    tables = (Instance, HumanTask, AuditEvent, Disclosure, Evidence, CaseCounter, ModelSet)

    def counts():
        return {t.__tablename__: db.scalar(select(func.count()).select_from(t)) for t in tables}

    db.commit()
    before = counts()
    for name, scenario in scenarios.items():
        result = dryrun.run(db, models(), scenario["process"], scenario)
        assert result.error is None, (name, result.error)
    assert not db.new and not db.dirty and not db.deleted
    db.commit()
    assert counts() == before
