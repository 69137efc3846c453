"""Anonymous readers of the portal's decisions (事后公开, ``/gongshi/decisions``) as the record grows:
the same pages at 1,000 and at 100,000 disclosure records, and a bounded HTTP load of concurrent
readers on the production server.

Databases, per engine (a SQLite file; a PostgreSQL schema when ``--postgres`` or
``SANXIANG_TEST_DATABASE_URL`` is given): schema, a unit, the catalogue's matters and
``bench/six_steps.bpmn`` (a model set for the cases' rows) through the project; then, by bulk Core
inserts, one closed case per record with its decision record (content of about 700 bytes, redacted
as the engine writes it), its ``published`` event and its party search pieces. The records are
spread over five years and eight matters; a third are natural persons (surname + 某), the others
organisations with generated names and credit codes; 4 % were withdrawn (no pieces), 6 % are past
their retention, a few were corrected. At both sizes the newest 25 records are the same (their own
generator): among them the 6 decisions of one association, 新市区夕阳红养老服务协会, whose name's
pieces no other record has, so the first page and every search have the same result at both sizes,
which is checked; what grows a hundredfold is the history behind them.

Timed, best of ``--reps`` × ``--rounds`` (sizes interleaved), each in a read-only unit of work of
its own: the engine's reads (``publication.search`` first page, by party ``夕阳红``, by the full
name, by type, by matter, by date range; ``record``; ``feed``; ``validator``) and the same pages
through the web app in process (Flask's test client: the view, the query, the template), the
conditional GET that answers 304 included. Goal: 100k / 1k ≤ 1.5. The SELECTs are EXPLAINed on
the large database and plan lines that read a whole big table are printed. PostgreSQL is vacuumed
and analyzed after loading; SQLite gets no statistics, as in production.

Then the HTTP load, on PostgreSQL (SQLite when no PostgreSQL is given), on the large database:
``sanxiang serve --workers 2 --threads 8`` (gunicorn; waitress with 8 threads on SQLite) in a
subprocess; 1, 8 and 32 anonymous clients with keep-alive connections, each level for
``--seconds``, each client repeating: the first page, a search by a party (one of 50, mostly
found), a permalink (a random record, public, withdrawn or gone: 200 or 410), the Atom feed, and
the first page again with its ETag (304). Printed: requests/s, p50/p99 per kind, errors (any other
status, exception or timeout, or a traceback in the server's log). Exit 1 on an error or a ratio
over the goal.

Run: ``python -m bench.portal [--postgres URL] [--small 1000] [--large 100000] [--seconds 10]
[--clients 1,8,32]``
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime, time as daytime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import insert, select, text

from bench.engine import database
from bench.http_load import _ms, server, server_log_problems
from bench.reads import captured
from workflows.bootstrap import init_database
from workflows.core.db import get_engine, session_scope
from workflows.core.models import Disclosure, DisclosureEvent, DisclosureTerm, Instance, Matter, Unit
from workflows.core.workdays import TZ
from workflows.design import deployment
from workflows.domain import disclosure, people, publication

MODEL = Path(__file__).with_name("six_steps.bpmn")
GOAL = 1.5
FIXED = 25  # the newest records, the same at both sizes
CHUNK = 5000
BIG_TABLES = ("disclosure", "disclosure_term", "disclosure_event", "instance")
SUNSET = "新市区夕阳红养老服务协会"  # the measured party: its pieces 夕阳, 阳红, 红养 are its own
NOW = datetime.now(timezone.utc).replace(microsecond=0)
TODAY = NOW.astimezone(TZ).date()
MATTERS = [("MZ-CF-0001", "社会组织涂改、出租、出借登记证书或印章"), ("MZ-CF-0002", "社会团体超出章程规定的宗旨和业务范围进行活动"),
           ("MZ-CF-0003", "民办非企业单位拒不接受或不按规定接受监督检查"), ("MZ-CF-0011", "养老机构未与老年人或其代理人签订服务协议"),
           ("MZ-CF-0012", "养老机构歧视、侮辱、虐待老年人"), ("MZ-CF-0021", "未经批准擅自兴建殡葬设施"),
           ("MZ-CF-0022", "制造、销售封建迷信殡葬用品"), ("MZ-CF-0031", "擅自命名、更名地名")]
TYPES = [("warning", 40), ("fine", 35), ("confiscation", 10), ("suspend_activities", 8), ("revoke_registration", 4),
         ("no_penalty", 3)]
# Words of the generated names; none of them makes a piece of the measured party's own (夕阳, 阳红, 红养).
PLACES = "长江 天山 博格达 红山 雅玛里克 明珠 和平 团结 光明 幸福 丝路 雪莲 胡杨 金桥 春晖 东方 新华 友好 北京 南湖".split()
KINDS_OF_BODY = "养老服务中心 老年公寓 社会工作服务社 文化艺术交流协会 职业培训学校 体育协会 慈善基金会 青少年服务中心 殡葬服务部 书画研究会".split()
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾韦"


# --- the records -----------------------------------------------------------------------------

@dataclass
class Record:
    key: int
    party: str
    party_type: str
    code: str | None
    matter: str
    kind: str  # decision_type
    decided: date
    status: str = "published"
    retain_until: date = date(2099, 12, 31)
    corrected: bool = False


def _code(rng: random.Random) -> str:
    return "5" + rng.choice("123") + "650100" + "MJ" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in weighted], [w for _, w in weighted])[0]


def fixed_records() -> list[Record]:
    """The newest 25, the same at both sizes: 6 of 新市区夕阳红养老服务协会 among them."""
    rng, found = random.Random(7), []
    for n in range(FIXED):
        decided = TODAY - timedelta(days=n // 3)
        if n % 4 == 1 and len([r for r in found if r.party == SUNSET]) < 6:
            party, party_type, code = SUNSET, "organisation", "51650100MJ0000000X"
        else:
            party, party_type, code = _party(rng)
        found.append(Record(n, party, party_type, code, rng.choice(MATTERS)[0], _pick(rng, TYPES), decided))
    return found


def _party(rng: random.Random) -> tuple[str, str, str | None]:
    if rng.random() < 0.33:
        return rng.choice(SURNAMES) + "某", "natural_person", None
    return f"新市区{rng.choice(PLACES)}{rng.choice(KINDS_OF_BODY)}", "organisation", _code(rng)


def background_records(n: int) -> list[Record]:
    """The history behind the newest: older decisions over five years, some withdrawn, corrected or expired."""
    rng, found = random.Random(11), []
    for k in range(n):
        decided = TODAY - timedelta(days=10 + int(rng.random() ** 0.7 * 5 * 365))
        party, party_type, code = _party(rng)
        record = Record(FIXED + k, party, party_type, code, rng.choice(MATTERS)[0], _pick(rng, TYPES), decided)
        roll = rng.random()
        if roll < 0.04:
            record.status = "withdrawn"
        elif roll < 0.10 or decided < TODAY - timedelta(days=4 * 365):
            record.retain_until = decided + timedelta(days=365)  # its retention ended
        elif roll < 0.12:
            record.corrected = True
        found.append(record)
    return found


def rows_of(n: int, record: Record, unit_id: int) -> tuple[dict, dict, dict, list[dict]]:
    at = datetime.combine(record.decided, daytime(9), tzinfo=TZ).astimezone(timezone.utc)
    case_no = f"新民罚〔{record.decided.year}〕{record.key:06d}号"
    kind = "penalty" if record.kind != "no_penalty" else "no_penalty"
    content = {
        "case_no": case_no, "enforcing_body": "新市区民政局", "unit": "社会组织管理科", "party": record.party,
        "party_type": record.party_type, "party_code": record.code, "matter": dict(MATTERS)[record.matter],
        "facts": f"当事人{record.party}在{record.decided.year}年度检查中被发现存在违法行为，经调查核实，事实清楚，证据确凿。"
                 "执法人员现场检查并制作笔录，当事人对违法事实无异议。",
        "legal_basis": "《社会团体登记管理条例》第三十条；《民办非企业单位登记管理暂行条例》第二十五条",
        "decision": "给予警告。" if record.kind == "warning" else "罚款人民币五千元。", "decision_kind": kind,
        "penalty_type": record.kind if kind == "penalty" else None, "fine_amount": "5000.00" if record.kind == "fine" else None,
        "confiscation_amount": None, "decision_doc_no": f"新民罚决〔{record.decided.year}〕{record.key}号",
        "decision_date": record.decided.isoformat(),
    }
    instance = {"id": n, "case_no": case_no, "process_id": "enforcement_case", "model_version": 1, "unit_id": unit_id,
                "status": "completed", "status_reason": "", "matter_code": record.matter, "party_name": record.party,
                "state": "", "created_by": "bench", "created_at": at - timedelta(days=60), "updated_at": at,
                "decided_on": record.decided, "decision_kind": kind, "penalty_type": content["penalty_type"],
                "closed_at": at, "audit_seq": 0, "audit_head": "0" * 64, "lock_version": 1}
    row = {"id": n, "kind": "decision", "instance_id": n, "case_no": case_no, "title": content["matter"],
           "content": json.dumps(content, ensure_ascii=False, sort_keys=True), "publish": True,
           "published_on": record.decided, "created_at": at, "status": record.status,
           "withdrawn_on": record.decided + timedelta(days=30) if record.status == "withdrawn" else None,
           "withdrawn_reason": "原处罚决定经行政复议撤销。" if record.status == "withdrawn" else None,
           "withdrawn_ground": "review_revoked" if record.status == "withdrawn" else None,
           "decision_date": record.decided, "due_on": record.decided + timedelta(days=9), "decision_type": record.kind,
           "party": record.party, "matter_code": record.matter, "retention_class": "general",
           "repair_from": record.decided + timedelta(days=90), "retain_until": record.retain_until,
           "corrected_on": record.decided + timedelta(days=5) if record.corrected else None, "updated_at": at}
    event = {"disclosure_id": n, "kind": "published", "effective_on": row["published_on"], "at": at, "actor": "bench",
             "note": ""}
    pieces = [] if record.status == "withdrawn" else [
        {"term": t, "disclosure_id": n} for t in sorted(disclosure.terms(record.party, record.code))]
    return instance, row, event, pieces


def build(settings, size: int) -> None:
    with session_scope(settings) as session:
        init_database(settings, session)
        people.ensure_unit(session, "social", "社会组织管理科")
        for code, name in MATTERS:
            session.add(Matter(code=code, name=name, field="民政", legal_basis="《社会团体登记管理条例》", penalty="警告"))
        deployment.deploy(session, {MODEL.name: MODEL.read_bytes()}, "bench")
        unit_id = session.scalars(select(Unit.id).where(Unit.code == "social")).one()
    records = sorted(background_records(size - FIXED) + fixed_records(), key=lambda r: (r.decided, -r.key))
    engine = get_engine(settings.database_url)
    for start in range(0, len(records), CHUNK):
        batch = [rows_of(n, r, unit_id) for n, r in enumerate(records[start:start + CHUNK], start=start + 1)]
        with engine.begin() as conn:
            conn.execute(insert(Instance.__table__), [b[0] for b in batch])
            conn.execute(insert(Disclosure.__table__), [b[1] for b in batch])
            conn.execute(insert(DisclosureEvent.__table__), [b[2] for b in batch])
            conn.execute(insert(DisclosureTerm.__table__), [p for b in batch for p in b[3]])
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("instance", "disclosure", "disclosure_event"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


# --- the reads -------------------------------------------------------------------------------

@dataclass
class Read:
    name: str
    run: Callable  # (session or client, ids) -> a comparable result
    web: bool = False


def _listing(listing: publication.Listing) -> tuple:
    return listing.has_next, [e.content["decision_doc_no"] for e in listing.entries]


def _count(listing: publication.Listing) -> tuple:
    """Filters whose first page holds history too: the same amount of it at both sizes."""
    return listing.has_next, len(listing.entries)


def _page(response) -> tuple:
    body = response.get_data(as_text=True)
    return response.status_code, len(re.findall(r'class="decision-card"', body)), \
        re.findall(r"新民罚决〔\d+〕\d+号", body)[:5]


def reads() -> list[Read]:
    since, until = TODAY - timedelta(days=5), TODAY - timedelta(days=1)
    search = publication.search
    F = publication.Filters
    return [
        Read("first page", lambda s, i: _listing(search(s, F()))),
        Read("party 夕阳红", lambda s, i: _listing(search(s, F(party="夕阳红")))),
        Read("party, full name", lambda s, i: _listing(search(s, F(party=SUNSET)))),
        Read("party, credit code", lambda s, i: _listing(search(s, F(party="51650100MJ0000000X")))),
        Read("by type (fine)", lambda s, i: _count(search(s, F(type="fine")))),
        Read("by matter", lambda s, i: _count(search(s, F(matter="MZ-CF-0011")))),
        Read("by date range", lambda s, i: _listing(search(s, F(since=since, until=until)))),
        Read("permalink", lambda s, i: publication.record(s, i["sunset"]).entry.content["decision_doc_no"]),
        Read("feed (50)", lambda s, i: [f.entry.content["decision_doc_no"] for f in publication.feed(s) if f.entry][:20]),
        Read("validator", lambda s, i: bool(publication.validator(s).token)),
        Read("GET first page", lambda c, i: _page(c.get("/gongshi/decisions")), web=True),
        Read("GET first page, uncached", lambda c, i: _page(_fresh(c).get("/gongshi/decisions")), web=True),
        Read("GET 304 first page", lambda c, i: c.get("/gongshi/decisions", headers={
            "If-None-Match": i["etag"]}).status_code, web=True),
        Read("GET party search", lambda c, i: _page(c.get("/gongshi/decisions?party=" + quote("夕阳红"))), web=True),
        Read("GET search, uncached", lambda c, i: _page(_fresh(c).get("/gongshi/decisions?party=" + quote("夕阳红"))),
             web=True),
        Read("GET permalink", lambda c, i: c.get(f"/gongshi/decisions/{i['sunset']}").status_code, web=True),
        Read("GET feed.atom", lambda c, i: c.get("/gongshi/feed.atom").status_code, web=True),
        Read("GET feed, uncached", lambda c, i: _fresh(c).get("/gongshi/feed.atom").status_code, web=True),
    ]


def _fresh(client):
    """The client, with the app's rendered pages and feeds forgotten (a reader after a change)."""
    from webapp.portal.decisions import PAGES

    PAGES._items.clear()
    return client


