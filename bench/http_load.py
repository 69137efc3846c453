"""HTTP load: signed-in officers working six_steps cases through the web app, 1, 4 and 16 at a time.

Per database (a SQLite file; a PostgreSQL schema of its own, dropped afterwards, when ``--postgres``
or ``SANXIANG_TEST_DATABASE_URL`` is given) the setup goes through the engine: ``init_database``,
``bench/six_steps.bpmn`` deployed, one officer per client, each in a unit of their own (so their
pool tasks never overlap) with a credential valid today and a production argon2 password hash,
a few hundred background cases in those units (some claimed, some part done, some completed), and
enough six_steps cases per client for the run, started with ``cases.start``.

The server is ``sanxiang serve`` in a subprocess: one process (waitress, 8 threads, with the
in-process timer sweeper) on SQLite; ``--workers 2 --threads 8`` (gunicorn gthread) on PostgreSQL.
Every client signs in once, before anything is timed, and keeps its own session cookie, CSRF token
and keep-alive connection. Then, after one untimed round by every client, each level of
concurrency runs for ``--seconds`` (or until ``--steps`` completions, split among its clients),
each client repeating:

    GET  /                      inbox
    GET  /cases/<id>            case page of its current case (records a read: a write)
    POST /tasks/<task_id>       note<k> + _csrf_token, must answer 302 to /tasks/<task_id>/done
    GET  /tasks/<task_id>/done  "next": the case's next task is the page's /tasks/<uuid> link;
                                after step 6 the client moves on to its next case

Printed per database and number of clients: requests/s, completions (steps)/s, CPU milliseconds
the server's processes used per request (PostgreSQL's own processes not counted; steadier than the
latencies when other work shares the machine), p50 and p99 latency of each kind of request, and
errors (any status other than the expected one, exceptions, timeouts, tracebacks in the server's
log). The database is checked afterwards: every completion the clients saw is recorded there once,
and every audit chain verifies. Exits 1 when there was an error. The clients run in this process
and share the machine's cores with the server.

Run: ``python -m bench.http_load [--clients 1,4,16] [--seconds 15] [--steps 1200] [--postgres URL]``
"""
from __future__ import annotations

import argparse
import http.client
import math
import os
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict, deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from sqlalchemy import func, select

from bench.engine import database
from workflows.bootstrap import init_database
from workflows.core.db import get_engine, session_scope
from workflows.core.models import HumanTask
from workflows.design import deployment
from workflows.domain import audit, cases, credentials, people, tasks


MODEL = Path(__file__).with_name("six_steps.bpmn")
STEPS = 6
KINDS = ("inbox", "case", "complete", "next")
PASSWORD = "bench-pass-2027"
SANXIANG = Path(sys.executable).parent / "sanxiang"
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
TASK_LINK = re.compile(r'href="/tasks/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"')
IDLE_RECONNECT = 1.0  # seconds; gunicorn closes idle keep-alive connections after 2
MAX_CONSECUTIVE_ERRORS = 20  # a client gives up after this many errors in a row (server gone)


# --- setup ---------------------------------------------------------------------------------------

@dataclass
class Case:
    instance_id: int
    task_id: str  # the task to do next
    step: int = 1  # its number, 1..6 (field note<step>)


@dataclass
class Officer:
    username: str
    cases: deque[Case]


def officer_name(i: int) -> str:
    return f"officer{i + 1:02d}"


def prepare(settings, officers: int, cases_each: list[int], background: int) -> list[Officer]:
    """People, units, the model, background work, and each officer's queue of fresh six_steps cases."""
    today = date.today()
    with session_scope(settings) as session:
        init_database(settings, session)
        deployment.deploy(session, {MODEL.name: MODEL.read_bytes()}, "bench")
        for i in range(officers):
            code = f"unit{i + 1:02d}"
            people.ensure_unit(session, code, f"执法{i + 1}科")
            user = people.add_user(session, "bench", officer_name(i), f"执法人员{i + 1}", code, PASSWORD, ["officer"])
            credentials.issue(session, "bench", user.username, f"B{i + 1:04d}", "新市区", today - timedelta(days=30),
                                  today + timedelta(days=365))
    _background(settings, officers, background)
    result = []
    for i in range(officers):
        with session_scope(settings) as session:
            user = people.get_user(session, officer_name(i))
            queue = deque(Case(started.instance.id, started.tasks[0].task_id)
                          for started in (cases.start(session, settings, user, "six_steps", {"party_name": f"某协会{n}"})
                                          for n in range(cases_each[i])))
        result.append(Officer(officer_name(i), queue))
    return result


