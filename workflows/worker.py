"""The timer worker: `sanxiang worker` (and the sweeper thread of embedded `sanxiang serve`).

Each case row carries its next due time; a sweep claims due cases and lets their timers fire. On
PostgreSQL any number of workers claim due rows with ``FOR UPDATE SKIP LOCKED``, so no timer fires
twice; a worker killed mid-sweep loses its transaction and its rows come due again.
"""
from __future__ import annotations

import logging
import threading

from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from workflows.core import clock
from workflows.core.db import session_scope
from workflows.core.models import Instance
from workflows.core.settings import Settings
from workflows.domain.cases import fire_timers

log = logging.getLogger(__name__)


def claim_due(session: Session, limit: int) -> list[Instance]:
    """Lock up to ``limit`` running cases with a due timer; rows other workers hold are skipped."""
    query = (select(Instance).options(undefer(Instance.state))
             .where(Instance.status == "running", Instance.next_timer_at <= clock.now())
             .order_by(Instance.next_timer_at).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def sweep_once(settings: Settings, batch: int = 50) -> int:
    """Fire the due timers of one batch of cases in one transaction; return how many cases."""
    with session_scope(settings) as session:
        due = claim_due(session, batch)
        for instance in due:
            fire_timers(session, instance)
        return len(due)


def run_worker(settings: Settings, *, once: bool = False, interval: float = 30.0, batch: int = 50,
               stop: threading.Event | None = None) -> int:
    """Sweep until nothing is due (``once``), or until ``stop`` is set, resting ``interval`` s when idle."""
    total = 0
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            fired = sweep_once(settings, batch)
        except Exception:  # a failing sweep must not stop the worker; the rows stay due
            log.exception("timer sweep failed")
            fired = 0
            if once:
                raise
        total += fired
        if fired:
            continue
        if once:
            break
        stop.wait(interval)
    return total


def start_sweeper_thread(settings: Settings, interval: float = 30.0) -> threading.Event:
    """Embedded mode: sweep inside the server process; set the returned event to stop."""
    stop = threading.Event()
    threading.Thread(target=run_worker, args=(settings,), kwargs={"interval": interval, "stop": stop},
                     name="timer-sweeper", daemon=True).start()
    return stop
