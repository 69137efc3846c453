"""Operations on cases: start, complete, claim, reassign, suspend, resume, terminate, retry.

Each operation is one unit of work that writes the new workflow state, the inbox rows and the
audit event together (the caller commits). The instance row's version column makes concurrent
changes of one case fail with :class:`Conflict` instead of overwriting each other.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import audit, clock, deployment, disclosure, serialization, timers
from .errors import Conflict, FormInvalid, InstanceNotActive, NotAllowed, NotFound, TaskNotReady
from .forms import FieldSpec, fields_of, validate_form
from .messages import Message
from .models import CaseCounter, Evidence, HumanTask, Instance, Matter, User
from .people import ROLE_BY_LANE, get_user, require_credential, role_def
from .runtime import as_aware, current_data, evaluate, load_workflow, new_workflow, today
from .settings import Settings

log = logging.getLogger(__name__)
SYSTEM_USER = "system"


# --- starting -------------------------------------------------------------------------------

def next_case_no(session: Session, pattern: str) -> str:
    """The next number of this pattern's series this year (the counter row is locked while we take it)."""
    year = today().year
    counter = session.scalars(select(CaseCounter).where(CaseCounter.series == pattern, CaseCounter.year == year)
                              .with_for_update()).one_or_none()
    if counter is None:
        counter = CaseCounter(series=pattern, year=year, last=0)
        session.add(counter)
    counter.last += 1
    session.flush()
    return pattern.format(year=year, seq=counter.last)


def start_case(session: Session, settings: Settings, actor: User, process_id: str,
               data: dict[str, Any] | None = None) -> Instance:
    """Start ``process_id`` on the current model set; the case belongs to the actor's unit."""
    for role in actor.role_ids:  # no valid credential, no enforcement: filing included
        require_credential(actor, role, today())
    version = deployment.current_version(session)
    if version is None:
        raise NotFound("no model set is deployed yet: run `sanxiang deploy bpmn/`")
    workflow = new_workflow(session, version, process_id)
    case_no = next_case_no(session, settings.number_pattern(process_id))
    data = dict(data or {})
    start = workflow.get_next_task(state=TaskState.READY)
    start.data.update(data, case_no=case_no, filing_officer=actor.username, case_unit=actor.unit.code,
                      agency_name=settings.agency_name)
    instance = Instance(case_no=case_no, process_id=process_id, model_version=version, unit_id=actor.unit_id,
                        created_by=actor.username, state="", matter_code=data.get("matter_code"),
                        party_name=data.get("party_name"))
    session.add(instance)
    session.flush()
    audit.record(session, actor.username, "case.create", chain=audit.SYSTEM, instance_id=instance.id,
                 case_no=case_no, process=process_id, version=version)
    audit.record(session, actor.username, "case.start", instance_id=instance.id, case_no=case_no,
                 process=process_id, version=version, data=data)
    _advance(session, instance, workflow, actor.username)
    return instance


# --- completing -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    instance: Instance
    next_tasks: list[HumanTask]


def form_of(session: Session, row: HumanTask) -> list[FieldSpec]:
    """The form fields of an inbox task, read from the cached spec (no workflow is loaded)."""
    specs = deployment.specs.get(session, row.instance.model_version, row.instance.process_id)
    return fields_of(specs.task_spec(row.process_id, row.spec_id))


def complete_task(session: Session, actor: User, task_id: str, data: dict[str, Any]) -> Outcome:
    """Complete a ready user task as ``actor`` with form ``data`` (validated here)."""
    row = ready_task(session, task_id)
    instance = _active_instance(session, row.instance_id)
    check_can_act(actor, row)
    workflow = load_workflow(session, instance)
    task = workflow.get_task_from_id(UUID(task_id))
    if task is None or task.state != TaskState.READY:
        raise TaskNotReady(Message("该任务已由他人办理或已不再需要办理"))
    clean, errors = validate_form(fields_of(task.task_spec), data, task.data, DbLookups(session, instance.unit_id))
    if errors:
        raise FormInvalid(errors)
    task.data.update(clean, last_actor=actor.username)
    task.run()
    audit.record(session, actor.username, "task.complete", instance_id=instance.id, task_id=task_id,
                 task=row.spec_id, name=row.name, data=clean)
    return Outcome(instance, _advance(session, instance, workflow, actor.username, completed=task_id))


