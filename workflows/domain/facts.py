"""The facts of a case that supervision lists and counts (filing date, handling limit, decision,
penalty, legal-review result), read from the case data named in :mod:`workflows.core.contract`
and written on the case row with each step, so no list loads a case to show them."""
from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow

from workflows.core import contract
from workflows.core.models import Instance

log = logging.getLogger(__name__)
_DATES = frozenset({"filed_on", "decided_on"})
_AMOUNTS = frozenset({"fine_amount", "confiscation_amount"})


def of(workflow: BpmnWorkflow, data: dict[str, Any]) -> dict[str, Any]:
    """The case row's fact columns for the case data ``data`` (unknown or malformed values: None)."""
    out = {column: _value(column, data.get(key)) for column, key in contract.FACTS.items()}
    out["decision_due"] = _limit(workflow, data)
    return out


def _value(column: str, value: Any) -> Any:
    if value in (None, ""):
        return None
    if column in _DATES:
        return value if isinstance(value, date) else _iso_date(value)
    if column in _AMOUNTS:
        try:
            return Decimal(str(value)).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            return None
    return str(value)[:Instance.decision_kind.type.length]


def _iso_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _limit(workflow: BpmnWorkflow, data: dict[str, Any]) -> date | None:
    """The last day of the handling limit, as the case's own timer computes it."""
    name, start = data.get(contract.LIMIT_NAME_KEY), data.get(contract.LIMIT_START_KEY)
    if not name or not start:
        return None
    try:
        return workflow.script_engine.environment.deadline_date(name, start)
    except (ValueError, KeyError) as exc:  # a model naming no deadline setting: no limit to show
        log.warning("handling limit %r from %r not computed: %s", name, start, exc)
        return None
