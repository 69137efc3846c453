"""Timer sweeping throughput on PostgreSQL: 1 worker process against 2.

Creates N cases each waiting on a due timer (one case is started through the engine, then copied
with fresh task ids), sweeps them with one worker process, recreates them, sweeps with two, and checks that
every timer fired exactly once. Prints timers/s for each and the ratio last.

Run: ``python -m bench.timers [--timers 10000] [--url postgresql://postgres@127.0.0.1:5432/test]``
"""
from __future__ import annotations

import argparse
import multiprocessing
import re
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text

from workflows.domain import cases, credentials, people
from workflows.core import clock
from workflows.design import deployment
from workflows.bootstrap import init_database
from workflows.core.db import session_scope
from workflows.core.models import AuditEvent, HumanTask, Instance
from workflows.core.settings import load_settings
from workflows.worker import run_worker

UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MODEL = Path(__file__).resolve().parents[1] / "tests" / "bpmn" / "timers.bpmn"
START = datetime(2026, 9, 30, 1, 0, tzinfo=timezone.utc)
LATER = START + timedelta(days=2)


def prepare(settings, n: int) -> None:
    with clock.frozen(START), session_scope(settings) as session:
        init_database(settings, session)
        if session.scalar(select(func.count()).select_from(Instance)) == 0:
            people.ensure_unit(session, "social", "社会组织管理科")
            user = people.add_user(session, "bench", "officer", "张明", "social", "password", ["officer"])
            credentials.issue(session, "bench", user.username, "B1", "新市区", date(2026, 1, 1), date(2027, 12, 31))
            deployment.deploy(session, {MODEL.name: MODEL.read_bytes()}, "bench")
        session.execute(text("DELETE FROM human_task; DELETE FROM audit_event WHERE action = 'timer.fire';"
                             "DELETE FROM audit_chain WHERE name <> 'system'; DELETE FROM instance"))
        template = cases.start(session, settings, people.get_user(session, "officer"), "timed",
                                    {"decision_date": date(2026, 9, 30)}).instance
        session.flush()
        copies = [_copy(template, n) for n in range(2, n + 1)]
        session.execute(insert(Instance), copies)


def _copy(template: Instance, n: int) -> dict:
    """The template case under a new number, with fresh task ids (they are unique across cases)."""
    state = template.state
    for task_id in set(UUID_PATTERN.findall(state)):
        state = state.replace(task_id, str(uuid.uuid4()))
    return {"case_no": f"B-{n}", "process_id": template.process_id, "model_version": template.model_version,
            "unit_id": template.unit_id, "status": "running", "state": state, "next_timer_at": template.next_timer_at,
            "created_by": template.created_by, "lock_version": 1}


def _work(url: str, instance_path: str) -> None:
    settings = load_settings({"SANXIANG_DATABASE_URL": url, "SANXIANG_INSTANCE_PATH": instance_path})
    with clock.frozen(LATER):
        run_worker(settings, once=True, batch=50)


def sweep(settings, workers: int) -> float:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_work, args=(settings.database_url, str(settings.instance_path)))
             for _ in range(workers)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        assert p.exitcode == 0, "a worker failed"
    return time.perf_counter() - started


def check(settings, n: int) -> None:
    with session_scope(settings, write=False) as session:
        fired = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "timer.fire"))
        rows = session.scalar(select(func.count()).select_from(HumanTask))
        waiting = session.scalar(select(func.count()).select_from(Instance).where(Instance.next_timer_at <= LATER))
    assert (fired, rows, waiting) == (n, n, 0), f"fired {fired}, inbox rows {rows}, still due {waiting} of {n}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    schema = "bench_" + uuid.uuid4().hex[:8]
    admin = create_engine(args.url.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        url = f"{args.url}?options=-csearch_path%3D{schema}"
        settings = load_settings({"SANXIANG_DATABASE_URL": url, "SANXIANG_INSTANCE_PATH": f"/tmp/{schema}"})
        results = {}
        for workers in (1, 2):
            prepare(settings, args.timers)
            seconds = sweep(settings, workers)
            check(settings, args.timers)
            results[workers] = args.timers / seconds
            print(f"{workers} worker(s): {results[workers]:8.0f} timers/s, each fired exactly once")
        print(f"ratio 2 workers / 1 worker: {results[2] / results[1]:.2f}")
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))


if __name__ == "__main__":
    main()
