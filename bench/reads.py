"""Staff read paths as the database grows: the same inbox and case page at 1,000 and at 100,000 cases.

Two databases are built per engine (a SQLite file; a PostgreSQL schema when ``--postgres`` or
``SANXIANG_TEST_DATABASE_URL`` is given). Rows are written directly with bulk Core inserts (driving
the engine would take hours): cases with a serialized state of about 4 KB, statuses mixed (88 %
completed, 5 % terminated, 5 % running, some suspended or in error), spread over seven business
units, four processes and two years; their inbox rows (completed ones spread over many users,
cancelled ones, ready ones with due dates, in role pools or claimed); their audit chains; and reads
of case files on the readers' access chains. Units, users and roles come from ``init_database`` and
``people.add_user``; ``bench/six_steps.bpmn`` is deployed as model-set version 1.

Who is measured: officer ``zhang`` and unit head ``wang`` of 社会组织管理科. Their unit's open work
and zhang's history (the same 219 cases, from a generator of their own) are identical at both sizes,
so every page holds the same rows; what grows a hundredfold is everything else: every unit's
history, their unit's included, and the open work of the six other units. Each result is compared
across the sizes and the run stops if one differs.

Timed, best of ``--reps`` × ``--rounds`` calls (the sizes interleaved), each in a unit of work of
its own as a web request would have it, the call alone: ``inbox.my_tasks``, ``pool_tasks`` (both
users), ``completed_by`` (page 1 and page 15), ``open_count``, ``processes``, ``overdue`` (the
unit's) in read-only sessions; ``casefile.read``, which records the read, in a write session rolled
back after timing: for a running case with a realistic history and for a case read 2,000 times,
without and with its list of reads (the page must not slow down with views). Every SELECT those
calls ran, with its parameters (``workflows.core.db.statements`` collects the text alone), is then
EXPLAINed on the large database and plan lines that read a whole big table are printed.

PostgreSQL is vacuumed and analyzed after loading, as autovacuum would; SQLite gets no statistics,
as the project runs no ANALYZE, unless ``--analyze``.

Printed per database: each query's best time at both sizes and the ratio large/small (goal ≤ 1.5);
last, the worst ratio.

Run: ``python -m bench.reads [--postgres URL] [--small 1000] [--large 100000] [--analyze] [--plans]``
"""
from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import event, insert, select, text

from bench.engine import database
from workflows.bootstrap import init_database
from workflows.core.db import get_engine, session_scope
from workflows.core.models import AuditChain, AuditEvent, HumanTask, Instance, Unit
from workflows.core.roles import role_def
from workflows.core.settings import Settings
from workflows.design import deployment
from workflows.domain import casefile, inbox, people

MODEL = Path(__file__).with_name("six_steps.bpmn")
NOW = datetime.now(timezone.utc).replace(microsecond=0)
DAY = timedelta(days=1)
GOAL = 1.5
BIG_TABLES = ("instance", "human_task", "audit_event")
CHUNK = 2000  # cases per bulk insert

# --- the bureau ------------------------------------------------------------------------------

UNITS = [("social", "社会组织管理科"), ("elderly", "养老服务科"), ("relief", "社会救助科"),
         ("charity", "慈善事业促进科"), ("marriage", "婚姻登记处"), ("funeral", "殡葬管理科"),
         ("place", "区划地名科"), ("law", "法制办公室"), ("office", "办公室")]
BUSINESS = [code for code, _ in UNITS[:7]]
UNIT = "social"  # the measured unit
OFFICER, HEAD = "zhang", "wang"  # the measured users
SURNAMES = "张李王赵孙周吴郑冯陈褚卫蒋沈韩杨朱秦尤许何吕施孔曹严华金魏陶姜"


def staff() -> list[tuple[str, str, list[str]]]:
    """(username, unit, roles) of the bureau: 43 people."""
    people_ = [("zhang", "social", ["officer"]), ("li", "social", ["officer"]), ("zhao", "social", ["officer"]),
               ("chen", "social", ["officer"]), ("wang", "social", ["unit_head"]), ("hu", "social", ["unit_head"])]
    for unit in BUSINESS[1:]:
        people_ += [(f"{unit}.o{n}", unit, ["officer"]) for n in range(1, 5)] + [(f"{unit}.head", unit, ["unit_head"])]
    people_ += [(f"reviewer{n}", "law", ["legal_reviewer"]) for n in range(1, 4)]
    people_ += [(f"director{n}", "law", ["agency_head"]) for n in range(1, 3)]
    people_ += [(f"office{n}", "office", ["office"]) for n in range(1, 3)]
    return people_


