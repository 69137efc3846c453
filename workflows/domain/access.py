"""Who may do what: every rule of access, in one place, for every door.

Each rule is a ``may_…`` predicate (for deciding what a page or a list offers) and, where an
operation needs it, a ``check_…`` that raises :class:`NotAllowed` (or :class:`CredentialRequired`)
with a sentence saying why. Operations call the checks themselves, so the web, the CLI, the worker
and any API meet the same rules; the inbox's SQL is built from the same rules (:func:`takeable`).

No valid credential, no enforcement (持证上岗): acting in a role that needs one, filing included,
needs a credential valid that day.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from workflows.core.errors import CredentialRequired, NotAllowed
from workflows.core.messages import Message
from workflows.core.models import HumanTask, Instance, User
from workflows.core.roles import ROLE_BY_LANE, lane_role, role_def
from workflows.engine import specs
from workflows.engine.runtime import today

READ_ALL_CASES = frozenset({"agency_head", "manager", "admin"})  # managers read; they hold no lane to act in
SUPERVISE_ANY_UNIT = frozenset({"agency_head", "admin"})
MONITOR_ALL_UNITS = frozenset({"manager", "agency_head", "admin"})  # 执法监督: every unit's cases
NOTICE_SENDERS = frozenset({"manager", "agency_head"})  # 督办
OPERATE = frozenset({"admin", "designer"})  # repair cases the engine parked in error
DESIGN = frozenset({"designer", "admin"})
ADMINISTER = frozenset({"admin"})


# --- credentials -------------------------------------------------------------------------------

def has_credential(user: User, role_id: str) -> bool:
    return not role_def(role_id).needs_credential or user.valid_credential(today()) is not None


def check_credential(user: User, role_id: str) -> None:
    """Refuse enforcement to a user without a credential valid today (持证上岗)."""
    if not has_credential(user, role_id):
        raise CredentialRequired(
            Message("%(user)s（%(username)s）没有当日有效的行政执法证件，不得从事执法活动",
                    user=user.full_name, username=user.username),
            username=user.username, role=role_id)


# --- starting cases ----------------------------------------------------------------------------

def starter_roles(process: specs.ProcessSpecs) -> set[str]:
    """The roles that may start a process: the role of the lane holding its start event."""
    roles = set()
    for spec in process.spec.start.outputs:
        role = lane_role(getattr(spec, "lane", None))
        if role is not None:
            roles.add(role.id)
    return roles


def may_start(user: User, process: specs.ProcessSpecs) -> bool:
    return any(has_credential(user, role) for role in user.role_ids & starter_roles(process))


def check_start(user: User, process: specs.ProcessSpecs) -> None:
    roles = starter_roles(process)
    mine = user.role_ids & roles
    if not mine:
        labels = "、".join(sorted(role_def(r).label_zh for r in roles)) or "—"
        raise NotAllowed(Message("%(user)s不能发起“%(process)s”：只有%(roles)s可以发起",
                                 user=user.full_name, process=process.spec.description or process.spec.name,
                                 roles=labels))
    if not any(has_credential(user, role) for role in mine):
        check_credential(user, sorted(mine)[0])


# --- tasks -------------------------------------------------------------------------------------

def may_see_task(user: User, row: HumanTask) -> bool:
    """A task of one's roles (in one's unit when the role is unit-scoped), or one's own."""
    if user.username in (row.assignee, row.completed_by):
        return True
    return row.role_id in user.role_ids and (row.unit_id is None or row.unit_id == user.unit_id)


def check_see_task(user: User, row: HumanTask) -> None:
    if not may_see_task(user, row):
        raise NotAllowed(Message("%(user)s不能查看任务“%(task)s”", user=user.full_name, task=row.name))


def may_act(user: User, row: HumanTask) -> bool:
    """Whether ``user`` may claim or complete the ready task, credentials aside."""
    if row.role_id not in user.role_ids:
        return False
    if row.assignee is not None:
        return row.assignee == user.username
    return row.unit_id is None or row.unit_id == user.unit_id


