"""The append-only, hash-chained audit log (全过程记录).

Three kinds of chain, so that writers who have nothing to do with each other never wait on each other:

- ``case:<id>``, the acts on one case. Its head (length and last hash) lives on the case row
  itself, so appending rides on the case's own write: the row's optimistic version check is the
  chain's lock, and a step costs one insert for its events.
- ``access:<username>``, what one person looked at (调阅: case files, evidence). Reading a case
  never takes the case's lock.
- ``system``, everything else (sign-ins, deployments, people, case creation).

Each event's hash covers its canonical JSON and the previous hash; a chain's head (on the case
row, or an ``audit_chain`` row locked while appending) makes a deleted tail detectable.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from workflows.core.clock import now
from workflows.core.errors import case_changed
from workflows.core.models import READ_ACTIONS as INDEXED_READS, AuditChain, AuditEvent, Instance

SYSTEM = "system"
GENESIS = "0" * 64
CASE_PREFIX = "case:"
ACCESS_PREFIX = "access:"
VIEW = "case.view"
READ_ACTIONS = frozenset(INDEXED_READS)
# Written out as constants, in ix_audit_reads's order: SQLite takes a partial index only for a query
# that repeats its condition, constants included (``IN (?, ?)`` does not).
_IS_READ = AuditEvent.action.in_(bindparam("read_actions", list(INDEXED_READS), expanding=True, literal_execute=True))


def case_chain(instance_id: int) -> str:
    return f"{CASE_PREFIX}{instance_id}"


def access_chain(username: str) -> str:
    return f"{ACCESS_PREFIX}{username}"


def _json_default(value: Any) -> str:
    if isinstance(value, (date, datetime, Decimal)):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_json_default)


def link_hash(row: dict[str, Any]) -> str:
    """The hash of one event (a row of ``audit_event`` as a mapping)."""
    body = {
        "chain": row["chain"], "seq": row["seq"], "actor": row["actor"], "action": row["action"],
        "instance_id": row["instance_id"], "task_id": row["task_id"], "payload": row["payload"],
        "created_at": row["created_at"].astimezone(timezone.utc).isoformat(), "prev_hash": row["prev_hash"],
    }
    return hashlib.sha256(canonical(body).encode()).hexdigest()


def _event(chain: str, seq: int, prev_hash: str, actor: str, action: str, instance_id: int | None,
           task_id: str | None, payload: dict[str, Any]) -> dict[str, Any]:
    row = {"chain": chain, "seq": seq, "actor": actor, "action": action, "instance_id": instance_id,
           "task_id": task_id, "payload": canonical(payload), "created_at": now(), "prev_hash": prev_hash}
    row["hash"] = link_hash(row)
    return row


# --- the case chains --------------------------------------------------------------------------

def case_event(instance: Instance, actor: str, action: str, task_id: str | None = None,
               **payload: Any) -> dict[str, Any]:
    """Chain one event onto the loaded case row's head and return the row to insert.

    Only the loaded row moves: :mod:`workflows.domain.steps` writes the case row, new head
    included, with its version check, in the same unit of work as the events."""
    event = _event(case_chain(instance.id), instance.audit_seq + 1, instance.audit_head, actor, action,
                   instance.id, task_id, payload)
    set_committed_value(instance, "audit_seq", event["seq"])
    set_committed_value(instance, "audit_head", event["hash"])
    return event


_INSERT_EVENT = insert(AuditEvent.__table__)


def insert_events(session: Session, events: list[dict[str, Any]]) -> None:
    """Insert event rows on the session's connection."""
    if events:
        try:
            session.connection().execute(_INSERT_EVENT, events)
        except IntegrityError:  # (chain, seq) is unique: a concurrent writer appended to this case first
            raise case_changed() from None


# --- chains with a head row: the system chain and the access chains ------------------------------

def _lock_head(session: Session, chain: str) -> AuditChain:
    query = select(AuditChain).where(AuditChain.name == chain).with_for_update()
    head = session.scalars(query).one_or_none()
    if head is None:  # a new chain; two first writers may race to create it
        dialect_insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.connection().execute(dialect_insert(AuditChain.__table__).values(name=chain, length=0, head=GENESIS)
                                     .on_conflict_do_nothing())
        head = session.scalars(query).one()
    return head


