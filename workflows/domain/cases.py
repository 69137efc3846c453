"""Operations on whole cases: start, fire due timers, suspend, resume, terminate, retry.

Each is one unit of work that writes the case's new state, its inbox rows and its audit events
together (:class:`~workflows.domain.steps.CaseRun`); the caller commits. Each checks who may do it
(:mod:`workflows.domain.access`) itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import contract
from workflows.core.errors import FormInvalid, InstanceNotActive, NotFound
from workflows.core.messages import Message
from workflows.core.models import CaseCounter, HumanTask, Instance, User
from workflows.core.settings import Settings
from workflows.domain import access, audit, policy, steps
from workflows.domain.steps import SYSTEM_USER, CaseRun
from workflows.engine import history, runtime, specs


def get(session: Session, instance_id: int) -> Instance:
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound(f"case {instance_id} does not exist")
    return instance


def ready_tasks_of(session: Session, instance_id: int) -> list[HumanTask]:
    return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.state == "ready").order_by(HumanTask.id)))


# --- starting ----------------------------------------------------------------------------------

def process_of(session: Session, process_id: str) -> specs.ProcessSpecs:
    """The current model set's version of a process (NotFound when there is none)."""
    version = specs.current_version(session)
    if version is None:
        raise NotFound(Message("尚未部署流程模型：请先运行 `sanxiang deploy bpmn/`"))
    return specs.get(session, version, process_id)


def may_start(session: Session, actor: User, process_id: str) -> bool:
    try:
        return access.may_start(actor, process_of(session, process_id))
    except NotFound:
        return False


def check_start(session: Session, actor: User, process_id: str) -> specs.ProcessSpecs:
    """The process to start, once the actor may start it (NotFound when it is not deployed)."""
    process = process_of(session, process_id)
    access.check_start(actor, process)
    return process


def next_case_no(session: Session, pattern: str) -> str:
    """The next number of this pattern's series this year (the counter row is locked while we take it)."""
    year = runtime.today().year
    counter = session.scalars(select(CaseCounter).where(CaseCounter.series == pattern, CaseCounter.year == year)
                              .with_for_update()).one_or_none()
    if counter is None:
        counter = CaseCounter(series=pattern, year=year, last=0)
        session.add(counter)
    counter.last += 1
    session.flush()
    return pattern.format(year=year, seq=counter.last)


@dataclass(frozen=True)
class Started:
    instance: Instance
    tasks: list[HumanTask]  # the case's ready tasks

    def first_for(self, user: User) -> HumanTask | None:
        """The first ready task ``user`` may act on (where a filing officer lands)."""
        return next((row for row in self.tasks if access.may_act(user, row)), None)


def start(session: Session, settings: Settings, actor: User, process_id: str,
          data: dict[str, Any] | None = None) -> Started:
    """Start ``process_id`` on the current model set; the case belongs to the actor's unit."""
    process = check_start(session, actor, process_id)
    version = specs.current_version(session)
    workflow = BpmnWorkflow(process.spec, process.subprocess_specs, script_engine=runtime.script_engine(session))
    case_no = next_case_no(session, policy.number_pattern(session, settings, contract.number_series(process_id)))
    data = dict(data or {})
    first = workflow.get_next_task(state=TaskState.READY)
    first.data.update(data, **{contract.CASE_NO_KEY: case_no, contract.FILER_KEY: actor.username,
                               contract.UNIT_KEY: actor.unit.code,
                               contract.AGENCY_KEY: policy.agency_name(session, settings)})
    instance = Instance(case_no=case_no, process_id=process_id, model_version=version, unit_id=actor.unit_id,
                        created_by=actor.username, state="", matter_code=data.get(contract.MATTER_KEY),
                        party_name=data.get(contract.PARTY_KEY), audit_seq=0, audit_head=audit.GENESIS)
    session.add(instance)
    session.flush()
    audit.record(session, actor.username, "case.create", instance_id=instance.id, case_no=case_no,
                 process=process_id, version=version)
    run = CaseRun(session, instance, workflow)
    run.log(actor.username, "case.start", case_no=case_no, process=process_id, version=version, data=data)
    return Started(instance, run.advance(actor.username))


