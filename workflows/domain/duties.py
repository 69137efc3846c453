"""Separation of duties within a case (职责分离), declared in the models and enforced by the engine.

A user task or a ``user`` form field names, in its ``not_by`` extension property, the work that
rules a person out: task ids, and ``role:<role id>`` for any task of that role in the case. Who
completed such a task in this case may not act on the task (the filer cannot confirm as the
second officer), or be chosen in the field (an investigator cannot chair the hearing)."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from workflows.core.models import HumanTask

PROPERTY = "not_by"
ROLE_PREFIX = "role:"


def parse(text: str | None) -> tuple[frozenset[str], frozenset[str]]:
    """The task ids and the role ids of a ``not_by`` value (space or comma separated)."""
    tokens = (text or "").replace(",", " ").split()
    return (frozenset(t for t in tokens if not t.startswith(ROLE_PREFIX)),
            frozenset(t[len(ROLE_PREFIX):] for t in tokens if t.startswith(ROLE_PREFIX)))


def conflict(session: Session, instance_id: int | None, username: str, not_by: str | None) -> HumanTask | None:
    """A task of this case that ``username`` completed and ``not_by`` names, if any."""
    tasks, roles = parse(not_by)
    if instance_id is None or not (tasks or roles):
        return None
    return session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.state == "completed", HumanTask.completed_by == username,
        or_(HumanTask.spec_id.in_(tasks), HumanTask.role_id.in_(roles))).order_by(HumanTask.completed_at).limit(1)
    ).first()
