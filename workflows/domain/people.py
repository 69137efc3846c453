"""Units, users, roles and enforcement credentials.

The roles are those of DOMAIN.md. Lanes of unit-scoped roles go only to users of the case's unit;
acting in a lane whose role needs a credential requires one valid that day.
"""
from __future__ import annotations

import re
from datetime import date

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.domain import audit
from workflows.core.errors import CredentialRequired, NotFound
from workflows.core.messages import Message
from workflows.core.models import Credential, Role, Unit, User
from workflows.core.roles import ROLES, role_def


_hasher = PasswordHasher()
USERNAME = re.compile(r"[A-Za-z0-9_.-]{2,60}")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def ensure_roles(session: Session) -> None:
    """Create or update the role table from :data:`ROLES` (idempotent)."""
    existing = {r.id: r for r in session.scalars(select(Role))}
    for d in ROLES:
        row = existing.get(d.id) or Role(id=d.id)
        row.label_zh, row.label_en = d.label_zh, d.label_en
        row.needs_credential, row.unit_scoped = d.needs_credential, d.unit_scoped
        session.add(row)
    session.flush()


def get_unit(session: Session, code: str) -> Unit:
    unit = session.scalars(select(Unit).where(Unit.code == code)).one_or_none()
    if unit is None:
        raise NotFound(f"unit {code!r} does not exist")
    return unit


def ensure_unit(session: Session, code: str, name: str) -> Unit:
    unit = session.scalars(select(Unit).where(Unit.code == code)).one_or_none()
    if unit is None:
        unit = Unit(code=code, name=name)
        session.add(unit)
        session.flush()
    return unit


def get_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).unique().one_or_none()
    if user is None or not user.active:
        raise NotFound(f"user {username!r} does not exist")
    return user


def add_user(session: Session, actor: str, username: str, full_name: str, unit_code: str,
             password: str, roles: list[str]) -> User:
    unknown = set(roles) - {r.id for r in ROLES}
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(sorted(unknown))}")
    if not USERNAME.fullmatch(username):
        raise ValueError(f"invalid username {username!r}: 2–60 letters, digits, '.', '_' or '-'")
    role_rows = list(session.scalars(select(Role).where(Role.id.in_(roles))))
    user = User(username=username, full_name=full_name, unit=get_unit(session, unit_code),
                password_hash=hash_password(password), roles=role_rows)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.add", username=username, unit=unit_code, roles=sorted(roles))
    return user


def add_credential(session: Session, actor: str, user: User, number: str, area: str,
                   valid_from: date, valid_to: date) -> Credential:
    if valid_to < valid_from:
        raise ValueError("a credential cannot expire before it starts")
    cred = Credential(number=number, holder=user, area=area, valid_from=valid_from, valid_to=valid_to)
    session.add(cred)
    session.flush()
    audit.record(session, actor, "credential.add", username=user.username, number=number,
                 valid_from=valid_from, valid_to=valid_to)
    return cred



def require_credential(user: User, role_id: str, on: date) -> None:
    """Refuse enforcement to a user without a credential valid that day (持证上岗)."""
    if role_def(role_id).needs_credential and user.valid_credential(on) is None:
        raise CredentialRequired(
            Message("%(user)s（%(username)s）没有当日有效的行政执法证件，不得从事执法活动",
                    user=user.full_name, username=user.username),
            username=user.username, role=role_id)
