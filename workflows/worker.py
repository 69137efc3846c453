"""The timer worker: `sanxiang worker` (and the sweeper thread of embedded `sanxiang serve`)."""
from __future__ import annotations

import logging
import threading

from .cases import fire_timers
from .db import session_scope
from .settings import Settings
from .timers import claim_due

log = logging.getLogger(__name__)


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
