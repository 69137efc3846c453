"""The append-only, hash-chained audit log (全过程记录).

Three kinds of chain, so that writers who have nothing to do with each other never wait on each other:

- ``case:<id>``, the acts on one case. Its head (length and last hash) lives on the case row
  itself, so appending rides on the case's own write: the row's optimistic version check is the
  chain's lock, and a step costs one insert for its events.
- ``access:<username>``, what one person looked at (调阅: case files, evidence). Reading a case
  never takes the case's lock.
- ``system``, everything else (sign-ins, deployments, people, case creation).

Each event's hash covers its canonical JSON and the previous hash, keyed: HMAC-SHA256 under the
audit key (:mod:`workflows.core.keys`), which lives outside the database, so an edited event cannot
be given a matching hash again. Events written before keys (``key_id`` NULL) keep their plain
SHA-256 links; ``sanxiang init`` vouches for them once with a keyed digest (:func:`anchor_legacy`).
A chain's head (on the case row, or an ``audit_chain`` row locked while appending) makes a deleted
tail detectable; the signed checkpoints outside the database (:mod:`workflows.domain.checkpoints`)
make a deleted tail detectable even when the head was moved back with it.

The last event of each step of a case carries the case's *seal*: the SHA-256 of its serialized
state, its status and model version, a digest of its other columns and one of each of its ready
inbox rows; an act on a task seals that task's row. Verifying compares them with the case as it is,
so the state, a column or an inbox row edited in the database shows (until the case's next step,
which seals what it finds: verify often, the checkpoints do not help there).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any, Iterable, Iterator

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.attributes import set_committed_value

from workflows.core import contract, keys
from workflows.core.clock import now
from workflows.core.errors import case_changed
from workflows.core.models import READ_ACTIONS as INDEXED_READS, AuditChain, AuditEvent, HumanTask, Instance

SYSTEM = "system"
GENESIS = "0" * 64
CASE_PREFIX = "case:"
ACCESS_PREFIX = "access:"
VIEW = "case.view"
ANCHOR = "audit.anchor"
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


def _body(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "chain": row["chain"], "seq": row["seq"], "actor": row["actor"], "action": row["action"],
        "instance_id": row["instance_id"], "task_id": row["task_id"], "payload": row["payload"],
        "created_at": row["created_at"].astimezone(timezone.utc).isoformat(), "prev_hash": row["prev_hash"],
    }


def legacy_link(row: dict[str, Any]) -> str:
    """The plain SHA-256 link of an event written before keys (``key_id`` NULL)."""
    return hashlib.sha256(canonical(_body(row)).encode()).hexdigest()


def keyed_link(row: dict[str, Any], key: keys.Key) -> str:
    """The HMAC link of an event under ``key``: its fields, seal and key id included."""
    return key.link(canonical(_body(row) | {"key_id": row["key_id"], "seal": row["seal"]}).encode())


def link_hash(row: dict[str, Any], ring: keys.Keyring | None = None) -> str | None:
    """The hash one event (a row of ``audit_event`` as a mapping) should have; None when its key is unknown."""
    if row.get("key_id") is None:
        return legacy_link(row)
    key = ring.get(row["key_id"]) if ring is not None else None
    return keyed_link(row, key) if key is not None else None


def _event(key: keys.Key, chain: str, seq: int, prev_hash: str, actor: str, action: str, instance_id: int | None,
           task_id: str | None, payload: dict[str, Any]) -> dict[str, Any]:
    row = {"chain": chain, "seq": seq, "actor": actor, "action": action, "instance_id": instance_id,
           "task_id": task_id, "payload": canonical(payload), "created_at": now(), "prev_hash": prev_hash,
           "key_id": key.id, "seal": None}
    row["hash"] = keyed_link(row, key)
    return row


# --- the case chains --------------------------------------------------------------------------

def case_event(instance: Instance, actor: str, action: str, task_id: str | None = None,
               **payload: Any) -> dict[str, Any]:
    """Chain one event onto the loaded case row's head and return the row to insert.

    Only the loaded row moves: :mod:`workflows.domain.steps` writes the case row, new head
    included, with its version check, in the same unit of work as the events."""
    key = keys.of_session(object_session(instance)).current
    event = _event(key, case_chain(instance.id), instance.audit_seq + 1, instance.audit_head, actor, action,
                   instance.id, task_id, payload)
    set_committed_value(instance, "audit_seq", event["seq"])
    set_committed_value(instance, "audit_head", event["hash"])
    return event


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


_ROW_FIELDS = ("spec_id", "process_id", "name", "lane", "role_id", "unit_id", "assignee", "state", "created_at",
               "due_at")
# The case row's columns that lists, records and disclosures show, besides state, status and version
CASE_COLUMNS = ("case_no", "process_id", "unit_id", "created_by", "party_name", "matter_code", "status_reason",
                "error_task", "error_message", "closed_at", "decision_due", *contract.FACTS)


def _plain(value: Any) -> Any:
    """One spelling of a value, whichever database it was read from."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _digest(values: list[Any]) -> str:
    return hashlib.sha256(canonical([_plain(v) for v in values]).encode()).hexdigest()[:32]


