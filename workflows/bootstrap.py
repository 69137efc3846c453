"""Bring a database to a usable state: schema, roles, legal deadline defaults, policy settings."""
from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import keys, schema
from workflows.core.db import get_engine
from workflows.core.deadlines import DEFAULT_DEADLINES
from workflows.core.models import DeadlineSetting
from workflows.domain import audit
from workflows.domain.people import ensure_roles
from workflows.domain.policy import ensure_policies
from workflows.core.settings import Settings


KEYED_LINKS_REVISION = "0011"  # the migration that brought key ids on audit events


def init_database(settings: Settings, session: Session) -> None:
    """Create or upgrade the schema, then add what is missing of roles and deadline settings; make
    the audit key if there is none, and anchor the audit events written before keys, in the upgrade
    that brings keyed links (never later: an unkeyed event after it is a forgery)."""
    engine = get_engine(settings.database_url)
    with engine.connect() as connection:
        before = MigrationContext.configure(connection).get_current_revision()
    schema.upgrade(engine)
    keys.ensure_key_file(settings.audit_key_path)
    if before is not None and before < KEYED_LINKS_REVISION:
        audit.anchor_legacy(session)
    ensure_roles(session)
    existing = set(session.scalars(select(DeadlineSetting.name)))
    for rule in DEFAULT_DEADLINES.values():
        if rule.name not in existing:
            session.add(DeadlineSetting(name=rule.name, amount=rule.amount, unit=rule.unit,
                                        label_zh=rule.label_zh, basis=rule.basis))
    session.flush()
    ensure_policies(session, settings)