# --- timers ------------------------------------------------------------------------------------

def fire_timers(session: Session, instance: Instance) -> None:
    """Let the case's due timers fire, as an audited act of the system user."""
    CaseRun.load(session, instance).advance(SYSTEM_USER)


# --- status ------------------------------------------------------------------------------------

# The legal grounds for suspending a case (中止): its clock and its tasks stop until resumed.
SUSPENSION_GROUNDS = {
    "party_ended": Message("当事人死亡或者终止，尚未确定权利义务承受人"),
    "party_incapacitated": Message("当事人丧失行为能力，尚未确定法定代理人"),
    "force_majeure": Message("因不可抗力致使案件暂时无法调查"),
    "prior_case": Message("案件处理须以其他案件的结论为依据，而其他案件尚未审结"),
    "expert_opinion": Message("检测、检验、检疫、鉴定期间"),
    "other": Message("其他依法应当中止的情形"),
}


def _status_change(session: Session, actor: User, instance_id: int, reason: str, *, allowed: set[str],
                   new_status: str, action: str, **details: str) -> Instance:
    if not (reason or "").strip():
        raise FormInvalid({"reason": [Message("请填写理由")]})
    instance = get(session, instance_id)
    access.check_supervise(actor, instance)
    if instance.status not in allowed:
        raise InstanceNotActive(Message("案件%(case_no)s当前状态不允许这项操作", case_no=instance.case_no))
    instance.status, instance.status_reason = new_status, reason.strip()
    if new_status == "terminated":
        run = CaseRun.load(session, instance)
        run.workflow.cancel()
        run.log(actor.username, f"case.{action}", reason=reason.strip(), **details)
        run.save(actor.username)
    else:
        steps.record(session, instance, actor.username, f"case.{action}", reason=reason.strip(), **details)
    return instance


def suspend(session: Session, actor: User, instance_id: int, reason: str, ground: str) -> Instance:
    """Stop a case on one of :data:`SUSPENSION_GROUNDS`, with the facts in ``reason``."""
    if ground not in SUSPENSION_GROUNDS:
        raise FormInvalid({"ground": [Message("请选择中止的法定事由")]})
    return _status_change(session, actor, instance_id, reason, allowed={"running"}, new_status="suspended",
                          action="suspend", ground=ground)


def resume(session: Session, actor: User, instance_id: int, reason: str) -> Instance:
    return _status_change(session, actor, instance_id, reason, allowed={"suspended"}, new_status="running",
                          action="resume")


def terminate(session: Session, actor: User, instance_id: int, reason: str) -> Instance:
    return _status_change(session, actor, instance_id, reason, allowed={"running", "suspended", "error"},
                          new_status="terminated", action="terminate")


def retry(session: Session, actor: User, instance_id: int, data_patch: dict[str, Any] | None = None) -> Instance:
    """Run the failed element again, after fixing its data with ``data_patch`` where needed."""
    access.check_operate(actor)
    instance = get(session, instance_id)
    if instance.status != "error":
        raise InstanceNotActive(Message("只有出错的案件可以重试"))
    run = CaseRun.load(session, instance)
    for task in run.workflow.get_tasks(state=TaskState.READY | TaskState.ERROR, manual=False):
        if task.task_spec.bpmn_id == instance.error_task:
            task.data.update(data_patch or {})
            if task.state == TaskState.ERROR:
                task._set_state(TaskState.READY)
    run.log(actor.username, "case.retry", task=instance.error_task, patch=data_patch or {})
    instance.status, instance.error_task, instance.error_message = "running", None, None
    run.advance(actor.username)
    return instance


def path_of(session: Session, instance: Instance) -> list[str]:
    """The ids of the elements the case has passed, in order (called processes included)."""
    workflow = runtime.load_workflow(session, instance)
    return history.path(workflow, (t for t in runtime.all_tasks(workflow) if t.state == TaskState.COMPLETED))
