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
from functools import lru_cache
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from workflows.core import clock, contract
from workflows.core.errors import NotFound, TaskNotReady, case_changed
from workflows.core.messages import Message
from workflows.core.models import HumanTask, Instance, User
from workflows.core.roles import lane_role
from workflows.domain import audit, catalogue, disclosure, facts
from workflows.core.settings import limits
from workflows.engine import history, runtime, serialization, timers
from workflows.engine.sandbox import LimitExceeded, ScriptRejected, Unstorable
from workflows.domain import annual_report

log = logging.getLogger(__name__)
SYSTEM_USER = "system"
NOT_READY = Message("该任务已由他人办理或已不再需要办理")

_TASK = HumanTask.__table__
_CASE = Instance.__table__
_CARRIED = ("status", "status_reason", "error_task", "error_message", "audit_seq", "audit_head")  # written every time


@lru_cache(maxsize=8)
def _update_case(columns: tuple[str, ...]):
    return (update(_CASE).where(_CASE.c.id == bindparam("b_id"), _CASE.c.lock_version == bindparam("b_version"))
            .values({column: bindparam(f"v_{column}") for column in columns}
                    | {"lock_version": _CASE.c.lock_version + 1}))


_CLOSE_TASK = (update(_TASK).where(_TASK.c.task_id == bindparam("b_task_id"), _TASK.c.state == "ready")
               .values(state=bindparam("v_state"), completed_at=bindparam("v_at"), completed_by=bindparam("v_by")))
_INSERT_TASK = insert(_TASK)


