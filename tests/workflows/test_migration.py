"""Moving running cases to a newer model-set version: what may move, what may not and why, and a
moved case going on along the new version's path."""
from __future__ import annotations

import json
from datetime import timedelta
from uuid import uuid4

import pytest
from click.testing import CliRunner
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select

from tests.conftest import BPMN_DIR, bpmn, seed_people
from tests.models.conftest import MODELS, bureau  # noqa: F401  (the real models' fixture)
from workflows.cli import main
from workflows.core.db import session_scope
from workflows.core.errors import Conflict, InstanceNotActive, NotAllowed
from workflows.core.models import AuditEvent, HumanTask, Instance, TaskDraft
from workflows.core.settings import load_settings
from workflows.design import deployment, migration
from workflows.design.migration import CannotMigrate
from workflows.domain import audit, cases, policy, tasks
from workflows.domain.people import get_user
from workflows.engine.runtime import load_workflow, today


def deploy(db, **files: str) -> int:
    """Deploy ``{deployed file name: file of tests/bpmn/migration}``; return the version."""
    return deployment.deploy(db, {name: bpmn(f"migration/{source}") for name, source in files.items()},
                             "designer").version


def user(db, username):
    return get_user(db, username)


def start(db, settings, process="mig", who="zhang"):
    return cases.start(db, settings, user(db, who), process, {}).instance


def ready(db, instance) -> list[HumanTask]:
    return cases.ready_tasks_of(db, instance.id)


def row_of(db, instance, spec_id) -> HumanTask:
    [row] = [r for r in ready(db, instance) if r.spec_id == spec_id]
    return row


def complete(db, instance, spec_id, who, **data):
    return tasks.complete_or_raise(db, user(db, who), row_of(db, instance, spec_id).task_id, data)


def events(db, action, chain=None):
    query = select(AuditEvent).where(AuditEvent.action == action)
    if chain is not None:
        query = query.where(AuditEvent.chain == chain)
    return list(db.scalars(query.order_by(AuditEvent.id)))


@pytest.fixture
def waiting_at_approval(db, settings):
    """Version 1 of ``mig`` deployed; a case registered and waiting for the unit head's approval,
    which 王五 has claimed."""
    deploy(db, **{"mig.bpmn": "mig_v1.bpmn"})
    instance = start(db, settings)
    complete(db, instance, "register", "zhang", party_name="某协会", register_date=today())
    tasks.claim(db, user(db, "wang"), row_of(db, instance, "approve").task_id)
    db.commit()
    return instance


# --- a case that can move ------------------------------------------------------------------------

def test_a_case_waiting_at_a_changed_task_moves_and_goes_on_along_the_new_path(db, settings, waiting_at_approval):
    instance = waiting_at_approval
    approve = row_of(db, instance, "approve")
    due = instance.next_timer_at
    # The approval deadline was set when the case reached it: a later change of the setting is not
    # applied to it by the move (SpiffWorkflow would evaluate the timer again).
    policy.change_deadline(db, user(db, "admin"), "statement_defence", 15, "working_days", "民政部令第68号第23条",
                           "试行延长。")
    assert deploy(db, **{"mig.bpmn": "mig_v2.bpmn"}) == 2
    db.commit()

    check = migration.check(db, user(db, "designer"), instance.id)
    assert check.can_migrate and (check.from_version, check.to_version) == (1, 2) and not check.blockers
    changes = {(c.element_id, c.kind): c for c in check.changes}
    assert set(changes) == {("approve", "changed"), ("notify", "added"), ("end", "changed")}
    assert {"bpmn_name", "form"} <= set(changes["approve", "changed"].attributes)
    assert str(changes["approve", "changed"].summary).startswith("迁移测试：修改用户任务“审批（修订）”（approve）的")
    assert "名称" in changes["approve", "changed"].what and "表单" in changes["approve", "changed"].what
    assert str(changes["notify", "added"].summary) == "迁移测试：新增用户任务“告知当事人”（notify）"

    db.commit()
    with session_scope(settings) as unit:  # a unit of work of its own, as a request or the command is
        moved = migration.migrate(unit, user(unit, "designer"), instance.id, check.case_version)
        moved_ids = [r.task_id for r in moved.tasks]
    db.expire_all()
    assert instance.model_version == 2 and instance.status == "running"
    assert instance.next_timer_at == due
    [row] = ready(db, instance)
    assert moved_ids == [row.task_id] and moved.renamed_tasks == {}
    assert (row.task_id, row.id, row.assignee, row.created_at) == (approve.task_id, approve.id, "wang",
                                                                   approve.created_at)
    assert (row.name, row.name_en, row.role_id, row.unit_id) == ("审批（修订）", "Approve (revised)", "unit_head",
                                                                 instance.unit_id)
    assert [f.id for f in tasks.form_of(db, row)] == ["approved", "approve_comment"]  # the new version's form

    complete(db, instance, "approve", "wang", approved=True, approve_comment="同意。")
    assert [r.spec_id for r in ready(db, instance)] == ["notify"]  # the task version 2 added
    complete(db, instance, "notify", "zhang", notified=True)
    assert instance.status == "completed"
    assert cases.path_of(db, instance) == ["start", "register", "approve", "notify", "end"]
    assert load_workflow(db, instance).get_next_task(spec_name="approve").data["approve_comment"] == "同意。"