def ready_task(session: Session, task_id: str) -> HumanTask:
    row = session.scalars(select(HumanTask).where(HumanTask.task_id == task_id)).one_or_none()
    if row is None:
        raise NotFound(f"task {task_id} does not exist")
    if row.state != "ready":
        raise TaskNotReady(Message("该任务已由他人办理或已不再需要办理"))
    return row


def _active_instance(session: Session, instance_id: int) -> Instance:
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound(f"case {instance_id} does not exist")
    if instance.status != "running":
        raise InstanceNotActive(Message("案件%(case_no)s当前不在办理中，不能办理", case_no=instance.case_no))
    return instance


def may_act(user: User, row: HumanTask) -> bool:
    """Whether ``user`` may claim or complete the task, credentials aside."""
    if row.role_id not in user.role_ids:
        return False
    if row.assignee is not None:
        return row.assignee == user.username
    return row.unit_id is None or row.unit_id == user.unit_id


def check_can_act(user: User, row: HumanTask) -> None:
    if not may_act(user, row):
        raise NotAllowed(Message("%(user)s不能办理任务“%(task)s”", user=user.full_name, task=row.name))
    require_credential(user, row.role_id, today())


def path_of(session: Session, instance: Instance) -> list[str]:
    """The ids of the elements the case has passed, in order (called processes included)."""
    workflow = load_workflow(session, instance)
    done = [t for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id]
    return [t.task_spec.bpmn_id for t in sorted(done, key=lambda t: t.last_state_change)]


# --- inbox rows -----------------------------------------------------------------------------

def ready_tasks_of(session: Session, instance_id: int) -> list[HumanTask]:
    return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.state == "ready").order_by(HumanTask.id)))


def _advance(session: Session, instance: Instance, workflow: BpmnWorkflow, actor: str,
             completed: str | None = None) -> list[HumanTask]:
    """Run engine steps, then persist state and inbox rows; a script error parks the case in ``error``.

    Returns the case's ready tasks afterwards."""
    running, done = [], []
    try:
        workflow.refresh_timers()
        workflow.do_engine_steps(will_complete_task=running.append, did_complete_task=done.append)
        while workflow.get_next_task(state=TaskState.READY, manual=False) is not None:
            # timers that came due meanwhile
            workflow.do_engine_steps(will_complete_task=running.append, did_complete_task=done.append)
    except Exception as exc:  # any failure of diagram code; SpiffWorkflow itself may raise non-Spiff errors
        instance.status = "error"
        instance.error_task = running[-1].task_spec.bpmn_id if running else None
        instance.error_message = _error_text(exc)
        audit.record(session, SYSTEM_USER, "engine.error", instance_id=instance.id,
                     task=instance.error_task, message=instance.error_message)
    else:
        if workflow.completed:
            instance.status = "completed"
    fired = sorted({t.task_spec.bpmn_id for t in done if timers.is_timer(t)})
    if fired:  # due timers fire in whichever unit of work reaches them first, worker or user
        audit.record(session, SYSTEM_USER, "timer.fire", instance_id=instance.id, elements=fired)
    for task in done:
        if task.task_spec.bpmn_id == disclosure.HOOK_ELEMENT and task.state == TaskState.COMPLETED:
            disclosure.write(session, instance, task.workflow.spec.name, task.data)
    return _save(session, instance, workflow, actor, completed)


def _error_text(exc: Exception) -> str:
    notes = "; ".join(getattr(exc, "__notes__", []) or [])
    cause = exc.__cause__ or exc.__context__
    text = f"{type(exc).__name__}: {exc}" + (f" ({notes})" if notes else "")
    return text + (f" ← {type(cause).__name__}: {cause}" if cause is not None else "")


