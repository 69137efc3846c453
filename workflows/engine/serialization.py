"""Workflow state to JSON and back, without the specs inside.

A case's state holds only its task tree and data; the specs come from the parsed model set cached
per version, so a stored case stays small and loads fast. ``date``, ``datetime`` and ``Decimal``
survive the round trip (SpiffWorkflow's serializer refuses ``date`` and ``Decimal`` by default).

What a case can store is checked before it is written (:func:`unstorable`): JSON's types (text keys),
``date``, ``datetime``, ``timedelta`` and ``Decimal``, within the size and depth limits. Anything
else (``bytes``, ``complex``, ``range``, sets, tuple keys, 20,000-deep nesting, huge strings) would
fail the write, or worse come back changed; :func:`scrub` takes it out of a workflow that holds it.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG

from workflows.core.settings import Limits


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """Leave the specs out (:func:`loads` puts the cached ones back in); keep the pruned history's
    trail (:mod:`workflows.engine.history`)."""

    def to_dict(self, workflow):
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["spec_name"] = workflow.spec.name
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        dct["trail"] = getattr(workflow, "trail", [])
        return dct


def _registry():
    config = dict(CAMUNDA_CONFIG)
    config[BpmnWorkflow] = SpeclessWorkflowConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    registry.register(datetime, lambda v: {"value": v.isoformat()}, lambda v: datetime.fromisoformat(v["value"]))
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    return registry


SERIALIZER = BpmnWorkflowSerializer(_registry())


def dumps(workflow: BpmnWorkflow) -> str:
    return SERIALIZER.serialize_json(workflow)


def loads(state: str, spec, subprocess_specs: dict) -> BpmnWorkflow:
    """Rebuild a workflow from ``state`` with the (cached) specs it was started on."""
    dct = json.loads(state)
    trail = dct.pop("trail", [])
    SERIALIZER.migrate(dct)
    dct.pop("spec_name", None)
    dct["spec"], dct["subprocess_specs"] = spec, subprocess_specs
    workflow = SERIALIZER.from_dict(dct)
    workflow.trail = trail
    return workflow


_SCALARS = (type(None), bool, float, Decimal, date, timedelta)  # date covers datetime
MAX_INT_BITS = 14_000  # JSON integers of at most 4,300 digits, which json reads back


def unstorable(data: dict[str, Any], limits: Limits) -> str | None:
    """What in ``data`` a case cannot store, as a short sentence with its place (None: all of it can).

    The walk is iterative (deep nesting cannot exhaust the stack) and counts every reference as
    often as it occurs, as JSON will write it; it stops at the first problem."""
    size, stack = 0, [(data, (), 0)]
    while stack:
        value, where, depth = stack.pop()
        kind = type(value)
        if kind is str:
            size += len(value)
        elif kind is int:
            size += 1
            if value.bit_length() > MAX_INT_BITS:
                return f"{_place(where)} is an integer of {value.bit_length():,} bits (at most {MAX_INT_BITS:,})"
        elif kind is dict or kind is list or kind is tuple:
            if depth >= limits.max_data_depth:
                return f"{_place(where)} is nested more than {limits.max_data_depth} deep"
            size += len(value) + 1
            if kind is dict:
                for key, item in value.items():
                    if type(key) is not str and type(key) is not int:
                        return f"{_place(where)} has a key of type {type(key).__name__} ({_brief(key)}); keys must be text"
                    stack.append((item, (where, key), depth + 1))
            else:
                stack.extend((item, (where, index), depth + 1) for index, item in enumerate(value))
        elif isinstance(value, _SCALARS):
            size += 1
        else:
            return f"{_place(where)} is {_kind(value)}, which a case cannot store"
        if size > limits.max_data_size:
            return f"the data has more than {limits.max_data_size:,} characters and items"
    return None


def _place(where: tuple) -> str:
    keys = []
    while where:
        where, key = where
        keys.append(key)
    if not keys:
        return "the data"
    first, *rest = reversed(keys)
    inner = [f"[{key!r}]" for key in rest]
    if len(inner) > 6:
        inner = [*inner[:3], f"…({len(inner) - 5} more)…", *inner[-2:]]
    return str(first) + "".join(inner)


def _kind(value: Any) -> str:
    name = type(value).__name__
    return f"{name} ({_brief(value)})" if isinstance(value, (bytes, complex, range, set, frozenset)) else name


def _brief(value: Any) -> str:
    text = repr(value) if not isinstance(value, (set, frozenset)) or len(value) < 20 else f"{len(value)} items"
    return text if len(text) <= 40 else text[:37] + "..."


REMOVED = "<removed: {problem}>"


def scrub(workflow: BpmnWorkflow, limits: Limits) -> list[tuple[str, str]]:
    """Replace what the case cannot store, wherever the workflow holds it (task data, internal task
    data, process data, pending events), by a marker; return ``(element id, problem)`` of each place,
    earliest change first."""
    found: list[tuple[float, str, str]] = []
    for flow in (workflow, *workflow.subprocesses.values()):
        _scrub_dict(flow.data, limits, found, -1, flow.spec.name)
        for task in flow.tasks.values():
            element = task.task_spec.bpmn_id or task.task_spec.name
            _scrub_dict(task.data, limits, found, task.last_state_change, element)
            _scrub_dict(task.internal_data, limits, found, task.last_state_change, element)
    for event in getattr(workflow, "bpmn_events", []):
        payload = getattr(event, "payload", None)
        if isinstance(payload, dict):
            _scrub_dict(payload, limits, found, float("inf"), "event")
        elif payload is not None and unstorable({"payload": payload}, limits):
            event.payload = None
            found.append((float("inf"), "event", "an event's payload"))
    found.sort(key=lambda item: item[0])
    return [(element, problem) for _, element, problem in found]


def _scrub_dict(data: dict, limits: Limits, found: list, when: float, element: str) -> None:
    if not isinstance(data, dict) or unstorable(data, limits) is None:
        return
    for key in list(data):
        if type(key) is not str and type(key) is not int:
            problem = f"a key of type {type(key).__name__} ({_brief(key)})"
            del data[key]
            found.append((when, element, problem))
            continue
        problem = unstorable({key: data[key]}, limits)
        if problem:
            data[key] = REMOVED.format(problem=problem)
            found.append((when, element, problem))
    problem = unstorable(data, limits)
    if problem:  # together still too large: keep the keys, drop the values
        for key in list(data):
            if isinstance(data[key], (str, list, dict, tuple)) and len(data[key]) > 64:
                data[key] = REMOVED.format(problem="too large")
        found.append((when, element, problem))