def _background(settings, officers: int, n: int) -> None:
    """``n`` other cases spread over the officers' units: of every six, two claimed by the officer
    (their "mine" inbox tab), one left in the pool, two part done, one completed."""
    for i in range(officers):
        with session_scope(settings) as session:
            user = people.get_user(session, officer_name(i))
            for k in range(i, n, officers):
                started = cases.start(session, settings, user, "six_steps", {"party_name": f"背景协会{k}"})
                task_id, kind = started.tasks[0].task_id, k % 6
                if kind in (0, 1):
                    tasks.claim(session, user, task_id)
                for step in range({3: 2, 4: 4, 5: STEPS}.get(kind, 0)):
                    done = tasks.complete_or_raise(session, user, task_id, {f"note{step + 1}": "背景"})
                    task_id = done.next_tasks[0].task_id if done.next_tasks else None


def completions_by(settings, usernames: list[str]) -> int:
    with session_scope(settings, write=False) as session:
        return session.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.state == "completed", HumanTask.completed_by.in_(usernames)))


# --- the server ----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by process ``root`` and its live descendants (gunicorn's workers)."""
    parent, used = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        pid = int(stat.parent.name)
        parent[pid], used[pid] = int(fields[1]), int(fields[11]) + int(fields[12])
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parent.items() if ppid in tree} - tree
        tree, grew = tree | more, bool(more)
    return sum(used.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    port: int
    command: str  # as a shell would run it
    pid: int

    def cpu(self) -> float:
        return tree_cpu(self.pid)


@contextmanager
def server(settings, workers: int, threads: int, log: Path):
    """``sanxiang serve`` on a free port, up once /health answers."""
    port = free_port()
    command = [str(SANXIANG), "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads)]
    if workers > 1:
        command += ["--workers", str(workers)]
    env = {"SANXIANG_INSTANCE_PATH": str(settings.instance_path), "SANXIANG_DATABASE_URL": settings.database_url}
    shown = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()) + " " + shlex.join(command)
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(proc, port, log)
        yield Server(port, shown, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_healthy(proc: subprocess.Popen, port: int, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server did not answer /health within {timeout:.0f} s:\n{log.read_text(errors='replace')[-3000:]}")


def server_log_problems(log: Path) -> list[str]:
    """Tracebacks the server logged (an error after the response was sent shows nowhere else)."""
    text = log.read_text(errors="replace")
    blocks = text.split("Traceback (most recent call last):")[1:]
    return [f"server log: {block.strip().splitlines()[-1] if block.strip() else 'traceback'}" for block in blocks]


# --- a client ------------------------------------------------------------------------------------

class Failed(Exception):
    """A request that did not answer as a working user needs (wrong status, page or target)."""


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    completions: int = 0

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values()) + len(self.errors)


class Client:
    """One signed-in person: a keep-alive connection, their cookies, their CSRF token, their cases."""

    def __init__(self, port: int, officer: Officer, timeout: float):
        self.port, self.officer, self.timeout = port, officer, timeout
        self.conn: http.client.HTTPConnection | None = None
        self.last_used = 0.0
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.case: Case | None = None
        self.completed_task: str | None = None  # completed, but its done page not read yet

    # transport

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, http.client.HTTPResponse, str]:
        if self.conn is None or time.monotonic() - self.last_used > IDLE_RECONNECT:
            self.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        headers = {"Accept": "text/html", "Accept-Language": "zh-CN"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        except BaseException:
            self.close()
            raise
        self.last_used = time.monotonic()
        if response.will_close:
            self.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value == "" or morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response.status, response, text

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def timed(self, tally: Tally, kind: str, method: str, path: str, expect: int,
              form: dict | None = None) -> tuple[http.client.HTTPResponse, str]:
        start = time.perf_counter()
        try:
            status, response, text = self.request(method, path, form)
        except (OSError, http.client.HTTPException) as exc:  # timeouts are OSErrors
            raise Failed(f"{kind} {method} {path}: {type(exc).__name__}: {exc}") from None
        if status != expect:
            raise Failed(f"{kind} {method} {path}: {status} (expected {expect})")
        tally.latencies[kind].append(time.perf_counter() - start)
        return response, text

    # signing in (untimed)

    def sign_in(self) -> None:
        status, _, page = self.request("GET", "/login")
        token = CSRF.search(page)
        if status != 200 or not token:
            raise SystemExit(f"{self.officer.username}: no sign-in page ({status})")
        status, response, _ = self.request("POST", "/login", {
            "username": self.officer.username, "password": PASSWORD, "_csrf_token": token.group(1), "next": ""})
        if status != 302:
            raise SystemExit(f"{self.officer.username}: sign-in refused ({status})")
        status, _, page = self.request("GET", "/")
        token = CSRF.search(page)
        if status != 200 or not token:
            raise SystemExit(f"{self.officer.username}: no inbox after signing in ({status})")
        self.csrf = token.group(1)

    # work

    def step(self, tally: Tally) -> None:
        """Inbox, case page, complete the case's task, read where the case went."""
        if self.case is None:
            if not self.officer.cases:
                raise Failed(f"{self.officer.username}: no pre-created case left (raise --steps headroom)")
            self.case = self.officer.cases.popleft()
        case = self.case
        self.timed(tally, "inbox", "GET", "/", 200)
        self.timed(tally, "case", "GET", f"/cases/{case.instance_id}", 200)
        if self.completed_task is None:
            response, _ = self.timed(tally, "complete", "POST", f"/tasks/{case.task_id}", 302,
                                     {f"note{case.step}": f"第{case.step}步已记录", "_csrf_token": self.csrf})
            target = urlsplit(response.headers.get("Location", "")).path
            if target != f"/tasks/{case.task_id}/done":
                raise Failed(f"complete POST /tasks/{case.task_id}: redirected to {target!r}")
            tally.completions += 1
            self.completed_task = case.task_id
        _, page = self.timed(tally, "next", "GET", f"/tasks/{self.completed_task}/done", 200)
        following = list(dict.fromkeys(TASK_LINK.findall(page)))
        self.completed_task = None
        if case.step == STEPS:
            if following:
                raise Failed(f"case {case.instance_id}: a task follows step {STEPS}: {following}")
            self.case = None
        elif len(following) != 1:
            raise Failed(f"case {case.instance_id}: after step {case.step} the done page links {following}")
        else:
            case.task_id, case.step = following[0], case.step + 1

    def work(self, tally: Tally, clock: dict[str, float], seconds: float, steps: int,
             start: threading.Barrier) -> None:
        start.wait()  # its last arrival sets clock["began"]
        deadline, done, failed_in_a_row = clock["began"] + seconds, tally.completions + steps, 0
        while time.perf_counter() < deadline and tally.completions < done:
            try:
                self.step(tally)
                failed_in_a_row = 0
            except Exception as exc:  # noqa: BLE001 - a Failed request, or a bug here: both counted
                tally.errors.append(str(exc) if isinstance(exc, Failed) else f"client {type(exc).__name__}: {exc}")
                failed_in_a_row += 1
                if failed_in_a_row >= MAX_CONSECUTIVE_ERRORS or "no pre-created case" in str(exc):
                    tally.errors.append(f"{self.officer.username}: stopped after {failed_in_a_row} errors in a row")
                    return


# --- a level -------------------------------------------------------------------------------------

@dataclass
class Level:
    clients: int
    seconds: float
    tally: Tally
    app_cpu: float  # CPU seconds of the server's processes (not PostgreSQL's)

    def row(self) -> str:
        t = self.tally
        cells = [f"{self.clients:>7}", f"{self.seconds:7.1f}", f"{t.requests:>8}", f"{t.requests / self.seconds:7.1f}",
                 f"{t.completions / self.seconds:7.1f}", f"{1000 * self.app_cpu / max(t.requests, 1):7.1f}"]
        cells += [f"{_ms(t.latencies[k], 50):>6} / {_ms(t.latencies[k], 99):>6}" for k in KINDS]
        return "  ".join(cells + [f"{len(t.errors):>6}"])


HEADER = "  ".join(["clients", "seconds", "requests", "  req/s", "steps/s", "cpu/req"]
                   + [f"{k + ' p50/p99 ms':>15}" for k in KINDS] + ["errors"])


def _ms(values: list[float], pct: int) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{1000 * ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]:.1f}"


def run_level(clients: list[Client], seconds: float, steps: int, cpu) -> Level:
    """Every client works until ``seconds`` pass or it did its share of ``steps`` completions."""
    tallies = [Tally() for _ in clients]
    share = math.ceil(steps / len(clients))
    clock: dict[str, float] = {}
    barrier = threading.Barrier(len(clients), action=lambda: clock.update(began=time.perf_counter(), cpu=cpu()))
    threads = [threading.Thread(target=c.work, args=(t, clock, seconds, share, barrier))
               for c, t in zip(clients, tallies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Tally()
    for t in tallies:
        for kind, values in t.latencies.items():
            total.latencies[kind] += values
        total.errors += t.errors
        total.completions += t.completions
    return Level(len(clients), time.perf_counter() - clock["began"], total, cpu() - clock["cpu"])


def cases_needed(levels: list[int], steps: int) -> list[int]:
    """Cases per officer: each level's share of steps, rounded up to whole cases plus the one under
    way, and one more for the warm-up round."""
    return [2 + sum(math.ceil(math.ceil(steps / n) / STEPS) + 1 for n in levels if n > i)
            for i in range(max(levels))]


# --- a database ----------------------------------------------------------------------------------

def run(kind: str, pg_url: str | None, args) -> list[str]:
    """The whole benchmark on one database; returns its errors."""
    levels, tag = args.clients, f"[{kind}]"
    workers = 1 if kind == "sqlite" else args.pg_workers
    with database(kind, pg_url) as settings:
        began = time.perf_counter()
        officers = prepare(settings, max(levels), cases_needed(levels, args.steps), args.background)
        usernames = [o.username for o in officers]
        before = completions_by(settings, usernames)
        get_engine(settings.database_url).dispose()
        print(f"{tag} setup: {len(officers)} officers in units of their own, {args.background} background cases, "
              f"{sum(len(o.cases) for o in officers)} six_steps cases to work ({time.perf_counter() - began:.1f} s)",
              flush=True)
        with server(settings, workers, args.threads, settings.instance_path / "server.log") as app:
            command = app.command
            print(f"{tag} server: {command}", flush=True)
            clients = [Client(app.port, officer, args.timeout) for officer in officers]
            began = time.perf_counter()
            for client in clients:
                client.sign_in()
            print(f"{tag} signed in {len(clients)} clients, one after another ({time.perf_counter() - began:.1f} s, "
                  f"argon2 included); one untimed round each", flush=True)
            warm = run_level(clients, args.timeout, len(clients), app.cpu)
            results = []
            for n in levels:
                results.append(run_level(clients[:n], args.seconds, args.steps, app.cpu))
                print(f"{tag} {n} client(s): {results[-1].tally.completions} completions", flush=True)
            for client in clients:
                client.close()
        errors = warm.tally.errors + [e for level in results for e in level.tally.errors]
        errors += server_log_problems(settings.instance_path / "server.log")
        seen = warm.tally.completions + sum(level.tally.completions for level in results)
        recorded = completions_by(settings, usernames) - before
        if recorded != seen:
            errors.append(f"the clients saw {seen} completions, the database recorded {recorded}")
        with session_scope(settings, write=False) as session:
            broken = [f"audit chain {b}" for b in audit.verify(session)]
        errors += broken
    print(f"\n{tag} {'one process (waitress)' if workers == 1 else f'{workers} processes (gunicorn gthread)'} "
          f"× {args.threads} threads; {command}")
    print(HEADER)
    for level in results:
        print(level.row())
    print(f"{tag} completions recorded in the database: {recorded} of the {seen} the clients saw; "
          f"audit chains: {f'{len(broken)} broken' if broken else 'all verify'}")
    distinct = Counter(errors)
    for error, count in distinct.most_common(12):
        print(f"{tag} error{f' ×{count}' if count > 1 else ''}: {error}")
    if len(distinct) > 12:
        print(f"{tag} … and {len(distinct) - 12} other errors")
    print(flush=True)
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,4,16", type=lambda s: [int(n) for n in s.split(",")],
                        help="levels of concurrency, comma-separated")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each level")
    parser.add_argument("--steps", type=int, default=1200,
                        help="most completions per level (split among its clients); sizes the pre-created cases")
    parser.add_argument("--background", type=int, default=300, help="other cases in the officers' units")
    parser.add_argument("--threads", type=int, default=8, help="server threads per process")
    parser.add_argument("--pg-workers", type=int, default=2, help="server processes on PostgreSQL")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds a request may take")
    parser.add_argument("--postgres", default=os.environ.get("SANXIANG_TEST_DATABASE_URL"),
                        help="a PostgreSQL URL to run on as well")
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="run on one database only")
    args = parser.parse_args()
    kinds = [k for k in ["sqlite"] + (["postgresql"] if args.postgres else []) if args.only in (None, k)]
    if not kinds:
        parser.error("--only postgresql needs --postgres or SANXIANG_TEST_DATABASE_URL")
    errors = [e for kind in kinds for e in run(kind, args.postgres, args)]
    print(f"errors: {len(errors)}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
