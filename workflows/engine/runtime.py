"""What a workflow needs from the database to run: the script sandbox with the calendar,
the deadline settings and the engine clock; and the bounds of one unit of engine work."""
from __future__ import annotations

import functools
import time
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask, StandardLoopTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import clock
from workflows.engine import specs
from workflows.engine import serialization
from workflows.core.deadlines import DEFAULT_DEADLINES, DeadlineRule
from workflows.core.models import DeadlineSetting, HolidayOverride, Instance, PolicySetting
from workflows.core.settings import limits
from workflows.engine.sandbox import LimitExceeded, SandboxEnvironment, SandboxScriptEngine
from workflows.core.workdays import TZ, WorkCalendar


def today() -> date:
    """Today in Asia/Shanghai, by the engine clock."""
    return clock.now().astimezone(TZ).date()


def deadline_rules(session: Session) -> dict[str, DeadlineRule]:
    """The deadline settings table, over the legal defaults."""
    rules = dict(DEFAULT_DEADLINES)
    for row in session.scalars(select(DeadlineSetting)):
        default = DEFAULT_DEADLINES.get(row.name)
        rules[row.name] = DeadlineRule(row.name, row.amount, row.unit, row.label_zh,
                                       row.basis or (default.basis if default else ""))
    return rules


def work_calendar(session: Session) -> WorkCalendar:
    rows = session.execute(select(HolidayOverride.day, HolidayOverride.is_working).order_by(HolidayOverride.day))
    return _calendar(tuple((day, working) for day, working in rows))


@lru_cache(maxsize=4)
def _calendar(overrides: tuple[tuple[date, bool], ...]) -> WorkCalendar:
    """One calendar per set of overrides, so its per-day cache outlives a unit of work."""
    return WorkCalendar(dict(overrides))


def _once_per_session(session: Session, key: str, load):
    """Settings read at most once per unit of work (a sweep fires many cases in one)."""
    if key not in session.info:
        session.info[key] = load()
    return session.info[key]


def session_rules(session: Session) -> dict[str, DeadlineRule]:
    """The deadline settings, read at most once per unit of work."""
    return _once_per_session(session, "deadline_rules", lambda: deadline_rules(session))


def session_calendar(session: Session) -> WorkCalendar:
    """The working-day calendar, read at most once per unit of work."""
    return _once_per_session(session, "work_calendar", lambda: work_calendar(session))


class _LazyCalendar:
    """A :class:`WorkCalendar` whose holiday overrides are read when a script first needs them."""

    def __init__(self, session: Session):
        self._load = lambda: session_calendar(session)

    def is_working_day(self, d: date) -> bool:
        return self._load().is_working_day(d)

    def add_working_days(self, d: date, n: int) -> date:
        return self._load().add_working_days(d, n)

    def working_days_between(self, a: date, b: date) -> int:
        return self._load().working_days_between(a, b)


def session_policies(session: Session) -> dict[str, Any]:
    """The policy settings (amounts and rates as ``Decimal``), read at most once per unit of work."""
    def load():
        return {row.name: Decimal(row.value) if row.kind in ("amount", "rate") else row.value
                for row in session.scalars(select(PolicySetting))}
    return _once_per_session(session, "policy_settings", load)


def script_engine(session: Session) -> PythonScriptEngine:
    """The sandbox for one unit of work; settings are read on first use, most steps need none."""
    def rule(name: str) -> DeadlineRule:
        return session_rules(session)[name]

    def policy(name: str) -> Any:
        try:
            return session_policies(session)[name]
        except KeyError:
            raise ValueError(f"unknown setting {name!r}") from None

    env = SandboxEnvironment(_LazyCalendar(session), rule, clock.now, policy)
    return SandboxScriptEngine(environment=env)


def load_workflow(session: Session, instance: Instance) -> BpmnWorkflow:
    model = specs.get(session, instance.model_version, instance.process_id)
    workflow = serialization.loads(instance.state, model.spec, model.subprocess_specs)
    workflow.script_engine = script_engine(session)
    return workflow


def current_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The case data as of its latest step: the data of the element most recently completed or readied.

    ``workflow.last_task`` may be one of SpiffWorkflow's internal tasks (a boundary-event join) whose
    data is stale, so it is not used.
    """
    latest = max((t for t in all_tasks(workflow) if t.state & (TaskState.COMPLETED | TaskState.READY)
                  and t.task_spec.bpmn_id), key=lambda t: t.last_state_change, default=None)
    return latest.data if latest is not None else {}


class Stalled(RuntimeError):
    """The engine left work it can no longer see: a case must never wait silently in nobody's inbox."""