# (spec id, name, English name, role) of each process's user tasks, in order. Only six_steps is
# deployed: it is the process of the case files read; inbox rows never need a spec.
PROCESSES = {
    "six_steps": [(f"t{n}", f"步骤{n}", f"Step {n}", "officer") for n in range(1, 7)],
    "penalty": [("filing", "立案登记", "Filing", "officer"), ("filing_approval", "立案审批", "Filing approval", "unit_head"),
                ("investigation", "调查取证", "Investigation", "officer"),
                ("legal_review", "法制审核", "Legal review", "legal_reviewer"),
                ("decision", "作出决定", "Decision", "agency_head"), ("service", "文书送达", "Service", "office"),
                ("closing", "结案归档", "Closing", "officer")],
    "pre_disclosure": [("draft", "拟定公示内容", "Draft", "officer"), ("check", "审核公示内容", "Check", "unit_head"),
                       ("publish", "公示", "Publish", "office")],
    "inspection": [("plan", "检查计划", "Plan", "officer"), ("inspect", "现场检查", "Inspect", "officer"),
                   ("report", "检查报告审批", "Report", "unit_head")],
}
PROCESS_WEIGHTS = {"penalty": 4, "six_steps": 2, "pre_disclosure": 2, "inspection": 2}


@dataclass
class Case:
    """One case to generate: ``done`` steps completed by users, then maybe one ready or cancelled."""

    key: str  # stable across sizes for the measured unit's cases
    process: str
    unit: str
    status: str
    created_at: datetime
    created_by: str
    done: list[tuple[str, bool]] = field(default_factory=list)  # (completed_by, claimed first)
    ready: tuple[str | None, datetime] | None = None  # (assignee, due_at) of the next step
    cancelled: bool = False  # the next step's row was cancelled (termination, withdrawal)
    reads: list[str] = field(default_factory=list)  # readers of the file


class Bureau:
    def __init__(self):
        self.users = staff()
        self.by_role: dict[tuple[str, str | None], list[str]] = defaultdict(list)
        for username, unit, roles in self.users:
            for role in roles:
                self.by_role[role, unit if role_def(role).unit_scoped else None].append(username)

    def doers(self, role: str, unit: str, exclude=(OFFICER, HEAD)) -> list[str]:
        key = (role, unit if role_def(role).unit_scoped else None)
        return [u for u in self.by_role[key] if u not in exclude]


def measured_cases(bureau: Bureau) -> list[Case]:
    """The measured unit's open work and zhang's history: identical at every size (own seed)."""
    rng = random.Random(1)
    cases: list[Case] = []
    others = bureau.doers("officer", UNIT)

    def officer_steps(process: str, upto: int) -> list[tuple[str, bool]]:
        steps = PROCESSES[process]
        return [(rng.choice([OFFICER, OFFICER, *others]) if role == "officer" else
                 rng.choice(bureau.doers(role, UNIT, exclude=())), rng.random() < 0.3)
                for _, _, _, role in steps[:upto]]

    def due(overdue: bool) -> datetime:
        return NOW - rng.uniform(0.1, 9) * DAY if overdue else NOW + rng.uniform(0.5, 15) * DAY

    def case(key, process, status, **kw) -> Case:
        age = rng.uniform(2, 60) if status == "running" else rng.uniform(30, 720)
        return Case(key, process, UNIT, status, NOW - age * DAY, rng.choice([OFFICER, *others]), **kw)

    for n in range(12):  # claimed by zhang: six_steps at step 2..5
        k = 1 + n % 4
        cases.append(case(f"mine{n}", "six_steps", "running", done=[(OFFICER, True)] * k,
                          ready=(OFFICER, due(n % 3 == 0))))
    for n in range(30):  # the officers' pool: filing, or investigation after the head approved
        process, upto = ("penalty", 2) if n % 3 == 0 else ("six_steps", n % 5) if n % 3 == 1 else ("penalty", 0)
        cases.append(case(f"pool{n}", process, "running", done=officer_steps(process, upto),
                          ready=(None, due(n % 4 == 0))))
    for n in range(18):  # the head's pool (15) and claimed by the head (3)
        cases.append(case(f"head{n}", "penalty", "running", done=officer_steps("penalty", 1),
                          ready=(HEAD if n >= 15 else None, due(n % 5 == 0))))
    for n in range(7):  # suspended or in error with ready rows: in the pool index, out of the inbox
        cases.append(case(f"stalled{n}", "six_steps", "suspended" if n < 5 else "error",
                          done=officer_steps("six_steps", 2), ready=(None, due(True))))
    for n in range(150):  # history: completed cases of the unit, zhang among their officers
        process = rng.choice(["six_steps", "penalty", "inspection"])
        cases.append(case(f"done{n}", process, "completed", done=officer_steps(process, len(PROCESSES[process]))))
    # The case page's cases: one running with a realistic history (claims, a few reads), one read 2,000 times.
    cases.append(case("file", "six_steps", "running",
                      done=[(OFFICER, True), (OFFICER, False), ("li", True), (OFFICER, True)],
                      ready=(OFFICER, NOW + 3 * DAY), reads=[OFFICER, HEAD, "li", OFFICER, "director1"]))
    readers = [u for u, _, _ in bureau.users]
    cases.append(case("famous", "six_steps", "completed", done=officer_steps("six_steps", 6),
                      reads=[readers[n % len(readers)] for n in range(2000)]))
    return cases


