"""Timers as the engine sees them: SpiffWorkflow reads our clock, and a case's next due moment is
read from the timers it waits on (the case row carries it; :mod:`workflows.worker` sweeps due cases).
"""
from __future__ import annotations

from datetime import datetime, timezone

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from workflows.core import clock


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