def row_digest(row: Any) -> str:
    """The digest of an inbox row as a step left it (what lists show and access rules read; not the draft flag)."""
    return _digest([getattr(row, name) for name in _ROW_FIELDS])


def case_digest(case: Any, values: dict[str, Any] | None = None) -> str:
    """The digest of the case row's :data:`CASE_COLUMNS`, with ``values`` about to be written over them."""
    values = values or {}
    return _digest([values[name] if name in values else getattr(case, name) for name in CASE_COLUMNS])


def seal(instance: Instance, event: dict[str, Any], **facts: Any) -> None:
    """Put the case's seal on ``event``, the newest of its chain and not yet written: ``state`` (its
    hash), ``status``, ``version``, ``case`` (:func:`case_digest`), ``inbox`` (every ready row's
    :func:`row_digest`) or ``rows`` (some rows' digests)."""
    event["seal"] = canonical(facts)
    event["hash"] = keyed_link(event, keys.of_session(object_session(instance)).by_id[event["key_id"]])
    set_committed_value(instance, "audit_head", event["hash"])


def reseal(session: Session, instance: Instance, event: dict[str, Any], **facts: Any) -> None:
    """Amend the seal of ``event``, the newest event of the case, written earlier in this unit of work
    (a step whose inbox rows were rewritten after it, as migration does); the caller writes the case row."""
    assert event["seq"] == instance.audit_seq, "only the newest event of a case can be resealed"
    seal(instance, event, **(json.loads(event["seal"]) if event["seal"] else {}) | facts)
    table = AuditEvent.__table__
    session.connection().execute(update(table).where(table.c.chain == event["chain"], table.c.seq == event["seq"])
                                 .values(seal=event["seal"], hash=event["hash"]))


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
    key = keys.of_session(session).current
    head = _lock_head(session, chain)
    event = _event(key, chain, head.length + 1, head.head, actor, action, instance_id, task_id, payload)
    head.length, head.head = event["seq"], event["hash"]
    session.connection().execute(_INSERT_EVENT, [event])


def record_access(session: Session, actor: str, action: str, instance_id: int, **payload: Any) -> None:
    """Record that ``actor`` read something of a case (调阅), on the reader's own chain."""
    record(session, actor, action, chain=access_chain(actor), instance_id=instance_id, **payload)


# --- upgrading a log written before keys -------------------------------------------------------

def _unkeyed_digest(unkeyed: list[tuple[str, int, str]]) -> str:
    return hashlib.sha256(canonical(sorted(unkeyed)).encode()).hexdigest()


def anchor_legacy(session: Session) -> bool:
    """Vouch, once and keyed, for the events written before keys: each chain's unkeyed part (its
    length and last hash) goes into a digest recorded as ``audit.anchor`` on the system chain.

    Run by ``sanxiang init`` in the schema upgrade that brings keys (revision 0011), never later:
    unkeyed events after it are forgeries (and there is only ever one anchor). True when it
    recorded the anchor now."""
    if session.scalar(select(AuditEvent.id).where(AuditEvent.chain == SYSTEM, AuditEvent.action == ANCHOR).limit(1)):
        return False
    if not session.scalar(select(AuditEvent.id).where(AuditEvent.key_id.is_(None)).limit(1)):
        return False  # a log keyed from its start
    unkeyed = _unkeyed_parts(session)
    if not unkeyed:
        return False
    record(session, SYSTEM, ANCHOR, chains=len(unkeyed), events=sum(n for _c, n, _h in unkeyed),
           digest=_unkeyed_digest(unkeyed))
    return True


def _unkeyed_parts(session: Session) -> list[tuple[str, int, str]]:
    """Each chain's run of unkeyed events from its start: (chain, how many, the last one's hash)."""
    parts = []
    rows = session.execute(select(AuditEvent.chain, AuditEvent.seq, AuditEvent.hash, AuditEvent.key_id)
                           .order_by(AuditEvent.chain, AuditEvent.seq))
    for chain, events in groupby(rows, key=itemgetter(0)):
        n, last = 0, None
        for _chain, seq, digest, key_id in events:
            if key_id is not None or seq != n + 1:
                break
            n, last = seq, digest
        if n:
            parts.append((chain, n, last))
    return parts


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