def check_act(user: User, row: HumanTask) -> None:
    if not may_act(user, row):
        if row.assignee not in (None, user.username):
            raise NotAllowed(Message("任务“%(task)s”已由他人认领，只有认领人可以办理", task=row.name),
                             reason="claimed")
        raise NotAllowed(Message("%(user)s不能办理任务“%(task)s”：不属于其角色或科室", user=user.full_name,
                                 task=row.name), reason="role")
    check_credential(user, row.role_id)


def check_separation(user: User, row: HumanTask, done: HumanTask | None) -> None:
    """Separation of duties: ``done`` is a task of this case the user completed that rules them out
    (see :mod:`workflows.domain.duties`)."""
    if done is not None:
        raise NotAllowed(Message("按照职责分离，%(user)s已办理本案的“%(done)s”，不能办理“%(task)s”",
                                 user=user.full_name, done=done.name, task=row.name), reason="separation")


def takeable(user: User) -> ColumnElement[bool]:
    """SQL for the ready, unclaimed tasks :func:`may_act` lets the user take (the inbox's pool).

    A row's unit is set exactly when its role is unit-scoped (it is the case's unit), so "no unit,
    or the user's" is said per role: ``role_id = … AND unit_id = …`` for unit-scoped roles, ``…
    AND unit_id IS NULL`` for the others. Both are prefixes of ``ix_human_task_pool``, so the pool
    is read from the user's own part of the index; the looser ``unit_id IS NULL OR unit_id = …``
    matched every unit's pool of the role, and PostgreSQL went on to join every running case."""
    scoped = sorted(r.id for r in user.roles if r.unit_scoped)
    unscoped = sorted(r.id for r in user.roles if not r.unit_scoped)
    kinds = ([and_(HumanTask.role_id.in_(scoped), HumanTask.unit_id == user.unit_id)] if scoped else []) + \
        ([and_(HumanTask.role_id.in_(unscoped), HumanTask.unit_id.is_(None))] if unscoped else [])
    return and_(HumanTask.state == "ready", HumanTask.assignee.is_(None),
                or_(*kinds) if kinds else HumanTask.role_id.in_([""]))


def may_release(user: User, row: HumanTask, instance: Instance) -> bool:
    """The holder puts a claimed task back; supervisors may release anyone's."""
    return row.assignee == user.username or may_supervise(user, instance)


def check_release(user: User, row: HumanTask, instance: Instance) -> None:
    if not may_release(user, row, instance):
        raise NotAllowed(Message("只能放回自己认领的任务"))


def check_assignee(target: User, row: HumanTask) -> None:
    """A task handed to someone goes only to a holder of its role, in its unit, with a credential."""
    if row.role_id not in target.role_ids or (row.unit_id is not None and target.unit_id != row.unit_id):
        raise NotAllowed(Message("%(user)s不具有该任务的角色或不属于承办科室", user=target.full_name))
    check_credential(target, row.role_id)


# --- cases -------------------------------------------------------------------------------------

def lane_roles(session: Session, instance: Instance) -> set[str]:
    """The roles that have a lane in the case's process or in a process it calls."""
    process = specs.get(session, instance.model_version, instance.process_id)
    lanes = {getattr(ts, "lane", None) for p in (process.spec, *process.subprocess_specs.values())
             for ts in p.task_specs.values()}
    return {ROLE_BY_LANE[lane].id for lane in lanes if lane in ROLE_BY_LANE}


def may_read_case(session: Session, user: User, instance: Instance, rows: list[HumanTask] | None = None) -> bool:
    """Agency heads and managers read every case; the case's unit reads it when a role of the user
    has a lane in it; anyone else only while or after working on one of its tasks (``rows``: the
    case's inbox rows, when the caller has them)."""
    if user.role_ids & READ_ALL_CASES:
        return True
    if user.unit_id == instance.unit_id and user.role_ids & lane_roles(session, instance):
        return True
    if rows is None:
        rows = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)))
    return any(user.username in (row.assignee, row.completed_by) or (row.state == "ready" and may_act(user, row))
               for row in rows)


