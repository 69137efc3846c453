"""The working-day calendar as administrators keep it: a year's days as the engine counts them,
the State Council's arrangement for a year the holiday package does not know (imported as CSV or
entered by hand), and the years some open case has a deadline in but nobody has covered yet."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from workflows.core.errors import FormInvalid
from workflows.core.messages import Message
from workflows.core.models import HolidayOverride, HumanTask, Instance, User
from workflows.core.workdays import TZ, parse_holiday_csv
from workflows.domain import access, audit
from workflows.domain.people import actor_name
from workflows.engine import runtime

KINDS = {"holiday": False, "workday": True}


@dataclass(frozen=True)
class Day:
    day: date
    working: bool
    name: str  # the holiday's or adjusted working day's name, if any
    source: str  # package | override | weekday (a guess: the year is not covered)


@dataclass(frozen=True)
class Year:
    year: int
    covered: bool  # by the package or by imported days
    days: list[Day]


def package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def year(session: Session, number: int) -> Year:
    """Every day of ``number`` as the engine counts it now."""
    overrides = {row.day: row for row in session.scalars(select(HolidayOverride).where(
        HolidayOverride.day >= date(number, 1, 1), HolidayOverride.day <= date(number, 12, 31)))}
    calendar = runtime.work_calendar(session)
    in_package = package_covers(number)
    days, day = [], date(number, 1, 1)
    while day.year == number:
        if day in overrides:
            days.append(Day(day, overrides[day].is_working, overrides[day].name, "override"))
        elif in_package:
            holiday, name = chinese_calendar.get_holiday_detail(day)
            days.append(Day(day, calendar.is_working_day(day), _name(name) if name else "", "package"))
        else:
            days.append(Day(day, day.weekday() < 5, "", "weekday"))
        day += timedelta(days=1)
    return Year(number, in_package or bool(overrides), days)


def _name(holiday) -> str:
    return getattr(holiday, "value", str(holiday))


def uncovered_years(session: Session) -> list[int]:
    """Years that neither the package nor imported days cover, in which an open case has a deadline:
    its dates there are counted Monday to Friday, a guess administrators must replace."""
    moments = [session.scalar(select(func.max(HumanTask.due_at)).where(HumanTask.state == "ready")),
               session.scalar(select(func.max(Instance.next_timer_at)).where(Instance.status == "running"))]
    limit = session.scalar(select(func.max(Instance.decision_due)).where(
        Instance.status == "running", Instance.decided_on.is_(None)))
    days = [m.astimezone(TZ).date() for m in moments if m is not None] + ([limit] if limit else [])
    if not days:
        return []
    last = max(days)
    override_years = {d.year for d in session.scalars(select(HolidayOverride.day))}
    return [y for y in range(runtime.today().year, last.year + 1) if not package_covers(y) and y not in override_years]


def import_csv(session: Session, actor: User | str, text: str, source: str = "") -> int:
    """Import ``date,kind,name`` rows (kind ``holiday`` or ``workday``); returns how many days."""
    access.check_administer(actor)
    try:
        rows = parse_holiday_csv(text)
    except ValueError as exc:
        raise FormInvalid({"file": [Message("%(problem)s", problem=str(exc))]}) from None
    if not rows:
        raise FormInvalid({"file": [Message("文件中没有日期")]})
    for row in rows:
        session.merge(HolidayOverride(day=row.date, is_working=row.is_working, name=row.name))
    session.flush()
    audit.record(session, actor_name(actor), "holidays.import", file=source, days=len(rows),
                 years=sorted({row.date.year for row in rows}))
    return len(rows)


def set_day(session: Session, actor: User | str, day: date | None, kind: str, name: str) -> HolidayOverride:
    """Enter one day of an arrangement by hand: a holiday, or an adjusted working day (调休)."""
    access.check_administer(actor)
    if day is None:
        raise FormInvalid({"day": [Message("请填写日期")]})
    if kind not in KINDS:
        raise FormInvalid({"kind": [Message("请选择节假日或调休工作日")]})
    row = session.merge(HolidayOverride(day=day, is_working=KINDS[kind], name=(name or "").strip()))
    session.flush()
    audit.record(session, actor_name(actor), "holidays.set", day=day, kind=kind, name=row.name)
    return row


def remove_day(session: Session, actor: User | str, day: date) -> None:
    access.check_administer(actor)
    session.execute(delete(HolidayOverride).where(HolidayOverride.day == day))
    audit.record(session, actor_name(actor), "holidays.remove", day=day)