def test_a_moved_case_keeps_its_deadline_path(db, settings, waiting_at_approval, frozen_clock):
    instance = waiting_at_approval
    deploy(db, **{"mig.bpmn": "mig_v2.bpmn"})
    migration.migrate(db, "cli:operator", instance.id, instance.lock_version)
    db.commit()
    frozen_clock.set(instance.next_timer_at + timedelta(seconds=1))
    cases.fire_timers(db, instance)
    assert instance.status == "completed" and ready(db, instance) == []
    assert cases.path_of(db, instance)[-2:] == ["mark_late", "end_late"]


def test_migration_is_recorded_on_the_case_and_system_chains(db, waiting_at_approval):
    instance = waiting_at_approval
    deploy(db, **{"mig.bpmn": "mig_v2.bpmn"})
    migration.migrate(db, user(db, "admin"), instance.id, instance.lock_version, to_version=2)
    db.commit()
    [on_case] = events(db, "case.migrate", audit.case_chain(instance.id))
    [on_system] = events(db, "case.migrate", audit.SYSTEM)
    assert on_case.actor == on_system.actor == "admin"
    assert json.loads(on_case.payload) == {"from_version": 1, "to_version": 2}
    assert json.loads(on_system.payload) == {"case_no": instance.case_no, "process": "mig", "from_version": 1,
                                             "to_version": 2}
    assert on_system.instance_id == instance.id
    assert audit.verify(db) == []


def test_a_case_waiting_earlier_moves_past_a_removed_task(db, settings):
    deploy(db, **{"mig.bpmn": "mig_v1.bpmn"})
    instance = start(db, settings)
    deploy(db, **{"mig.bpmn": "mig_removed.bpmn"})
    check = migration.check(db, "cli:operator", instance.id)
    assert check.can_migrate
    assert ("approve", "removed") in {(c.element_id, c.kind) for c in check.changes}
    migration.migrate(db, "cli:operator", instance.id, check.case_version)
    complete(db, instance, "register", "zhang", party_name="某协会", register_date=today())
    assert instance.status == "completed" and cases.path_of(db, instance) == ["start", "register", "end"]


def test_history_of_a_removed_element_stays_in_the_path(db, waiting_at_approval):
    instance = waiting_at_approval
    deploy(db, **{"mig.bpmn": "mig_unregistered.bpmn"})
    check = migration.check(db, user(db, "designer"), instance.id)
    assert check.can_migrate and ("register", "removed") in {(c.element_id, c.kind) for c in check.changes}
    migration.migrate(db, user(db, "designer"), instance.id, check.case_version)
    assert "register" not in [t.task_spec.name for t in load_workflow(db, instance).get_tasks()]
    assert cases.path_of(db, instance) == ["start", "register"]
    complete(db, instance, "approve", "wang", approved=True)
    assert instance.status == "completed" and cases.path_of(db, instance) == ["start", "register", "approve", "end"]


