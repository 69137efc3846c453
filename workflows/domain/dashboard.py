"""The supervision dashboard's numbers: one query per chart, over a date range and the reader's
units, from the case rows, their inbox rows and the disclosure records (no workflow is loaded).

Counts of cases use the same conditions as the case list (:mod:`workflows.domain.caselist`), so a
chart and the list filtered the same way agree.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from workflows.core import contract
from workflows.core.deadlines import due_date
from workflows.core.models import Disclosure, HumanTask, Instance, User
from workflows.core.roles import role_def
from workflows.core.workdays import TZ
from workflows.domain import access, alerts, caselist
from workflows.engine import runtime


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float]


@dataclass(frozen=True)
class Chart:
    key: str  # what it shows; the page gives it a title
    labels: list[str]
    series: list[Series]
    unit: str = "count"  # count | days | yuan


@dataclass(frozen=True)
class Dashboard:
    start: date
    end: date  # inclusive
    unit_id: int | None
    tiles: dict[str, int]  # open, red, yellow, error
    charts: list[Chart] = field(default_factory=list)


def build(session: Session, user: User, start: date, end: date, unit_id: int | None = None) -> Dashboard:
    """The dashboard of ``user``'s units (one of them when ``unit_id``) for the days ``start``..``end``."""
    scope = access.monitor_scope(user)
    units = caselist.units_of(session, user)
    if unit_id is not None and unit_id not in units:
        unit_id = None
    chosen = [unit_id] if unit_id is not None else (list(units) if scope is not None else None)
    since, until = _moment(start), _moment(end + timedelta(days=1))
    windows = alerts.windows(session)
    open_rows = _open_cases(session, chosen, windows)
    tiles = {
        "open": len(open_rows), "red": sum(row.card == alerts.RED for row in open_rows),
        "yellow": sum(row.card == alerts.YELLOW for row in open_rows),
        "error": _count(session, chosen, Instance.status == "error"),
    }
    return Dashboard(start, end, unit_id, tiles, [
        _by_unit(open_rows, units),
        _stages(open_rows),
        _weekly(session, chosen, start, end, since, until),
        _overdue_tasks(session, chosen, units, windows),
        _time_per_stage(session, chosen, since, until),
        _reviews(session, chosen, start, end, since, until),
        _disclosure(session, chosen, since, until),
        _penalties(session, chosen, start, end),
    ])


@dataclass(frozen=True)
class _Open:
    unit_id: int
    card: str | None
    stages: list[str]


def _open_cases(session: Session, units: list[int] | None, windows: alerts.Windows) -> list[_Open]:
    """Every running case of the units, with its card and where it waits (as the list computes them)."""
    q = select(Instance.id, Instance.unit_id, Instance.decision_due, Instance.decided_on).where(Instance.status == "running")
    cases = {row.id: row for row in session.execute(_in(q, units))}
    tasks = defaultdict(list)
    tq = (select(HumanTask.instance_id, HumanTask.name, HumanTask.due_at).join(HumanTask.instance)
          .where(HumanTask.state == "ready", Instance.status == "running"))
    for instance_id, name, due_at in session.execute(_in(tq, units)):
        tasks[instance_id].append((name, due_at))
    out = []
    for case_id, row in cases.items():
        cards = {windows.task(due) for _, due in tasks[case_id]} | {windows.case(row.decision_due, row.decided_on)}
        card = alerts.RED if alerts.RED in cards else alerts.YELLOW if alerts.YELLOW in cards else None
        out.append(_Open(row.unit_id, card, [name for name, _ in tasks[case_id]]))
    return out


def _by_unit(rows: list[_Open], units: dict[int, str]) -> Chart:
    counts = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        counts[row.unit_id][0] += 1
        counts[row.unit_id][1] += row.card == alerts.RED
        counts[row.unit_id][2] += row.card == alerts.YELLOW
    ids = [u for u in units if u in counts]
    return Chart("open_by_unit", [units[u] for u in ids], [
        Series("open", [counts[u][0] for u in ids]), Series("red", [counts[u][1] for u in ids]),
        Series("yellow", [counts[u][2] for u in ids])])


def _stages(rows: list[_Open]) -> Chart:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        for stage in set(row.stages):
            counts[stage] += 1
    ordered = sorted(counts, key=lambda s: (-counts[s], s))
    return Chart("open_by_stage", ordered, [Series("open", [counts[s] for s in ordered])])


def _weekly(session: Session, units: list[int] | None, start: date, end: date, since: datetime,
            until: datetime) -> Chart:
    weeks = []
    monday = start - timedelta(days=start.weekday())
    while monday <= end:
        weeks.append(monday)
        monday += timedelta(days=7)
    filed, closed = defaultdict(int), defaultdict(int)
    for (moment,) in session.execute(_in(select(Instance.created_at).where(
            Instance.created_at >= since, Instance.created_at < until), units)):
        filed[_week(moment)] += 1
    for (moment,) in session.execute(_in(select(Instance.closed_at).where(
            Instance.closed_at >= since, Instance.closed_at < until), units)):
        closed[_week(moment)] += 1
    return Chart("weekly", [w.isoformat() for w in weeks],
                 [Series("filed", [filed[w] for w in weeks]), Series("closed", [closed[w] for w in weeks])])


