"""Supervision reads as the history grows: the case list, the process view's counts, the warnings
and the dashboard at 1,000 and at 100,000 cases.

The bureau modelled is one whose history grows and whose open work does not. At both sizes the
same 250 open cases (their own generator and seed: 215 running, 20 suspended, 15 in error, spread
over the seven business units and four processes) wait at one ready task each: a quarter of the
tasks past due, some due within the yellow window, some claimed, the rest in their pools; of the
penalty cases filed and not yet decided some are past their 90-day handling limit or within its
warning window. Everything else is closed history (93 % completed, 7 % terminated, created 30 days
to two years ago) with its completed and cancelled tasks, its audit chain and a few reads: 750
cases at 1,000, 99,750 at 100,000. The fact columns are filled as the engine would fill them from
the case data: ``filed_on`` (the filing step's day) and ``decision_due`` (``case_decision``, 90
days on) for penalty cases past filing, ``review_result`` once the legal review is done,
``decided_on``, ``decision_kind``, ``penalty_type``, ``fine_amount`` / ``confiscation_amount``
once decided, ``closed_at`` for closed cases; decided penalties that were served have their
decision disclosure record. Rows are written with the builder of :mod:`bench.reads` (units,
people and ``bench/six_steps.bpmn`` as model-set version 1 through the project; cases by bulk
insert), and a manager (``jiandu``, every unit) is added.

Measured as a manager (every unit) and as unit head ``wang`` (社会组织管理科 only), each call in a
read-only unit of work of its own, best of ``--reps`` × ``--rounds`` (the sizes interleaved):

* goal ≤ 1.5: ``caselist.page`` first page (20 rows, newest first) unfiltered, by unit,
  ``status=running``, overdue only, free text (a party's name; that party has open cases only, so
  the result is the same at both sizes); ``process_stats.waiting`` (``six_steps``, version 1);
  ``caselist.warnings`` (25 of each, as the page shows); ``process_stats.versions`` (every case
  list and process page asks it). Results of the queries over open work are compared across the
  sizes and the run stops if one differs.
* no goal, reported: ``dashboard.build`` over the last 90 days and ``process_stats.time_spent``
  over the same days; they read what closed in the period, which grows with the history (the
  number of rows in the period is printed with them).

Every SELECT of every call is then EXPLAINed on the large database (SQLite: EXPLAIN QUERY PLAN)
and plan lines that read a whole big table are printed with the query they belong to.
PostgreSQL is vacuumed and analyzed after loading, as autovacuum would; SQLite gets no statistics
(the project runs no ANALYZE) unless ``--analyze``.

Run: ``python -m bench.monitor [--postgres URL] [--small 1000] [--large 100000] [--analyze] [--plans]``
"""
from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select

from bench.engine import database
from bench.reads import (BIG_TABLES, BUSINESS, DAY, GOAL, HEAD, NOW, PROCESS_WEIGHTS, PROCESSES, UNIT, Bureau,
                         Case, Rows, captured, load, maintain, prepare)
from workflows.core.db import get_engine, session_scope
from workflows.core.deadlines import DEFAULT_DEADLINES, due_date
from workflows.core.models import Disclosure, HumanTask, Instance, Unit
from workflows.core.workdays import TZ, WorkCalendar
from workflows.domain import caselist, dashboard, people, process_stats
from workflows.domain.caselist import CaseFilters

MANAGER = "jiandu"
OPEN = {"running": 215, "suspended": 20, "error": 15}
OPEN_CASES = sum(OPEN.values())
PERIOD = 90  # days of the dashboard and the time heatmap
PROCESS, VERSION = "six_steps", 1  # the deployed process whose elements the process view counts
LIMIT = DEFAULT_DEADLINES["case_decision"]  # the handling limit (办案期限), 90 days from filing
CALENDAR = WorkCalendar()

# Party names: 新市区 + a place + a word + a kind of organisation. Open cases and history use
# different words, so a search for an open case's party finds the same cases at every size.
PLACES = ["天山", "昆仑", "南湖", "北京路", "友好", "长春", "喀什", "阿勒泰", "河北", "苏州", "西山", "红山",
          "燕儿窝", "水磨沟", "头屯河", "米东", "达坂城", "鲤鱼山", "碾子沟", "八道湾"]
OPEN_WORDS = ["福寿", "康乐", "明德", "启航", "丝路", "书画", "青年", "晨曦", "博雅", "仁和"]
HISTORY_WORDS = ["慈航", "安康", "鸿运", "天泽", "润德", "文昌", "和美", "嘉禾", "春晖", "同心", "育才", "惠民",
                 "瑞祥", "永安", "志远", "泰和", "恒信", "华夏", "金桥", "长青"]
