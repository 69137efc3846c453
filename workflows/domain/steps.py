"""Moving one case forward and persisting what happened, as one unit of work.

A :class:`CaseRun` holds a case's workflow for the length of one operation. The operation changes
the workflow (completes a task, cancels it, repairs it), logs its acts on the case's audit chain,
then calls :meth:`CaseRun.advance`: the engine runs what needs no person (diagram code, gateways,
due timers), and the step is written with a handful of statements: the case row (state, status,
list columns, next timer, audit head; its version check makes a concurrent change of the same
case fail with :class:`Conflict`), the inbox rows of the user tasks that stopped or started being
ready, and the audit events.
"""
from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import case, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from workflows.core import clock, contract
from workflows.core.errors import NotFound, TaskNotReady, case_changed
from workflows.core.messages import Message
from workflows.core.models import HumanTask, Instance, User
from workflows.core.roles import lane_role
from workflows.domain import audit, disclosure
from workflows.engine import runtime, serialization, timers

log = logging.getLogger(__name__)
SYSTEM_USER = "system"
NOT_READY = Message("该任务已由他人办理或已不再需要办理")


class CaseRun:
    """One case's workflow during one unit of work."""

    def __init__(self, session: Session, instance: Instance, workflow: BpmnWorkflow):
        self.session, self.instance, self.workflow = session, instance, workflow
        self._had_rows = set(_ready_user_tasks(workflow))  # the ready tasks that have inbox rows
        self._events: list[dict[str, Any]] = []

    @classmethod
    def load(cls, session: Session, instance: Instance) -> "CaseRun":
        return cls(session, instance, runtime.load_workflow(session, instance))

    def log(self, actor: str, action: str, task_id: str | None = None, **payload: Any) -> None:
        """Chain an act on the case's audit log; it is written with the step."""
        self._events.append(audit.case_event(self.instance, actor, action, task_id, **payload))

    def ready_task(self, task_id: str) -> Task:
        task = self.workflow.get_task_from_id(task_uuid(task_id))
        if task is None or task.state != TaskState.READY:
            raise TaskNotReady(NOT_READY)
        return task

    def advance(self, actor: str, completed: str | None = None) -> list[HumanTask]:
        """Let the engine run, then persist; a failure of diagram code parks the case in ``error``.

        ``completed`` is the id of the user task just completed (its row closes as done by ``actor``).
        Returns the rows of the case's ready tasks afterwards."""
        running, done = [], []
        try:
            self.workflow.refresh_timers()
            self.workflow.do_engine_steps(will_complete_task=running.append, did_complete_task=done.append)
            while self.workflow.get_next_task(state=TaskState.READY, manual=False) is not None:
                # timers that came due meanwhile
                self.workflow.do_engine_steps(will_complete_task=running.append, did_complete_task=done.append)
        except Exception as exc:  # any failure of diagram code; SpiffWorkflow itself may raise non-Spiff errors
            self.instance.status = "error"
            self.instance.error_task = running[-1].task_spec.bpmn_id if running else None
            self.instance.error_message = _error_text(exc)
            self.log(SYSTEM_USER, "engine.error", task=self.instance.error_task, message=self.instance.error_message)
        else:
            if self.workflow.completed:
                self.instance.status = "completed"
        fired = sorted({t.task_spec.bpmn_id for t in done if timers.is_timer(t)})
        if fired:  # due timers fire in whichever unit of work reaches them first, worker or user
            self.log(SYSTEM_USER, "timer.fire", elements=fired)
        for task in done:
            if task.task_spec.bpmn_id == contract.DISCLOSURE_HOOK and task.state == TaskState.COMPLETED:
                record = disclosure.write(self.session, self.instance, task.workflow.spec.name, task.data)
                self.log(SYSTEM_USER, "disclosure.write", disclosure_id=record.id, kind=record.kind,
                         publish=record.publish, reason=record.not_published_reason)
        return self.save(actor, completed)

    def save(self, actor: str, completed: str | None = None) -> list[HumanTask]:
        """Write the case row, its inbox rows and the logged events."""
        instance, workflow = self.instance, self.workflow
        ready = {} if instance.status in ("completed", "terminated") else _ready_user_tasks(workflow)
        instance.state = serialization.dumps(workflow)
        instance.updated_at = clock.now()
        instance.next_timer_at = None if instance.status in ("completed", "terminated") else timers.next_due(workflow)
        data = runtime.current_data(workflow)
        instance.matter_code = data.get(contract.MATTER_KEY) or instance.matter_code
        instance.party_name = data.get(contract.PARTY_KEY, instance.party_name)
        audit.insert_events(self.session, self._events)
        self._events = []
        closed = self._had_rows - set(ready)
        if closed:
            self._close_rows(closed, actor, completed)
        with self.session.no_autoflush:
            new_rows = [self._new_row(task) for tid, task in ready.items() if tid not in self._had_rows]
        self.session.add_all(new_rows)
        flush(self.session)
        self._had_rows = set(ready)
        if not self._had_rows - {row.task_id for row in new_rows}:
            return new_rows
        return [*self.session.scalars(select(HumanTask).where(HumanTask.task_id.in_(self._had_rows))
                                      .order_by(HumanTask.id))]

    def _close_rows(self, task_ids: set[str], actor: str, completed: str | None) -> None:
        """Close the rows of tasks no longer ready: the completed one as done by ``actor``, others cancelled."""
        at = clock.now()
        done = HumanTask.task_id == (completed or "")
        self.session.connection().execute(
            update(HumanTask.__table__).where(HumanTask.task_id.in_(task_ids), HumanTask.state == "ready")
            .values(state=case((done, "completed"), else_="cancelled"), completed_at=at,
                    completed_by=case((done, actor), else_=None)))
        for row in [o for o in self.session.identity_map.values() if isinstance(o, HumanTask)]:
            if row.task_id in task_ids:  # rows this unit of work holds see what was written
                was_done = row.task_id == completed
                set_committed_value(row, "state", "completed" if was_done else "cancelled")
                set_committed_value(row, "completed_at", at)
                set_committed_value(row, "completed_by", actor if was_done else None)

    def _new_row(self, task: Task) -> HumanTask:
        spec = task.task_spec
        ext = getattr(spec, "extensions", {}) or {}
        role = lane_role(spec.lane)
        if role is None:  # validation forbids this; a hand-edited database could still get here
            raise NotFound(f"task {spec.bpmn_id} is in no role's lane")
        return HumanTask(
            instance_id=self.instance.id, task_id=str(task.id), spec_id=spec.name,
            process_id=task.workflow.spec.name, name=spec.bpmn_name or spec.bpmn_id,
            name_en=ext.get("name_en", ""), lane=spec.lane, role_id=role.id,
            unit_id=self.instance.unit_id if role.unit_scoped else None,
            assignee=self._assignee(task, ext.get("assignee")), due_at=_due(task, ext.get("due")),
            created_at=clock.now(), instance=self.instance,
        )

    def _assignee(self, task: Task, expression: str | None) -> str | None:
        if not expression:
            return None
        try:
            username = runtime.evaluate(task, expression)
        except Exception as exc:  # an unset field leaves the task to the role's pool
            log.info("assignee %r of %s not evaluated: %s", expression, task.task_spec.bpmn_id, exc)
            return None
        if not isinstance(username, str):
            return None
        return self.session.scalars(select(User.username).where(User.username == username)).first()


def _ready_user_tasks(workflow: BpmnWorkflow) -> dict[str, Task]:
    return {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}


def task_uuid(task_id: str) -> UUID:
    try:
        return UUID(task_id)
    except ValueError:
        raise NotFound(f"task {task_id} does not exist") from None


def flush(session: Session) -> None:
    """Write what is pending; a concurrent change of the same case (its version check) fails here."""
    try:
        session.flush()
    except StaleDataError:
        raise case_changed() from None


def _due(task: Task, expression: str | None):
    if not expression:
        return None
    try:
        return runtime.as_aware(runtime.evaluate(task, expression))
    except Exception as exc:
        log.warning("due %r of %s not evaluated: %s", expression, task.task_spec.bpmn_id, exc)
        return None


def _error_text(exc: Exception) -> str:
    notes = "; ".join(getattr(exc, "__notes__", []) or [])
    cause = exc.__cause__ or exc.__context__
    text = f"{type(exc).__name__}: {exc}" + (f" ({notes})" if notes else "")
    return text + (f" ← {type(cause).__name__}: {cause}" if cause is not None else "")
