"""Operations on one user task: read it, claim, release, reassign, save a draft, upload evidence, complete.

Each operation loads the task's inbox row with its case once, checks access once
(:mod:`workflows.domain.access`) and, where the case moves, makes one call into
:class:`~workflows.domain.steps.CaseRun`. Like every operation it only flushes; the caller commits.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, joinedload

from workflows.core import clock
from workflows.core.errors import Conflict, FormInvalid, InstanceNotActive, NotAllowed, NotFound, TaskNotReady
from workflows.core.messages import Message
from workflows.core.models import AuditEvent, Evidence, HumanTask, Instance, Matter, TaskDraft, User
from workflows.domain import access, duties, lookups, records, steps
from workflows.domain.evidence_store import EvidenceError, EvidenceStore
from workflows.domain.forms import FieldSpec, fields_of, validate_form
from workflows.domain.people import get_user
from workflows.domain.steps import NOT_READY, CaseRun
from workflows.engine import runtime, specs


# --- loading -----------------------------------------------------------------------------------

def row_of(session: Session, task_id: str, *, with_state: bool = False) -> HumanTask:
    """An inbox row in any state, with its case (and the case's stored state, when it will run)."""
    query = select(HumanTask).where(HumanTask.task_id == task_id)
    query = query.options(joinedload(HumanTask.instance).undefer(Instance.state) if with_state
                          else joinedload(HumanTask.instance))
    row = session.scalars(query).one_or_none()
    if row is None:
        raise NotFound(f"task {task_id} does not exist")
    return row


def form_of(session: Session, row: HumanTask) -> list[FieldSpec]:
    """The form fields of an inbox task, from the cached spec (no workflow is loaded)."""
    return fields_of(_task_spec(session, row))


def _task_spec(session: Session, row: HumanTask):
    process = specs.get(session, row.instance.model_version, row.instance.process_id)
    return process.task_spec(row.process_id, row.spec_id)


def _open(session: Session, task_id: str, *, with_state: bool = False) -> HumanTask:
    """The ready task of a running case, or the refusal."""
    row = row_of(session, task_id, with_state=with_state)
    if row.state != "ready":
        raise TaskNotReady(NOT_READY)
    if row.instance.status != "running":
        raise InstanceNotActive(Message("案件%(case_no)s当前不在办理中，不能办理", case_no=row.instance.case_no))
    return row


def _actionable(session: Session, actor: User, task_id: str, *, with_state: bool = False) -> HumanTask:
    """The ready task of a running case that the actor may act on, or the refusal."""
    row = _open(session, task_id, with_state=with_state)
    access.check_act(actor, row)
    _check_duties(session, actor, row)
    return row


def _check_duties(session: Session, actor: User, row: HumanTask, spec=None) -> None:
    """Separation of duties, where the task's model declares it (``not_by``)."""
    not_by = (getattr(spec or _task_spec(session, row), "extensions", {}) or {}).get(duties.PROPERTY)
    if not_by:
        access.check_separation(actor, row, duties.conflict(session, row.instance_id, actor.username, not_by))


# --- the task page -----------------------------------------------------------------------------

@dataclass(frozen=True)
class TaskSheet:
    """What a task page shows: the form, its values, the choices its pickers offer, and why the
    reader may not act on it (``refusal``), if so."""

    row: HumanTask
    fields: list[FieldSpec]
    instructions: str
    values: dict[str, Any]  # submitted, else the user's draft, over the task's data and defaults
    draft: TaskDraft | None
    people: dict[str, list[User]]  # eligible users by role, for ``user`` fields
    matter_choices: list[Matter]  # for ``matter`` fields
    evidence: dict[str, Evidence]  # the files the values name, by hash
    names: dict[str, str]  # full names of the assignee and the completer
    matter_names: dict[str, str]  # the case's matter
    refusal: NotAllowed | None
    returned: "Return | None" = None  # why the case came back to this task, if it was sent back
    shown: list["Shown"] = field(default_factory=list)  # what a review task reviews (its ``shows``)


@dataclass(frozen=True)
class Shown:
    """One value of the case a reviewer sees beside the form, as its own form labelled it."""

    field: FieldSpec
    value: Any  # the case's value; an enum's label, a person's name; file fields: Evidence rows


@dataclass(frozen=True)
class Return:
    """A case sent back to a task (a back-edge of its model): by whom, when, why."""

    by: str  # username ("system" for a rule)
    by_name: str
    at: Any
    reason: str  # the back-edge's name, e.g. 退回补正
    comment: str  # the returning form's comment
    by_task: str  # the task whose completion sent it back


def returns_of(session: Session, rows: list[HumanTask]) -> dict[str, Return]:
    """Why each of ``rows`` was reopened, for those the case was sent back to (their audit events)."""
    if not rows:
        return {}
    events = session.execute(select(AuditEvent.task_id, AuditEvent.actor, AuditEvent.created_at, AuditEvent.payload)
                             .where(AuditEvent.chain.in_({f"case:{r.instance_id}" for r in rows}),
                                    AuditEvent.action == "task.returned",
                                    AuditEvent.task_id.in_([r.task_id for r in rows]))).all()
    names = lookups.full_names(session, {e.actor for e in events})
    found = {}
    for task_id, actor, at, payload in events:
        data = json.loads(payload)
        found[task_id] = Return(actor, names.get(actor, actor), at, data.get("reason", ""), data.get("comment", ""),
                                data.get("by_task", ""))
    return found


def sheet(session: Session, actor: User, task_id: str, submitted: dict[str, Any] | None = None) -> TaskSheet:
    """The task page of ``task_id`` for ``actor``, who must be allowed to see the task."""
    row = row_of(session, task_id, with_state=True)
    access.check_see_task(actor, row)
    spec = _task_spec(session, row)
    fields = fields_of(spec)
    current = _task_data(session, row) if row.state == "ready" else {}
    draft = session.get(TaskDraft, (task_id, actor.username))
    overlay = submitted if submitted is not None else (json.loads(draft.data) if draft is not None else {})
    # a field marked carry="false" starts afresh each time (a second instalment is not the first)
    values = {f.id: f.default if f.properties.get("carry") == "false" else current.get(f.id, f.default) for f in fields}
    values.update({f.id: overlay[f.id] for f in fields if not f.readonly and f.id in overlay})
    hashes = {h for f in fields if f.type == "file"
              for h in (values[f.id] if isinstance(values[f.id], list) else [values[f.id]])}
    roles = {f.properties.get("role", "") for f in fields if f.type == "user"}
    refusal = None
    if row.state == "ready":
        try:
            access.check_act(actor, row)
            _check_duties(session, actor, row, spec)
        except NotAllowed as exc:
            refusal = exc
    return TaskSheet(
        row=row, fields=fields, instructions=spec.documentation or "", values=values, draft=draft,
        people={role: lookups.eligible_users(session, role) for role in roles if role},
        matter_choices=lookups.active_matters(session) if any(f.type == "matter" for f in fields) else [],
        evidence=lookups.evidence_by_hash(session, hashes),
        names=lookups.full_names(session, {row.assignee, row.completed_by}),
        matter_names=lookups.matter_names(session, {row.instance.matter_code}), refusal=refusal,
        returned=returns_of(session, [row]).get(row.task_id),
        shown=_shown(session, row, spec, current),
    )


def _shown(session: Session, row: HumanTask, spec, data: dict[str, Any]) -> list[Shown]:
    """The values a task names in ``shows`` (the report a head reviews, the package a reviewer
    checks), labelled as the forms that filled them label them."""
    wanted = [f for f in ((getattr(spec, "extensions", {}) or {}).get("shows") or "").replace(" ", "").split(",") if f]
    if not wanted or row.state != "ready":
        return []
    index = _field_index(specs.get(session, row.instance.model_version, row.instance.process_id))
    hashes = {h for f in wanted if index.get(f) is not None and index[f].type == "file"
              for h in (data.get(f) if isinstance(data.get(f), list) else [data.get(f)]) if h}
    evidence = lookups.evidence_by_hash(session, hashes) if hashes else {}
    users = lookups.full_names(session, {data.get(f) for f in wanted
                                         if index.get(f) is not None and index[f].type == "user" and data.get(f)})
    shown = []
    for field_id in wanted:
        spec_of, value = index.get(field_id), data.get(field_id)
        if spec_of is None or value in (None, "", []):
            continue
        if spec_of.type == "enum":
            value = dict(spec_of.options).get(value, value)
        elif spec_of.type == "user":
            value = users.get(value, value)
        elif spec_of.type == "matter":
            value = f"{value} {lookups.matter_names(session, {value}).get(value, '')}".strip()
        elif spec_of.type == "file":
            value = [evidence[h] for h in (value if isinstance(value, list) else [value]) if h in evidence]
        shown.append(Shown(spec_of, value))
    return shown


def _field_index(process: specs.ProcessSpecs) -> dict[str, FieldSpec]:
    """Every form field of a process and the ones it calls, by id (the first form to define it)."""
    index = getattr(process.spec, "field_index", None)
    if index is None:
        index = {}
        for spec in [process.spec, *process.subprocess_specs.values()]:
            for task_spec in spec.task_specs.values():
                for f in fields_of(task_spec):
                    index.setdefault(f.id, f)
        process.spec.field_index = index
    return index


def _task_data(session: Session, row: HumanTask) -> dict[str, Any]:
    """The data a ready task holds now (what earlier steps gathered), for pre-filling its form."""
    task = CaseRun.load(session, row.instance).workflow.get_task_from_id(steps.task_uuid(row.task_id))
    return dict(task.data) if task is not None else {}


@dataclass(frozen=True)
class Following:
    """Where a case went after a task: the task's row, and the case's ready tasks now."""

    row: HumanTask
    tasks: list[HumanTask]
    mine: set[str]  # ids of the following tasks the reader may act on
    names: dict[str, str]
    returns: dict[str, Return] = field(default_factory=dict)  # the following tasks the case was sent back to


def following(session: Session, actor: User, task_id: str) -> Following:
    row = row_of(session, task_id)
    access.check_see_task(actor, row)
    tasks = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == row.instance_id,
                                                         HumanTask.state == "ready").order_by(HumanTask.id)))
    return Following(row, tasks, {t.task_id for t in tasks if access.may_act(actor, t)},
                     lookups.full_names(session, {t.assignee for t in tasks} | {row.completed_by}),
                     returns_of(session, tasks))


