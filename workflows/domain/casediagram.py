"""Where a case stands on its own process diagram: the elements it passed, where it waits now,
what is overdue or failed, the flows it took, who did each task and when, and which elements call
another process (to drill down into)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
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
    rows = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                        HumanTask.process_id == process_id).order_by(HumanTask.id)))
    now = alerts.windows(session).now
    steps: dict[str, list[Step]] = {}
    for row in rows:
        if row.state == "completed":
            steps.setdefault(row.spec_id, []).append(Step(row.completed_by, row.completed_at, True))
        elif row.state == "ready":
            steps.setdefault(row.spec_id, []).append(Step(row.assignee, row.created_at, False, row.due_at))
    passed = set(completed) | set(current)
    return CaseDiagram(
        instance=instance, process_id=process_id, version=instance.model_version, completed=completed,
        current=current if instance.status in ("running", "suspended", "error") else [],
        overdue=[r.spec_id for r in rows if r.state == "ready" and r.due_at is not None and r.due_at < now],
        error=instance.error_task if instance.status == "error" and instance.error_task in elements else None,
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


def _process_spec(workflow, process_id: str):
    if workflow.spec.name == process_id:
        return workflow.spec
    return workflow.subprocess_specs[process_id]