def _overdue_tasks(session: Session, units: list[int] | None, names: dict[int, str], windows: alerts.Windows) -> Chart:
    q = (select(Instance.unit_id, HumanTask.role_id, func.count()).join(HumanTask.instance)
         .where(HumanTask.state == "ready", Instance.status == "running", HumanTask.due_at < windows.now)
         .group_by(Instance.unit_id, HumanTask.role_id))
    counts = {(unit, role): n for unit, role, n in session.execute(_in(q, units))}
    roles = sorted({role for _, role in counts})
    ids = [u for u in names if any(unit == u for unit, _ in counts)]
    return Chart("overdue_tasks", [names[u] for u in ids],
                 [Series(role_def(role).label_zh, [counts.get((u, role), 0) for u in ids]) for role in roles])


def _time_per_stage(session: Session, units: list[int] | None, since: datetime, until: datetime) -> Chart:
    q = (select(HumanTask.name, HumanTask.created_at, HumanTask.completed_at).join(HumanTask.instance)
         .where(HumanTask.state == "completed", HumanTask.completed_at >= since, HumanTask.completed_at < until))
    spans: dict[str, list[float]] = defaultdict(list)
    for name, opened, closed in session.execute(_in(q, units)):
        spans[name].append((closed - opened).total_seconds() / 86400)
    ordered = sorted(spans, key=lambda n: -sum(spans[n]) / len(spans[n]))
    return Chart("time_per_stage", ordered, [Series("mean_days", [round(sum(spans[n]) / len(spans[n]), 2)
                                                                  for n in ordered])], unit="days")


def _reviews(session: Session, units: list[int] | None, start: date, end: date, since: datetime,
             until: datetime) -> Chart:
    """Legal reviews: the results of cases decided in the range, and the returns for correction."""
    q = (select(Instance.review_result, func.count()).where(
        Instance.review_result.is_not(None), Instance.decided_on >= start, Instance.decided_on <= end)
        .group_by(Instance.review_result))
    counts = dict(session.execute(_in(q, units)).all())
    returned = session.scalar(_in(select(func.count()).select_from(HumanTask).join(HumanTask.instance).where(
        HumanTask.spec_id == contract.REVIEW_RETURN_ELEMENT, HumanTask.created_at >= since,
        HumanTask.created_at < until), units)) or 0
    labels = [*contract.REVIEW_RESULTS, "returned"]
    return Chart("reviews", labels, [Series("count", [*(counts.get(r, 0) for r in contract.REVIEW_RESULTS), returned])])


def _disclosure(session: Session, units: list[int] | None, since: datetime, until: datetime) -> Chart:
    """Decision disclosures written in the range: on time, late (past the legal limit), withheld."""
    q = (select(Disclosure.publish, Disclosure.published_on, Instance.decided_on, Instance.decision_kind)
         .join(Instance, Disclosure.instance_id == Instance.id)
         .where(Disclosure.kind == "decision", Disclosure.created_at >= since, Disclosure.created_at < until))
    rules, calendar = runtime.session_rules(session), runtime.session_calendar(session)
    counts = {"on_time": 0, "late": 0, "withheld": 0}
    for publish, published_on, decided_on, kind in session.execute(_in(q, units)):
        if not publish:
            counts["withheld"] += 1
            continue
        rule = rules["publish_penalty" if kind == "penalty" else "publish_other"]
        on_time = decided_on is None or published_on <= due_date(rule, decided_on, calendar)
        counts["on_time" if on_time else "late"] += 1
    return Chart("disclosure", list(counts), [Series("count", list(counts.values()))])


def _penalties(session: Session, units: list[int] | None, start: date, end: date) -> Chart:
    q = (select(Instance.penalty_type, func.count(), func.sum(Instance.fine_amount), func.sum(Instance.confiscation_amount))
         .where(Instance.decision_kind == "penalty", Instance.decided_on >= start, Instance.decided_on <= end)
         .group_by(Instance.penalty_type))
    rows = sorted(session.execute(_in(q, units)).all(), key=lambda r: (-r[1], r[0] or ""))
    return Chart("penalties", [r[0] or "" for r in rows], [
        Series("count", [r[1] for r in rows]),
        Series("fine", [float(r[2] or Decimal(0)) for r in rows]),
        Series("confiscation", [float(r[3] or Decimal(0)) for r in rows])])


def _count(session: Session, units: list[int] | None, condition) -> int:
    return session.scalar(_in(select(func.count()).select_from(Instance).where(condition), units)) or 0


def _in(query, units: list[int] | None):
    """``query`` (over cases) kept to ``units`` (None: every unit)."""
    return query if units is None else query.where(and_(Instance.unit_id.in_(units)))


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=TZ)


def _week(moment: datetime) -> date:
    day = moment.astimezone(TZ).date()
    return day - timedelta(days=day.weekday())