def background_cases(bureau: Bureau, n: int) -> list[Case]:
    """Everything else: the history of all units and the other units' open work (seeded by size)."""
    rng = random.Random(n)
    processes, weights = zip(*PROCESS_WEIGHTS.items())
    readers = [u for u, _, _ in bureau.users if u not in (OFFICER, HEAD)]
    cases = []
    for i in range(n):
        roll = rng.random()
        status = ("completed" if roll < 0.88 else "terminated" if roll < 0.93 else "running" if roll < 0.98
                  else "suspended" if roll < 0.992 else "error")
        active = status in ("running", "suspended", "error")
        unit = rng.choice(BUSINESS[1:] if active else BUSINESS)
        process = rng.choices(processes, weights)[0]
        steps = PROCESSES[process]
        upto = len(steps) if status == "completed" else rng.randrange(len(steps))
        done = [(rng.choice(bureau.doers(role, unit)), rng.random() < 0.3) for _, _, _, role in steps[:upto]]
        ready = None
        if active:
            role = steps[upto][3]
            claimed = rng.random() < (0.5 if role == "officer" else 0.3)
            ready = (rng.choice(bureau.doers(role, unit)) if claimed else None, NOW + rng.uniform(-10, 15) * DAY)
        age = rng.uniform(1, 60) if active else rng.uniform(20, 730)
        reads = [rng.choice(readers) for _ in range(rng.choice((0, 0, 1, 1, 2)))]
        withdrawn = status == "terminated" or (status == "completed" and rng.random() < 0.1)
        cases.append(Case(f"b{i}", process, unit, status, NOW - age * DAY, rng.choice(bureau.doers("officer", unit)),
                          done=done, ready=ready, cancelled=withdrawn, reads=reads))
    return cases


# --- rows ------------------------------------------------------------------------------------

STATE_TASK = ('"%(id)s": {"id": "%(id)s", "parent": %(parent)s, "children": [%(child)s], '
              '"last_state_change": %(at).6f, "state": %(state)d, "task_spec": "%(spec)s", "triggered": false, '
              '"internal_data": {}, "data": {}, "delta": {"updates": {%(updates)s}, "deletions": []}, '
              '"typename": "Task"}')


