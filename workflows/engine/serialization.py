"""Workflow state to JSON and back, without the specs inside.

A case's state holds only its task tree and data; the specs come from the parsed model set cached
per version, so a stored case stays small and loads fast. ``date``, ``datetime`` and ``Decimal``
survive the round trip (SpiffWorkflow's serializer refuses ``date`` and ``Decimal`` by default).
"""
from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG


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