class CaseRun:
    """One case's workflow during one unit of work."""

    def __init__(self, session: Session, instance: Instance, workflow: BpmnWorkflow):
        self.session, self.instance, self.workflow = session, instance, workflow
        self._had_rows = set(_ready_user_tasks(workflow))  # the ready tasks that have inbox rows
        self._events: list[dict[str, Any]] = []
        self.last_event: dict[str, Any] | None = None  # the sealed event of the last save
        self._prepared: dict[str, tuple[str | None, Any]] = {}  # task id → (assignee, due) of new rows
        self._return: dict[str, Any] | None = None  # why the case went back, if a back-edge was taken

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
        budget = runtime.UnitBudget(self.workflow)  # engine steps and wall-clock time of this unit

        def will_run(task: Task) -> None:
            running.append(task)
            budget.step(task)
        try:
            self.workflow.refresh_timers()
            self.workflow.do_engine_steps(will_complete_task=will_run, did_complete_task=done.append)
            while self.workflow.get_next_task(state=TaskState.READY, manual=False) is not None:
                # timers that came due meanwhile
                budget.check_time()
                self.workflow.do_engine_steps(will_complete_task=will_run, did_complete_task=done.append)
            runtime.check_not_stalled(self.workflow)
            self._prepare_rows()
        except Exception as exc:  # any failure of diagram code; SpiffWorkflow itself may raise non-Spiff errors
            self.instance.status = "error"
            self.instance.error_task = _fault_element(exc) or (running[-1].task_spec.bpmn_id if running else None)
            self.instance.error_message = _error_text(exc, self.instance.error_task)
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
                if record.kind == "matter":  # a catalogue process: the approved entry becomes the catalogue's
                    entry = catalogue.publish_from_case(self.session, self.instance, task.data, actor, completed)
                    self.log(SYSTEM_USER, "catalogue.publish", matter=entry.code, in_force=entry.active,
                             revision=entry.revision, approved_by=entry.approved_by, role=entry.approved_role)
        self._return = _return_taken(self.workflow, done, completed)
        for task in done:  # the approved annual statistics report is published (年度统计报告)
            if task.task_spec.bpmn_id == contract.REPORT_HOOK and task.state == TaskState.COMPLETED:
                report = annual_report.publish(self.session, self.instance, task.data)
                self.log(SYSTEM_USER, "annual_report.publish", year=report.year, report_id=report.id)
        return self.save(actor, completed)

    def save(self, actor: str, completed: str | None = None) -> list[HumanTask]:
        """Write the case row, its inbox rows and the logged events (Core statements, prepared once)."""
        instance, workflow = self.instance, self.workflow
        closed_case = instance.status in ("completed", "terminated")
        ready = {} if closed_case else _ready_user_tasks(workflow)
        data = runtime.current_data(workflow)
        now = clock.now()
        history.prune(workflow)
        values = {
            "state": self._storable_state(), "updated_at": now,
            "next_timer_at": None if closed_case else timers.next_due(workflow),
            "matter_code": data.get(contract.MATTER_KEY) or instance.matter_code,
            "party_name": data.get(contract.PARTY_KEY, instance.party_name),
            "closed_at": (instance.closed_at or now) if instance.status in ("completed", "terminated") else None,
            **facts.of(workflow, data),
        }
        still_open = self._had_rows & set(ready)
        with self.session.no_autoflush:
            new_rows = [self._new_row(task, now) for tid, task in ready.items() if tid not in self._had_rows]
            open_rows = list(self.session.scalars(select(HumanTask).where(HumanTask.task_id.in_(still_open))
                                                  .order_by(HumanTask.id))) if still_open else []
        if self._return is not None:  # each task the case was sent back to says who sent it and why
            for row in new_rows:
                self.log(actor, "task.returned", row.task_id, task=row.spec_id, name=row.name, **self._return)
            self._return = None
        self._seal(values, [*open_rows, *new_rows])
        audit.insert_events(self.session, self._events)
        self._events = []
        write_case(self.session, instance, values)
        connection = self.session.connection()
        closed = self._had_rows - set(ready)
        if closed:
            self._close_rows(connection, closed, actor, completed, now)
        if new_rows:
            connection.execute(_INSERT_TASK, [_row_values(row) for row in new_rows])
        self._had_rows = set(ready)
        return [*open_rows, *new_rows]

    def _storable_state(self) -> str:
        """The workflow as JSON. Data the case cannot store (left by a decision table, a message, the
        start data: scripts are checked as they run) is replaced by a marker, and a running case is
        parked in ``error`` naming the element that holds it: the write never fails on it."""
        try:
            return serialization.dumps(self.workflow)
        except (TypeError, ValueError, RecursionError, OverflowError) as exc:
            found = serialization.scrub(self.workflow, limits())
            element, problem = found[0] if found else (None, _error_text(exc))
        state = serialization.dumps(self.workflow)
        if self.instance.status in ("running", "completed"):
            self.instance.status, self.instance.error_task = "error", element
            self.instance.error_message = f"{element}: the data cannot be stored: {problem}"
            self.log(SYSTEM_USER, "engine.error", task=element, message=self.instance.error_message)
        else:
            log.warning("case %s: removed data that cannot be stored: %s", self.instance.id, problem)
        return state

    def _prepare_rows(self) -> None:
        """Evaluate the assignee and due expressions of the user tasks that get inbox rows now, inside
        the unit's budget: diagram code past a limit there parks the case like any other step."""
        for tid, task in _ready_user_tasks(self.workflow).items():
            if tid not in self._had_rows:
                ext = getattr(task.task_spec, "extensions", {}) or {}
                try:
                    self._prepared[tid] = (self._assignee(task, ext.get("assignee"), strict=True),
                                           _due(task, ext.get("due"), strict=True))
                except Exception as exc:
                    element = task.task_spec.bpmn_id
                    raise LimitExceeded(f"{element}: its assignee or due expression: {_fault(exc)}", element) from exc

    def _seal(self, values: dict[str, Any], rows: list[HumanTask]) -> None:
        """Seal the step's last event with the case as the step leaves it: the hash of its state, its
        status and version, the digests of its other columns and of each ready inbox row
        (:func:`workflows.domain.audit.seal`)."""
        if not self._events:
            if values["state"] == self.instance.__dict__.get("state"):
                return  # nothing changed that the chain would have to vouch for
            self.log(SYSTEM_USER, "case.step")  # the state moved with no act logged (a timer's bookkeeping)
        self.last_event = self._events[-1]
        audit.seal(self.instance, self.last_event, state=audit.state_hash(values["state"]),
                   status=self.instance.status, version=self.instance.model_version,
                   case=audit.case_digest(self.instance, values),
                   inbox={row.task_id: audit.row_digest(row) for row in rows})

    def reseal(self, rows: list[HumanTask]) -> None:
        """Seal the saved step again with its inbox rows as rewritten since (migration renames and
        relabels them): the event is amended in this unit of work and the case row takes its new head."""
        if self.last_event is not None:
            audit.reseal(self.session, self.instance, self.last_event,
                         inbox={row.task_id: audit.row_digest(row) for row in rows})
            write_case(self.session, self.instance, {})

    def _close_rows(self, connection, task_ids: set[str], actor: str, completed: str | None, at) -> None:
        """Close the rows of tasks no longer ready: the completed one as done by ``actor``, others cancelled."""
        outcome = {tid: ("completed", actor) if tid == completed else ("cancelled", None) for tid in task_ids}
        connection.execute(_CLOSE_TASK, [{"b_task_id": tid, "v_state": state, "v_at": at, "v_by": by}
                                         for tid, (state, by) in outcome.items()])
        for row in [o for o in self.session.identity_map.values() if isinstance(o, HumanTask)]:
            if row.task_id in outcome:  # rows this unit of work holds see what was written
                set_committed_value(row, "state", outcome[row.task_id][0])
                set_committed_value(row, "completed_at", at)
                set_committed_value(row, "completed_by", outcome[row.task_id][1])

    def _new_row(self, task: Task, now) -> HumanTask:
        """The inbox row of a newly ready user task (written by :meth:`save`, not added to the session)."""
        spec = task.task_spec
        ext = getattr(spec, "extensions", {}) or {}
        role = lane_role(spec.lane)
        if role is None:  # validation forbids this; a hand-edited database could still get here
            raise NotFound(f"task {spec.bpmn_id} is in no role's lane")
        row = HumanTask(
            instance_id=self.instance.id, task_id=str(task.id), spec_id=spec.name,
            process_id=task.workflow.spec.name, name=spec.bpmn_name or spec.bpmn_id,
            name_en=ext.get("name_en", ""), lane=spec.lane, role_id=role.id,
            unit_id=self.instance.unit_id if role.unit_scoped else None,
            **self._row_people_and_due(task, ext),
            state="ready", has_draft=False, created_at=now,
        )
        set_committed_value(row, "instance", self.instance)
        return row

    def _row_people_and_due(self, task: Task, ext: dict) -> dict[str, Any]:
        prepared = self._prepared.pop(str(task.id), None)
        if prepared is None:
            prepared = self._assignee(task, ext.get("assignee")), _due(task, ext.get("due"))
        return {"assignee": prepared[0], "due_at": prepared[1]}

    def _assignee(self, task: Task, expression: str | None, strict: bool = False) -> str | None:
        if not expression:
            return None
        try:
            username = runtime.evaluate(task, expression)
        except Exception as exc:  # an unset field leaves the task to the role's pool
            if strict and _fault(exc) is not None:
                raise
            log.info("assignee %r of %s not evaluated: %s", expression, task.task_spec.bpmn_id, exc)
            return None
        if not isinstance(username, str):
            return None
        return self.session.scalars(select(User.username).where(User.username == username)).first()