# --- a case that cannot move ---------------------------------------------------------------------

@pytest.mark.parametrize("version, code, reason", [
    ("mig_removed.bpmn", "removed", "迁移测试中待办理的环节“审批”（approve）在第2版中已不存在"),
    ("mig_moved.bpmn", "lane",
     "迁移测试中待办理的环节“审批”（approve）在第2版中改由“执法人员”办理（原为“承办机构负责人”）"),
    ("mig_retyped.bpmn", "type", "迁移测试中待办理的环节“审批”（approve）在第2版中类型已改变（用户任务→脚本任务）"),
    ("mig_plain.bpmn", "boundary",
     "迁移测试中待办理的环节“审批”（approve）在第2版中的边界事件已改变：已在等待的环节不能挂上或摘下边界事件"),
])
def test_a_case_whose_waiting_task_was_removed_moved_or_retyped_is_refused(db, waiting_at_approval, version, code,
                                                                          reason):
    instance = waiting_at_approval
    deploy(db, **{"mig.bpmn": version})
    state, lock = instance.state, instance.lock_version
    rows = [(r.task_id, r.name, r.assignee) for r in ready(db, instance)]

    check = migration.check(db, user(db, "designer"), instance.id)
    assert not check.can_migrate
    blocker = next(b for b in check.blockers if b.element_id == "approve")
    assert (blocker.process_id, blocker.name, blocker.code, str(blocker.reason)) == ("mig", "审批", code, reason)
    assert reason in check.reasons
    if code == "removed":  # the deadline waiting on the removed task goes with it
        assert "迁移测试中正在等待的环节“审批期限届满”（approve_late）在第2版中已不存在" in check.reasons

    with pytest.raises(CannotMigrate) as refused:
        migration.migrate(db, user(db, "designer"), instance.id, check.case_version)
    assert reason in str(refused.value) and refused.value.check == check
    db.rollback()
    db.expire_all()
    assert (instance.model_version, instance.lock_version, instance.state) == (1, lock, state)
    assert [(r.task_id, r.name, r.assignee) for r in ready(db, instance)] == rows
    assert events(db, "case.migrate") == []


def test_a_waiting_task_that_gains_a_boundary_event_is_refused(db, settings):
    """SpiffWorkflow would move it, and fail when the task is done: the join of its boundary events
    looks for a split the case never passed."""
    deploy(db, **{"mig.bpmn": "mig_plain.bpmn"})
    instance = start(db, settings)
    complete(db, instance, "register", "zhang", party_name="某协会", register_date=today())
    deploy(db, **{"mig.bpmn": "mig_v1.bpmn"})
    check = migration.check(db, user(db, "designer"), instance.id)
    assert [(b.element_id, b.code) for b in check.blockers] == [("approve", "boundary")]


def test_a_case_changed_meanwhile_is_refused(db, settings, waiting_at_approval):
    instance = waiting_at_approval
    deploy(db, **{"mig.bpmn": "mig_v2.bpmn"})
    seen = migration.check(db, user(db, "designer"), instance.id)
    tasks.release(db, user(db, "wang"), row_of(db, instance, "approve").task_id)  # someone acts on the case
    db.commit()
    with pytest.raises(Conflict, match="案件已被他人同时修改"):
        migration.migrate(db, user(db, "designer"), instance.id, seen.case_version)
    db.rollback()
    assert instance.model_version == 1 and events(db, "case.migrate") == []

    fresh = migration.check(db, user(db, "designer"), instance.id)
    migration.migrate(db, user(db, "designer"), instance.id, fresh.case_version)
    db.commit()
    with pytest.raises(Conflict):  # moved by someone else with the same page open
        migration.migrate(db, user(db, "designer"), instance.id, fresh.case_version)