def ids_of(settings, client) -> dict:
    with session_scope(settings, write=False) as s:
        sunset = s.scalars(select(Disclosure.id).where(Disclosure.party == SUNSET)
                           .order_by(Disclosure.decision_date.desc(), Disclosure.id.desc())).first()
    return {"sunset": sunset, "etag": client.get("/gongshi/decisions").headers["ETag"]}


def once(settings, client, read: Read, ids: dict, seen: list | None = None) -> tuple[float, object]:
    if read.web:
        started = time.perf_counter()
        result = read.run(client, ids)
        return time.perf_counter() - started, result
    with session_scope(settings, write=False) as session:
        with captured(settings.database_url, seen) if seen is not None else ExitStack():
            started = time.perf_counter()
            result = read.run(session, ids)
            elapsed = time.perf_counter() - started
    return elapsed, result


def full_scans(settings, statements: list, show: bool) -> list[str]:
    engine = get_engine(settings.database_url)
    found = []
    with engine.connect() as conn:
        for statement, parameters in statements:
            if engine.dialect.name == "sqlite":
                lines = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
                bad = [line for line in lines if re.match(rf"SCAN ({'|'.join(BIG_TABLES)})\b", line) and "USING" not in line]
            else:
                lines = [row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters)]
                bad = [line.strip() for line in lines if re.search(rf"Seq Scan on ({'|'.join(BIG_TABLES)})\b", line)]
            found += [f"{line}    <- {' '.join(statement.split())[:140]}" for line in bad]
            if show:
                print("\n" + " ".join(statement.split()) + f"\n  {parameters}\n  " + "\n  ".join(lines))
    return found


