"""The supervision list of cases (执法监督): every case a supervisor may see, filtered, sorted and
paged from the case rows and their inbox rows alone (no workflow is loaded), and the same rows for
export.

The count of a filtered list is bounded (:data:`COUNT_CAP`): a page never counts a whole table.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from workflows.core.models import HumanTask, Instance, Matter, Unit, User
from workflows.core.workdays import TZ
from workflows.domain import access, alerts

COUNT_CAP = 1000
MAX_PER_PAGE = 100
MAX_PAGE = 10_000
EXPORT_CHUNK = 500
STATUSES = ("running", "suspended", "error", "completed", "terminated")


@dataclass(frozen=True)
class CaseFilters:
    unit_id: int | None = None
    matter_code: str | None = None
    process_id: str | None = None
    stage: str | None = None  # the id of an element where the case waits now
    status: str | None = None
    overdue: bool = False  # red cards only: a task past due, or the handling limit passed
    created_from: date | None = None
    created_to: date | None = None
    text: str | None = None  # in the case number or the party's name
    involving: str | None = None  # a username: the cases they filed, or whose tasks they hold or did (我的案件)


SORTS = {
    "newest": (Instance.created_at.desc(), Instance.id.desc()),
    "oldest": (Instance.created_at, Instance.id),
    "limit": (Instance.decision_due.is_(None), Instance.decision_due, Instance.id),
    "updated": (Instance.updated_at.desc(), Instance.id.desc()),
}


@dataclass(frozen=True)
class CaseRow:
    """A case as the list shows it."""

    instance: Instance
    unit: str
    matter: str
    tasks: list[HumanTask]  # where it waits now, soonest due first
    card: str | None  # the worst of its tasks' and its handling limit's cards
    limit_card: str | None
    days_used: int | None  # of the handling limit, while undecided
    days_left: int | None

    @property
    def next_task(self) -> HumanTask | None:
        return self.tasks[0] if self.tasks else None


@dataclass(frozen=True)
class CaseList:
    rows: list[CaseRow]
    page: int
    per_page: int
    total: int  # at most COUNT_CAP + 1: more than the cap is "COUNT_CAP+"
    units: dict[int, str] = field(default_factory=dict)  # the units the reader may filter by

    @property
    def capped(self) -> bool:
        return self.total > COUNT_CAP

    @property
    def pages(self) -> int:
        return max(1, -(-min(self.total, COUNT_CAP) // self.per_page))


def query(session: Session, user: User, filters: CaseFilters) -> Select:
    """The cases ``user`` may supervise that match ``filters`` (raises NotAllowed for others); anyone
    may list the cases they work on themselves (``involving`` their own username)."""
    f = filters
    scope = None if f.involving is not None and f.involving == user.username else access.monitor_scope(user)
    q = select(Instance)
    if scope is not None:
        q = q.where(Instance.unit_id == scope)
    if f.involving:
        q = q.where(or_(Instance.created_by == f.involving, Instance.id.in_(select(HumanTask.instance_id).where(
            or_(HumanTask.assignee == f.involving, HumanTask.completed_by == f.involving)))))
    if f.unit_id is not None:
        q = q.where(Instance.unit_id == f.unit_id)
    if f.matter_code:
        q = q.where(Instance.matter_code == f.matter_code)
    if f.process_id:
        q = q.where(Instance.process_id == f.process_id)
    if f.status in STATUSES:
        q = q.where(Instance.status == f.status)
    if f.created_from:
        q = q.where(Instance.created_at >= _start_of(f.created_from))
    if f.created_to:
        q = q.where(Instance.created_at < _start_of(f.created_to + timedelta(days=1)))
    if f.text:
        like = f"%{f.text.strip()}%"
        q = q.where(or_(Instance.case_no.like(like), Instance.party_name.like(like)))
    if f.stage:
        q = q.where(exists().where(HumanTask.instance_id == Instance.id, HumanTask.state == "ready",
                                   HumanTask.spec_id == f.stage))
    if f.overdue:
        windows = alerts.windows(session)
        late_task = exists().where(HumanTask.instance_id == Instance.id, HumanTask.state == "ready",
                                   HumanTask.due_at < windows.now)
        late_case = and_(Instance.decision_due < windows.today, Instance.decided_on.is_(None))
        q = q.where(Instance.status == "running", or_(late_task, late_case))
    return q


def page(session: Session, user: User, filters: CaseFilters, sort: str = "newest", page: int = 1,
         per_page: int = 20) -> CaseList:
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, min(page, MAX_PAGE))
    q = query(session, user, filters)
    # Counted over the ids alone: with every column (the case's serialized state too) each of the
    # up to COUNT_CAP + 1 rows counted was read from the table; the ids come from the index that
    # finds the rows, so a filter matching more than the cap costs the same at any size.
    counted = q.with_only_columns(Instance.id).limit(COUNT_CAP + 1).subquery()
    total = session.scalar(select(func.count()).select_from(counted)) or 0
    found = list(session.scalars(q.order_by(*SORTS.get(sort, SORTS["newest"]))
                                 .limit(per_page).offset((page - 1) * per_page)))
    units = {} if filters.involving == user.username else units_of(session, user)
    return CaseList(_rows(session, found), page, per_page, total, units)


def mine(session: Session, user: User, text: str | None = None, matter_code: str | None = None,
         page_no: int = 1) -> CaseList:
    """我的案件: the cases ``user`` filed, or holds or did a task of, most recently moved first."""
    return page(session, user, CaseFilters(involving=user.username, text=text or None,
                                           matter_code=matter_code or None), "updated", page_no)


def units_of(session: Session, user: User) -> dict[int, str]:
    """The units whose cases ``user`` supervises."""
    scope = access.monitor_scope(user)
    q = select(Unit.id, Unit.name).order_by(Unit.id)
    return dict(session.execute(q if scope is None else q.where(Unit.id == scope)).all())


def export(session: Session, user: User, filters: CaseFilters, sort: str = "newest") -> Iterator[CaseRow]:
    """Every row of the filtered list, in its order, read in chunks (an export of any size)."""
    q = query(session, user, filters).order_by(*SORTS.get(sort, SORTS["newest"]))
    offset = 0
    while True:
        chunk = list(session.scalars(q.limit(EXPORT_CHUNK).offset(offset)))
        yield from _rows(session, chunk)
        if len(chunk) < EXPORT_CHUNK:
            return
        offset += EXPORT_CHUNK
        session.expunge_all()  # keep memory flat: the rows already written are not needed again


def _rows(session: Session, cases: list[Instance]) -> list[CaseRow]:
    if not cases:
        return []
    ids = [c.id for c in cases]
    ready: dict[int, list[HumanTask]] = {i: [] for i in ids}
    for task in session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(ids), HumanTask.state == "ready")
                                .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)):
        ready[task.instance_id].append(task)
    units = dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_({c.unit_id for c in cases}))).all())
    codes = {c.matter_code for c in cases if c.matter_code}
    matters = dict(session.execute(select(Matter.code, Matter.name).where(Matter.code.in_(codes))).all()) if codes else {}
    windows = alerts.windows(session)
    rows = []
    for case in cases:
        tasks = ready[case.id] if case.status == "running" else []
        limit = alerts.handling_clock(windows, case.status, case.filed_on, case.decision_due, case.decided_on)
        cards = {windows.task(t.due_at) for t in tasks} | {limit.card}
        card = alerts.RED if alerts.RED in cards else alerts.YELLOW if alerts.YELLOW in cards else None
        rows.append(CaseRow(
            instance=case, unit=units.get(case.unit_id, ""), matter=matters.get(case.matter_code, case.matter_code or ""),
            tasks=ready[case.id], card=card, limit_card=limit.card, days_used=limit.days_used, days_left=limit.days_left,
        ))
    return rows


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=TZ)


@dataclass(frozen=True)
class Warnings:
    late_tasks: list[HumanTask]  # ready tasks past due, most overdue first
    cases: list[CaseRow]  # running cases with a red or yellow card, nearest handling limit first
    names: dict[str, str]  # full names of who holds the late tasks


def warnings(session: Session, user: User, limit: int = 50) -> Warnings:
    """The red cards with who holds them, and the cases with a card (预警), ``limit`` of each."""
    scope = access.monitor_scope(user)
    w = alerts.windows(session)
    late = (select(HumanTask).join(HumanTask.instance)
            .where(HumanTask.state == "ready", Instance.status == "running", HumanTask.due_at < w.now)
            .order_by(HumanTask.due_at, HumanTask.id).limit(limit))
    late_tasks = list(session.scalars(late if scope is None else late.where(Instance.unit_id == scope)))
    task_soon = exists().where(HumanTask.instance_id == Instance.id, HumanTask.state == "ready",
                               HumanTask.due_at < _start_of(w.task_until + timedelta(days=1)))
    limit_soon = and_(Instance.decision_due <= w.case_until, Instance.decided_on.is_(None))
    carded = query(session, user, CaseFilters(status="running")).where(or_(task_soon, limit_soon))
    rows = _rows(session, list(session.scalars(carded.order_by(*SORTS["limit"]).limit(limit))))
    names = dict(session.execute(select(User.username, User.full_name).where(
        User.username.in_({t.assignee for t in late_tasks if t.assignee}))).all())
    return Warnings(late_tasks, rows, names)
