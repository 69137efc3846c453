"""Yellow and red cards (预警): how close a task or a case's handling limit is to its end.

Red: past due. Yellow: due within the warning window, a setting in working days (``warning_task``
for tasks, ``warning_case`` for the handling limit). Every list, badge and count asks here, so the
inbox, the case page and the supervisor's lists always agree.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from workflows.core import clock, contract
from workflows.core.deadlines import due_date
from workflows.core.models import Disclosure, DisclosureEvent, HumanTask, Instance
from workflows.core.workdays import TZ, WorkCalendar
from workflows.domain import access
from workflows.engine import runtime

RED, YELLOW = "red", "yellow"


@dataclass(frozen=True)
class Windows:
    """Today's warning thresholds: a task or limit due on or before these days is yellow."""

    now: datetime
    today: date
    task_until: date
    case_until: date

    def task(self, due_at: datetime | None) -> str | None:
        """The card of a ready task due at ``due_at``."""
        if due_at is None:
            return None
        if due_at < self.now:
            return RED
        return YELLOW if due_at.astimezone(TZ).date() <= self.task_until else None

    def case(self, decision_due: date | None, decided_on: date | None) -> str | None:
        """The card of a case's handling limit (none once decided)."""
        if decision_due is None or decided_on is not None:
            return None
        if decision_due < self.today:
            return RED
        return YELLOW if decision_due <= self.case_until else None


def windows(session: Session) -> Windows:
    """The warning thresholds as of now (settings and calendar read once per unit of work)."""
    now = clock.now()
    today = now.astimezone(TZ).date()
    rules = runtime.session_rules(session)
    calendar: WorkCalendar = runtime.session_calendar(session)
    return Windows(now, today, calendar.add_working_days(today, rules["warning_task"].amount),
                   calendar.add_working_days(today, rules["warning_case"].amount))


@dataclass(frozen=True)
class HandlingClock:
    """A case's handling limit (办案期限) as of today: days used and left, and its card."""

    days_used: int | None
    days_left: int | None
    card: str | None


def handling_clock(windows: Windows, status: str, filed_on: date | None, decision_due: date | None,
                   decided_on: date | None) -> HandlingClock:
    """The clock runs from filing until the decision, while the case is open; a suspended case's
    clock shows but carries no card."""
    if filed_on is None or decided_on is not None or status not in ("running", "suspended", "error"):
        return HandlingClock(None, None, None)
    left = (decision_due - windows.today).days if decision_due else None
    return HandlingClock((windows.today - filed_on).days, left,
                         windows.case(decision_due, decided_on) if status == "running" else None)


# --- disclosure due (公示到期) -------------------------------------------------------------------

@dataclass(frozen=True)
class DisclosureDue:
    """A decision still to be published (``publish``: due on its last day, 7 or 20 working days from
    the decision), or a published one asked to be withdrawn or corrected whose approval is open
    (``change``: due 3 working days from the review or court outcome)."""

    kind: str
    case: Instance  # the decided case; for ``change`` the correction case
    due: date | None
    card: str | None
    disclosure_id: int | None = None


def disclosures_due(session: Session, user, limit: int = 50) -> list[DisclosureDue]:
    """What publication and withdrawal limits run now, nearest first, ``limit`` of each kind (the
    unit's own for a unit head; supervisors only)."""
    scope = access.monitor_scope(user)
    w = windows(session)
    rules, calendar = runtime.session_rules(session), runtime.session_calendar(session)
    waiting = (select(Instance).where(Instance.status == "running", Instance.decided_on.is_not(None),
                                      Instance.decision_kind.in_(("penalty", "no_penalty")),
                                      ~exists().where(Disclosure.instance_id == Instance.id, Disclosure.kind == "decision"))
               .order_by(Instance.decided_on, Instance.id).limit(limit))
    if scope is not None:
        waiting = waiting.where(Instance.unit_id == scope)
    items = []
    for case in session.scalars(waiting):
        rule = rules["publish_penalty" if case.decision_kind == "penalty" else "publish_other"]
        due = due_date(rule, case.decided_on, calendar)
        card = "red" if due < w.today else "yellow" if due <= w.task_until else None
        items.append(DisclosureDue("publish", case, due, card))
    changes = (select(Instance, DisclosureEvent.disclosure_id)
               .join(DisclosureEvent, (DisclosureEvent.instance_id == Instance.id) & (DisclosureEvent.kind == "requested"))
               .where(Instance.status == "running", Instance.process_id == contract.CORRECTION_PROCESS)
               .order_by(Instance.id).limit(limit))
    if scope is not None:
        changes = changes.where(Instance.unit_id == scope)
    found = session.execute(changes).all()
    dues = dict(session.execute(select(HumanTask.instance_id, func.min(HumanTask.due_at)).where(
        HumanTask.instance_id.in_([case.id for case, _ in found]), HumanTask.state == "ready")
        .group_by(HumanTask.instance_id)).all()) if found else {}
    for case, disclosure_id in found:
        due_at = dues.get(case.id)
        items.append(DisclosureDue("change", case, due_at.astimezone(TZ).date() if due_at else None, w.task(due_at),
                                   disclosure_id))
    return sorted(items, key=lambda i: (i.due or date.max, i.case.id))