KINDS = {"social": ["协会", "研究会", "促进会", "商会"], "elderly": ["养老院", "老年公寓", "护理中心"],
         "relief": ["救助站", "服务站"], "charity": ["慈善基金会", "公益服务中心"],
         "marriage": ["婚姻介绍所", "婚庆服务部"], "funeral": ["殡葬服务部", "公墓"],
         "place": ["房地产开发公司", "置业公司"]}
PENALTY_TYPES = [("warning", 40), ("fine", 40), ("confiscation", 10), ("suspend_activities", 5),
                 ("revoke_registration", 3), ("lower_qualification", 2)]
DECISIONS = [("penalty", 75), ("no_penalty", 20), ("transfer", 5)]
REVIEWS = [("agree", 85), ("agree_after_coordination", 12), ("rejected", 3)]


@dataclass
class Monitored(Case):
    """A case with the facts its data would carry once the steps that set them are done."""

    party: str = ""
    decision: tuple = (None, None, None, None)  # (decision_kind, penalty_type, fine, confiscation)
    review: str | None = None
    published: bool = True


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    values, weights = zip(*weighted)
    return rng.choices(values, weights)[0]


def _facts(rng: random.Random) -> dict:
    kind = _pick(rng, DECISIONS)
    ptype = _pick(rng, PENALTY_TYPES) if kind == "penalty" else None
    fine = Decimal(rng.randrange(10, 500) * 100) if ptype == "fine" else None
    conf = Decimal(rng.randrange(5, 300) * 100) if ptype == "confiscation" else None
    return {"decision": (kind, ptype, fine, conf), "review": _pick(rng, REVIEWS), "published": rng.random() < 0.92}


def open_cases(bureau: Bureau) -> list[Monitored]:
    """The bureau's open work: the same at every size (own seed)."""
    rng = random.Random(7)
    processes, weights = zip(*PROCESS_WEIGHTS.items())
    cases = []
    statuses = [status for status, n in OPEN.items() for _ in range(n)]
    for i, status in enumerate(statuses):
        unit = BUSINESS[i % len(BUSINESS)]
        process = rng.choices(processes, weights)[0]
        steps = PROCESSES[process]
        upto = rng.randrange(len(steps))
        done = [(rng.choice(bureau.doers(role, unit, exclude=())), rng.random() < 0.3)
                for _, _, _, role in steps[:upto]]
        role = steps[upto][3]
        claimed = rng.random() < (0.5 if role == "officer" else 0.3)
        roll = rng.random()  # a quarter past due, a sixth due within the yellow window, the rest later
        due = (NOW - rng.uniform(0.1, 20) * DAY if roll < 0.25 else NOW + rng.uniform(0.05, 1.5) * DAY if roll < 0.4
               else NOW + rng.uniform(3, 20) * DAY)
        # Penalty cases run up to 120 days (past the 90-day handling limit); each done step took days.
        age = max(rng.uniform(1, 120 if process == "penalty" else 60), 4 * upto + 1)
        cases.append(Monitored(
            f"o{i:04d}", process, unit, status, NOW - age * DAY, rng.choice(bureau.doers("officer", unit, exclude=())),
            done=done, ready=(rng.choice(bureau.doers(role, unit, exclude=())) if claimed else None, due),
            party=f"新市区{rng.choice(PLACES)}{rng.choice(OPEN_WORDS)}{rng.choice(KINDS[unit])}", **_facts(rng)))
    return cases


def history_cases(bureau: Bureau, n: int) -> list[Monitored]:
    """Closed cases of every unit over two years, with their completed and cancelled tasks (seeded by size)."""
    rng = random.Random(n)
    processes, weights = zip(*PROCESS_WEIGHTS.items())
    readers = [u for u, _, _ in bureau.users]
    cases = []
    for i in range(n):
        status = "completed" if rng.random() < 0.93 else "terminated"
        unit = rng.choice(BUSINESS)
        process = rng.choices(processes, weights)[0]
        steps = PROCESSES[process]
        upto = len(steps) if status == "completed" else rng.randrange(len(steps))
        done = [(rng.choice(bureau.doers(role, unit, exclude=())), rng.random() < 0.3) for _, _, _, role in steps[:upto]]
        cases.append(Monitored(
            f"h{i:06d}", process, unit, status, NOW - rng.uniform(30, 730) * DAY,
            rng.choice(bureau.doers("officer", unit, exclude=())), done=done,
            cancelled=status == "terminated" or rng.random() < 0.1,
            reads=[rng.choice(readers) for _ in range(rng.choice((0, 0, 1, 1, 2)))],
            party=f"新市区{rng.choice(PLACES)}{rng.choice(HISTORY_WORDS)}{rng.choice(KINDS[unit])}", **_facts(rng)))
    return cases