def state_json(case: Case, instance_id: int, case_no: str) -> str:
    """A SpiffWorkflow serialization of the case's shape (about 4 KB), never parsed by a read."""
    steps = PROCESSES[case.process]
    ids = [str(uuid.UUID(int=(instance_id << 64) | n)) for n in range(len(steps) + 3)]
    names = ["Start", "start", *[s[0] for s in steps], "end"]
    parts = []
    for n, (tid, spec) in enumerate(zip(ids, names)):
        state = 64 if n < len(case.done) + 2 else 16 if n == len(case.done) + 2 else 4
        updates = f'"note{n}": "\\u5df2\\u8bb0\\u5f55", "last_actor": "{case.created_by}"' if state == 64 else ""
        parts.append(STATE_TASK % {"id": tid, "parent": f'"{ids[n - 1]}"' if n else "null",
                                   "child": f'"{ids[n + 1]}"' if n + 1 < len(ids) else "",
                                   "at": case.created_at.timestamp() + n * 3600, "state": state, "spec": spec,
                                   "updates": updates})
    data = (f'{{"party_name": "{case.key}\\u534f\\u4f1a", "case_no": "{case_no}", '
            f'"filing_officer": "{case.created_by}", "case_unit": "{case.unit}", '
            f'"agency_name": "\\u65b0\\u5e02\\u533a\\u6c11\\u653f\\u5c40"}}')
    return (f'{{"data": {data}, "correlations": {{}}, "last_task": "{ids[len(case.done) + 1]}", "success": true, '
            f'"completed": {"true" if case.status == "completed" else "false"}, "tasks": {{{", ".join(parts)}}}, '
            f'"root": "{ids[0]}", "spec": "{case.process}", "subprocess_specs": {{}}, "subprocesses": {{}}, '
            f'"bpmn_events": [], "typename": "BpmnWorkflow"}}')


class Rows:
    """Turns cases into rows of ``instance``, ``human_task`` and ``audit_event``, keeping the access
    chains' lengths for their head rows."""

    def __init__(self, unit_ids: dict[str, int]):
        self.unit_ids = unit_ids
        self.access: dict[str, int] = defaultdict(int)

    def of(self, instance_id: int, case: Case) -> tuple[dict, list[dict], list[dict]]:
        steps = PROCESSES[case.process]
        case_no = f"B{case.created_at.year}-{instance_id:07d}"
        at = case.created_at
        tasks, events = [], []

        def event(chain: str, seq: int, actor: str, action: str, task_id: str | None, payload: str, when) -> dict:
            return {"chain": chain, "seq": seq, "actor": actor, "action": action, "instance_id": instance_id,
                    "task_id": task_id, "payload": payload, "created_at": when,
                    "prev_hash": f"{seq - 1:064x}", "hash": f"{instance_id:032x}{seq:032x}"}

        chain = f"case:{instance_id}"
        start = (f'{{"case_no":"{case_no}","data":{{"party_name":"{case.key}协会"}},'
                 f'"process":"{case.process}","version":1}}')
        events.append(event(chain, 1, case.created_by, "case.start", None, start, at))

        def task(n: int, state: str, assignee=None, due=None, by=None, done_at=None) -> dict:
            spec, name, name_en, role = steps[n]
            return {"instance_id": instance_id, "task_id": str(uuid.UUID(int=(hash_key(case.key) << 32) | n)),
                    "spec_id": spec, "process_id": case.process, "name": name, "name_en": name_en,
                    "lane": role_def(role).label_zh, "role_id": role,
                    "unit_id": self.unit_ids[case.unit] if role_def(role).unit_scoped else None,
                    "assignee": assignee, "state": state, "created_at": at, "due_at": due,
                    "completed_at": done_at, "completed_by": by, "has_draft": False}

        for n, (by, claimed) in enumerate(case.done):
            created = at
            at = at + timedelta(hours=(hash_key(case.key) + 7 * n) % 90 + 2)
            row = task(n, "completed", by if claimed else None, created + 5 * DAY, by, at)
            row["created_at"] = created
            tasks.append(row)
            if claimed:
                events.append(event(chain, len(events) + 1, by, "task.claim", row["task_id"], "{}",
                                    created + timedelta(minutes=30)))
            form = f'{{"data":{{"note{n + 1}":"已记录"}},"name":"{steps[n][1]}","task":"{steps[n][0]}"}}'
            events.append(event(chain, len(events) + 1, by, "task.complete", row["task_id"], form, at))
        if case.ready is not None:
            assignee, due = case.ready
            tasks.append(task(len(case.done), "ready", assignee, due))
            if assignee:
                events.append(event(chain, len(events) + 1, assignee, "task.claim", tasks[-1]["task_id"], "{}", at))
        if case.cancelled and len(case.done) < len(steps):
            tasks.append(task(len(case.done), "cancelled", None, at + 5 * DAY))
        if case.status in ("suspended", "terminated", "error"):
            action = {"suspended": "case.suspend", "terminated": "case.terminate", "error": "engine.error"}[case.status]
            events.append(event(chain, len(events) + 1, "system" if case.status == "error" else case.created_by,
                                action, None, '{"reason":"当事人下落不明"}', at + DAY))
        for n, reader in enumerate(case.reads):
            self.access[reader] += 1
            seq = self.access[reader]
            events.append(event(f"access:{reader}", seq, reader, "case.view", None, "{}",
                                at + (n + 1) * timedelta(minutes=7)))
        case_events = [e for e in events if e["chain"] == chain]
        instance = {"id": instance_id, "case_no": case_no, "process_id": case.process, "model_version": 1,
                    "unit_id": self.unit_ids[case.unit], "status": case.status,
                    "status_reason": "" if case.status in ("running", "completed") else "当事人下落不明",
                    "matter_code": None, "party_name": f"{case.key}协会",
                    "state": state_json(case, instance_id, case_no),
                    "error_task": steps[len(case.done)][0] if case.status == "error" else None,
                    "error_message": "NameError: name 'fine' is not defined" if case.status == "error" else None,
                    "next_timer_at": case.ready[1] if case.status == "running" and case.ready else None,
                    "created_by": case.created_by, "created_at": case.created_at, "updated_at": at,
                    "audit_seq": len(case_events), "audit_head": case_events[-1]["hash"], "lock_version": 1}
        return instance, tasks, events


