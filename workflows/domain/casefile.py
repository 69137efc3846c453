"""The case file (案卷) as people read it: the case, its open tasks, the forms completed in order,
its evidence, its timeline. The case page reads it; the export and the monitor will too.

Reading a case file (调阅) is itself recorded, on the reader's access chain.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core.models import (AuditEvent, Evidence, EvidenceLink, HumanTask, Instance, Matter, SupervisionNotice,
                                   Unit, User)
from workflows.domain import access, alerts, audit, cases, lookups, records, supervision
from workflows.domain.forms import FieldSpec, fields_of
from workflows.engine import specs

READS_SHOWN = 200


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
    tasks: list[HumanTask]  # ready now
    actionable: set[str]  # ids of the ready tasks the reader may act on
    forms: list[CompletedForm]
    evidence: list[EvidenceLink]
    events: list[AuditEvent]  # the acts on the case, in order
    reads: int  # how often the file or its evidence has been read
    read_events: list[AuditEvent]  # the latest reads, when asked for
    clock: alerts.HandlingClock  # the handling limit (办案期限)
    notices: list[SupervisionNotice]  # 督办
    may: dict[str, bool]  # what the reader may do to the case: supervise, operate, notify
    candidates: dict[str, list[User]]  # for a supervisor: who each open task may be handed to
    names: dict[str, str]  # full names of the users the file mentions
    matters: dict[str, str]  # names of the matters the file mentions
    field_labels: dict[tuple[str | None, str | None], str]  # (task, field) to the label of a file field

    @property
    def files(self) -> dict[str, Evidence]:
        return {link.sha256: link.evidence for link in self.evidence}


def read(session: Session, actor: User, instance_id: int, *, with_reads: bool = False) -> CaseFile:
    """The case file of ``instance_id`` for ``actor``, who must be allowed to read it; with the
    latest :data:`READS_SHOWN` reads of it when ``with_reads``."""
    instance = cases.get(session, instance_id)
    rows = {r.task_id: r for r in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id))}
    access.check_read_case(session, actor, instance, list(rows.values()))
    audit.record_access(session, actor.username, audit.VIEW, instance.id)
    events = audit.events_of(session, instance.id)
    process = specs.get(session, instance.model_version, instance.process_id)
    forms = _completed_forms(process, rows, events)
    tasks = sorted((r for r in rows.values() if r.state == "ready"), key=lambda r: r.id)
    mentioned = [(spec.type, v) for form in forms for spec, value in form.values
                 for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
    windows = alerts.windows(session)
    notices = supervision.of_case(session, instance.id)
    return CaseFile(
        instance=instance,
        unit=session.get(Unit, instance.unit_id),
        matter=session.get(Matter, instance.matter_code) if instance.matter_code else None,
        tasks=tasks,
        actionable={t.task_id for t in tasks if access.may_act(actor, t)},
        forms=forms,
        evidence=records.evidence_of(session, instance.id),
        events=events,
        reads=audit.reads_of(session, instance.id),
        read_events=audit.latest_reads(session, instance.id, READS_SHOWN) if with_reads else [],
        clock=alerts.handling_clock(windows, instance.status, instance.filed_on, instance.decision_due,
                                    instance.decided_on),
        notices=notices,
        may={"supervise": access.may_supervise(actor, instance), "operate": access.may_operate(actor),
             "notify": access.may_send_notice(actor)},
        candidates={t.task_id: [u for u in lookups.eligible_users(session, t.role_id)
                                if t.unit_id is None or u.unit_id == t.unit_id]
                    for t in tasks} if access.may_supervise(actor, instance) else {},
        names=lookups.full_names(session, {e.actor for e in events} | {r.assignee for r in tasks}
                                 | {n.sent_by for n in notices} | {n.acknowledged_by for n in notices}
                                 | {instance.created_by} | {v for kind, v in mentioned if kind == "user"}),
        matters=lookups.matter_names(session, {instance.matter_code} | {v for kind, v in mentioned if kind == "matter"}),
        field_labels={(task_id, f.id): f.label for task_id, row in rows.items()
                      for f in fields_of(_task_spec(process, row.process_id, row.spec_id)) if f.type == "file"},
    )


def _completed_forms(process: specs.ProcessSpecs, rows: dict[str, HumanTask],
                     events: list[AuditEvent]) -> list[CompletedForm]:
    forms = []
    for event in events:
        if event.action != "task.complete":
            continue
        payload = json.loads(event.payload)
        row = rows.get(event.task_id)
        fields = fields_of(_task_spec(process, row.process_id if row else None, payload.get("task", "")))
        data = payload.get("data") or {}
        forms.append(CompletedForm(
            task_id=event.task_id, name=payload.get("name", ""), name_en=row.name_en if row else "",
            actor=event.actor, at=event.created_at,
            values=[(f, data.get(f.id)) for f in fields if f.id in data],
        ))
    return forms


def _task_spec(process: specs.ProcessSpecs, process_id: str | None, spec_id: str):
    if process_id is not None:
        return process.task_spec(process_id, spec_id)
    for spec in (process.spec, *process.subprocess_specs.values()):
        if spec_id in spec.task_specs:
            return spec.task_specs[spec_id]
    return None
