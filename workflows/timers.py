"""Timers: SpiffWorkflow reads our clock, each case row carries its next due time, and sweepers
fire due cases. On PostgreSQL any number of workers claim due rows with ``FOR UPDATE SKIP LOCKED``,
so no timer fires twice; a worker killed mid-sweep loses its transaction and its rows come due again.
"""
from __future__ import annotations

from datetime import datetime, timezone

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import clock
from .models import Instance


class _ClockedDatetime(datetime):
    """SpiffWorkflow's timer module calls ``datetime.now(timezone.utc)``; this makes it read our clock."""

    @classmethod
    def now(cls, tz=None):
        current = clock.now()
        return current.astimezone(tz) if tz is not None else current.astimezone().replace(tzinfo=None)


spiff_timer.datetime = _ClockedDatetime


def is_timer(task) -> bool:
    return isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition)


def next_due(workflow: BpmnWorkflow) -> datetime | None:
    """The earliest due moment of the timers the case waits on (an unevaluated timer counts as due now)."""
    due = [_parse(t.task_spec.event_definition.details(t).value) for t in workflow.event_manager.tasks.values()
           if is_timer(t)]
    return min(due, default=None)


def _parse(value) -> datetime:
    moment = TimerEventDefinition.parse_time_or_duration(value) if isinstance(value, str) else value
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return clock.now()


def claim_due(session: Session, limit: int) -> list[Instance]:
    """Lock up to ``limit`` running cases with a due timer; rows other workers hold are skipped."""
    query = (select(Instance).where(Instance.status == "running", Instance.next_timer_at <= clock.now())
             .order_by(Instance.next_timer_at).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))
