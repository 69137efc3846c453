"""The catalogue of enforcement matters (执法事项目录): one list for the public and for filing.

An entry gets into the catalogue, changes or is abolished only through the ``pre_disclosure``
process: when a catalogue process passes its disclosure hook (the office has approved the entry),
:func:`publish_from_case` writes the approved draft onto the :class:`Matter` row, with when, by
whom and in which role it was approved. Officers file cases against the entries in force
(:func:`in_force`, :func:`is_in_force`); an abolished entry stays in the catalogue as abolished, so
running cases keep their matter and the public can see it was withdrawn.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from workflows.core import clock
from workflows.core.errors import NotFound
from workflows.core.models import HumanTask, Instance, Matter

CATEGORIES = ("penalty", "coercion", "inspection", "licensing", "other")
ABOLISHED = "abolished"

# The draft form's data key (pre_disclosure's ``draft_matter``) for each text column of an entry.
TEXT_KEYS = {
    "name": "matter_name", "field": "matter_field", "category": "matter_category",
    "legal_basis": "legal_basis", "penalty": "penalty_types", "discretion": "discretion",
    "enforcement_subject": "enforcement_subject", "duties": "duties", "powers": "powers",
    "procedure": "procedure", "remedy_channels": "remedy_channels", "receiving_body": "receiving_body",
    "approving_body": "approving_body", "guide_materials": "guide_materials",
    "guide_time_limit": "guide_time_limit", "guide_office_hours": "guide_office_hours",
    "guide_address": "guide_address", "guide_phone": "guide_phone",
}
FLAG_KEYS = {"serious": "serious", "random_inspection": "random_inspection"}
CODE_KEY, STATUS_KEY = "matter_code", "matter_status"


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def publish(session: Session, entry: Mapping[str, Any], *, approved_by: str, approved_role: str | None,
            source_case_id: int | None = None, approved_at: datetime | None = None) -> Matter:
    """Make an approved entry (the draft form's data) the catalogue's: add or update the matter,
    in force unless the entry abolishes it. Returns the matter row."""
    code = _text(entry.get(CODE_KEY))
    if not code:
        raise ValueError("a catalogue entry needs its matter_code")
    at = approved_at or clock.now()
    matter = session.get(Matter, code)
    if matter is None:
        matter = Matter(code=code, revision=0)
        session.add(matter)
    for column, key in TEXT_KEYS.items():
        value = _text(entry.get(key))
        if column == "category" and value not in CATEGORIES:
            value = "penalty" if not value else "other"
        setattr(matter, column, value)
    for column, key in FLAG_KEYS.items():
        setattr(matter, column, bool(entry.get(key)))
    abolished = entry.get(STATUS_KEY) == ABOLISHED
    matter.active = not abolished
    matter.abolished_at = at if abolished else None
    matter.approved_at, matter.approved_by, matter.approved_role = at, approved_by, approved_role
    matter.source_case_id = source_case_id
    matter.revision = (matter.revision or 0) + 1
    session.flush()
    return matter


def publish_from_case(session: Session, instance: Instance, data: Mapping[str, Any], actor: str,
                      completed_task: str | None) -> Matter:
    """The disclosure hook of a catalogue process: the user task just completed (the office's
    approval) names who approved the entry, and in which role."""
    row = session.scalars(select(HumanTask).where(HumanTask.task_id == completed_task)).first() \
        if completed_task else None
    return publish(session, data, approved_by=actor, approved_role=row.role_id if row else None,
                   source_case_id=instance.id)


# --- reading -------------------------------------------------------------------------------------

def in_force(session: Session) -> list[Matter]:
    """The matters new cases may be filed against, by code."""
    return list(session.scalars(select(Matter).where(Matter.active.is_(True)).order_by(Matter.code)))


def is_in_force(session: Session, code: str) -> bool:
    return session.scalars(select(Matter.code).where(Matter.code == code, Matter.active.is_(True))).first() is not None


def get(session: Session, code: str) -> Matter:
    matter = session.get(Matter, (code or "").strip())
    if matter is None:
        raise NotFound(f"matter {code!r} is not in the catalogue")
    return matter


@dataclass(frozen=True)
class Search:
    query: str = ""
    field: str = ""
    category: str = ""
    random_only: bool = False
    with_abolished: bool = False


def entries(session: Session, search: Search = Search()) -> list[Matter]:
    """The catalogue as the public reads it: in force (and, on request, abolished), by code."""
    stmt = select(Matter)
    if not search.with_abolished:
        stmt = stmt.where(Matter.active.is_(True))
    if search.field:
        stmt = stmt.where(Matter.field == search.field)
    if search.category:
        stmt = stmt.where(Matter.category == search.category)
    if search.random_only:
        stmt = stmt.where(Matter.random_inspection.is_(True))
    words = search.query.strip()[:100]
    if words:
        plain = words.replace("\\", "").replace("%", "").replace("_", "")
        like = f"%{plain}%"
        stmt = stmt.where(or_(Matter.code.ilike(like), Matter.name.ilike(like), Matter.legal_basis.ilike(like)))
    return list(session.scalars(stmt.order_by(Matter.active.desc(), Matter.code)))


def fields(session: Session) -> list[str]:
    """The enforcement fields (执法领域) of the matters in force."""
    return sorted(set(session.scalars(select(Matter.field).where(Matter.active.is_(True), Matter.field != ""))))


@dataclass(frozen=True)
class Approval:
    """When and in which role the newest publication of a set of entries was approved (None: the
    entries came from the earlier catalogue, before approvals were recorded)."""
    at: datetime | None
    role: str | None
    count: int


def latest_approval(session: Session, *, random_only: bool = False) -> Approval:
    stmt = select(Matter.approved_at, Matter.approved_role).where(Matter.approved_at.is_not(None))
    count_stmt = select(func.count()).select_from(Matter)
    if random_only:
        stmt = stmt.where(Matter.random_inspection.is_(True))
        count_stmt = count_stmt.where(Matter.random_inspection.is_(True))
    row = session.execute(stmt.order_by(Matter.approved_at.desc()).limit(1)).first()
    count = session.scalar(count_stmt) or 0
    return Approval(row[0], row[1], count) if row else Approval(None, None, count)
