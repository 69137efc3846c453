"""Signing in: password check with lockout after repeated failures, every attempt audited.

The outcome is returned, not raised, so the caller's unit of work commits the failure count and
the audit event of a failed attempt too.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.domain import audit
from workflows.core import clock
from workflows.core.messages import Message
from workflows.core.models import User
from workflows.domain.people import check_password

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)


@dataclass(frozen=True)
class SignIn:
    user: User | None
    error: str | None = None


def authenticate(session: Session, username: str, password: str, source: str = "") -> SignIn:
    """Check the credentials; five failures in a row lock the account for 15 minutes."""
    username = username.strip()[:60]
    user = session.scalars(select(User).where(User.username == username)).unique().one_or_none()
    now = clock.now()
    # One answer for an unknown name, a wrong password and a locked account, after the same work:
    # neither the message nor the time tells whether a username exists.
    refused = SignIn(None, Message("用户名或密码错误；连续错误5次后账户将锁定15分钟"))
    password_ok = check_password(user, password)
    if user is not None and user.locked_until is not None and user.locked_until > now:
        audit.record(session, username, "auth.locked", source=source)
        return refused
    if user is None or not user.active or not password_ok:
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILURES:
                user.locked_until, user.failed_logins = now + LOCK_FOR, 0
        audit.record(session, username, "auth.fail", source=source)
        return refused
    user.failed_logins, user.locked_until = 0, None
    audit.record(session, username, "auth.login", source=source)
    return SignIn(user)


def sign_out(session: Session, user: User, source: str = "") -> None:
    """End every session of the user (the copied cookies of this one included) and record it."""
    user.session_generation += 1
    session.flush()
    audit.record(session, user.username, "auth.logout", source=source)