# --- claiming ----------------------------------------------------------------------------------

def claim(session: Session, actor: User, task_id: str) -> HumanTask:
    row = _open(session, task_id)
    if row.assignee is not None:
        raise Conflict(Message("该任务已由%(user)s认领", user=row.assignee))
    access.check_act(actor, row)
    _check_duties(session, actor, row)
    taken = session.execute(update(HumanTask).where(HumanTask.id == row.id, HumanTask.assignee.is_(None),
                                                    HumanTask.state == "ready").values(assignee=actor.username)
                            .execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise Conflict(Message("该任务刚被他人认领"))
    row.assignee = actor.username
    _log(session, row, actor.username, "task.claim", name=row.name)
    return row


def release(session: Session, actor: User, task_id: str) -> HumanTask:
    """Put a claimed task back in its role's pool (放回待认领)."""
    row = row_of(session, task_id)
    if row.state != "ready":
        raise TaskNotReady(NOT_READY)
    access.check_release(actor, row, row.instance)
    row.assignee = None
    _log(session, row, actor.username, "task.unclaim", name=row.name)
    return row


def reassign(session: Session, actor: User, task_id: str, to_username: str) -> HumanTask:
    """A supervisor hands a task to another user who holds its role (and a credential if needed)."""
    row = row_of(session, task_id)
    if row.state != "ready":
        raise TaskNotReady(NOT_READY)
    access.check_supervise(actor, row.instance)
    target = get_user(session, to_username)
    access.check_assignee(target, row)
    _check_duties(session, target, row)
    previous, row.assignee = row.assignee, target.username
    _log(session, row, actor.username, "task.reassign", name=row.name, previous=previous, assignee=target.username)
    return row


def _log(session: Session, row: HumanTask, actor: str, action: str, **payload: Any) -> None:
    session.flush()  # the row's own change first
    steps.record(session, row.instance, actor, action, task_id=row.task_id, **payload)


# --- filling the form --------------------------------------------------------------------------

@dataclass(frozen=True)
class Upload:
    field_id: str
    stream: BinaryIO
    filename: str


@dataclass(frozen=True)
class Submission:
    """What became of a submitted form: the values (with the hashes of files stored on the way),
    and either the case's ready tasks afterwards or the problems to show next to the fields."""

    data: dict[str, Any]
    next_tasks: list[HumanTask] | None = None
    instance: Instance | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    refused: dict[str, list[EvidenceError]] = field(default_factory=dict)

    @property
    def completed(self) -> bool:
        return self.next_tasks is not None


def save_draft(session: Session, store: EvidenceStore, actor: User, task_id: str, values: dict[str, Any],
               uploads: list[Upload] = ()) -> Submission:
    """Keep the raw values without completing the task; files are stored and linked right away."""
    row = _actionable(session, actor, task_id)
    data, refused = _store_uploads(session, store, actor, row, values, uploads)
    draft = session.get(TaskDraft, (task_id, actor.username)) or TaskDraft(task_id=task_id, username=actor.username)
    draft.data = json.dumps(data, ensure_ascii=False, default=str)
    draft.saved_at = clock.now()
    session.add(draft)
    row.has_draft = True
    session.flush()
    return Submission(data, refused=refused)


def upload(session: Session, store: EvidenceStore, actor: User, task_id: str, field_id: str,
           stream: BinaryIO, filename: str) -> Evidence:
    """Store one file for a file field of a task the actor may do (the upload-with-progress path)."""
    row = _actionable(session, actor, task_id)
    spec = _file_field(session, row, field_id)
    return records.store_evidence(session, store, stream, filename, actor.username, row.instance, task_id, field_id,
                                  av_only=spec.properties.get("media") == "av")


def complete(session: Session, store: EvidenceStore | None, actor: User, task_id: str, values: dict[str, Any],
             uploads: list[Upload] = ()) -> Submission:
    """Store the uploaded files, then complete the task with its form's validation.

    A refused form changes nothing but the stored files, which stay linked to the case so the
    form can show them again. A completed task's drafts are deleted."""
    row = _actionable(session, actor, task_id, with_state=True)
    data, refused = _store_uploads(session, store, actor, row, values, uploads) if uploads else (dict(values), {})
    if refused:
        return Submission(data, refused=refused)
    run = CaseRun.load(session, row.instance)
    task = run.ready_task(task_id)
    clean, errors = validate_form(fields_of(task.task_spec), data, task.data,
                                  lookups.FormLookups(session, row.instance.unit_id, row.instance_id),
                                  runtime.evaluator(task))
    if errors:
        return Submission(data, errors=errors)
    task.data.update(clean, last_actor=actor.username)
    task.run()
    run.log(actor.username, "task.complete", task_id, task=row.spec_id, name=row.name, data=clean)
    drafted = row.has_draft
    next_tasks = run.advance(actor.username, completed=task_id)
    if drafted:
        session.execute(delete(TaskDraft).where(TaskDraft.task_id == task_id))
    return Submission(data, next_tasks=next_tasks, instance=row.instance)


def complete_or_raise(session: Session, actor: User, task_id: str, values: dict[str, Any]) -> Submission:
    """:func:`complete` for callers without uploads that treat a refused form as an error (CLI, scripts)."""
    result = complete(session, None, actor, task_id, values)
    if result.errors:
        raise FormInvalid(result.errors)
    return result


def _file_field(session: Session, row: HumanTask, field_id: str) -> FieldSpec:
    spec = next((f for f in form_of(session, row) if f.id == field_id and f.type == "file" and not f.readonly), None)
    if spec is None:
        raise NotAllowed(Message("任务“%(task)s”的表单中没有文件字段%(field)s", task=row.name, field=field_id))
    return spec


def _store_uploads(session: Session, store: EvidenceStore, actor: User, row: HumanTask, values: dict[str, Any],
                   uploads: list[Upload]) -> tuple[dict[str, Any], dict[str, list[EvidenceError]]]:
    data, refused = dict(values), {}
    for upload_ in uploads:
        spec = _file_field(session, row, upload_.field_id)
        try:
            evidence = records.store_evidence(session, store, upload_.stream, upload_.filename, actor.username,
                                              row.instance, row.task_id, upload_.field_id,
                                              av_only=spec.properties.get("media") == "av")
        except EvidenceError as exc:
            refused.setdefault(upload_.field_id, []).append(exc)
            continue
        if spec.multiple:
            held = data.get(spec.id) or []
            held = held if isinstance(held, list) else [held]
            data[spec.id] = list(dict.fromkeys([*held, evidence.sha256]))
        else:
            data[spec.id] = evidence.sha256
    return data, refused