def measure(kind: str, dbs: dict, reps: int, rounds: int, plans: bool) -> float:
    from webapp import create_app

    small, large = sorted(dbs)
    clients = {size: create_app({"SANXIANG_SETTINGS": settings}).test_client() for size, settings in dbs.items()}
    ids = {size: ids_of(settings, clients[size]) for size, settings in dbs.items()}
    all_reads = reads()
    for r in all_reads:  # warm up; the results must be the same at both sizes
        results = {size: once(dbs[size], clients[size], r, ids[size])[1] for size in dbs}
        if results[small] != results[large]:
            sys.exit(f"[{kind}] {r.name}: results differ between {small} and {large} records:\n"
                     f"  {results[small]}\n  {results[large]}")
    best = defaultdict(lambda: float("inf"))
    for _ in range(rounds):
        for r in all_reads:
            for size in dbs:
                for _ in range(reps):
                    best[r.name, size] = min(best[r.name, size], once(dbs[size], clients[size], r, ids[size])[0])
    print(f"\n[{kind}] ms per call, best of {reps * rounds}; every result identical at both sizes")
    print(f"[{kind}] {'read':<24} {f'{small:,} records':>15} {f'{large:,} records':>16} {'ratio':>7}")
    worst = 0.0
    for r in all_reads:
        a, b = 1000 * best[r.name, small], 1000 * best[r.name, large]
        worst = max(worst, b / a)
        print(f"[{kind}] {r.name:<24} {a:15.3f} {b:16.3f} {b / a:7.2f}{'' if b / a <= GOAL else '  > goal'}")
    seen: list = []
    for r in all_reads:
        if not r.web:
            once(dbs[large], clients[large], r, ids[large], seen)
    scans = full_scans(dbs[large], seen, plans)
    print(f"[{kind}] {len(seen)} distinct SELECTs EXPLAINed at {large:,} records: "
          + (f"{len(scans)} plan lines scan a whole big table" if scans else "none scans a whole big table"))
    for line in scans:
        print(f"[{kind}]   {line}")
    return worst