def test_a_case_that_is_not_running_or_already_moved_is_refused(db, settings, waiting_at_approval):
    instance = waiting_at_approval
    with pytest.raises(CannotMigrate, match="已在第1版上运行"):
        migration.migrate(db, user(db, "designer"), instance.id, instance.lock_version)
    deploy(db, **{"mig.bpmn": "mig_v2.bpmn"})
    cases.terminate(db, user(db, "wang"), instance.id, "当事人已注销。")
    assert not migration.check(db, user(db, "designer"), instance.id).can_migrate
    with pytest.raises(InstanceNotActive):
        migration.migrate(db, user(db, "designer"), instance.id, instance.lock_version)


def test_a_suspended_case_moves_and_its_timers_wait_for_its_resumption(db, settings, waiting_at_approval,
                                                                       frozen_clock):
    instance = waiting_at_approval
    cases.suspend(db, user(db, "wang"), instance.id, "等待鉴定结论。", "expert_opinion")
    due = instance.next_timer_at
    frozen_clock.set(due + timedelta(days=1))  # the deadline passes while the case is suspended
    deploy(db, **{"mig.bpmn": "mig_v2.bpmn"})
    migration.migrate(db, user(db, "designer"), instance.id, instance.lock_version)
    assert (instance.status, instance.model_version, instance.next_timer_at) == ("suspended", 2, due)
    assert row_of(db, instance, "approve").name == "审批（修订）"
    cases.resume(db, user(db, "wang"), instance.id, "鉴定结论已出具。")
    cases.fire_timers(db, instance)
    assert instance.status == "completed" and cases.path_of(db, instance)[-2:] == ["mark_late", "end_late"]


# --- called processes ----------------------------------------------------------------------------

@pytest.fixture
def waiting_in_review(db, settings):
    """Version 1: a case whose called review process waits for 周九's opinion (claimed)."""
    deploy(db, **{"mig_caller.bpmn": "mig_caller.bpmn", "mig_sub.bpmn": "mig_sub_v1.bpmn"})
    instance = start(db, settings, "mig_caller")
    tasks.claim(db, user(db, "zhou"), row_of(db, instance, "check").task_id)
    db.commit()
    return instance


def test_a_case_waiting_inside_a_called_process_moves(db, waiting_in_review):
    instance = waiting_in_review
    before = row_of(db, instance, "check")
    deploy(db, **{"mig_caller.bpmn": "mig_caller_v2.bpmn", "mig_sub.bpmn": "mig_sub_v2.bpmn"})
    check = migration.check(db, user(db, "designer"), instance.id)
    assert check.can_migrate
    changes = {(c.process_id, c.element_id, c.kind) for c in check.changes}
    assert {("mig_sub", "check", "changed"), ("mig_sub", "countersign", "added"),
            ("mig_caller", "notify_party", "added")} <= changes

    migration.migrate(db, user(db, "designer"), instance.id, check.case_version)
    row = row_of(db, instance, "check")
    assert (row.task_id, row.process_id, row.name, row.assignee) == (before.task_id, "mig_sub", "出具审核意见", "zhou")
    complete(db, instance, "check", "zhou", opinion="同意。")
    complete(db, instance, "countersign", "zhou", countersigned=True)  # added inside the called process
    complete(db, instance, "notify_party", "zhang", notified=True)  # added after the call, in the caller
    complete(db, instance, "close", "zhang", closed=True)
    assert instance.status == "completed"
    assert cases.path_of(db, instance) == ["start", "s", "check", "countersign", "e", "review", "notify_party",
                                           "close", "end"]


def test_a_case_waiting_inside_a_called_process_at_a_replaced_task_is_refused(db, waiting_in_review):
    instance = waiting_in_review
    deploy(db, **{"mig_sub.bpmn": "mig_sub_replaced.bpmn"})
    check = migration.check(db, user(db, "designer"), instance.id)
    # SpiffWorkflow's diff would align check with check_v3 by its place in the flow; a task someone
    # waits at is matched by id only.
    assert [str(r) for r in check.reasons] == ["迁移审核子流程中待办理的环节“审核意见”（check）在第2版中已不存在"]
    assert [(b.process_id, b.element_id) for b in check.blockers] == [("mig_sub", "check")]
    with pytest.raises(CannotMigrate):
        migration.migrate(db, user(db, "designer"), instance.id, check.case_version)


# --- everyone's cases, access, the command -------------------------------------------------------

