"""Inbox queries over ``human_task`` rows: indexed, paginated, and never deserializing a workflow.

Which unclaimed tasks a user may take is :func:`workflows.domain.access.takeable`, the SQL form of
the rule the operations check.
"""
from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, contains_eager

from workflows.core.models import HumanTask, Instance, SupervisionNotice, User
from workflows.domain import access, lookups, supervision
from workflows.engine import specs

T = TypeVar("T")
MAX_PER_PAGE = 100
MAX_PAGE = 100_000  # a page number past any real list, never an overflowing OFFSET


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class Filters:
    process_id: str | None = None
    name: str | None = None
    case_no: str | None = None
    party: str | None = None


def _base(filters: Filters | None) -> Select:
    query = select(HumanTask).join(HumanTask.instance).options(contains_eager(HumanTask.instance))
    f = filters or Filters()
    if f.process_id:
        query = query.where(Instance.process_id == f.process_id)
    if f.name:
        query = query.where(HumanTask.name.contains(f.name))
    if f.case_no:
        query = query.where(Instance.case_no.contains(f.case_no))
    if f.party:
        query = query.where(Instance.party_name.contains(f.party))
    return query


def _page(session: Session, query: Select, page: int, per_page: int, *order,
          count: Select | None = None) -> Page[HumanTask]:
    """One page of ``query``; ``count``, when given, counts the same rows more cheaply."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, min(page, MAX_PAGE))
    if count is None:
        count = select(func.count()).select_from(query.order_by(None).subquery())
    total = session.scalar(count)
    window = query.order_by(*order, HumanTask.id).limit(per_page).offset((page - 1) * per_page)
    if page > 1:
        # Pick the page's tasks first, then load their rows and cases: the rows skipped over are
        # never read in full (on SQLite a case row's later columns sit past its serialized state).
        window = _base(None).where(HumanTask.id.in_(window.with_only_columns(HumanTask.id))) \
            .order_by(*order, HumanTask.id)
    items = list(session.scalars(window))
    return Page(items, page, per_page, total or 0)


def _due_order():
    return (HumanTask.due_at.is_(None), HumanTask.due_at)


def my_tasks(session: Session, user: User, page: int = 1, per_page: int = 20,
             filters: Filters | None = None) -> Page[HumanTask]:
    """Ready tasks assigned to ``user``, soonest due first."""
    query = _base(filters).where(HumanTask.assignee == user.username, HumanTask.state == "ready",
                                 Instance.status == "running")
    return _page(session, query, page, per_page, *_due_order())


def pool_tasks(session: Session, user: User, page: int = 1, per_page: int = 20,
               filters: Filters | None = None) -> Page[HumanTask]:
    """Unclaimed ready tasks the user may take: of their roles, unit-scoped ones from their unit."""
    query = _base(filters).where(access.takeable(user), Instance.status == "running")
    return _page(session, query, page, per_page, *_due_order())


def completed_by(session: Session, user: User, page: int = 1, per_page: int = 20,
                 filters: Filters | None = None) -> Page[HumanTask]:
    mine = (HumanTask.completed_by == user.username, HumanTask.state == "completed")
    query = _base(filters).where(*mine)
    # The count covers the user's whole history: unless a filter needs the case, it is read from
    # ix_human_task_done_by alone (every task has its case), not task by task joined to its case.
    count = None if filters and any(astuple(filters)) else select(func.count()).select_from(HumanTask).where(*mine)
    return _page(session, query, page, per_page, HumanTask.completed_at.desc(), count=count)


def overdue(session: Session, at: datetime, page: int = 1, per_page: int = 20,
            unit_id: int | None = None) -> Page[HumanTask]:
    """Ready tasks past their due time (for supervisors' red cards)."""
    query = _base(None).where(HumanTask.state == "ready", Instance.status == "running")
    if unit_id is None:
        query = query.where(HumanTask.due_at < at)
    else:
        # A unit's list starts from the unit's running cases (ix_instance_unit_status), never from
        # every overdue task of the bureau: the planners cannot tell which is fewer (their
        # statistics average over units) and picked the latter. ``coalesce`` says ``due_at < at``
        # in a form ix_human_task_due does not serve.
        query = query.where(Instance.unit_id == unit_id, func.coalesce(HumanTask.due_at, at) < at)
    return _page(session, query, page, per_page, HumanTask.due_at)


@dataclass(frozen=True)
class Inbox:
    """One tab of a user's inbox as the page shows it."""

    tab: str
    page: Page[HumanTask]
    processes: dict[str, str]  # for the process filter
    matters: dict[str, str]  # names of the matters of the listed cases
    notices: list[SupervisionNotice]  # 督办 on cases where the user may act, not yet acknowledged


def inbox_of(session: Session, user: User, tab: str, page: int = 1, per_page: int = 20,
             filters: Filters | None = None) -> Inbox:
    """The ``tab`` of :data:`TABS` (my tasks by default) for ``user``."""
    tab = tab if tab in TABS else "mine"
    found = TABS[tab](session, user, page, per_page, filters)
    matters = lookups.matter_names(session, {t.instance.matter_code for t in found.items})
    return Inbox(tab, found, processes(session), matters, supervision.for_inbox(session, user))


def processes(session: Session) -> dict[str, str]:
    """The processes of the current model set, by id, for filtering (never read from the case table)."""
    version = specs.current_version(session)
    return specs.process_names(session, version) if version else {}


def open_count(session: Session, user: User) -> int:
    """Tasks waiting for the user: assigned to them or unclaimed in their roles."""
    return my_tasks(session, user, per_page=1).total + pool_tasks(session, user, per_page=1).total


TABS = {"mine": my_tasks, "pool": pool_tasks, "done": completed_by}