# --- the HTTP load -----------------------------------------------------------------------------

HTTP_KINDS = ("list", "search", "record", "feed", "304")


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)


class Reader:
    """An anonymous visitor: one keep-alive connection, no cookies."""

    def __init__(self, port: int, seed: int, ids: list[int], parties: list[str], etag: str, timeout: float):
        self.port, self.rng, self.ids, self.parties, self.etag, self.timeout = port, random.Random(seed), ids, parties, etag, timeout
        self.conn: http.client.HTTPConnection | None = None

    def get(self, tally: Tally, kind: str, path: str, expect: tuple[int, ...], headers: dict | None = None) -> None:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        started = time.perf_counter()
        try:
            self.conn.request("GET", path, headers={"Accept-Language": "zh-CN", **(headers or {})})
            response = self.conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = None
            tally.errors.append(f"{kind} {path}: {type(exc).__name__}: {exc}")
            return
        if response.will_close:
            self.conn.close()
            self.conn = None
        if response.status not in expect:
            tally.errors.append(f"{kind} {path}: {response.status}")
            return
        tally.latencies[kind].append(time.perf_counter() - started)

    def round(self, tally: Tally) -> None:
        self.get(tally, "list", "/gongshi/decisions", (200,))
        self.get(tally, "search", "/gongshi/decisions?party=" + quote(self.rng.choice(self.parties)), (200,))
        self.get(tally, "record", f"/gongshi/decisions/{self.rng.choice(self.ids)}", (200, 410))
        self.get(tally, "feed", "/gongshi/feed.atom", (200,))
        self.get(tally, "304", "/gongshi/decisions", (304,), {"If-None-Match": self.etag})

    def work(self, tally: Tally, deadline: list[float], start: threading.Barrier) -> None:
        start.wait()
        while time.perf_counter() < deadline[0]:
            self.round(tally)
        if self.conn is not None:
            self.conn.close()