def hash_key(key: str) -> int:
    """A stable number for a case key (``hash()`` of a str changes per process)."""
    return int.from_bytes(key.encode()[-12:].rjust(12, b"\0"), "big")


# --- databases -------------------------------------------------------------------------------

def build(settings: Settings, size: int, analyze: bool = False) -> None:
    """Schema, people and model set through the project; then ``size`` cases by bulk insert."""
    unit_ids = prepare(settings)
    bureau = Bureau()
    fixed = measured_cases(bureau)
    load(settings, fixed + background_cases(bureau, size - len(fixed)), Rows(unit_ids))
    maintain(settings, analyze)


def prepare(settings: Settings) -> dict[str, int]:
    """Schema, the bureau's units and people, and ``bench/six_steps.bpmn`` as model-set version 1,
    through the project; the units' ids by code."""
    people._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # 43 logins, not 4 s of argon2
    with session_scope(settings) as session:
        init_database(settings, session)
        for code, name in UNITS:
            people.ensure_unit(session, code, name)
        for n, (username, unit, roles) in enumerate(staff()):
            people.add_user(session, "bench", username, SURNAMES[n % len(SURNAMES)] + f"{n:02d}", unit, "password", roles,
                            qualification=(f"Q{username}", date(2020, 1, 1)) if "legal_reviewer" in roles else None)
        deployment.deploy(session, {MODEL.name: MODEL.read_bytes()}, "bench")
        return {u.code: u.id for u in session.scalars(select(Unit))}


def load(settings: Settings, cases: list[Case], rows: Rows) -> None:
    """Bulk-insert ``cases``, oldest first (ids in order of creation), as ``rows`` makes them, then
    the access chains' heads."""
    cases = sorted(cases, key=lambda c: c.created_at)
    engine = get_engine(settings.database_url)
    for start in range(0, len(cases), CHUNK):
        instances, tasks, events = [], [], []
        for n, case in enumerate(cases[start:start + CHUNK], start=start + 1):
            i, t, e = rows.of(n, case)
            instances.append(i), tasks.extend(t), events.extend(e)
        with engine.begin() as conn:
            conn.execute(insert(Instance.__table__), instances)
            conn.execute(insert(HumanTask.__table__), tasks)
            conn.execute(insert(AuditEvent.__table__), events)
    with engine.begin() as conn:
        conn.execute(insert(AuditChain.__table__), [{"name": f"access:{user}", "length": length,
                                                     "head": f"{length:064x}"} for user, length in rows.access.items()])
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence('instance', 'id'), "
                              "(SELECT max(id) FROM instance))"))


def maintain(settings: Settings, analyze: bool) -> None:
    """What a database of this size would have had done to it: on PostgreSQL autovacuum would
    have vacuumed and analyzed the loaded tables. The project runs no ANALYZE on SQLite, so its
    planner works without statistics unless ``analyze`` (``--analyze``) asks for them."""
    engine = get_engine(settings.database_url)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    elif analyze:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


