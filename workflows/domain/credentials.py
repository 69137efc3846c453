"""Enforcement credentials (执法证) through their life.

No valid credential, no enforcement: a credential suspended or revoked stops its holder at once
(their claims on enforcement tasks go back to the pools, their sessions end). A renewal is a new
credential naming the one it replaces. Every change is in the system audit chain.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core.errors import FormInvalid, NotFound
from workflows.core.messages import Message
from workflows.core.models import Credential, HumanTask, User
from workflows.core.roles import role_def
from workflows.domain import access, audit, steps
from workflows.domain.people import find_user, actor_name
from workflows.engine import runtime

STATES = ("valid", "suspended", "revoked")


def _problem(field: str, message: Message) -> FormInvalid:
    return FormInvalid({field: [message]})


def issue(session: Session, actor: User | str, username: str, number: str, area: str, valid_from: date,
          valid_to: date, *, kind: str = "行政执法证", issuer: str = "", replaces: Credential | None = None) -> Credential:
    access.check_administer(actor)
    user = find_user(session, username)
    number = (number or "").strip()
    if not number:
        raise _problem("number", Message("请填写证件编号"))
    if session.scalar(select(Credential.id).where(Credential.number == number)) is not None:
        raise _problem("number", Message("证件编号%(number)s已存在", number=number))
    if valid_from is None or valid_to is None or valid_to < valid_from:
        raise _problem("valid_to", Message("有效期结束日期不能早于开始日期"))
    if not (area or "").strip():
        raise _problem("area", Message("请填写执法区域"))
    credential = Credential(number=number, holder=user, area=area.strip(), valid_from=valid_from, valid_to=valid_to,
                            kind=(kind or "行政执法证").strip(), issuer=(issuer or "").strip(), status="valid",
                            replaces_id=replaces.id if replaces else None)
    session.add(credential)
    session.flush()
    audit.record(session, actor_name(actor), "credential.renew" if replaces else "credential.add",
                 username=user.username, number=number, valid_from=valid_from, valid_to=valid_to,
                 replaces=replaces.number if replaces else None)
    return credential


def renew(session: Session, actor: User | str, number: str, new_number: str, valid_from: date,
          valid_to: date) -> Credential:
    """A new credential for the same holder, area and kind, linked to the one it replaces."""
    old = get(session, number)
    return issue(session, actor, old.holder.username, new_number, old.area, valid_from, valid_to, kind=old.kind,
                 issuer=old.issuer, replaces=old)


def suspend(session: Session, actor: User | str, number: str, reason: str) -> int:
    return _stop(session, actor, number, "suspended", reason)


def revoke(session: Session, actor: User | str, number: str, reason: str) -> int:
    return _stop(session, actor, number, "revoked", reason)


def reinstate(session: Session, actor: User | str, number: str, reason: str) -> Credential:
    """A suspended credential is valid again (a revoked one never is: issue a new one)."""
    access.check_administer(actor)
    credential = get(session, number)
    if credential.status != "suspended":
        raise _problem("number", Message("只有暂扣的证件可以恢复"))
    _reason(reason)
    credential.status, credential.status_reason = "valid", reason.strip()
    session.flush()
    audit.record(session, actor_name(actor), "credential.reinstate", number=number, reason=reason.strip())
    return credential


def _stop(session: Session, actor: User | str, number: str, status: str, reason: str) -> int:
    """Suspend or revoke at once; returns how many claimed enforcement tasks went back to the pools."""
    access.check_administer(actor)
    credential = get(session, number)
    _reason(reason)
    if credential.status == "revoked":
        raise _problem("number", Message("该证件已吊销"))
    credential.status, credential.status_reason = status, reason.strip()
    holder = credential.holder
    holder.session_generation += 1
    session.flush()
    released = 0
    if holder.valid_credential(runtime.today()) is None:
        for row in session.scalars(select(HumanTask).where(HumanTask.assignee == holder.username,
                                                           HumanTask.state == "ready")):
            if role_def(row.role_id).needs_credential:
                row.assignee = None
                session.flush()
                steps.record(session, row.instance, actor_name(actor), "task.unclaim", task_id=row.task_id,
                             name=row.name, reason=f"credential {status}")
                released += 1
    audit.record(session, actor_name(actor), {"suspended": "credential.suspend", "revoked": "credential.revoke"}[status],
                 number=number, username=holder.username, reason=reason.strip(), released=released)
    return released


def _reason(reason: str) -> None:
    if not (reason or "").strip():
        raise _problem("reason", Message("请填写理由"))


def get(session: Session, number: str) -> Credential:
    credential = session.scalars(select(Credential).where(Credential.number == (number or "").strip())).one_or_none()
    if credential is None:
        raise NotFound(f"credential {number!r} does not exist")
    return credential


@dataclass(frozen=True)
class Expiring:
    credential: Credential
    days_left: int


def expiring(session: Session, *, unit_id: int | None = None, holder: str | None = None) -> list[Expiring]:
    """Valid credentials ending within the warning window (``warning_credential``) with no valid
    renewal after them: what holders, their unit heads and the administrators are reminded of."""
    today = runtime.today()
    window = runtime.session_rules(session)["warning_credential"].amount
    query = (select(Credential).join(Credential.holder)
             .where(Credential.status == "valid", Credential.valid_from <= today,
                    Credential.valid_to <= today + timedelta(days=window), Credential.valid_to >= today,
                    User.active.is_(True)).order_by(Credential.valid_to))
    if unit_id is not None:
        query = query.where(User.unit_id == unit_id)
    if holder is not None:
        query = query.where(User.username == holder)
    found = []
    for credential in session.scalars(query):
        later = [c for c in credential.holder.credentials if c.id != credential.id and c.status == "valid"
                 and c.valid_to > credential.valid_to]
        if not later:
            found.append(Expiring(credential, (credential.valid_to - today).days))
    return found