def check_not_stalled(workflow: BpmnWorkflow) -> None:
    """After the engine ran: an element that needs no person and is still ready was missed."""
    missed = [t.task_spec.bpmn_id or t.task_spec.name for t in all_tasks(workflow)
              if t.state == TaskState.READY and not t.task_spec.manual]
    if missed:
        raise Stalled(f"the engine stopped with {', '.join(sorted(set(missed)))} still to run")


def all_tasks(workflow: BpmnWorkflow):
    """Every task of the case and of the processes it calls, read off their task tables (no tree
    walk, so a long history neither costs a walk nor meets the iterator's depth limit)."""
    for flow in (workflow, *workflow.subprocesses.values()):
        yield from flow.tasks.values()


def evaluate(task, expression: str) -> Any:
    """Evaluate a task property expression (assignee, due) in the sandbox, over the task's data."""
    return task.workflow.script_engine.evaluate(task, expression)


def evaluator(task):
    """Evaluate form rules (``required_if``, ``validate``) in the case's sandbox over given data: the
    task's data with the submitted values applied, before anything is stored."""
    environment = task.workflow.script_engine.environment
    return lambda expression, data: environment.evaluate(expression, dict(data))


def as_aware(value: Any) -> datetime | None:
    """A due time from an expression: ISO string, date (end of day) or aware datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive due time")
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, 23, 59, 59, tzinfo=TZ)
    raise TypeError(f"not a due time: {value!r}")


MAX_CALL_DEPTH = 16  # call activities within call activities (the models nest two deep)


class UnitBudget:
    """The engine work one unit of work may do: ``max_engine_steps`` elements run, and
    ``unit_seconds`` of wall-clock time, which diagram code sees as its deadline too.

    :meth:`step` is the ``will_complete_task`` callback of ``do_engine_steps``: past a limit it
    raises :class:`LimitExceeded` before the element runs (the element is the one named)."""

    def __init__(self, workflow: BpmnWorkflow):
        self.limits = limits()
        self.stop_at = time.monotonic() + self.limits.unit_seconds
        self.steps = 0
        environment = getattr(workflow.script_engine, "environment", None)
        if isinstance(environment, SandboxEnvironment):
            environment.stop_at = self.stop_at

    def step(self, task) -> None:
        self.steps += 1
        if task.workflow.depth > MAX_CALL_DEPTH:
            caller = task.workflow.top_workflow.get_task_from_id(task.workflow.parent_task_id)
            element = _element(caller) if caller is not None else _element(task)
            raise LimitExceeded(f"{element}: called processes nested more than {MAX_CALL_DEPTH} deep "
                                "(a process that calls itself?)", element)
        if self.steps > self.limits.max_engine_steps:
            raise LimitExceeded(f"{_element(task)}: the engine ran more than {self.limits.max_engine_steps:,} "
                                "elements in one unit of work (a loop that needs no person?)", _element(task))
        if time.monotonic() > self.stop_at:
            raise LimitExceeded(f"{_element(task)}: past the {self.limits.unit_seconds:g} s budget of one unit "
                                "of work", _element(task))

    def check_time(self) -> None:
        """Between rounds of engine steps: past the deadline, stop (the last element run is named)."""
        if time.monotonic() > self.stop_at:
            raise LimitExceeded(f"past the {self.limits.unit_seconds:g} s budget of one unit of work")


def _element(task) -> str:
    return task.task_spec.bpmn_id or task.task_spec.name


def _bounded_loop(create_child):
    """Each multi-instance or loop activity makes at most ``max_loop_iterations`` instances (its
    children); SpiffWorkflow makes them one at a time, so the bound holds before memory is spent."""
    @functools.wraps(create_child)
    def bounded(self, my_task, *args, **kwargs):
        cap = limits().max_loop_iterations
        if len(my_task.children) >= cap:
            element = _element(my_task)
            raise LimitExceeded(f"{element}: more than {cap:,} instances of one loop", element)
        return create_child(self, my_task, *args, **kwargs)
    bounded.bounded = True
    return bounded


for _loop in (MultiInstanceTask, StandardLoopTask):
    if not getattr(_loop.create_child, "bounded", False):
        _loop.create_child = _bounded_loop(_loop.create_child)