# --- measuring -------------------------------------------------------------------------------

@dataclass
class Query:
    name: str
    run: Callable  # (session, users) -> a comparable result
    write: bool = False  # casefile.read records the read: a write session, rolled back


def _page(page: inbox.Page) -> tuple:
    return page.total, [row.task_id for row in page.items]


def _file(file: casefile.CaseFile) -> tuple:
    return (len(file.events), len(file.forms), len(file.tasks), file.reads, len(file.read_events),
            [f.name for f in file.forms])


def queries() -> list[Query]:
    return [
        Query("my_tasks (officer)", lambda s, u: _page(inbox.my_tasks(s, u[OFFICER]))),
        Query("pool_tasks (officer)", lambda s, u: _page(inbox.pool_tasks(s, u[OFFICER]))),
        Query("my_tasks (unit head)", lambda s, u: _page(inbox.my_tasks(s, u[HEAD]))),
        Query("pool_tasks (unit head)", lambda s, u: _page(inbox.pool_tasks(s, u[HEAD]))),
        Query("completed_by p1", lambda s, u: _page(inbox.completed_by(s, u[OFFICER]))),
        Query("completed_by p15", lambda s, u: _page(inbox.completed_by(s, u[OFFICER], page=15))),
        Query("open_count (officer)", lambda s, u: inbox.open_count(s, u[OFFICER])),
        Query("open_count (unit head)", lambda s, u: inbox.open_count(s, u[HEAD])),
        Query("processes", lambda s, u: inbox.processes(s)),
        Query("overdue (unit)", lambda s, u: _page(inbox.overdue(s, NOW, unit_id=u["unit"]))),
        Query("case file", lambda s, u: _file(casefile.read(s, u[OFFICER], u["file"])), write=True),
        Query("case file, 2,000 reads", lambda s, u: _file(casefile.read(s, u[OFFICER], u["famous"])), write=True),
        Query("... with its reads", lambda s, u: _file(casefile.read(s, u[OFFICER], u["famous"], with_reads=True)),
              write=True),
    ]


def ids_of(settings: Settings) -> dict[str, int]:
    """The measured unit's id and the ids of the two case files read (found once, untimed)."""
    with session_scope(settings, write=False) as s:
        found = {"unit": s.scalars(select(Unit.id).where(Unit.code == UNIT)).one()}
        for key in ("file", "famous"):
            found[key] = s.scalars(select(Instance.id).where(Instance.party_name == f"{key}协会")).one()
    return found


class Context(dict):
    """The measured users (loaded in the session at hand, as a request would) and ids."""

    def __init__(self, session, ids: dict[str, int]):
        super().__init__(ids)
        self.session = session

    def __missing__(self, username):
        self[username] = people.get_user(self.session, username)
        return self[username]


def once(settings: Settings, query: Query, ids: dict[str, int],
         seen: list[tuple[str, object]] | None = None) -> tuple[float, object]:
    """One call in a fresh unit of work; the time of the call alone (its SELECTs added to ``seen``)."""
    with session_scope(settings, write=query.write) as session:
        users = Context(session, ids)
        users[OFFICER], users[HEAD]
        with captured(settings.database_url, seen) if seen is not None else nullcontext():
            started = time.perf_counter()
            result = query.run(session, users)
            elapsed = time.perf_counter() - started
        session.rollback()  # the read of a case file is recorded; leave the database as it was
    return elapsed, result


@contextmanager
def captured(url: str, seen: list[tuple[str, object]]) -> Iterator[None]:
    """Add to ``seen`` the (statement, parameters) of the SELECTs run on the engine during the block,
    once each."""
    def collect(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and \
                (statement, repr(parameters)) not in {(s, repr(p)) for s, p in seen}:
            seen.append((statement, parameters))

    engine = get_engine(url)
    event.listen(engine, "before_cursor_execute", collect)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", collect)


def full_scans(settings: Settings, statements: list[tuple[str, object]], show: bool = False) -> list[str]:
    """Plan lines reading the whole of a big table (every plan printed when ``show``)."""
    engine = get_engine(settings.database_url)
    found = []
    with engine.connect() as conn:
        for statement, parameters in statements:
            if " FOR UPDATE" in statement:
                statement = statement.replace(" FOR UPDATE", "")
            if engine.dialect.name == "sqlite":
                lines = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
                bad = [line for line in lines if re.match(rf"SCAN ({'|'.join(BIG_TABLES)})\b", line)
                       and "USING" not in line]
            else:
                lines = [row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters)]
                bad = [line.strip() for line in lines if re.search(rf"Seq Scan on ({'|'.join(BIG_TABLES)})\b", line)]
            found += [f"{line}    <- {' '.join(statement.split())[:150]}" for line in bad]
            if show:
                print("\n" + " ".join(statement.split()) + f"\n  {parameters}\n  " + "\n  ".join(lines))
    return found


