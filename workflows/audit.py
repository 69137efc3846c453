"""The append-only, hash-chained audit log (全过程记录).

One chain per case (``case:<id>``), so writers of different cases never wait on each other, plus
the ``system`` chain (sign-ins, deployments, user changes, case creation). Each event's hash covers
its canonical JSON and the previous hash; the chain's head row is locked while appending, so
concurrent writers queue instead of forking the chain.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .clock import now
from .models import AuditChain, AuditEvent, Instance

SYSTEM = "system"
GENESIS = "0" * 64


def case_chain(instance_id: int) -> str:
    return f"case:{instance_id}"


def _json_default(value: Any) -> str:
    if isinstance(value, (date, datetime, Decimal)):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_json_default)


def event_hash(event: AuditEvent) -> str:
    body = {
        "chain": event.chain, "seq": event.seq, "actor": event.actor, "action": event.action,
        "instance_id": event.instance_id, "task_id": event.task_id, "payload": event.payload,
        "created_at": event.created_at.astimezone(timezone.utc).isoformat(), "prev_hash": event.prev_hash,
    }
    return hashlib.sha256(canonical(body).encode()).hexdigest()


def _lock_head(session: Session, chain: str) -> AuditChain:
    head = session.scalars(select(AuditChain).where(AuditChain.name == chain).with_for_update()).one_or_none()
    if head is None:
        head = AuditChain(name=chain, length=0, head=GENESIS)
        session.add(head)
        session.flush()
    return head


def record(session: Session, actor: str, action: str, *, instance_id: int | None = None,
           task_id: str | None = None, chain: str | None = None, **payload: Any) -> AuditEvent:
    """Append one event to its chain (the case's when ``instance_id`` is given, else the system's)."""
    chain = chain or (case_chain(instance_id) if instance_id is not None else SYSTEM)
    head = _lock_head(session, chain)
    event = AuditEvent(
        chain=chain, seq=head.length + 1, actor=actor, action=action, instance_id=instance_id,
        task_id=task_id, payload=canonical(payload), created_at=now(), prev_hash=head.head,
    )
    event.hash = event_hash(event)
    head.length, head.head = event.seq, event.hash
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class Break:
    chain: str
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"#{self.seq}" if self.seq is not None else "(chain)"
        return f"{self.chain} {where}: {self.problem}"


def verify(session: Session) -> list[Break]:
    """Check every chain; return the first broken link of each (empty when all is intact)."""
    breaks: list[Break] = []
    heads = {h.name: h for h in session.scalars(select(AuditChain))}
    chains = set(heads) | set(session.scalars(select(AuditEvent.chain).distinct()))
    created = set()
    for event in session.scalars(select(AuditEvent).where(AuditEvent.chain == SYSTEM,
                                                          AuditEvent.action == "case.create")):
        created.add(event.instance_id)
    for chain in sorted(chains):
        problem = _verify_chain(session, chain, heads.get(chain))
        if problem:
            breaks.append(problem)
    existing = set(session.scalars(select(Instance.id)))
    for instance_id in sorted(created - existing):
        breaks.append(Break(case_chain(instance_id), None, "case recorded as created but missing"))
    for instance_id in sorted(created):
        if case_chain(instance_id) not in chains:
            breaks.append(Break(case_chain(instance_id), None, "case chain missing"))
    return breaks


def _verify_chain(session: Session, chain: str, head: AuditChain | None) -> Break | None:
    prev, seq = GENESIS, 0
    rows = session.scalars(select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq))
    for event in rows:
        seq += 1
        if event.seq != seq:
            return Break(chain, seq, f"event #{seq} missing (found #{event.seq})")
        if event.prev_hash != prev:
            return Break(chain, seq, "previous-hash link broken (reordered or removed before it)")
        if event_hash(event) != event.hash:
            return Break(chain, seq, "content changed after it was written")
        prev = event.hash
    if head is None:
        return Break(chain, None, "chain head missing")
    if head.length != seq or head.head != prev:
        return Break(chain, seq + 1, f"tail deleted: head says {head.length} events, found {seq}")
    return None


def events_of(session: Session, instance_id: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.chain == case_chain(instance_id))
                                .order_by(AuditEvent.seq)))