@dataclass
class CaseFacts:
    """What a case's intact chain says about the case: its latest seal and what it records of tasks and evidence."""

    state: tuple[int, str] | None = None  # (seq of the event that recorded it, value)
    case: tuple[int, str] | None = None  # the digest of the case row's other columns
    status: tuple[int, str] | None = None
    version: tuple[int, int] | None = None
    inbox: dict[str, tuple[int, str]] | None = None  # ready task id -> (seq, row digest)
    completed: dict[str, tuple[int, str]] = field(default_factory=dict)  # task id -> (seq, actor)
    evidence: list[tuple[int, str, str | None, str | None, str | None]] = field(default_factory=list)
    # (seq, sha256, task id, field, file name) of each evidence.store


@dataclass
class Ledger:
    """One pass over every chain: the broken links, and what the intact chains say."""

    breaks: list[Break] = field(default_factory=list)
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)  # each chain's length and last hash, as found
    events: int = 0  # in the database, intact or not
    broken: set[str] = field(default_factory=set)
    cases: dict[int, CaseFacts] = field(default_factory=dict)
    deployments: dict[int, tuple[int, dict[str, str] | None]] = field(default_factory=dict)  # version -> (seq, files)
    created: dict[int, int] = field(default_factory=dict)  # case id -> seq of its case.create
    anchor: tuple[int, dict[str, Any]] | None = None
    unkeyed: dict[str, tuple[str, int, str]] = field(default_factory=dict)  # chain -> (chain, n, head) of its
    # run of events written before keys


def verify(session: Session) -> list[Break]:
    """Check every chain, and every case against the seal its chain carries; return the first broken
    link of each chain and each case that differs from its seal (empty when all is intact)."""
    return scan(session).breaks


def scan(session: Session, witnessed: dict[str, tuple[int, str]] | None = None, witness: str = "") -> Ledger:
    """Verify every chain in one pass (and against ``witnessed`` lengths and heads, a checkpoint's,
    named ``witness`` in messages); then the cases against their seals."""
    ring = keys.of_session(session)
    witnessed = witnessed or {}
    heads = {h.name: (h.length, h.head) for h in session.scalars(select(AuditChain))}
    cases = {case_chain(i): (seq, head) for i, seq, head
             in session.execute(select(Instance.id, Instance.audit_seq, Instance.audit_head))}
    heads |= cases
    ledger = Ledger(events=session.scalar(select(func.count()).select_from(AuditEvent)) or 0)
    rows = session.execute(select(AuditEvent.__table__).order_by(AuditEvent.chain, AuditEvent.seq)
                           .execution_options(yield_per=2000))
    seen = set()
    for chain, events in groupby(rows.mappings(), key=itemgetter("chain")):
        seen.add(chain)
        broken = _walk(chain, events, heads.get(chain), witnessed.get(chain), witness, ring, ledger)
        if broken:
            ledger.breaks.append(broken)
            ledger.broken.add(chain)
            ledger.cases.pop(_case_id(chain), None)
    for chain in sorted((set(heads) | set(witnessed)) - seen):  # chains without a single event
        broken = _ending(chain, 0, GENESIS, heads.get(chain, (0, GENESIS)), witnessed.get(chain), witness)
        if broken:
            ledger.breaks.append(broken)
            ledger.broken.add(chain)
    ledger.breaks += _creations(ledger, {int(c[len(CASE_PREFIX):]) for c in cases})
    ledger.breaks += _legacy(ledger)
    ledger.breaks += _seals(session, ledger)
    return ledger


def _case_id(chain: str) -> int | None:
    return int(chain[len(CASE_PREFIX):]) if chain.startswith(CASE_PREFIX) else None