def measure(kind: str, dbs: dict[int, Settings], reps: int, rounds: int,
            plans: bool) -> list[tuple[str, float, float]]:
    small, large = sorted(dbs)
    ids = {size: ids_of(settings) for size, settings in dbs.items()}
    all_queries = queries()
    best = {(q.name, size): float("inf") for q in all_queries for size in dbs}
    for q in all_queries:  # warm up, and compare the results across sizes
        results = {size: once(settings, q, ids[size])[1] for size, settings in dbs.items()}
        if results[small] != results[large]:
            sys.exit(f"[{kind}] {q.name}: results differ between {small} and {large} cases:\n"
                     f"  {results[small]}\n  {results[large]}")
    for _ in range(rounds):  # sizes interleaved, so drift in the machine's load hits both alike
        for q in all_queries:
            for size, settings in dbs.items():
                for _ in range(reps):
                    best[q.name, size] = min(best[q.name, size], once(settings, q, ids[size])[0])
    print(f"\n[{kind}] ms per call, best of {reps * rounds}; every result identical at both sizes")
    print(f"[{kind}] {'query':<26} {f'{small:,} cases':>13} {f'{large:,} cases':>14} {'ratio':>7}")
    table = []
    for q in all_queries:
        a, b = 1000 * best[q.name, small], 1000 * best[q.name, large]
        table.append((q.name, a, b))
        print(f"[{kind}] {q.name:<26} {a:13.3f} {b:14.3f} {b / a:7.2f}{'' if b / a <= GOAL else '  > goal'}")
    views = best["case file, 2,000 reads", large] / best["case file", large]
    print(f"[{kind}] the case page of a file read 2,000 times against one read 5 times: {views:.2f}")
    seen: list[tuple[str, object]] = []
    for q in all_queries:
        once(dbs[large], q, ids[large], seen)
    scans = full_scans(dbs[large], seen, plans)
    print(f"[{kind}] {len(seen)} distinct SELECTs EXPLAINed at {large:,} cases: "
          + (f"{len(scans)} plan lines scan a whole big table" if scans else "none scans a whole big table"))
    for line in scans:
        print(f"[{kind}]   {line}")
    return table


def run(kind: str, pg_url: str | None, sizes: list[int], reps: int, rounds: int, plans: bool,
        analyze: bool) -> float:
    with ExitStack() as stack:
        dbs = {}
        for size in sizes:
            folder = stack.enter_context(tempfile.TemporaryDirectory())
            settings = stack.enter_context(database(kind, pg_url, folder))
            started = time.perf_counter()
            build(settings, size, analyze)
            print(f"[{kind}] built {size:,} cases in {time.perf_counter() - started:.1f} s")
            dbs[size] = settings
        table = measure(kind, dbs, reps, rounds, plans)
    return max(b / a for _, a, b in table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("SANXIANG_TEST_DATABASE_URL"),
                        help="a PostgreSQL URL to run on as well")
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=5, help="calls per query, size and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--plans", action="store_true", help="print every plan of the large database")
    parser.add_argument("--analyze", action="store_true", help="give SQLite's planner statistics (ANALYZE) too")
    args = parser.parse_args()
    if args.small < 250 or args.large <= args.small:
        parser.error("--small must be at least 250 (the measured unit's cases) and --large larger")
    kinds = ["sqlite"] + (["postgresql"] if args.postgres else [])
    ratios = {kind: run(kind, args.postgres, [args.small, args.large], args.reps, args.rounds, args.plans,
                      args.analyze) for kind in kinds}
    print("\n" + ", ".join(f"{kind}: {r:.2f}" for kind, r in ratios.items()))
    print(f"worst ratio: {max(ratios.values()):.2f} (goal ≤ {GOAL})")


if __name__ == "__main__":
    main()