def _day(moment: datetime) -> date:
    return moment.astimezone(TZ).date()


FACT_COLUMNS = ("filed_on", "decision_due", "decided_on", "decision_kind", "penalty_type", "fine_amount",
                "confiscation_amount", "review_result", "closed_at")


class FactRows(Rows):
    """The rows of :class:`bench.reads.Rows` with the fact columns the engine writes from the case
    data (filed, handling limit, legal review, decision, closed), and decision disclosures."""

    def __init__(self, unit_ids: dict[str, int]):
        super().__init__(unit_ids)
        self.disclosures: list[dict] = []

    def of(self, instance_id: int, case: Monitored) -> tuple[dict, list[dict], list[dict]]:
        instance, tasks, events = super().of(instance_id, case)
        instance.update(dict.fromkeys(FACT_COLUMNS), party_name=case.party)
        done = {t["spec_id"]: t["completed_at"] for t in tasks if t["state"] == "completed"}
        if case.process == "penalty" and "filing" in done:
            instance["filed_on"] = _day(done["filing"])
            instance["decision_due"] = due_date(LIMIT, instance["filed_on"], CALENDAR)
            if "legal_review" in done:
                instance["review_result"] = case.review
            if "decision" in done:
                kind, ptype, fine, conf = case.decision
                instance.update(decided_on=_day(done["decision"]), decision_kind=kind, penalty_type=ptype,
                                fine_amount=fine, confiscation_amount=conf)
                if kind == "penalty" and "service" in done:
                    written = done["service"] + timedelta(hours=20)
                    self.disclosures.append({
                        "kind": "decision", "instance_id": instance_id, "case_no": instance["case_no"],
                        "title": f"{case.party}行政处罚决定", "content": '{"party_name": "%s"}' % case.party,
                        "publish": case.published, "published_on": _day(written) if case.published else None,
                        "not_published_reason": None if case.published else "state_secret",
                        "created_at": written})
        if case.status == "completed":
            instance["closed_at"] = instance["updated_at"]
        elif case.status == "terminated":
            instance["closed_at"] = instance["updated_at"] + DAY  # when the termination was recorded
        return instance, tasks, events



def build(settings, size: int, analyze: bool) -> None:
    unit_ids = prepare(settings)
    with session_scope(settings) as session:
        people.add_user(session, "bench", MANAGER, "监督员", "office", "password", ["manager"])
    bureau = Bureau()
    rows = FactRows(unit_ids)
    load(settings, open_cases(bureau) + history_cases(bureau, size - OPEN_CASES), rows)
    with get_engine(settings.database_url).begin() as conn:
        for start in range(0, len(rows.disclosures), 5000):
            conn.execute(insert(Disclosure.__table__), rows.disclosures[start:start + 5000])
    maintain(settings, analyze)


# --- measuring -------------------------------------------------------------------------------

TODAY = _day(NOW)
START, END = TODAY - timedelta(days=PERIOD - 1), TODAY
SINCE = datetime.combine(START, datetime.min.time(), tzinfo=TZ)
UNTIL = datetime.combine(END + timedelta(days=1), datetime.min.time(), tzinfo=TZ)


@dataclass
class Query:
    name: str
    run: Callable  # (session, user, ids) -> a comparable result
    goal: bool = True
    same: bool = False  # the result must be identical at both sizes (open work only)


def _listing(listing: caselist.CaseList) -> tuple:
    return listing.total, [(r.instance.party_name, r.instance.status, [t.spec_id for t in r.tasks], r.card)
                           for r in listing.rows]


def _warnings(w: caselist.Warnings) -> tuple:
    return ([(t.instance.party_name, t.spec_id, t.due_at) for t in w.late_tasks],
            [(r.instance.party_name, r.card, r.limit_card) for r in w.cases])


def _board(b: dashboard.Dashboard) -> tuple:
    return b.tiles, [(c.key, len(c.labels)) for c in b.charts]


