"""Reads and small operations the staff web app needs beyond the case services.

Like every service here they only flush; the web request commits. Each web view calls one of
these (or one case service), so a page is one unit of work with one place that says what it does.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO
from uuid import UUID

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, joinedload

from . import audit, cases, clock, deployment, records
from .errors import FormInvalid, NotAllowed, NotFound
from .evidence import EvidenceError, EvidenceStore
from .forms import FieldSpec, fields_of
from .messages import Message
from .models import AuditEvent, Evidence, EvidenceLink, HumanTask, Instance, Matter, Role, TaskDraft, Unit, User
from .people import ROLE_BY_LANE, role_def
from .runtime import load_workflow, today
from .settings import Settings

FILING_ROLE = "officer"


# --- loading ---------------------------------------------------------------------------------

def task_row(session: Session, task_id: str) -> HumanTask:
    """An inbox row in any state, with its case loaded."""
    row = session.scalars(select(HumanTask).options(joinedload(HumanTask.instance))
                          .where(HumanTask.task_id == task_id)).one_or_none()
    if row is None:
        raise NotFound(f"task {task_id} does not exist")
    return row


def case(session: Session, instance_id: int) -> Instance:
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound(f"case {instance_id} does not exist")
    return instance


def instructions(session: Session, row: HumanTask) -> str:
    """The task's ``bpmn:documentation``: Markdown written by the process designer."""
    specs = deployment.specs.get(session, row.instance.model_version, row.instance.process_id)
    return specs.task_spec(row.process_id, row.spec_id).documentation or ""


def current_values(session: Session, row: HumanTask) -> dict[str, Any]:
    """The data a ready task holds now (what earlier steps gathered), for pre-filling its form."""
    task = load_workflow(session, row.instance).get_task_from_id(UUID(row.task_id))
    return dict(task.data) if task is not None else {}


def lane_roles(session: Session, instance: Instance) -> set[str]:
    """The roles that have a lane in the case's process or in a process it calls."""
    specs = deployment.specs.get(session, instance.model_version, instance.process_id)
    processes = [specs.spec, *specs.subprocess_specs.values()]
    lanes = {getattr(ts, "lane", None) for p in processes for ts in p.task_specs.values()}
    return {ROLE_BY_LANE[lane].id for lane in lanes if lane in ROLE_BY_LANE}


def works_on(session: Session, user: User, instance_id: int) -> bool:
    """Whether the user holds or did a task of the case, or may take one that is open now."""
    rows = session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id,
        or_(HumanTask.assignee == user.username, HumanTask.completed_by == user.username,
            HumanTask.state == "ready")))
    return any(row.state != "ready" or row.assignee == user.username or cases.may_act(user, row)
               for row in rows)


# --- pickers and names -----------------------------------------------------------------------

def eligible_users(session: Session, role_id: str) -> list[User]:
    """Active users holding ``role_id`` (and a credential valid today when the role needs one)."""
    users = session.scalars(select(User).where(User.roles.any(Role.id == role_id), User.active.is_(True))
                            .order_by(User.unit_id, User.username)).unique()
    if not role_def(role_id).needs_credential:
        return list(users)
    day = today()
    return [u for u in users if u.valid_credential(day) is not None]


def active_matters(session: Session) -> list[Matter]:
    return list(session.scalars(select(Matter).where(Matter.active.is_(True)).order_by(Matter.code)))


def matter_names(session: Session, codes: set[str]) -> dict[str, str]:
    codes = {c for c in codes if c}
    if not codes:
        return {}
    return dict(session.execute(select(Matter.code, Matter.name).where(Matter.code.in_(codes))).all())


def full_names(session: Session, usernames: set[str]) -> dict[str, str]:
    usernames = {u for u in usernames if u}
    if not usernames:
        return {}
    return dict(session.execute(select(User.username, User.full_name).where(User.username.in_(usernames))).all())


def evidence_by_hash(session: Session, hashes: set[str]) -> dict[str, Evidence]:
    hashes = {h for h in hashes if isinstance(h, str) and h}
    if not hashes:
        return {}
    return {e.sha256: e for e in session.scalars(select(Evidence).where(Evidence.sha256.in_(hashes)))}


def process_names(session: Session) -> dict[str, str]:
    """Process id to its name, for the processes that cases have been started on."""
    latest = session.execute(select(Instance.process_id, func.max(Instance.model_version))
                             .group_by(Instance.process_id).order_by(Instance.process_id))
    return {pid: deployment.specs.get(session, version, pid).spec.description or pid for pid, version in latest}


# --- the task page ------------------------------------------------------------------------------