def _row_values(row: HumanTask) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in _TASK.columns if column.key != "id"}


def _ready_user_tasks(workflow: BpmnWorkflow) -> dict[str, Task]:
    """The ready user tasks of the case and of the processes it calls."""
    return {str(task.id): task for task in runtime.all_tasks(workflow)
            if task.state == TaskState.READY and task.task_spec.manual}


def task_uuid(task_id: str) -> UUID:
    try:
        return UUID(task_id)
    except ValueError:
        raise NotFound(f"task {task_id} does not exist") from None


def record(session: Session, instance: Instance, actor: str, action: str, task_id: str | None = None,
           **payload: Any) -> None:
    """An act on a case that does not move it (a claim, an upload, a suspension): its audit event and
    the case row's new head, written now. The event is sealed with the case's status and, for an act
    on a task, the digest of its inbox row as the act left it."""
    event = audit.case_event(instance, actor, action, task_id, **payload)
    row = _loaded_row(session, task_id) if task_id else None
    audit.seal(instance, event, status=instance.status, case=audit.case_digest(instance),
               **({"rows": {task_id: audit.row_digest(row)}} if row is not None else {}))
    audit.insert_events(session, [event])
    write_case(session, instance, {})


def _loaded_row(session: Session, task_id: str) -> HumanTask | None:
    """The inbox row of ``task_id`` if this unit of work holds it (an act on a task has loaded its row)."""
    return next((o for o in session.identity_map.values() if isinstance(o, HumanTask) and o.task_id == task_id),
                None)