def queries() -> list[Query]:
    page = caselist.page
    return [
        Query("list", lambda s, u, i: _listing(page(s, u, CaseFilters()))),
        Query("list: unit", lambda s, u, i: _listing(page(s, u, CaseFilters(unit_id=i["unit"])))),
        Query("list: running", lambda s, u, i: _listing(page(s, u, CaseFilters(status="running"))), same=True),
        Query("list: overdue", lambda s, u, i: _listing(page(s, u, CaseFilters(overdue=True))), same=True),
        Query("list: text", lambda s, u, i: _listing(page(s, u, CaseFilters(text=i["text"]))), same=True),
        Query("waiting", lambda s, u, i: process_stats.waiting(s, u, PROCESS, VERSION), same=True),
        Query("warnings", lambda s, u, i: _warnings(caselist.warnings(s, u, 25)), same=True),
        Query("versions", lambda s, u, i: process_stats.versions(s, u), same=True),
        Query(f"dashboard {PERIOD} d", lambda s, u, i: _board(dashboard.build(s, u, START, END)), goal=False),
        Query(f"time_spent {PERIOD} d",
              lambda s, u, i: sorted(process_stats.time_spent(s, u, PROCESS, VERSION, SINCE, UNTIL)), goal=False),
    ]


def ids_of(settings) -> dict:
    """The measured unit's id and the text searched: the party of an open case of the unit (untimed)."""
    with session_scope(settings, write=False) as s:
        unit = s.scalars(select(Unit.id).where(Unit.code == UNIT)).one()
        party = s.scalars(select(Instance.party_name).where(Instance.unit_id == unit, Instance.status == "running")
                          .order_by(Instance.party_name)).first()
    return {"unit": unit, "text": party.removeprefix("新市区")[:-1]}


def in_period(settings) -> dict[str, int]:
    """What the no-goal reports read: the rows of the period (untimed)."""
    with session_scope(settings, write=False) as s:
        return {
            "cases filed": s.scalar(select(func.count()).where(Instance.created_at >= SINCE)),
            "cases closed": s.scalar(select(func.count()).where(Instance.closed_at >= SINCE)),
            "cases decided": s.scalar(select(func.count()).where(Instance.decided_on >= START)),
            "tasks completed": s.scalar(select(func.count()).where(HumanTask.state == "completed",
                                                                   HumanTask.completed_at >= SINCE)),
            f"{PROCESS} tasks completed": s.scalar(select(func.count()).where(
                HumanTask.state == "completed", HumanTask.process_id == PROCESS, HumanTask.completed_at >= SINCE)),
            "cases in all": s.scalar(select(func.count()).select_from(Instance)),
            "tasks in all": s.scalar(select(func.count()).select_from(HumanTask)),
        }


ROLES = {"manager": MANAGER, "unit head": HEAD}


def once(settings, query: Query, username: str, ids: dict, seen: list | None = None) -> tuple[float, object]:
    """One call in a read-only unit of work of its own (the user loaded first, as a request would);
    the time of the call alone (its SELECTs added to ``seen``)."""
    with session_scope(settings, write=False) as session:
        user = people.get_user(session, username)
        if seen is None:
            started = time.perf_counter()
            result = query.run(session, user, ids)
            return time.perf_counter() - started, result
        with captured(settings.database_url, seen):
            return 0.0, query.run(session, user, ids)


def scans(settings, statements: list[tuple[str, object]], show: bool) -> list[str]:
    """Plan lines reading the whole of a big table. A PostgreSQL ``Seq Scan`` with no filter of its
    own under a ``Limit`` stops at the limit (the capped count of an unfiltered list): marked so."""
    engine = get_engine(settings.database_url)
    tables = "|".join(BIG_TABLES)
    found = []
    with engine.connect() as conn:
        for statement, parameters in statements:
            if engine.dialect.name == "sqlite":
                lines = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
                bad = [line for line in lines if re.match(rf"SCAN ({tables})\b", line) and "USING" not in line]
            else:
                lines = [row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters)]
                bad = []
                for n, line in enumerate(lines):
                    if re.search(rf"Seq Scan on ({tables})\b", line):
                        indent = len(line) - len(line.lstrip())
                        filtered = any(ln.strip().startswith("Filter:") for ln in lines[n + 1:]
                                       if len(ln) - len(ln.lstrip()) > indent and "->" not in ln)
                        under_limit = any(ln.strip().startswith("Limit") for ln in lines[:n])
                        bad.append(line.strip() + ("" if filtered or not under_limit else "  (no filter, stops at the limit)"))
            found += [f"{line}    <- {' '.join(statement.split())[:160]}" for line in bad]
            if show:
                print("\n" + " ".join(statement.split()) + f"\n  {parameters}\n  " + "\n  ".join(lines))
    return found