@dataclass(frozen=True)
class TaskSheet:
    """What a task page shows: the form, its values, and the choices its pickers offer."""

    row: HumanTask
    fields: list[FieldSpec]
    instructions: str
    values: dict[str, Any]  # submitted, else the user's draft, over the task's data and defaults
    draft: TaskDraft | None
    people: dict[str, list[User]]  # eligible users by role, for ``user`` fields
    matters: list[Matter]
    evidence: dict[str, Evidence]  # the files the values name, by hash


def task_sheet(session: Session, user: User, row: HumanTask, submitted: dict[str, Any] | None = None) -> TaskSheet:
    fields = cases.form_of(session, row)
    current = current_values(session, row) if row.state == "ready" else {}
    draft = draft_of(session, row.task_id, user.username)
    overlay = submitted if submitted is not None else draft_values(draft)
    values = {f.id: current.get(f.id, f.default) for f in fields}
    values.update({f.id: overlay[f.id] for f in fields if not f.readonly and f.id in overlay})
    hashes = {h for f in fields if f.type == "file"
              for h in (values[f.id] if isinstance(values[f.id], list) else [values[f.id]])}
    roles = {f.properties.get("role", "") for f in fields if f.type == "user"}
    return TaskSheet(
        row=row, fields=fields, instructions=instructions(session, row), values=values, draft=draft,
        people={role: eligible_users(session, role) for role in roles if role in ROLE_BY_LANE},
        matters=active_matters(session) if any(f.type == "matter" for f in fields) else [],
        evidence=evidence_by_hash(session, hashes),
    )


# --- starting a case ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Started:
    instance: Instance
    first_task: HumanTask | None  # the first task the filing officer may do, if any


def start_case(session: Session, settings: Settings, actor: User, process_id: str,
               matter_code: str, party_name: str) -> Started:
    """Open a penalty case (the engine refuses a filing officer without a valid credential)."""
    instance = cases.start_case(session, settings, actor, process_id,
                                {"matter_code": matter_code, "party_name": party_name})
    mine = [row for row in cases.ready_tasks_of(session, instance.id) if cases.may_act(actor, row)]
    return Started(instance, mine[0] if mine else None)


def is_startable(session: Session, process_id: str) -> bool:
    version = deployment.current_version(session)
    if version is None:
        return False
    try:
        deployment.specs.get(session, version, process_id)
    except NotFound:
        return False
    return True


# --- task forms: drafts, uploads, submission -----------------------------------------------------

@dataclass(frozen=True)
class Upload:
    field_id: str
    stream: BinaryIO
    filename: str


@dataclass(frozen=True)
class Submission:
    """What became of a submitted form: the values (with the hashes of files stored on the way),
    and either the outcome or the problems to show next to the fields."""

    data: dict[str, Any]
    outcome: cases.Outcome | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    refused: dict[str, list[EvidenceError]] = field(default_factory=dict)


def draft_of(session: Session, task_id: str, username: str) -> TaskDraft | None:
    return session.get(TaskDraft, (task_id, username))


def draft_values(draft: TaskDraft | None) -> dict[str, Any]:
    return json.loads(draft.data) if draft is not None else {}


def save_draft(session: Session, store: EvidenceStore, actor: User, task_id: str, data: dict[str, Any],
               uploads: list[Upload]) -> Submission:
    """Keep the raw values without completing the task; files are stored and linked right away."""
    row = _actionable(session, actor, task_id)
    data, refused = _store_uploads(session, store, actor, row, data, uploads)
    draft = draft_of(session, task_id, actor.username) or TaskDraft(task_id=task_id, username=actor.username)
    draft.data = json.dumps(data, ensure_ascii=False)
    draft.saved_at = clock.now()
    session.add(draft)
    session.flush()
    return Submission(data, refused=refused)


def submit_task(session: Session, store: EvidenceStore, actor: User, task_id: str, data: dict[str, Any],
                uploads: list[Upload]) -> Submission:
    """Store the uploaded files, then complete the task with the engine's own validation.

    The completion runs in a savepoint: when the form is refused, the files stay stored and
    linked (their hashes go back into the form) while nothing of the completion remains.
    """
    row = _actionable(session, actor, task_id)
    data, refused = _store_uploads(session, store, actor, row, data, uploads)
    if refused:
        return Submission(data, refused=refused)
    try:
        with session.begin_nested():
            outcome = cases.complete_task(session, actor, task_id, data)
    except FormInvalid as exc:
        return Submission(data, errors=exc.errors)
    session.execute(delete(TaskDraft).where(TaskDraft.task_id == task_id))
    return Submission(data, outcome=outcome)


def upload_evidence(session: Session, store: EvidenceStore, actor: User, task_id: str, field_id: str,
                    stream: BinaryIO, filename: str) -> Evidence:
    """Store one file for a file field of a task the actor may do (the upload-with-progress path)."""
    row = _actionable(session, actor, task_id)
    _file_field(session, row, field_id)
    return records.store_evidence(session, store, stream, filename, actor.username, row.instance, task_id, field_id)