def _walk(chain: str, events: Iterable[Any], head: tuple[int, str] | None, expect: tuple[int, str] | None,
          witness: str, ring: keys.Keyring, ledger: Ledger) -> Break | None:
    """Verify one chain's events in order, folding what they say into ``ledger``; the first break."""
    prev, seq, keyed = GENESIS, 0, False
    case_id = _case_id(chain)
    facts = ledger.cases.setdefault(case_id, CaseFacts()) if case_id is not None else None
    for event in events:
        seq += 1
        if event["seq"] != seq:
            return Break(chain, seq, f"event #{seq} missing (found #{event['seq']})")
        if event["prev_hash"] != prev:
            return Break(chain, seq, "previous-hash link broken (reordered or removed before it)")
        key_id = event["key_id"]
        if key_id is None:
            if keyed:
                return Break(chain, seq, "written without the audit key after keyed events: forged (a plain "
                                         "SHA-256 link anyone can recompute)")
            ledger.unkeyed[chain] = (chain, seq, event["hash"])
        elif ring.get(key_id) is None:
            return Break(chain, seq, f"linked under audit key {key_id}, which the key file does not hold: forged, "
                                     "or the key file is not this database's")
        else:
            keyed = True
        if link_hash(event, ring) != event["hash"]:
            return Break(chain, seq, "content changed after it was written" + (
                " (its keyed hash does not match: edited, or forged without the key)" if keyed else ""))
        if expect and seq == expect[0] and event["hash"] != expect[1]:
            return Break(chain, seq, f"not the event {witness} recorded here: replaced since")
        if facts is not None:
            _fold_case(facts, event)
        elif chain == SYSTEM:
            _fold_system(ledger, event)
        prev = event["hash"]
    ledger.heads[chain] = (seq, prev)
    return _ending(chain, seq, prev, head, expect, witness)


def _ending(chain: str, seq: int, prev: str, head: tuple[int, str] | None, expect: tuple[int, str] | None,
            witness: str) -> Break | None:
    """Whether a chain of ``seq`` events ending in ``prev`` ends where its head and the checkpoint say."""
    if expect and expect[0] > seq:
        return Break(chain, seq + 1, f"{expect[0] - seq} event(s) deleted from its end: {witness} recorded "
                                     f"{expect[0]} events, the database holds {seq}")
    if head is None:
        return Break(chain, None, "chain head missing")
    if head[0] > seq:
        return Break(chain, seq + 1, f"tail deleted: head says {head[0]} events, found {seq}")
    if head[0] < seq:
        return Break(chain, head[0] + 1, f"head moved back: head says {head[0]} events, found {seq}")
    if head[1] != prev:
        return Break(chain, seq, "the head's hash is not the last event's")
    return None


def _fold_case(facts: CaseFacts, event: Any) -> None:
    seq = event["seq"]
    if event["seal"]:
        sealed = json.loads(event["seal"])
        for name in ("state", "status", "version", "case"):
            if name in sealed:
                setattr(facts, name, (seq, sealed[name]))
        if "inbox" in sealed:
            facts.inbox = {tid: (seq, digest) for tid, digest in sealed["inbox"].items()}
        if "rows" in sealed and facts.inbox is not None:
            facts.inbox |= {tid: (seq, digest) for tid, digest in sealed["rows"].items() if tid in facts.inbox}
    action = event["action"]
    if action == "task.complete" and event["task_id"]:
        facts.completed[event["task_id"]] = (seq, event["actor"])
    elif action == "evidence.store":
        payload = json.loads(event["payload"])
        facts.evidence.append((seq, payload.get("sha256"), event["task_id"], payload.get("field"),
                               payload.get("filename")))


def _fold_system(ledger: Ledger, event: Any) -> None:
    action = event["action"]
    if action == "case.create" and event["instance_id"] is not None:
        ledger.created[event["instance_id"]] = event["seq"]
    elif action == "model.deploy":
        payload = json.loads(event["payload"])
        ledger.deployments[payload["version"]] = (event["seq"], payload.get("files"))
    elif action == ANCHOR:
        ledger.anchor = (event["seq"], json.loads(event["payload"]))


def _creations(ledger: Ledger, case_ids: set[int]) -> list[Break]:
    breaks = [Break(case_chain(i), None, "case recorded as created but missing")
              for i in sorted(set(ledger.created) - case_ids)]
    if SYSTEM not in ledger.broken:
        breaks += [Break(case_chain(i), None, "the case exists but the system chain never recorded its creation: "
                                              "inserted outside the engine")
                   for i in sorted(case_ids - set(ledger.created))]
    return breaks