def measure(kind: str, dbs: dict, reps: int, rounds: int, plans: bool) -> float:
    small, large = sorted(dbs)
    ids = {size: ids_of(settings) for size, settings in dbs.items()}
    if ids[small]["text"] != ids[large]["text"]:
        sys.exit(f"[{kind}] the searched party differs between sizes: {ids[small]['text']} {ids[large]['text']}")
    cases = [(role, q) for role in ROLES for q in queries()]
    calls = {}
    for role, q in cases:  # warm up; compare the results over open work; fewer calls for slow queries
        found = {size: once(settings, q, ROLES[role], ids[size]) for size, settings in dbs.items()}
        if q.same and found[small][1] != found[large][1]:
            sys.exit(f"[{kind}] {q.name} ({role}): results differ between {small} and {large} cases:\n"
                     f"  {found[small][1]}\n  {found[large][1]}")
        slowest = max(once(settings, q, ROLES[role], ids[size])[0] for size, settings in dbs.items())
        calls[role, q.name] = max(1, min(reps, int(0.25 / max(slowest, 1e-6))))
    best = {(role, q.name, size): float("inf") for role, q in cases for size in dbs}
    for _ in range(rounds):  # sizes interleaved, so drift in the machine's load hits both alike
        for role, q in cases:
            for size, settings in dbs.items():
                for _ in range(calls[role, q.name]):
                    best[role, q.name, size] = min(best[role, q.name, size], once(settings, q, ROLES[role], ids[size])[0])
    print(f"\n[{kind}] ms per call, best of up to {reps * rounds}; results over open work identical at both sizes")
    print(f"[{kind}] {'query':<32} {f'{small:,} cases':>13} {f'{large:,} cases':>14} {'ratio':>7}")
    worst = 0.0
    for role, q in cases:
        a, b = 1000 * best[role, q.name, small], 1000 * best[role, q.name, large]
        if q.goal:
            worst = max(worst, b / a)
        note = "  (no goal)" if not q.goal else "" if b / a <= GOAL else "  > goal"
        print(f"[{kind}] {q.name + f' ({role})':<32} {a:13.3f} {b:14.3f} {b / a:7.2f}{note}")
    rows = {size: in_period(settings) for size, settings in dbs.items()}
    counts = [f"{what} {rows[small][what]:,} → {rows[large][what]:,}" for what in rows[small]]
    print(f"[{kind}] rows of the last {PERIOD} days (what the no-goal reports are about): " + "; ".join(counts[:-2]))
    print(f"[{kind}] whole tables: " + "; ".join(counts[-2:]))
    for role, q in cases:
        seen: list[tuple[str, object]] = []
        once(dbs[large], q, ROLES[role], ids[large], seen)
        found = scans(dbs[large], seen, plans)
        verdict = f"{len(found)} plan lines scan a whole big table" if found else "no whole-table scan"
        print(f"[{kind}] plans at {large:,}: {q.name} ({role}): {len(seen)} SELECTs, {verdict}")
        for line in found:
            print(f"[{kind}]     {line}")
    print(f"[{kind}] worst ratio with a goal: {worst:.2f}")
    return worst


def run(kind: str, pg_url: str | None, sizes: list[int], reps: int, rounds: int, plans: bool, analyze: bool) -> float:
    with ExitStack() as stack:
        dbs = {}
        for size in sizes:
            folder = stack.enter_context(tempfile.TemporaryDirectory())
            settings = stack.enter_context(database(kind, pg_url, folder))
            started = time.perf_counter()
            build(settings, size, analyze)
            print(f"[{kind}] built {size:,} cases ({OPEN_CASES} open, {size - OPEN_CASES:,} closed) "
                  f"in {time.perf_counter() - started:.1f} s")
            dbs[size] = settings
        return measure(kind, dbs, reps, rounds, plans)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("SANXIANG_TEST_DATABASE_URL"),
                        help="a PostgreSQL URL to run on as well")
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=5, help="calls per query, size and round (fewer for slow ones)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--plans", action="store_true", help="print every plan of the large database")
    parser.add_argument("--analyze", action="store_true", help="give SQLite's planner statistics (ANALYZE) too")
    args = parser.parse_args()
    if args.small < 2 * OPEN_CASES or args.large <= args.small:
        parser.error(f"--small must be at least {2 * OPEN_CASES} (the open work is {OPEN_CASES} cases) and --large larger")
    kinds = ["sqlite"] + (["postgresql"] if args.postgres else [])
    ratios = {kind: run(kind, args.postgres, [args.small, args.large], args.reps, args.rounds, args.plans,
                        args.analyze) for kind in kinds}
    print("\n" + ", ".join(f"{kind}: {r:.2f}" for kind, r in ratios.items()))
    print(f"worst ratio: {max(ratios.values()):.2f} (goal ≤ {GOAL})")


if __name__ == "__main__":
    main()
