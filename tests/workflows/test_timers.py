"""Timers fire on the engine clock, once, by the system user; workers share the work safely."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import bpmn
from workflows.domain import audit, cases
from workflows.design import deployment
from workflows.core.db import session_scope
from workflows.core.models import AuditEvent, HumanTask, Instance
from workflows.domain.people import get_user
from workflows.worker import run_worker, start_sweeper_thread, sweep_once

SHANGHAI_9AM_SEP_30 = datetime(2026, 9, 30, 1, 0, tzinfo=timezone.utc)


@pytest.fixture
def timed(db, settings, frozen_clock):
    frozen_clock.set(SHANGHAI_9AM_SEP_30)
    deployment.deploy(db, {"timers.bpmn": bpmn("timers.bpmn")}, "designer")
    db.commit()
    return db


def start(db, settings, n=1):
    zhang = get_user(db, "zhang")
    ids = [cases.start(db, settings, zhang, "timed", {"decision_date": date(2026, 9, 30)}).instance.id for _ in range(n)]
    db.commit()
    return ids


def sweep(db, settings):
    """Sweep from another unit of work, as a worker would (ending the test's own transaction first)."""
    db.rollback()
    fired = sweep_once(settings)
    db.expire_all()
    return fired


def names(db, instance_id):
    return sorted(r.name for r in cases.ready_tasks_of(db, instance_id))


def test_duration_and_date_timers_fire_on_the_engine_clock(timed, settings, frozen_clock):
    [case_id] = start(timed, settings)
    instance = timed.get(Instance, case_id)
    assert instance.next_timer_at == SHANGHAI_9AM_SEP_30 + timedelta(days=1)
    assert sweep(timed, settings) == 0 and names(timed, case_id) == []

    frozen_clock.advance(days=1, seconds=1)
    assert sweep(timed, settings) == 1
    [publish] = cases.ready_tasks_of(timed, case_id)
    # 7 working days after 30 Sep across the National Day holiday: end of 15 Oct in Shanghai
    assert publish.due_at == datetime(2026, 10, 15, 15, 59, 59, tzinfo=timezone.utc)
    # next: the reminder at 3 working days (8, 9 and Saturday 10 Oct, an adjusted working day)
    assert timed.get(Instance, case_id).next_timer_at == datetime(2026, 10, 10, 15, 59, 59, tzinfo=timezone.utc)

    frozen_clock.set(datetime(2026, 10, 11, 1, tzinfo=timezone.utc))
    assert sweep(timed, settings) == 1
    assert names(timed, case_id) == ["公示决定", "督办提醒"]  # non-interrupting: both open

    frozen_clock.set(datetime(2026, 10, 16, 1, tzinfo=timezone.utc))
    assert sweep(timed, settings) == 1
    assert names(timed, case_id) == ["督办提醒", "逾期未公示"]  # interrupting: publication withdrawn
    states = dict(timed.execute(select(HumanTask.name, HumanTask.state).where(HumanTask.instance_id == case_id)).all())
    assert states["公示决定"] == "cancelled"
    assert timed.get(Instance, case_id).next_timer_at is None
    fires = [e for e in audit.events_of(timed, case_id) if e.action == "timer.fire"]
    assert [(e.actor, e.payload) for e in fires] == [
        ("system", '{"elements":["wait_a_day"]}'), ("system", '{"elements":["remind"]}'),
        ("system", '{"elements":["expire"]}')]


def test_a_timer_fires_once_however_often_it_is_swept(timed, settings, frozen_clock):
    [case_id] = start(timed, settings)
    frozen_clock.advance(days=2)
    timed.rollback()
    assert run_worker(settings, once=True) == 1
    assert run_worker(settings, once=True) == 0
    assert names(timed, case_id) == ["公示决定"]


def test_suspended_cases_wait_and_fire_after_resuming(timed, settings, frozen_clock):
    [case_id] = start(timed, settings)
    cases.suspend(timed, get_user(timed, "wang"), case_id, "暂停", "force_majeure")
    timed.commit()
    frozen_clock.advance(days=2)
    assert sweep(timed, settings) == 0
    cases.resume(timed, get_user(timed, "wang"), case_id, "恢复")
    timed.commit()
    assert sweep(timed, settings) == 1


def test_concurrent_workers_fire_each_timer_exactly_once(timed, settings, frozen_clock):
    n = 60 if settings.is_sqlite else 1000  # SQLite serialises writers; PostgreSQL really competes
    ids = start(timed, settings, n=n)
    frozen_clock.advance(days=2)
    with ThreadPoolExecutor(2) as pool:
        fired = sum(pool.map(lambda _: run_worker(settings, once=True, batch=20), range(2)))
    assert fired == n
    with session_scope(settings, write=False) as session:
        publish_rows = session.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.name == "公示决定"))
        assert publish_rows == n
        events = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "timer.fire"))
        assert events == n and audit.verify(session) == []
        assert {len(cases.ready_tasks_of(session, i)) for i in ids} == {1}


KILLED_WORKER = """
import sys, time
from datetime import datetime, timezone
from workflows.domain import cases
from workflows.core import clock
from workflows.core.settings import load_settings
from workflows.worker import sweep_once

original = cases.fire_timers
def slow(session, instance):
    fired = original(session, instance)
    print("fired", instance.id, flush=True)
    time.sleep(60)  # killed here, mid-transaction
    return fired
cases.fire_timers = slow
import workflows.worker as worker
worker.fire_timers = slow
with clock.frozen(datetime.fromisoformat(sys.argv[1])):
    sweep_once(load_settings(), batch=10)
"""


def test_a_worker_killed_mid_sweep_leaves_nothing_half_written(timed, settings, frozen_clock, tmp_path):
    ids = start(timed, settings, n=3)
    now = frozen_clock.advance(days=2)
    env = os.environ | {"SANXIANG_INSTANCE_PATH": str(settings.instance_path),
                        "SANXIANG_DATABASE_URL": settings.database_url.replace("postgresql+psycopg://", "postgresql://")}
    worker = subprocess.Popen([sys.executable, "-c", KILLED_WORKER, now.isoformat()], stdout=subprocess.PIPE,
                              text=True, env=env, cwd=Path(__file__).resolve().parents[2])
    assert worker.stdout.readline().startswith("fired")
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    with session_scope(settings, write=False) as session:
        assert session.scalar(select(func.count()).select_from(HumanTask)) == 0
        assert {session.get(Instance, i).next_timer_at for i in ids} == {SHANGHAI_9AM_SEP_30 + timedelta(days=1)}
    assert run_worker(settings, once=True) == 3
    with session_scope(settings, write=False) as session:
        assert [len(cases.ready_tasks_of(session, i)) for i in ids] == [1, 1, 1]
        assert audit.verify(session) == []


def test_embedded_mode_sweeps_inside_the_server_process(timed, settings, frozen_clock):
    [case_id] = start(timed, settings)
    frozen_clock.advance(days=2)
    stop = start_sweeper_thread(settings, interval=0.05)
    try:
        for _ in range(200):
            with session_scope(settings, write=False) as session:
                if cases.ready_tasks_of(session, case_id):
                    break
            time.sleep(0.05)
    finally:
        stop.set()
    with session_scope(settings, write=False) as session:
        assert [r.name for r in cases.ready_tasks_of(session, case_id)] == ["公示决定"]