def _save(session: Session, instance: Instance, workflow: BpmnWorkflow, actor: str,
          completed: str | None) -> list[HumanTask]:
    instance.state = serialization.dumps(workflow)
    instance.updated_at = clock.now()
    instance.next_timer_at = None if instance.status == "completed" else timers.next_due(workflow)
    data = current_data(workflow)
    instance.matter_code = data.get("matter_code") or instance.matter_code
    instance.party_name = data.get("party_name", instance.party_name)
    try:
        session.flush()  # the version check: a concurrent change of this case fails here
    except StaleDataError:
        raise Conflict(Message("案件已被他人同时修改，请刷新后重试")) from None
    ready = {} if instance.status == "completed" else {
        str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
    return _sync_rows(session, instance, ready, actor, completed)


def _sync_rows(session: Session, instance: Instance, ready: dict[str, Any], actor: str,
               completed: str | None) -> list[HumanTask]:
    """Close the rows of tasks no longer ready and open rows for newly ready ones; return the open rows."""
    now = clock.now()
    still_open = []
    for row in ready_tasks_of(session, instance.id):
        if row.task_id in ready:
            ready.pop(row.task_id)
            still_open.append(row)
            continue
        row.state = "completed" if row.task_id == completed else "cancelled"
        row.completed_at = now
        row.completed_by = actor if row.task_id == completed else None
    new_rows = [_new_row(session, instance, task) for task in ready.values()]
    session.add_all(new_rows)
    session.flush()
    return still_open + new_rows


def _new_row(session: Session, instance: Instance, task) -> HumanTask:
    spec = task.task_spec
    ext = getattr(spec, "extensions", {}) or {}
    role = ROLE_BY_LANE.get(spec.lane or "")
    if role is None:  # validation forbids this; a hand-edited database could still get here
        raise NotFound(f"task {spec.bpmn_id} is in no role's lane")
    return HumanTask(
        instance_id=instance.id, task_id=str(task.id), spec_id=spec.name,
        process_id=task.workflow.spec.name, name=spec.bpmn_name or spec.bpmn_id, name_en=ext.get("name_en", ""),
        lane=spec.lane, role_id=role.id, unit_id=instance.unit_id if role.unit_scoped else None,
        assignee=_assignee(session, task, ext.get("assignee")),
        due_at=_due(task, ext.get("due")), created_at=clock.now(),
    )


def _assignee(session: Session, task, expression: str | None) -> str | None:
    if not expression:
        return None
    try:
        username = evaluate(task, expression)
    except Exception as exc:  # an unset field leaves the task to the role's pool
        log.info("assignee %r of %s not evaluated: %s", expression, task.task_spec.bpmn_id, exc)
        return None
    if not isinstance(username, str) or session.scalars(select(User.id).where(User.username == username)).first() is None:
        return None
    return username


def _due(task, expression: str | None):
    if not expression:
        return None
    try:
        return as_aware(evaluate(task, expression))
    except Exception as exc:
        log.warning("due %r of %s not evaluated: %s", expression, task.task_spec.bpmn_id, exc)
        return None


# --- timers -----------------------------------------------------------------------------------

def fire_timers(session: Session, instance: Instance) -> None:
    """Let the case's due timers fire; :func:`_advance` audits them as acts of the system user."""
    _advance(session, instance, load_workflow(session, instance), SYSTEM_USER)


# --- claiming and assignment ------------------------------------------------------------------

def claim(session: Session, actor: User, task_id: str) -> HumanTask:
    row = ready_task(session, task_id)
    _active_instance(session, row.instance_id)
    if row.assignee is not None:
        raise Conflict(Message("该任务已由%(user)s认领", user=row.assignee))
    check_can_act(actor, row)
    taken = session.execute(update(HumanTask).where(HumanTask.id == row.id, HumanTask.assignee.is_(None),
                                                    HumanTask.state == "ready").values(assignee=actor.username))
    if taken.rowcount != 1:
        raise Conflict(Message("该任务刚被他人认领"))
    audit.record(session, actor.username, "task.claim", instance_id=row.instance_id, task_id=task_id, name=row.name)
    session.refresh(row)
    return row


def unclaim(session: Session, actor: User, task_id: str) -> HumanTask:
    row = ready_task(session, task_id)
    if row.assignee != actor.username:
        try:
            _require_supervisor(actor, session.get(Instance, row.instance_id))
        except NotAllowed:
            raise NotAllowed(Message("只能退回自己认领的任务")) from None
    row.assignee = None
    session.flush()
    audit.record(session, actor.username, "task.unclaim", instance_id=row.instance_id, task_id=task_id, name=row.name)
    return row


def reassign(session: Session, actor: User, task_id: str, to_username: str) -> HumanTask:
    """A supervisor hands a task to another user who holds its role (and a credential if needed)."""
    row = ready_task(session, task_id)
    _require_supervisor(actor, _active_instance(session, row.instance_id))
    target = get_user(session, to_username)
    if row.role_id not in target.role_ids or (row.unit_id is not None and target.unit_id != row.unit_id):
        raise NotAllowed(Message("%(user)s不具有该任务的角色或不属于承办科室", user=target.full_name))
    require_credential(target, row.role_id, today())
    previous, row.assignee = row.assignee, target.username
    session.flush()
    audit.record(session, actor.username, "task.reassign", instance_id=row.instance_id, task_id=task_id,
                 name=row.name, previous=previous, assignee=target.username)
    return row


# --- case status --------------------------------------------------------------------------------

def _require_supervisor(actor: User, instance: Instance) -> None:
    if "admin" in actor.role_ids or "agency_head" in actor.role_ids:
        return
    if "unit_head" in actor.role_ids and actor.unit_id == instance.unit_id:
        return
    raise NotAllowed(Message("只有本科室承办机构负责人、机关负责人或管理员可以办理"))


def _status_change(session: Session, actor: User, instance_id: int, reason: str, *, allowed: set[str],
                   new_status: str, action: str) -> Instance:
    if not reason.strip():
        raise FormInvalid({"reason": [Message("请填写理由")]})
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound(f"case {instance_id} does not exist")
    _require_supervisor(actor, instance)
    if instance.status not in allowed:
        raise InstanceNotActive(Message("案件%(case_no)s当前状态不允许这项操作", case_no=instance.case_no))
    instance.status, instance.status_reason = new_status, reason.strip()
    if new_status == "terminated":
        workflow = load_workflow(session, instance)
        workflow.cancel()
        instance.state = serialization.dumps(workflow)
    instance.updated_at = clock.now()
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(Message("案件已被他人同时修改，请刷新后重试")) from None
    if new_status == "terminated":
        _sync_rows(session, instance, {}, actor.username, None)
    audit.record(session, actor.username, f"case.{action}", instance_id=instance.id, reason=reason.strip())
    return instance


def suspend(session: Session, actor: User, instance_id: int, reason: str) -> Instance:
    return _status_change(session, actor, instance_id, reason, allowed={"running"}, new_status="suspended",
                          action="suspend")


def resume(session: Session, actor: User, instance_id: int, reason: str) -> Instance:
    return _status_change(session, actor, instance_id, reason, allowed={"suspended"}, new_status="running",
                          action="resume")


def terminate(session: Session, actor: User, instance_id: int, reason: str) -> Instance:
    return _status_change(session, actor, instance_id, reason, allowed={"running", "suspended", "error"},
                          new_status="terminated", action="terminate")


def retry(session: Session, actor: User, instance_id: int, data_patch: dict[str, Any] | None = None) -> Instance:
    """Run the failed element again, after fixing its data with ``data_patch`` where needed."""
    if not actor.role_ids & {"admin", "designer"}:
        raise NotAllowed(Message("只有管理员或流程设计人员可以重试出错的案件"))
    instance = session.get(Instance, instance_id)
    if instance is None or instance.status != "error":
        raise InstanceNotActive(Message("只有出错的案件可以重试"))
    workflow = load_workflow(session, instance)
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.ERROR, manual=False):
        if task.task_spec.bpmn_id == instance.error_task:
            task.data.update(data_patch or {})
            if task.state == TaskState.ERROR:
                task._set_state(TaskState.READY)
    audit.record(session, actor.username, "case.retry", instance_id=instance.id, task=instance.error_task,
                 patch=data_patch or {})
    instance.status, instance.error_task, instance.error_message = "running", None, None
    _advance(session, instance, workflow, actor.username)
    return instance


# --- lookups for form validation ------------------------------------------------------------------

class DbLookups:
    """Form validation's view of the world, as of today, for a case of ``unit_id``."""

    def __init__(self, session: Session, unit_id: int):
        self.session = session
        self.unit_id = unit_id

    def user_problem(self, username: str, role: str) -> str | None:
        user = self.session.scalars(select(User).where(User.username == username, User.active.is_(True))).unique().first()
        if user is None:
            return Message("没有这个用户")
        if role not in user.role_ids:
            return Message("%(user)s不具有%(role)s角色", user=user.full_name, role=role_def(role).label_zh)
        if role_def(role).unit_scoped and user.unit_id != self.unit_id:
            return Message("%(user)s不属于本案承办科室", user=user.full_name)
        if role_def(role).needs_credential and user.valid_credential(today()) is None:
            return Message("%(user)s没有当日有效的行政执法证件", user=user.full_name)
        return None

    def matter_exists(self, code: str) -> bool:
        return self.session.scalars(select(Matter.code).where(Matter.code == code, Matter.active.is_(True))).first() is not None

    def evidence_exists(self, sha256: str) -> bool:
        return self.session.get(Evidence, sha256) is not None