def check_read_case(session: Session, user: User, instance: Instance, rows: list[HumanTask] | None = None) -> None:
    if not may_read_case(session, user, instance, rows):
        raise NotAllowed(Message("%(user)s不能查阅案件%(case_no)s", user=user.full_name, case_no=instance.case_no))


def may_supervise(user: User, instance: Instance) -> bool:
    """Reassign, release others' tasks, suspend, resume, terminate: unit heads for their unit's
    cases, agency heads and administrators for all."""
    if user.role_ids & SUPERVISE_ANY_UNIT:
        return True
    return "unit_head" in user.role_ids and user.unit_id == instance.unit_id


def check_supervise(user: User, instance: Instance) -> None:
    if not may_supervise(user, instance):
        raise NotAllowed(Message("只有本科室承办机构负责人、机关负责人或管理员可以办理"))


def monitor_scope(user: User) -> int | None:
    """Whose cases ``user`` supervises: every unit's (None), or a unit head's own unit's."""
    if user.role_ids & MONITOR_ALL_UNITS:
        return None
    if "unit_head" in user.role_ids:
        return user.unit_id
    raise NotAllowed(Message("%(user)s没有执法监督权限", user=user.full_name))


CASE_WORK_ROLES = frozenset({"officer", "unit_head", "legal_reviewer", "agency_head", "office"})


def works_cases(user: User) -> bool:
    """Whether ``user`` holds a role that does case tasks, so has a list of their own cases (我的案件)."""
    return bool(user.role_ids & CASE_WORK_ROLES)


def may_monitor(user: User) -> bool:
    return bool(user.role_ids & (MONITOR_ALL_UNITS | {"unit_head"}))


def may_send_notice(user: User) -> bool:
    return bool(user.role_ids & NOTICE_SENDERS)


def check_send_notice(user: User) -> None:
    if not may_send_notice(user):
        raise NotAllowed(Message("只有管理/监督人员或机关负责人可以发出督办通知"))


def may_operate(user: User) -> bool:
    return bool(user.role_ids & OPERATE)


def check_operate(user: User) -> None:
    if not may_operate(user):
        raise NotAllowed(Message("只有管理员或流程设计人员可以重试出错的案件"))


def may_design(user: User) -> bool:
    return bool(user.role_ids & DESIGN)


def check_design(actor: User | str) -> None:
    """Model drafts, deployments and case migrations are for designers and administrators; a ``str``
    actor is an operator at the server's command line."""
    if isinstance(actor, str):
        return
    if not may_design(actor):
        raise NotAllowed(Message("只有流程设计人员或系统管理员可以办理"))


def may_administer(user: User) -> bool:
    return bool(user.role_ids & ADMINISTER)


def check_administer(actor: User | str) -> None:
    """Administration is for administrators; a ``str`` actor is an operator at the server's command
    line (`sanxiang users …`), who administers by having the shell."""
    if isinstance(actor, str):
        return
    if not may_administer(actor):
        raise NotAllowed(Message("只有系统管理员可以办理"))


# --- the annual statistics report ----------------------------------------------------------------

# The live figures: who drafts, reviews and approves the report (office, legal reviewers, agency
# heads), and who supervises (managers, administrators). The published report is public.
REPORT_READERS = frozenset({"office", "legal_reviewer", "agency_head", "manager", "admin"})


def may_read_report(user: User) -> bool:
    return bool(user.role_ids & REPORT_READERS)


def check_read_report(user: User) -> None:
    if not may_read_report(user):
        raise NotAllowed(Message("%(user)s不能查看年度执法统计", user=user.full_name))
