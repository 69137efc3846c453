"""Case operations: start, complete, claim, reassign, suspend, resume, terminate, retry."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from sqlalchemy import func, select

from tests.conftest import bpmn
from workflows.domain import audit, cases, inbox, tasks
from workflows.core import clock, contract
from workflows.design import deployment
from workflows.engine import xmlsafe
from workflows.core.db import session_scope
from workflows.core.errors import (Conflict, CredentialRequired, FormInvalid, InstanceNotActive, NotAllowed,
                              TaskNotReady)
from workflows.core.models import AuditEvent, HumanTask, Instance
from workflows.domain.people import get_user
from workflows.engine.parsing import build_parser
from workflows.engine.runtime import load_workflow, script_engine

FILING = {"party_name": "某协会", "fine": "100.50", "divisor": "2", "second_officer": "li", "kind": "fine",
          "matter_code": "MZ-CF-0001", "violation_date": "2026-10-08"}


@pytest.fixture
def approval(db):
    deployment.deploy(db, {"approval.bpmn": bpmn("approval.bpmn")}, "designer")
    return db


def start(db, settings, who="zhang", **data):
    return cases.start(db, settings, get_user(db, who), "approval", data or {"party_name": "某协会"}).instance


def only_task(db, instance):
    [row] = cases.ready_tasks_of(db, instance.id)
    return row


def audit_count(db):
    return db.scalar(select(func.count()).select_from(AuditEvent))


def test_case_numbers_follow_the_pattern_and_restart_each_year(approval, settings, frozen_clock):
    numbers = [start(approval, settings).case_no for _ in range(3)]
    assert numbers == ["新民罚〔2026〕0001号", "新民罚〔2026〕0002号", "新民罚〔2026〕0003号"]
    frozen_clock.set(datetime(2027, 1, 1, 1, tzinfo=timezone.utc))
    assert start(approval, settings).case_no == "新民罚〔2027〕0001号"


def test_start_records_creation_on_system_and_case_chains(approval, settings):
    instance = start(approval, settings)
    actions = [(e.chain, e.action) for e in approval.scalars(select(AuditEvent).where(
        AuditEvent.instance_id == instance.id).order_by(AuditEvent.id))]
    assert actions == [("system", "case.create"), (f"case:{instance.id}", "case.start")]
    assert instance.unit_id == get_user(approval, "zhang").unit_id
    assert instance.party_name == "某协会" and instance.status == "running"


def test_first_task_goes_to_the_pool_of_the_cases_unit_with_its_due_time(approval, settings):
    instance = start(approval, settings)
    row = only_task(approval, instance)
    assert (row.name, row.name_en, row.role_id, row.assignee) == ("立案登记", "Register", "officer", None)
    assert row.unit_id == instance.unit_id
    # deadline('statement_defence', today()): 5 working days after Mon 2 Nov 2026, end of day in Shanghai
    assert row.due_at == datetime(2026, 11, 9, 15, 59, 59, tzinfo=timezone.utc)
    assert [r.task_id for r in inbox.pool_tasks(approval, get_user(approval, "li")).items] == [row.task_id]
    assert inbox.pool_tasks(approval, get_user(approval, "sun")).items == []  # other unit
    with pytest.raises(NotAllowed):
        tasks.complete_or_raise(approval, get_user(approval, "sun"), row.task_id, FILING)


def test_completing_validates_stores_audits_and_assigns_the_next_task(approval, settings):
    instance = start(approval, settings)
    row = only_task(approval, instance)
    outcome = tasks.complete_or_raise(approval, get_user(approval, "zhang"), row.task_id, FILING)
    [nxt] = outcome.next_tasks
    assert (nxt.name, nxt.assignee) == ("协办确认", "li")
    approval.refresh(row)
    assert (row.state, row.completed_by) == ("completed", "zhang")
    data = load_workflow(approval, instance).last_task.data
    assert data["fine"] == Decimal("100.50") and data["share"] == Decimal("50.25") and data["checked"] is True
    event = audit.events_of(approval, instance.id)[-1]
    assert (event.action, event.actor, event.task_id) == ("task.complete", "zhang", row.task_id)
    assert '"fine":"100.50"' in event.payload


def test_invalid_form_changes_nothing(approval, settings):
    instance = start(approval, settings)
    row = only_task(approval, instance)
    version, events = instance.lock_version, audit_count(approval)
    with pytest.raises(FormInvalid) as invalid:
        tasks.complete_or_raise(approval, get_user(approval, "zhang"), row.task_id,
                            {"fine": "99999", "second_officer": "zhao", "hack": "1"})
    assert invalid.value.errors == {
        "hack": ["表单中没有这个字段"], "party_name": ["请填写当事人"], "fine": ["罚款金额不能大于30000"],
        "second_officer": ["协办执法人员：赵六没有当日有效的行政执法证件"]}
    assert (instance.lock_version, audit_count(approval), row.state) == (version, events, "ready")


def test_assigned_task_belongs_to_its_assignee_who_still_needs_a_credential(approval, settings):
    instance = start(approval, settings)
    tasks.complete_or_raise(approval, get_user(approval, "zhang"), only_task(approval, instance).task_id, FILING)
    confirm = only_task(approval, instance)
    with pytest.raises(NotAllowed):
        tasks.complete_or_raise(approval, get_user(approval, "zhang"), confirm.task_id, {"confirmed": True})
    assert inbox.my_tasks(approval, get_user(approval, "li")).total == 1
    tasks.complete_or_raise(approval, get_user(approval, "li"), confirm.task_id, {"confirmed": "true"})
    assert only_task(approval, instance).role_id == "unit_head"


def test_officer_without_a_valid_credential_is_refused(approval, settings):
    instance = start(approval, settings)
    row = only_task(approval, instance)
    with pytest.raises(CredentialRequired, match="没有当日有效的行政执法证件"):
        tasks.complete_or_raise(approval, get_user(approval, "zhao"), row.task_id, FILING)
    with pytest.raises(CredentialRequired):
        tasks.claim(approval, get_user(approval, "zhao"), row.task_id)


def run_to_approval(db, settings):
    instance = start(db, settings)
    tasks.complete_or_raise(db, get_user(db, "zhang"), only_task(db, instance).task_id, FILING)
    tasks.complete_or_raise(db, get_user(db, "li"), only_task(db, instance).task_id, {"confirmed": True})
    return instance, only_task(db, instance)


@pytest.mark.parametrize("answer, end", [("yes", "end_ok"), ("no", "end_rejected")])
def test_gateway_takes_the_path_of_the_answer(approval, settings, answer, end):
    instance, row = run_to_approval(approval, settings)
    tasks.complete_or_raise(approval, get_user(approval, "wang"), row.task_id, {"approved": answer})
    assert instance.status == "completed"
    assert cases.path_of(approval, instance) == [
        "start", "register", "compute", "confirm", "approve", "decide", end]


def test_claim_unclaim_and_reassign(approval, settings):
    instance = start(approval, settings)
    row = only_task(approval, instance)
    zhang, li, wang = (get_user(approval, u) for u in ("zhang", "li", "wang"))
    tasks.claim(approval, zhang, row.task_id)
    assert row.assignee == "zhang" and inbox.pool_tasks(approval, li).total == 0
    with pytest.raises(Conflict):
        tasks.claim(approval, li, row.task_id)
    with pytest.raises(NotAllowed):
        tasks.release(approval, li, row.task_id)
    tasks.release(approval, zhang, row.task_id)
    assert row.assignee is None
    with pytest.raises(NotAllowed):
        tasks.reassign(approval, li, row.task_id, "zhang")
    with pytest.raises(CredentialRequired):
        tasks.reassign(approval, wang, row.task_id, "zhao")
    with pytest.raises(NotAllowed):
        tasks.reassign(approval, wang, row.task_id, "sun")  # other unit
    tasks.reassign(approval, wang, row.task_id, "li")
    assert row.assignee == "li"
    actions = [e.action for e in audit.events_of(approval, instance.id)]
    assert actions[-3:] == ["task.claim", "task.unclaim", "task.reassign"]


def test_suspend_resume_terminate_need_a_supervisor_and_a_reason(approval, settings):
    instance = start(approval, settings)
    row = only_task(approval, instance)
    zhang, wang, qian = (get_user(approval, u) for u in ("zhang", "wang", "qian"))
    with pytest.raises(NotAllowed):
        cases.suspend(approval, zhang, instance.id, "理由", "other")
    with pytest.raises(NotAllowed):
        cases.suspend(approval, qian, instance.id, "其他科室", "other")
    with pytest.raises(FormInvalid):
        cases.suspend(approval, wang, instance.id, " ", "other")
    with pytest.raises(FormInvalid) as no_ground:
        cases.suspend(approval, wang, instance.id, "当事人下落不明", "")
    assert no_ground.value.errors == {"ground": ["请选择中止的法定事由"]}
    cases.suspend(approval, wang, instance.id, "当事人下落不明", "party_incapacitated")
    with pytest.raises(InstanceNotActive):
        tasks.complete_or_raise(approval, zhang, row.task_id, FILING)
    assert inbox.pool_tasks(approval, zhang).total == 0
    cases.resume(approval, wang, instance.id, "已找到当事人")
    assert inbox.pool_tasks(approval, zhang).total == 1
    cases.terminate(approval, get_user(approval, "wu"), instance.id, "撤销立案")
    approval.refresh(row)
    assert (instance.status, instance.status_reason, row.state) == ("terminated", "撤销立案", "cancelled")
    actions = [e.action for e in audit.events_of(approval, instance.id)]
    assert actions[-3:] == ["case.suspend", "case.resume", "case.terminate"]


def test_script_error_keeps_the_submission_marks_error_and_retries_after_a_fix(approval, settings):
    instance = start(approval, settings)
    row = only_task(approval, instance)
    tasks.complete_or_raise(approval, get_user(approval, "zhang"), row.task_id, FILING | {"divisor": "0"})
    assert (instance.status, instance.error_task) == ("error", "compute")
    assert "DivisionByZero" in instance.error_message
    approval.refresh(row)
    assert row.state == "completed"  # what the user submitted is kept
    assert load_workflow(approval, instance).last_task.data["party_name"] == "某协会"
    with pytest.raises(NotAllowed):
        cases.retry(approval, get_user(approval, "zhang"), instance.id, {"divisor": 4})
    cases.retry(approval, get_user(approval, "admin"), instance.id, {"divisor": 4})
    assert instance.status == "running" and instance.error_message is None
    assert only_task(approval, instance).name == "协办确认"
    assert load_workflow(approval, instance).last_task.data["share"] == Decimal("25.125")


def test_hostile_script_reaching_the_runtime_is_still_refused_by_the_sandbox(approval):
    """Defence in depth: a diagram stored before a validator rule existed still never runs its attack."""
    text = bpmn("approval.bpmn").decode().replace(
        "share = Decimal(fine or 0) / (divisor if divisor is not None else 1)", "x = open('/etc/passwd')")
    parser = build_parser({"a.bpmn": xmlsafe.parse(text.encode())})
    workflow = BpmnWorkflow(parser.get_spec("approval"), script_engine=script_engine(approval))
    workflow.do_engine_steps()
    task = workflow.get_next_task(manual=True)
    task.run()
    with pytest.raises(WorkflowTaskException, match="not available in diagram code"):
        workflow.do_engine_steps()


def test_concurrent_completions_of_one_task_have_exactly_one_winner(approval, settings):
    instance = start(approval, settings)
    task_id, instance_id, version = only_task(approval, instance).task_id, instance.id, instance.lock_version
    approval.commit()

    def attempt(username):
        try:
            with session_scope(settings) as session:
                tasks.complete_or_raise(session, get_user(session, username), task_id, FILING)
            return "won"
        except (Conflict, TaskNotReady):
            return "lost"

    with clock.frozen(clock.now()), ThreadPoolExecutor(6) as pool:
        results = list(pool.map(attempt, ["zhang", "li"] * 3))
    assert sorted(results) == ["lost"] * 5 + ["won"]
    with session_scope(settings, write=False) as session:
        rows = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).all()
        assert sorted(r.state for r in rows) == ["completed", "ready"]
        assert session.get(Instance, instance_id).lock_version == version + 1
        completions = [e for e in audit.events_of(session, instance_id) if e.action == "task.complete"]
        assert len(completions) == 1 and audit.verify(session) == []


def test_an_officer_without_a_valid_credential_cannot_file_a_case(approval, settings):
    with pytest.raises(CredentialRequired):
        start(approval, settings, who="zhao")


def test_the_second_officer_must_belong_to_the_cases_unit(approval, settings):
    instance = start(approval, settings)
    with pytest.raises(FormInvalid) as invalid:
        tasks.complete_or_raise(approval, get_user(approval, "zhang"), only_task(approval, instance).task_id,
                            FILING | {"second_officer": "sun"})
    assert invalid.value.errors == {"second_officer": ["协办执法人员：孙七不属于本案承办科室"]}


def test_only_the_cases_own_unit_head_may_release_someone_elses_claim(approval, settings):
    instance = start(approval, settings)
    row = only_task(approval, instance)
    tasks.claim(approval, get_user(approval, "zhang"), row.task_id)
    with pytest.raises(NotAllowed):
        tasks.release(approval, get_user(approval, "qian"), row.task_id)  # another unit's head
    tasks.release(approval, get_user(approval, "wang"), row.task_id)
    assert row.assignee is None


def test_pre_disclosure_procedures_are_numbered_apart(approval, settings):
    first = start(approval, settings)
    matters = replace(settings, case_number_pattern="unused", matter_number_pattern="新民公〔{year}〕{seq:04d}号")
    assert matters.number_pattern(contract.number_series("pre_disclosure")) == "新民公〔{year}〕{seq:04d}号"
    assert matters.number_pattern(contract.number_series("enforcement_case")) == "unused"
    assert cases.next_case_no(approval, matters.number_pattern("matter")) == "新民公〔2026〕0001号"
    assert start(approval, settings).case_no == "新民罚〔2026〕0002号" != first.case_no
