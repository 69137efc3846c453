"""Where a case stands on its own process diagram: the elements it passed, where it waits now,
what is overdue or failed, the flows it took, who did each task and when, and which elements call
another process (to drill down into).

A case's work can be several calls deep (the case calls a stage, the stage calls legal review): on a
diagram, a call activity stands for everything under it, so it is overdue, failed or held by someone
when a task anywhere inside the process it called is."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState

from workflows.core.errors import NotFound
from workflows.core.models import HumanTask, Instance, User
from workflows.domain import access, alerts, cases, process_stats
from workflows.engine import history, runtime, specs, xmlsafe
from workflows.engine.parsing import BPMN

LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass(frozen=True)
class Step:
    """One person's part at an element: who, when, and whether it is done or still waiting."""

    who: str | None  # username
    at: datetime | None
    done: bool
    due_at: datetime | None = None


@dataclass(frozen=True)
class CaseDiagram:
    instance: Instance
    process_id: str
    version: int
    completed: list[str]
    current: list[str]
    overdue: list[str]
    error: str | None
    flows: list[str]  # sequence flows taken
    steps: dict[str, list[Step]]  # element id: who did or holds its tasks
    calls: dict[str, str]  # element id: the process it calls


def of_case(session: Session, actor: User, instance_id: int, process_id: str | None = None) -> CaseDiagram:
    """The case's diagram for ``actor`` (who must be allowed to read the case); ``process_id`` a
    process the case calls, to drill down."""
    instance = cases.get(session, instance_id)
    access.check_read_case(session, actor, instance)
    process_id = process_id or instance.process_id
    workflow = runtime.load_workflow(session, instance)
    flows_of = _flows(process_stats.file_of(session, process_id, instance.model_version), process_id)
    if process_id != instance.process_id and process_id not in workflow.subprocess_specs:
        raise NotFound(f"case {instance.case_no} calls no process {process_id!r}")
    mine = [t for t in runtime.all_tasks(workflow) if t.workflow.spec.name == process_id and t.task_spec.bpmn_id]
    trail = [element for _, element in history.trail(workflow)]
    elements = {element for flow in flows_of.values() for element in flow}
    completed = list(dict.fromkeys([*(e for e in trail if e in elements),
                                    *(t.task_spec.bpmn_id for t in mine if t.state == TaskState.COMPLETED)]))
    current = list(dict.fromkeys(t.task_spec.bpmn_id for t in mine if t.state & LIVE))
    rows = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id).order_by(HumanTask.id)))
    now = alerts.windows(session).now
    steps: dict[str, list[Step]] = {}
    overdue: list[str] = []
    for row in rows:
        if row.process_id == process_id and row.state == "completed":
            steps.setdefault(row.spec_id, []).append(Step(row.completed_by, row.completed_at, True))
        elif row.state == "ready":
            element = row.spec_id if row.process_id == process_id else _shown_as(workflow, row.task_id, process_id)
            if element is None:
                continue
            steps.setdefault(element, []).append(Step(row.assignee, row.created_at, False, row.due_at))
            if row.due_at is not None and row.due_at < now:
                overdue.append(element)
    passed = set(completed) | set(current)
    return CaseDiagram(
        instance=instance, process_id=process_id, version=instance.model_version, completed=completed,
        current=current if instance.status in ("running", "suspended", "error") else [],
        overdue=list(dict.fromkeys(overdue)),
        error=_failed(workflow, instance, process_id, elements) if instance.status == "error" else None,
        flows=[flow for flow, (source, target) in flows_of.items() if source in completed and target in passed],
        steps=steps,
        calls={t.bpmn_id: t.spec for t in _process_spec(workflow, process_id).task_specs.values()
               if t.bpmn_id and getattr(t, "spec", None) in specs.process_names(session, instance.model_version)},
    )


def diagram(session: Session, actor: User, instance_id: int, process_id: str | None = None) -> bytes:
    """The BPMN file of the case's model version that holds its process (or one it calls)."""
    instance = cases.get(session, instance_id)
    access.check_read_case(session, actor, instance)
    return process_stats.file_of(session, process_id or instance.process_id, instance.model_version)


def _flows(content: bytes, process_id: str) -> dict[str, tuple[str, str]]:
    """Sequence flow id: (source, target), of one process in a BPMN file."""
    for process in xmlsafe.parse(content).iter(BPMN + "process"):
        if process.get("id") == process_id:
            return {flow.get("id"): (flow.get("sourceRef"), flow.get("targetRef"))
                    for flow in process.iter(BPMN + "sequenceFlow")}
    return {}


def _shown_as(workflow, task_id: str, process_id: str) -> str | None:
    """The element of ``process_id`` that holds the task: the task's own element, or the call activity
    whose called process (or one called from it) the task is in; None when the task is elsewhere."""
    try:
        task = workflow.get_task_from_id(UUID(task_id))
        while task.workflow.spec.name != process_id:
            if task.workflow.parent_task_id is None:
                return None
            task = workflow.get_task_from_id(task.workflow.parent_task_id)
    except (ValueError, TaskNotFoundException):
        return None
    return task.task_spec.bpmn_id


def _failed(workflow, instance: Instance, process_id: str, elements: set[str]) -> str | None:
    """The element of ``process_id`` where the failed case stopped: the failed element itself, or the
    call activity holding it."""
    for task in runtime.all_tasks(workflow):
        if task.task_spec.bpmn_id == instance.error_task and task.state & (TaskState.READY | TaskState.ERROR):
            shown = _shown_as(workflow, str(task.id), process_id)
            if shown is not None:
                return shown
    return instance.error_task if instance.error_task in elements else None


def _process_spec(workflow, process_id: str):
    if workflow.spec.name == process_id:
        return workflow.spec
    return workflow.subprocess_specs[process_id]