def load(kind: str, settings, levels: list[int], seconds: float, workers: int, threads: int, timeout: float) -> list[str]:
    with session_scope(settings, write=False) as s:
        ids = list(s.scalars(select(Disclosure.id)))
        parties = sorted(set(s.scalars(select(Disclosure.party).where(Disclosure.party.like("新市区%"))
                                       .order_by(Disclosure.id).limit(2000))))
    rng = random.Random(3)
    parties = rng.sample(parties, min(45, len(parties))) + ["夕阳红", SUNSET, "张某", "不存在的协会", "长江养老"]
    get_engine(settings.database_url).dispose()
    log = settings.instance_path / "portal-server.log"
    rows, errors = [], []
    with server(settings, workers, threads, log) as app:
        conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=timeout)
        conn.request("GET", "/gongshi/decisions")
        first = conn.getresponse()
        first.read()
        etag = first.headers["ETag"]
        conn.close()
        print(f"[{kind}] server: {app.command}", flush=True)
        warm = Tally()
        Reader(app.port, 0, ids, parties, etag, timeout).round(warm)
        errors += warm.errors
        for n in levels:
            readers = [Reader(app.port, 100 + k, ids, parties, etag, timeout) for k in range(n)]
            tallies = [Tally() for _ in readers]
            deadline = [0.0]
            began = {}
            barrier = threading.Barrier(n, action=lambda: (began.update(t=time.perf_counter()),
                                                           deadline.__setitem__(0, time.perf_counter() + seconds)))
            threads_ = [threading.Thread(target=r.work, args=(t, deadline, barrier)) for r, t in zip(readers, tallies)]
            for t in threads_:
                t.start()
            for t in threads_:
                t.join()
            elapsed = time.perf_counter() - began["t"]
            total = Tally()
            for t in tallies:
                for k, v in t.latencies.items():
                    total.latencies[k] += v
                total.errors += t.errors
            errors += total.errors
            count = sum(len(v) for v in total.latencies.values()) + len(total.errors)
            rows.append((n, elapsed, count, total))
            print(f"[{kind}] {n} reader(s): {count} requests", flush=True)
    errors += server_log_problems(log)
    print(f"\n[{kind}] HTTP load on {len(ids):,} records; {'gunicorn' if workers > 1 else 'waitress'} "
          f"{workers} process(es) × {threads} threads")
    print("  ".join(["readers", "seconds", "requests", "  req/s"] + [f"{k + ' p50/p99 ms':>17}" for k in HTTP_KINDS]
                    + ["errors"]))
    for n, elapsed, count, total in rows:
        cells = [f"{n:>7}", f"{elapsed:7.1f}", f"{count:>8}", f"{count / elapsed:7.1f}"]
        cells += [f"{_ms(total.latencies[k], 50):>7} / {_ms(total.latencies[k], 99):>7}" for k in HTTP_KINDS]
        print("  ".join(cells + [f"{len(total.errors):>6}"]))
    for error, count in Counter(errors).most_common(10):
        print(f"[{kind}] error{f' ×{count}' if count > 1 else ''}: {error}")
    return errors