def test_check_all_compares_each_version_once_and_reads_states_only_when_needed(db, settings, monkeypatch):
    deploy(db, **{"mig.bpmn": "mig_v1.bpmn"})
    at_register = start(db, settings)
    at_approval = start(db, settings)
    complete(db, at_approval, "register", "zhang", party_name="某协会", register_date=today())
    done = start(db, settings)
    cases.terminate(db, user(db, "wang"), done.id, "撤回。")
    reads = []
    flows = migration._flows
    monkeypatch.setattr(migration, "_flows", lambda state: reads.append(state) or flows(state))

    deploy(db, **{"mig.bpmn": "mig_v2.bpmn"})
    checks = migration.check_all(db, user(db, "designer"))
    assert [(c.instance_id, c.can_migrate) for c in checks] == [(at_register.id, True), (at_approval.id, True)]
    assert reads == []  # nothing version 2 changed could stop a case: no state read

    deploy(db, **{"mig.bpmn": "mig_removed.bpmn"})
    checks = migration.check_all(db, user(db, "designer"))
    assert [(c.instance_id, c.can_migrate) for c in checks] == [(at_register.id, True), (at_approval.id, False)]
    assert len(reads) == 2
    migration.migrate(db, user(db, "designer"), at_register.id, checks[0].case_version)
    assert [c.instance_id for c in migration.check_all(db, user(db, "designer"))] == [at_approval.id]
    assert [c.to_version for c in migration.check_all(db, user(db, "designer"), to_version=2)] == [2]


def test_only_designers_and_administrators_check_and_migrate(db, waiting_at_approval):
    instance = waiting_at_approval
    deploy(db, **{"mig.bpmn": "mig_v2.bpmn"})
    officer = user(db, "zhang")
    with pytest.raises(NotAllowed, match="只有流程设计人员或系统管理员可以办理"):
        migration.check(db, officer, instance.id)
    with pytest.raises(NotAllowed):
        migration.check_all(db, officer)
    with pytest.raises(NotAllowed):
        migration.migrate(db, officer, instance.id, instance.lock_version)
    with pytest.raises(NotAllowed):
        migration.migrate(db, user(db, "wang"), instance.id, instance.lock_version)
    assert instance.model_version == 1
    assert migration.check(db, user(db, "admin"), instance.id).can_migrate


def test_pairing_tasks_that_got_new_ids():
    assert migration.pair_tasks({"a": ("p", "x"), "b": ("p", "y"), "c": ("p", "z"), "f": ("p", "y")},
                                {"a": ("p", "x"), "d": ("p", "y"), "e": ("p", "w"), "g": ("p", "y")}) == \
        {"b": "d", "f": "g"}


def test_a_task_that_comes_out_with_a_new_id_keeps_its_claim_wait_due_time_and_draft(db, waiting_at_approval,
                                                                                    monkeypatch):
    """SpiffWorkflow re-creates the tasks beneath a waiting task it resets: a ready task found there
    gets a new id, and its inbox row is rebuilt with what the old one held."""
    instance = waiting_at_approval
    before = row_of(db, instance, "approve")
    db.add(TaskDraft(task_id=before.task_id, username="wang", data='{"approved": true}'))
    before.has_draft = True
    db.commit()
    move = migration._move

    def move_under_a_new_id(workflow, new):
        moved = move(workflow, new)
        task = moved.get_next_task(spec_name="approve", state=TaskState.READY)
        old, task.id = task.id, uuid4()
        moved.tasks[task.id] = moved.tasks.pop(old)
        task.parent._children = [task.id if c == old else c for c in task.parent._children]
        for child in task.children:
            child._parent = task.id
        return moved

    monkeypatch.setattr(migration, "_move", move_under_a_new_id)
    deploy(db, **{"mig.bpmn": "mig_v2.bpmn"})
    moved = migration.migrate(db, user(db, "designer"), instance.id, instance.lock_version)
    [row] = ready(db, instance)
    assert moved.renamed_tasks == {before.task_id: row.task_id} and row.task_id != before.task_id
    assert (row.assignee, row.has_draft, row.created_at, row.due_at, row.name) == (
        "wang", True, before.created_at, before.due_at, "审批（修订）")
    assert db.scalar(select(TaskDraft.task_id)) == row.task_id
    assert db.get(HumanTask, before.id).state == "cancelled"
    [event] = events(db, "case.migrate", audit.case_chain(instance.id))
    assert json.loads(event.payload)["renamed_tasks"] == {before.task_id: row.task_id}
    complete(db, instance, "approve", "wang", approved=True)
    assert [r.spec_id for r in ready(db, instance)] == ["notify"]