def _actionable(session: Session, actor: User, task_id: str) -> HumanTask:
    """The ready task (with its case loaded) that the actor may act on, or the engine's refusal."""
    row = task_row(session, task_id)
    cases.ready_task(session, task_id)  # the engine's own refusal when the task is no longer ready
    cases.check_can_act(actor, row)
    return row


def _file_field(session: Session, row: HumanTask, field_id: str) -> FieldSpec:
    spec = next((f for f in cases.form_of(session, row) if f.id == field_id and f.type == "file"), None)
    if spec is None:
        raise NotAllowed(Message("任务“%(task)s”的表单中没有文件字段%(field)s", task=row.name, field=field_id))
    return spec


def _store_uploads(session: Session, store: EvidenceStore, actor: User, row: HumanTask, data: dict[str, Any],
                   uploads: list[Upload]) -> tuple[dict[str, Any], dict[str, list[EvidenceError]]]:
    data, refused = dict(data), {}
    for upload in uploads:
        spec = _file_field(session, row, upload.field_id)
        try:
            evidence = records.store_evidence(session, store, upload.stream, upload.filename, actor.username,
                                              row.instance, row.task_id, upload.field_id)
        except EvidenceError as exc:
            refused.setdefault(upload.field_id, []).append(exc)
            continue
        if spec.multiple:
            held = data.get(spec.id) or []
            held = held if isinstance(held, list) else [held]
            data[spec.id] = list(dict.fromkeys([*held, evidence.sha256]))
        else:
            data[spec.id] = evidence.sha256
    return data, refused


# --- the case file as a page shows it ------------------------------------------------------------

@dataclass(frozen=True)
class CompletedForm:
    task_id: str | None
    name: str
    name_en: str
    actor: str
    at: datetime
    values: list[tuple[FieldSpec, Any]]


@dataclass(frozen=True)
class CaseFile:
    instance: Instance
    unit: Unit
    matter: Matter | None
    tasks: list[HumanTask]
    forms: list[CompletedForm]
    evidence: list[EvidenceLink]
    events: list[AuditEvent]
    names: dict[str, str]  # full names of the users the file mentions
    matters: dict[str, str]  # names of the matters the file mentions
    field_labels: dict[tuple[str | None, str | None], str]  # (task, field) to the label of a file field

    @property
    def files(self) -> dict[str, Evidence]:
        return {link.sha256: link.evidence for link in self.evidence}


def case_file(session: Session, actor: User, instance: Instance) -> CaseFile:
    """Everything the case page shows; looking at a case file (调阅) is itself recorded."""
    audit.record(session, actor.username, "case.view", instance_id=instance.id)
    events = audit.events_of(session, instance.id)
    rows = {r.task_id: r for r in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id))}
    specs = deployment.specs.get(session, instance.model_version, instance.process_id)
    forms = _completed_forms(specs, rows, events)
    tasks = [r for r in rows.values() if r.state == "ready"]
    mentioned = [(spec.type, v) for form in forms for spec, value in form.values
                 for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
    return CaseFile(
        instance=instance,
        unit=session.get(Unit, instance.unit_id),
        matter=session.get(Matter, instance.matter_code) if instance.matter_code else None,
        tasks=sorted(tasks, key=lambda r: r.id),
        forms=forms,
        evidence=records.evidence_of(session, instance.id),
        events=events,
        names=full_names(session, {e.actor for e in events} | {r.assignee for r in tasks}
                         | {instance.created_by} | {v for kind, v in mentioned if kind == "user"}),
        matters=matter_names(session, {instance.matter_code} | {v for kind, v in mentioned if kind == "matter"}),
        field_labels={(task_id, f.id): f.label for task_id, row in rows.items()
                      for f in fields_of(_task_spec(specs, row.process_id, row.spec_id)) if f.type == "file"},
    )


def _completed_forms(specs: deployment.ProcessSpecs, rows: dict[str, HumanTask],
                     events: list[AuditEvent]) -> list[CompletedForm]:
    forms = []
    for event in events:
        if event.action != "task.complete":
            continue
        payload = json.loads(event.payload)
        row = rows.get(event.task_id)
        fields = fields_of(_task_spec(specs, row.process_id if row else None, payload.get("task", "")))
        data = payload.get("data") or {}
        forms.append(CompletedForm(
            task_id=event.task_id, name=payload.get("name", ""), name_en=row.name_en if row else "",
            actor=event.actor, at=event.created_at,
            values=[(f, data.get(f.id)) for f in fields if f.id in data],
        ))
    return forms


def _task_spec(specs: deployment.ProcessSpecs, process_id: str | None, spec_id: str):
    if process_id is not None:
        return specs.task_spec(process_id, spec_id)
    for process in (specs.spec, *specs.subprocess_specs.values()):
        if spec_id in process.task_specs:
            return process.task_specs[spec_id]
    return None
