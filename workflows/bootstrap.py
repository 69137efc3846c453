"""Bring a database to a usable state: schema, roles, legal deadline defaults, policy settings."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import schema
from workflows.core.db import get_engine
from workflows.core.deadlines import DEFAULT_DEADLINES
from workflows.core.models import DeadlineSetting
from workflows.domain.people import ensure_roles
from workflows.domain.policy import ensure_policies
from workflows.core.settings import Settings


def init_database(settings: Settings, session: Session) -> None:
    """Create or upgrade the schema, then add what is missing of roles and deadline settings."""
    schema.upgrade(get_engine(settings.database_url))
    ensure_roles(session)
    existing = set(session.scalars(select(DeadlineSetting.name)))
    for rule in DEFAULT_DEADLINES.values():
        if rule.name not in existing:
            session.add(DeadlineSetting(name=rule.name, amount=rule.amount, unit=rule.unit,
                                        label_zh=rule.label_zh, basis=rule.basis))
    session.flush()
    ensure_policies(session, settings)
