"""A process definition as supervision sees it (the manager's Cockpit): which model versions have
work open, how many cases wait at each element now and how many of them are overdue, and how long
cases spent at each element over a period. Read from the inbox rows, never from workflows.

A call activity counts the cases waiting anywhere in the process it calls (and in the processes that
one calls), so the top-level diagram shows which stage each case is in; a process called from more
than one place shows its cases at every element that calls it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session

from workflows.core.errors import NotFound
from workflows.core.models import HumanTask, Instance, User
from workflows.domain import access, alerts
from workflows.engine import specs, xmlsafe
from workflows.engine.parsing import BPMN

OPEN = ("running", "suspended", "error")


@dataclass(frozen=True)
class ProcessVersion:
    process_id: str
    version: int
    name: str
    open_cases: int  # cases started on it (a called process: 0, its work shows under its callers)


@dataclass(frozen=True)
class Waiting:
    waiting: int
    overdue: int
    failed: int  # cases parked in error at the element


@dataclass(frozen=True)
class TimeSpent:
    count: int
    mean_s: float
    p90_s: float


def versions(session: Session, user: User) -> list[ProcessVersion]:
    """Every process of the current model set and of the versions open cases still run on."""
    scope = access.monitor_scope(user)
    q = select(Instance.process_id, Instance.model_version, func.count()).where(Instance.status.in_(OPEN))
    if scope is not None:
        q = q.where(Instance.unit_id == scope)
    open_cases = {(pid, v): n for pid, v, n in session.execute(q.group_by(Instance.process_id, Instance.model_version))}
    current = specs.current_version(session)
    wanted = {v for _, v in open_cases} | ({current} if current else set())
    found = [ProcessVersion(pid, v, name, open_cases.get((pid, v), 0))
             for v in sorted(wanted, reverse=True) for pid, name in specs.process_names(session, v).items()]
    return sorted(found, key=lambda p: (p.process_id, -p.version))


def element_names(session: Session, process_id: str, version: int) -> dict[str, str]:
    """Element id to name, for the elements of one process of a version."""
    spec = specs.get(session, version, process_id).spec
    return {ts.bpmn_id: ts.bpmn_name or ts.bpmn_id for ts in spec.task_specs.values() if ts.bpmn_id}


def calls(session: Session, process_id: str, version: int) -> dict[str, str]:
    """Call activity id to the process it calls, for the call activities of one process of a version."""
    process = specs.get(session, version, process_id)
    return {ts.bpmn_id: ts.spec for ts in process.spec.task_specs.values()
            if ts.bpmn_id and getattr(ts, "spec", None) in process.subprocess_specs}


def _called(session: Session, process_id: str, version: int) -> dict[str, dict[str, set[str]]]:
    """Call activity id to the processes whose work it stands for (the one it calls and every process
    called from there), each with the ids of its elements."""
    process = specs.get(session, version, process_id)
    found = {}
    for element, called in calls(session, process_id, version).items():
        below, todo = {}, [called]
        while todo:
            name = todo.pop()
            if name in below:
                continue
            task_specs = process.subprocess_specs[name].task_specs.values()
            below[name] = {ts.bpmn_id for ts in task_specs if ts.bpmn_id}
            todo += [ts.spec for ts in task_specs if getattr(ts, "spec", None) in process.subprocess_specs]
        found[element] = below
    return found


def waiting(session: Session, user: User, process_id: str, version: int) -> dict[str, Waiting]:
    """By element: the cases waiting there now, how many of those are overdue, how many failed there
    (at a call activity: anywhere in the process it calls)."""
    scope = access.monitor_scope(user)
    now = alerts.windows(session).now

    def open_tasks(*columns):
        q = (select(*columns).join(HumanTask.instance)
             .where(HumanTask.state == "ready", Instance.model_version == version, Instance.status == "running"))
        return q if scope is None else q.where(Instance.unit_id == scope)

    q = open_tasks(HumanTask.spec_id, func.count(), func.sum(case((HumanTask.due_at < now, 1), else_=0)))
    counts = {spec: [n, int(late or 0), 0]
              for spec, n, late in session.execute(q.where(HumanTask.process_id == process_id)
                                                   .group_by(HumanTask.spec_id))}
    called = _called(session, process_id, version)
    for element, below in called.items():  # a case waits at a call activity once, however many tasks it has below
        q = open_tasks(func.count(distinct(HumanTask.instance_id)),
                       func.count(distinct(case((HumanTask.due_at < now, HumanTask.instance_id)))))
        n, late = session.execute(q.where(HumanTask.process_id.in_(list(below)))).one()
        if n:
            counts[element] = [n, int(late or 0), 0]
    failed = select(Instance.error_task, func.count()).where(Instance.status == "error", Instance.model_version == version,
                                                             Instance.error_task.is_not(None))
    if scope is not None:
        failed = failed.where(Instance.unit_id == scope)
    names = element_names(session, process_id, version)
    for element, n in session.execute(failed.group_by(Instance.error_task)):
        if element in names:
            counts.setdefault(element, [0, 0, 0])[2] += n
        for caller, below in called.items():
            if any(element in ids for ids in below.values()):
                counts.setdefault(caller, [0, 0, 0])[2] += n
    return {element: Waiting(*values) for element, values in counts.items()}


def time_spent(session: Session, user: User, process_id: str, version: int, since: datetime,
               until: datetime) -> dict[str, TimeSpent]:
    """By element: how long the tasks closed in [since, until) stayed open, mean and 90th percentile."""
    scope = access.monitor_scope(user)
    q = (select(HumanTask.spec_id, HumanTask.created_at, HumanTask.completed_at).join(HumanTask.instance)
         .where(HumanTask.state == "completed", HumanTask.process_id == process_id, Instance.model_version == version,
                HumanTask.completed_at >= since, HumanTask.completed_at < until))
    if scope is not None:
        q = q.where(Instance.unit_id == scope)
    spans: dict[str, list[float]] = {}
    for element, opened, closed in session.execute(q):
        spans.setdefault(element, []).append((closed - opened).total_seconds())
    return {element: _summary(values) for element, values in spans.items()}


def _summary(values: list[float]) -> TimeSpent:
    values.sort()
    rank = max(0, -(-len(values) * 9 // 10) - 1)  # nearest-rank 90th percentile
    return TimeSpent(len(values), sum(values) / len(values), values[rank])


@dataclass(frozen=True)
class ProcessView:
    process_id: str
    version: int
    name: str
    elements: dict[str, str]  # id to name
    calls: dict[str, str]  # call activity id to the process it calls (its own view)
    waiting: dict[str, Waiting]
    time_spent: dict[str, TimeSpent]
    since: datetime
    until: datetime


def view(session: Session, user: User, process_id: str, version: int, since: datetime, until: datetime) -> ProcessView:
    """Everything the process page shows, for a supervisor (NotFound for a process not in the version)."""
    access.monitor_scope(user)
    names = specs.process_names(session, version)
    if process_id not in names:
        raise NotFound(f"process {process_id!r} is not in model-set version {version}")
    return ProcessView(process_id, version, names[process_id], element_names(session, process_id, version),
                       calls(session, process_id, version), waiting(session, user, process_id, version),
                       time_spent(session, user, process_id, version, since, until), since, until)


def diagram(session: Session, user: User, process_id: str, version: int) -> bytes:
    """The BPMN file of the model-set version that holds ``process_id``, for a supervisor."""
    access.monitor_scope(user)
    return file_of(session, process_id, version)


def file_of(session: Session, process_id: str, version: int) -> bytes:
    """The BPMN file of the model-set version that holds ``process_id``."""
    for content in specs.files_of(session, version).values():
        if f'"{process_id}"'.encode() in content and any(
                p.get("id") == process_id for p in xmlsafe.parse(content).iter(BPMN + "process")):
            return content
    raise NotFound(f"process {process_id!r} is not in model-set version {version}")
