"""Supervision notices (督办): a supervisor tells whoever holds a case's tasks to act on it.

A notice is an act on the case (in its audit chain), stays on the case page, and shows as a banner
in the inbox of everyone who may act on the case's open tasks until one of them acknowledges it.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import clock
from workflows.core.errors import FormInvalid, NotAllowed, NotFound
from workflows.core.messages import Message
from workflows.core.models import HumanTask, Instance, SupervisionNotice, User
from workflows.domain import access, cases, steps

MAX_LENGTH = 1000


def send(session: Session, actor: User, instance_id: int, message: str) -> SupervisionNotice:
    access.check_send_notice(actor)
    text = (message or "").strip()
    if not text:
        raise FormInvalid({"message": [Message("请填写督办意见")]})
    if len(text) > MAX_LENGTH:
        raise FormInvalid({"message": [Message("督办意见最多%(n)s个字", n=MAX_LENGTH)]})
    instance = cases.get(session, instance_id)
    access.check_read_case(session, actor, instance)
    notice = SupervisionNotice(instance_id=instance.id, message=text, sent_by=actor.username, sent_at=clock.now())
    session.add(notice)
    session.flush()
    steps.record(session, instance, actor.username, "case.supervise", notice=notice.id, message=text)
    return notice


def acknowledge(session: Session, actor: User, notice_id: int) -> SupervisionNotice:
    """Whoever may act on one of the case's open tasks confirms they have read the notice."""
    notice = session.get(SupervisionNotice, notice_id)
    if notice is None:
        raise NotFound(f"notice {notice_id} does not exist")
    if notice.acknowledged_at is None:
        if not any(access.may_act(actor, row) for row in _open_tasks(session, notice.instance_id)):
            raise NotAllowed(Message("只有办理该案件待办任务的人员可以确认督办通知"))
        notice.acknowledged_by, notice.acknowledged_at = actor.username, clock.now()
        session.flush()
        steps.record(session, notice.instance, actor.username, "case.supervise_ack", notice=notice.id)
    return notice


def of_case(session: Session, instance_id: int) -> list[SupervisionNotice]:
    return list(session.scalars(select(SupervisionNotice).where(SupervisionNotice.instance_id == instance_id)
                                .order_by(SupervisionNotice.sent_at, SupervisionNotice.id)))


def for_inbox(session: Session, user: User) -> list[SupervisionNotice]:
    """Open notices on cases where ``user`` may act on an open task."""
    notices = list(session.scalars(select(SupervisionNotice).join(Instance)
                                   .where(SupervisionNotice.acknowledged_at.is_(None), Instance.status == "running")
                                   .order_by(SupervisionNotice.sent_at)))
    if not notices:
        return []
    ready = list(session.scalars(select(HumanTask).where(
        HumanTask.instance_id.in_({n.instance_id for n in notices}), HumanTask.state == "ready")))
    mine = {row.instance_id for row in ready if access.may_act(user, row)}
    return [n for n in notices if n.instance_id in mine]


def _open_tasks(session: Session, instance_id: int) -> list[HumanTask]:
    return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                        HumanTask.state == "ready")))