@pytest.fixture
def cli(tmp_path, database_url, frozen_clock, monkeypatch):
    monkeypatch.setenv("SANXIANG_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("SANXIANG_DATABASE_URL", database_url)
    runner = CliRunner()

    def run(*args, code=0):
        result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    run("init")
    with session_scope(load_settings()) as session:
        seed_people(session)
    return run


def test_the_migrate_command_checks_and_moves(cli, tmp_path):
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    for folder, source in ((v1, "mig_v1.bpmn"), (v2, "mig_removed.bpmn")):
        folder.mkdir()
        (folder / "mig.bpmn").write_bytes((BPMN_DIR / "migration" / source).read_bytes())
    cli("deploy", v1)
    first = json.loads(cli("start", "mig", "--user", "zhang", "--json").output)
    second = json.loads(cli("start", "mig", "--user", "zhang", "--json").output)
    cli("complete", second["tasks"][0]["task_id"], "--user", "zhang", "--data",
        '{"party_name": "某协会", "register_date": "2026-11-02"}')
    cli("deploy", v2)

    report = json.loads(cli("migrate", "--check", "--json", code=1).output)
    assert [(c["case_no"], c["can_migrate"]) for c in report["cases"]] == [(first["case_no"], True),
                                                                            (second["case_no"], False)]
    assert report["cases"][1]["reasons"][0] == "迁移测试中待办理的环节“审批”（approve）在第2版中已不存在"
    assert any(c["element"] == "approve" and c["kind"] == "removed" for c in report["changes"][0]["elements"])
    text = cli("migrate", "--check", code=1).output
    assert "cannot move" in text and "在第2版中已不存在" in text and "删除用户任务“审批”（approve）" in text

    out = cli("migrate", "--case", first["case_no"], "--to", "2").output
    assert f"migrated {first['case_no']}" in out
    out = cli("migrate", code=1).output  # the rest: the one that cannot move is named with its reason
    assert f"refused {second['case_no']}" in out and "在第2版中已不存在" in out
    assert "does not exist" in cli("migrate", "--case", "999", code=4).output
    with session_scope(load_settings()) as session:
        assert session.scalar(select(func.count()).select_from(Instance).where(Instance.model_version == 2)) == 1


# --- the real models -----------------------------------------------------------------------------

def test_a_real_enforcement_case_moves_to_a_relabelled_version(bureau):  # noqa: F811
    case = bureau.start().file().approve_filing()
    files = deployment.read_model_files([MODELS])
    [(name, content)] = [(n, c) for n, c in files.items() if b'<bpmn:userTask id="prior_notice" name="' in c]
    relabelled = content.replace(b'<bpmn:userTask id="prior_notice" name="',
                                 '<bpmn:userTask id="prior_notice" name="（修订）'.encode(), 1)
    assert deployment.deploy(bureau.db, {name: relabelled}, "designer").version == 2

    check = migration.check(bureau.db, bureau.user("designer"), case.instance.id)
    assert check.can_migrate and not check.blockers
    assert [(c.element_id, c.attributes) for c in check.changes] == [("prior_notice", ("bpmn_name",))]
    migration.migrate(bureau.db, bureau.user("designer"), case.instance.id, check.case_version)
    bureau.db.commit()
    assert case.instance.model_version == 2

    case.investigate().report()
    assert case.ready == ["prior_notice"]
    assert case.task("prior_notice").name.startswith("（修订）")
    case.notify()
    assert "prior_notice" in case.path and case.instance.status == "running"
    assert audit.verify(bureau.db) == []