def record(session: Session, actor: str, action: str, *, chain: str = SYSTEM, instance_id: int | None = None,
           task_id: str | None = None, **payload: Any) -> None:
    """Append one event to the system chain (or another chain with a head row)."""
    head = _lock_head(session, chain)
    event = _event(chain, head.length + 1, head.head, actor, action, instance_id, task_id, payload)
    head.length, head.head = event["seq"], event["hash"]
    session.connection().execute(_INSERT_EVENT, [event])


def record_access(session: Session, actor: str, action: str, instance_id: int, **payload: Any) -> None:
    """Record that ``actor`` read something of a case (调阅), on the reader's own chain."""
    record(session, actor, action, chain=access_chain(actor), instance_id=instance_id, **payload)


# --- reading -----------------------------------------------------------------------------------

def events_of(session: Session, instance_id: int) -> list[AuditEvent]:
    """The acts on a case, in order."""
    return list(session.scalars(select(AuditEvent).where(AuditEvent.chain == case_chain(instance_id))
                                .order_by(AuditEvent.seq)))


def reads_of(session: Session, instance_id: int) -> int:
    """How many times the case's file or evidence was read."""
    return session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.instance_id == instance_id, _IS_READ)) or 0


def latest_reads(session: Session, instance_id: int, limit: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id, _IS_READ)
                                .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit)))


# --- verifying ---------------------------------------------------------------------------------

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
    heads = {h.name: (h.length, h.head) for h in session.scalars(select(AuditChain))}
    cases = dict(session.execute(select(Instance.id, Instance.audit_seq)).all())
    heads |= {case_chain(i): (seq, head) for i, seq, head
              in session.execute(select(Instance.id, Instance.audit_seq, Instance.audit_head))}
    chains = set(heads) | set(session.scalars(select(AuditEvent.chain).distinct()))
    created = set(session.scalars(select(AuditEvent.instance_id).where(
        AuditEvent.chain == SYSTEM, AuditEvent.action == "case.create")))
    breaks = [b for chain in sorted(chains) if (b := _verify_chain(session, chain, heads.get(chain)))]
    breaks += [Break(case_chain(i), None, "case recorded as created but missing") for i in sorted(created - set(cases))]
    return breaks


def _verify_chain(session: Session, chain: str, head: tuple[int, str] | None) -> Break | None:
    prev, seq = GENESIS, 0
    rows = session.execute(select(AuditEvent.__table__).where(AuditEvent.chain == chain).order_by(AuditEvent.seq))
    for event in rows.mappings():
        seq += 1
        if event["seq"] != seq:
            return Break(chain, seq, f"event #{seq} missing (found #{event['seq']})")
        if event["prev_hash"] != prev:
            return Break(chain, seq, "previous-hash link broken (reordered or removed before it)")
        if link_hash(event) != event["hash"]:
            return Break(chain, seq, "content changed after it was written")
        prev = event["hash"]
    if head is None:
        return Break(chain, None, "chain head missing")
    if head != (seq, prev):
        return Break(chain, seq + 1, f"tail deleted: head says {head[0]} events, found {seq}")
    return None


# --- browsing ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Search:
    chain: str | None = None  # system | case | access
    actor: str | None = None
    action: str | None = None
    instance_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def search(session: Session, filters: Search, page: int = 1, per_page: int = 50) -> tuple[list[AuditEvent], bool]:
    """Events matching ``filters``, newest first; and whether there are more."""
    f, query = filters, select(AuditEvent)
    if f.chain == "system":
        query = query.where(AuditEvent.chain == SYSTEM)
    elif f.chain == "case":
        query = query.where(AuditEvent.chain.startswith(CASE_PREFIX))
    elif f.chain == "access":
        query = query.where(AuditEvent.chain.startswith(ACCESS_PREFIX))
    if f.actor:
        query = query.where(AuditEvent.actor == f.actor)
    if f.action:
        query = query.where(AuditEvent.action.startswith(f.action))
    if f.instance_id is not None:
        query = query.where(AuditEvent.instance_id == f.instance_id)
    if f.since:
        query = query.where(AuditEvent.created_at >= f.since)
    if f.until:
        query = query.where(AuditEvent.created_at < f.until)
    page = max(1, min(page, 10_000))
    found = list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(per_page + 1).offset((page - 1) * per_page)))
    return found[:per_page], len(found) > per_page
