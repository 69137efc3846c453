"""Yellow and red cards (预警): how close a task or a case's handling limit is to its end.

Red: past due. Yellow: due within the warning window, a setting in working days (``warning_task``
for tasks, ``warning_case`` for the handling limit). Every list, badge and count asks here, so the
inbox, the case page and the supervisor's lists always agree.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from workflows.core import clock
from workflows.core.workdays import TZ, WorkCalendar
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