def _legacy(ledger: Ledger) -> list[Break]:
    """Events written before keys are trusted only as far as the keyed anchor vouches for them."""
    if not ledger.unkeyed or set(ledger.unkeyed) & ledger.broken:
        return []
    unkeyed = list(ledger.unkeyed.values())
    chains, events = len(unkeyed), sum(n for _c, n, _h in unkeyed)
    if ledger.anchor is None:
        return [Break(SYSTEM, None, f"{events} event(s) in {chains} chain(s) were written without the audit key and "
                                    "no keyed anchor vouches for them: forged (`sanxiang init` anchors the events of "
                                    "a database older than keys once, in the upgrade that brings them)")]
    seq, anchored = ledger.anchor
    if anchored.get("digest") != _unkeyed_digest(unkeyed):
        return [Break(SYSTEM, seq, f"the events written before the audit key differ from those anchored here at the "
                                   f"upgrade ({anchored.get('events')} event(s) in {anchored.get('chains')} chain(s) "
                                   f"then, {events} in {chains} now): edited, added or deleted since")]
    return []


def _seals(session: Session, ledger: Ledger) -> list[Break]:
    """Each case as it is against what its chain recorded: state, status, version, inbox rows, completions."""
    columns = [getattr(HumanTask, name) for name in ("instance_id", "task_id", "completed_by", *_ROW_FIELDS)]
    ready: dict[int, dict[str, Any]] = {}
    completed: dict[int, dict[str, Any]] = {}
    for row in session.execute(select(*columns).where(HumanTask.state.in_(("ready", "completed")))
                               .execution_options(yield_per=5000)):
        (ready if row.state == "ready" else completed).setdefault(row.instance_id, {})[row.task_id] = row
    breaks = []
    cases = session.execute(select(Instance.id, Instance.model_version, Instance.status, Instance.state,
                                   *[getattr(Instance, name) for name in CASE_COLUMNS])
                            .order_by(Instance.id).execution_options(yield_per=500))
    for case in cases:
        facts = ledger.cases.get(case.id)
        if facts is None:
            continue
        breaks += _case_seal(case_chain(case.id), facts, case, ready.get(case.id, {}), completed.get(case.id, {}))
    return breaks


def _case_seal(chain: str, facts: CaseFacts, case: Any, ready: dict[str, Any],
               completed: dict[str, Any]) -> Iterator[Break]:
    status, version = case.status, case.model_version
    if facts.state and state_hash(case.state or "") != facts.state[1]:
        yield Break(chain, facts.state[0], "the case's state (its serialized workflow) is not the one recorded here: "
                                           "edited outside the engine")
    if facts.status and status != facts.status[1]:
        yield Break(chain, facts.status[0], f"the case's status is {status!r}, but {facts.status[1]!r} was "
                                            "recorded here: edited outside the engine")
    if facts.version and version != facts.version[1]:
        yield Break(chain, facts.version[0], f"the case runs on model version {version}, but {facts.version[1]} "
                                             "was recorded here: edited outside the engine")
    if facts.case and case_digest(case) != facts.case[1]:
        yield Break(chain, facts.case[0], "the case row's columns (number, unit, party, matter, facts of the decision, "
                                          "reasons) are not those recorded here: edited outside the engine")
    if facts.inbox is not None:
        now_rows = {tid: row_digest(row) for tid, row in ready.items()}
        changed = sorted(t for t in set(now_rows) & set(facts.inbox) if now_rows[t] != facts.inbox[t][1])
        gone, extra = sorted(set(facts.inbox) - set(now_rows)), sorted(set(now_rows) - set(facts.inbox))
        if changed or gone or extra:
            parts = ([f"changed {_task(t, ready)}" for t in changed] + [f"no longer ready {t}" for t in gone]
                     + [f"never recorded {_task(t, ready)}" for t in extra])
            seq = max(facts.inbox[t][0] for t in changed + gone) if changed or gone else max(
                (s for s, _d in facts.inbox.values()), default=None)
            yield Break(chain, seq, "inbox rows differ from those recorded: " + "; ".join(parts)
                        + " (edited outside the engine)")
    for tid, (seq, actor) in sorted(facts.completed.items(), key=lambda item: item[1][0]):
        row = completed.get(tid)
        if row is None:
            yield Break(chain, seq, f"task {tid} was completed here by {actor}, but its inbox row no longer says "
                                    "so: edited or deleted outside the engine")
        elif row.completed_by != actor:
            yield Break(chain, seq, f"task {tid} ({row.name}) was completed here by {actor}, but its inbox row "
                                    f"names {row.completed_by}: edited outside the engine")
    for tid in sorted(set(completed) - set(facts.completed)):
        yield Break(chain, None, f"inbox row {_task(tid, completed)} says completed by {completed[tid].completed_by}, "
                                 "but the chain never recorded that completion: edited outside the engine")


def _task(task_id: str, rows: dict[str, Any]) -> str:
    row = rows.get(task_id)
    return f"{task_id} ({row.name}, assignee {row.assignee or '-'})" if row is not None else task_id


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