def write_case(session: Session, instance: Instance, values: dict[str, Any]) -> None:
    """Write the case row: ``values`` and the loaded row's status and audit head, if its version is
    still the one loaded (else someone changed the case meanwhile: :class:`Conflict`)."""
    values = {**values, **{column: getattr(instance, column) for column in _CARRIED}}
    written = session.connection().execute(_update_case(tuple(values)), {
        "b_id": instance.id, "b_version": instance.lock_version, **{f"v_{k}": v for k, v in values.items()}})
    if written.rowcount != 1:
        raise case_changed()
    for column, value in values.items():  # the loaded case row now says what the database says
        set_committed_value(instance, column, value)
    set_committed_value(instance, "lock_version", instance.lock_version + 1)


def _return_taken(workflow: BpmnWorkflow, done: list[Task], completed: str | None) -> dict[str, Any] | None:
    """The back-edge (:mod:`workflows.engine.returns`) this unit of work took, if any: its reason,
    the task whose completion sent the case back, and that form's comment (its ``return_comment``
    property names the field)."""
    reasons = [edges[(task.task_spec.bpmn_id, target)]
               for task in done if (edges := getattr(task.workflow.spec, "back_edges", None))
               for target in _entered(task) if (task.task_spec.bpmn_id, target) in edges]
    if not reasons:
        return None
    decider = workflow.get_task_from_id(task_uuid(completed)) if completed else None
    comment_field = (getattr(decider.task_spec, "extensions", {}) or {}).get("return_comment") \
        if decider is not None else None
    comment = decider.data.get(comment_field) if comment_field else None
    return {"reason": reasons[-1], "comment": str(comment).strip() if comment else "",
            "by_task": (decider.task_spec.bpmn_name or decider.task_spec.bpmn_id) if decider is not None else ""}


def _entered(task: Task) -> list[str]:
    """The elements ``task`` led to (past the hidden parent of a task with boundary events)."""
    return [spec.bpmn_id for child in task.children
            for spec in ([child.task_spec] if child.task_spec.bpmn_id else [c.task_spec for c in child.children])]


def _due(task: Task, expression: str | None, strict: bool = False):
    if not expression:
        return None
    try:
        return runtime.as_aware(runtime.evaluate(task, expression))
    except Exception as exc:
        if strict and _fault(exc) is not None:
            raise  # diagram code past a limit parks the case
        log.warning("due %r of %s not evaluated: %s", expression, task.task_spec.bpmn_id, exc)
        return None


def _chain(exc: BaseException | None):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _fault(exc: BaseException) -> LimitExceeded | Unstorable | ScriptRejected | None:
    """The limit or refusal behind ``exc`` (SpiffWorkflow wraps what diagram code raises)."""
    return next((e for e in _chain(exc) if isinstance(e, (LimitExceeded, Unstorable, ScriptRejected))), None)


def _fault_element(exc: BaseException) -> str | None:
    """The element a limit names, else the task SpiffWorkflow's error names (a timer or a loop is
    evaluated while the element before it runs)."""
    fault = _fault(exc)
    if getattr(fault, "element", None):
        return fault.element
    task = next((e.task for e in _chain(exc) if isinstance(getattr(e, "task", None), Task)), None)
    return task.task_spec.bpmn_id if task is not None and task.task_spec.bpmn_id else None


def _error_text(exc: Exception, element: str | None = None) -> str:
    fault = _fault(exc)
    if fault is not None:  # a limit or unstorable data: one sentence naming the element
        text = str(fault)
        return text if element is None or text.startswith(f"{element}:") else f"{element}: {text}"
    notes = "; ".join(getattr(exc, "__notes__", []) or [])
    cause = exc.__cause__ or exc.__context__
    text = f"{type(exc).__name__}: {exc}" + (f" ({notes})" if notes else "")
    return text + (f" ← {type(cause).__name__}: {cause}" if cause is not None else "")