# --- the run ---------------------------------------------------------------------------------

def run(kind: str, pg_url: str | None, args) -> tuple[float, list[str]]:
    with ExitStack() as stack:
        dbs = {}
        for size in (args.small, args.large):
            folder = stack.enter_context(tempfile.TemporaryDirectory())
            settings = stack.enter_context(database(kind, pg_url, folder))
            started = time.perf_counter()
            build(settings, size)
            print(f"[{kind}] built {size:,} records in {time.perf_counter() - started:.1f} s", flush=True)
            dbs[size] = settings
        worst = measure(kind, dbs, args.reps, args.rounds, args.plans)
        errors = []
        if kind == args.load_on:
            workers = 1 if kind == "sqlite" else args.workers
            errors = load(kind, dbs[args.large], args.clients, args.seconds, workers, args.threads, args.timeout)
    return worst, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("SANXIANG_TEST_DATABASE_URL"),
                        help="a PostgreSQL URL to run on as well (and the HTTP load on)")
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--plans", action="store_true", help="print every plan of the large database")
    parser.add_argument("--clients", default="1,8,32", type=lambda s: [int(n) for n in s.split(",")])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each level of the HTTP load")
    parser.add_argument("--workers", type=int, default=2, help="server processes on PostgreSQL")
    parser.add_argument("--threads", type=int, default=8, help="server threads per process")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--no-load", action="store_true", help="the read ratios only")
    args = parser.parse_args()
    if args.small < 2 * FIXED or args.large <= args.small:
        parser.error(f"--small must be at least {2 * FIXED} and --large larger")
    kinds = ["sqlite"] + (["postgresql"] if args.postgres else [])
    args.load_on = None if args.no_load else kinds[-1]
    results = {kind: run(kind, args.postgres, args) for kind in kinds}
    print("\n" + ", ".join(f"{kind}: worst ratio {w:.2f}" for kind, (w, _) in results.items()) + f" (goal ≤ {GOAL})")
    errors = [e for _, errs in results.values() for e in errs]
    if args.load_on:
        print(f"HTTP load errors: {len(errors)}")
    sys.exit(1 if errors or any(w > GOAL for w, _ in results.values()) else 0)


if __name__ == "__main__":
    main()
