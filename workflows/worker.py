"""The timer worker: `sanxiang worker` (and the sweeper thread of embedded `sanxiang serve`).

Each case row carries its next due time; a sweep claims due cases and lets their timers fire. On
PostgreSQL any number of workers claim due rows with ``FOR UPDATE SKIP LOCKED``, so no timer fires
twice; a worker killed mid-sweep loses its transaction and its rows come due again.

Each case fires within a savepoint of the sweep's transaction: a case whose unit of work fails
(diagram code the engine parks itself, or anything that escapes it: a state that no longer loads, a
bug) is rolled back alone and parked in ``error`` with an audited ``engine.error``, and the sweep
goes on; a case changed meanwhile or refused by the database stays due for the next sweep. One
poisoned case never stops the others' timers.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, undefer

from workflows.core import clock
from workflows.core.db import session_scope
from workflows.core.models import Instance
from workflows.core.settings import Settings
from workflows.domain import checkpoints
from workflows.core.errors import Conflict
from workflows.domain import steps
from workflows.domain.cases import fire_timers

log = logging.getLogger(__name__)


def claim_due(session: Session, limit: int, skip: set[int] | frozenset[int] = frozenset()) -> list[Instance]:
    """Lock up to ``limit`` running cases with a due timer; rows other workers hold are skipped, and
    so are the cases in ``skip`` (left due by this worker's earlier sweeps)."""
    query = (select(Instance).options(undefer(Instance.state))
             .where(Instance.status == "running", Instance.next_timer_at <= clock.now())
             .order_by(Instance.next_timer_at).limit(limit))
    if skip:
        query = query.where(Instance.id.not_in(sorted(skip)))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


@dataclass
class SweepReport:
    """What sweeps did: cases whose timers fired (those parked in error included), the cases parked
    in error with their messages, and the cases left due (changed meanwhile, or refused by the
    database) that this worker does not claim again until it is idle."""

    fired: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    skipped: set[int] = field(default_factory=set)

    def add(self, other: "SweepReport") -> None:
        self.fired += other.fired
        self.failed += other.failed
        self.skipped |= other.skipped


def sweep(settings: Settings, batch: int = 50, skip: set[int] | frozenset[int] = frozenset()) -> SweepReport:
    """Fire the due timers of one batch of cases in one transaction, each case in a savepoint of its own."""
    report = SweepReport()
    with session_scope(settings) as session:
        for instance in claim_due(session, batch, skip):
            _fire_one(session, instance, report)
    return report


def sweep_once(settings: Settings, batch: int = 50) -> int:
    """Fire the due timers of one batch of cases in one transaction; return how many cases."""
    return sweep(settings, batch).fired


def _fire_one(session: Session, instance: Instance, report: SweepReport) -> None:
    case_id = instance.id
    savepoint = session.begin_nested()
    try:
        fire_timers(session, instance)
        savepoint.commit()
    except (Conflict, SQLAlchemyError) as exc:  # changed meanwhile, or the database refused: due again later
        savepoint.rollback()
        log.warning("timers of case %s left due: %s", case_id, exc)
        report.skipped.add(case_id)
        return
    except Exception as exc:  # anything else is this case's fault: park it, go on with the others
        savepoint.rollback()
        log.exception("timers of case %s failed; the case is parked in error", case_id)
        if not _park(session, instance, exc):
            report.skipped.add(case_id)
            return
    report.fired += 1
    if instance.status == "error":
        report.failed.append((case_id, instance.error_message or ""))


def _park(session: Session, instance: Instance, exc: Exception) -> bool:
    """Put a case whose timer firing failed in ``error``, audited, without its failed step."""
    savepoint = session.begin_nested()
    try:
        session.expire(instance)  # what the database holds, not what the failed step left in memory
        text = " ".join(f"{type(exc).__name__}: {exc}".split())
        instance.status, instance.error_task = "error", None
        instance.error_message = f"the timer sweep failed on this case: {text[:1000]}"
        steps.record(session, instance, steps.SYSTEM_USER, "engine.error", message=instance.error_message)
        savepoint.commit()
        return True
    except Exception:
        savepoint.rollback()
        log.exception("case %s could not be parked in error; it stays due", instance.id)
        return False


def run_worker(settings: Settings, *, once: bool = False, interval: float = 30.0, batch: int = 50,
               stop: threading.Event | None = None, report: SweepReport | None = None) -> int:
    """Sweep until nothing is due (``once``), or until ``stop`` is set, resting ``interval`` s when idle.

    Returns how many cases' timers fired; ``report`` (when given) collects the cases parked in error
    and the ones left due."""
    total = 0
    report = report if report is not None else SweepReport()
    skip: set[int] = set()  # cases left due in this burst of sweeps, tried again once idle
    stop = stop or threading.Event()
    while not stop.is_set():
        checkpoint_if_due(settings)
        try:
            swept = sweep(settings, batch, skip)
        except Exception:  # a failing sweep must not stop the worker; the rows stay due
            log.exception("timer sweep failed")
            if once:
                raise
            swept = SweepReport()
        report.add(swept)
        skip |= swept.skipped
        total += swept.fired
        if swept.fired or swept.skipped:
            continue
        skip.clear()
        if once:
            break
        stop.wait(interval)
    return total


def checkpoint_if_due(settings: Settings) -> checkpoints.Checkpoint | None:
    """Append the periodic signed audit checkpoint when it is due (``SANXIANG_CHECKPOINT_INTERVAL``).

    A refusal (the log no longer extends the latest checkpoint) is logged as an error for the
    operator; it never stops the worker."""
    if not checkpoints.due(settings):
        return None
    try:
        with session_scope(settings, write=False) as session:
            point = checkpoints.write(session, settings)
    except checkpoints.CheckpointRefused as exc:
        log.error("audit checkpoint refused, the log no longer extends the latest one: %s", exc)
        return None
    except Exception:  # a full disk or a missing key must not stop the timers
        log.exception("audit checkpoint failed")
        return None
    log.info("%s", point.text())
    return point


def start_sweeper_thread(settings: Settings, interval: float = 30.0) -> threading.Event:
    """Embedded mode: sweep inside the server process; set the returned event to stop."""
    stop = threading.Event()
    threading.Thread(target=run_worker, args=(settings,), kwargs={"interval": interval, "stop": stop},
                     name="timer-sweeper", daemon=True).start()
    return stop
