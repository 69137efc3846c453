"""Signed checkpoints of the audit log, in the manner of Certificate Transparency.

A checkpoint states every chain's length and head and the number of events, signed with the
audit key's Ed25519 half (:mod:`workflows.core.keys`), and is appended as one JSON line to a file
outside the database (``SANXIANG_CHECKPOINT_FILE``). It is also printed, short enough to paste
into a ticket, a mail or a paper register: whoever keeps copies can tell later whether the log
still extends what it said then. Verifying (:mod:`workflows.domain.integrity`) checks the database
against the latest checkpoint: a chain cut short, moved back with its head, or deleted wholesale
shows, whatever the database says of itself.

Each line holds the chains that changed since the line before it (so the file grows with the log,
not with its size times the number of checkpoints); replaying the lines gives every chain's
length and head, and each line's ``root`` is the SHA-256 of that whole list, signed. Each line also
names the hash of the line before it, so a line taken out of the file shows.

Lines are written by ``sanxiang verify --checkpoint`` (after a clean verification) and by the
timer worker every ``SANXIANG_CHECKPOINT_INTERVAL`` seconds. A checkpoint that would say a chain is
shorter than before, or ends elsewhere at the same length, is refused.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import clock, keys
from workflows.core.models import AuditChain, Instance
from workflows.core.settings import Settings
from workflows.domain.audit import canonical, case_chain

VERSION = 1
Heads = dict[str, tuple[int, str]]


class CheckpointRefused(Exception):
    """The log no longer extends the latest checkpoint: no new checkpoint is written over that."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    at: str
    key_id: str
    public_key: str
    events: int
    chains: int
    root: str
    prev: str  # the SHA-256 of the previous line's header ("" for the first)
    changes: str  # the SHA-256 of ``changed``
    signature: str
    changed: dict[str, list] = field(default_factory=dict, repr=False, compare=False)

    def header(self) -> dict[str, Any]:
        return {"v": VERSION, "seq": self.seq, "at": self.at, "key_id": self.key_id, "public_key": self.public_key,
                "events": self.events, "chains": self.chains, "root": self.root, "prev": self.prev,
                "changes": self.changes}

    def signed_bytes(self) -> bytes:
        return canonical(self.header()).encode()

    def digest(self) -> str:
        return hashlib.sha256(self.signed_bytes()).hexdigest()

    def line(self) -> str:
        return canonical(self.header() | {"signature": self.signature, "changed": self.changed})

    def statement(self) -> str:
        """The signed statement on one line, to paste elsewhere (every field the signature covers)."""
        return canonical(self.header() | {"signature": self.signature})

    def text(self) -> str:
        return (f"audit checkpoint #{self.seq} at {self.at}: {self.events} events in {self.chains} chains, "
                f"root {self.root}, signed by key {self.key_id}\n{self.statement()}")

    @property
    def name(self) -> str:
        return f"checkpoint #{self.seq} of {self.at}"


def root_of(heads: Heads) -> str:
    """The SHA-256 of every chain's [name, length, head], sorted by name."""
    return hashlib.sha256(canonical(sorted([c, n, h] for c, (n, h) in heads.items())).encode()).hexdigest()


def current_heads(session: Session) -> Heads:
    """Every chain's length and head as the database's head rows say (one read of each table)."""
    heads = {h.name: (h.length, h.head) for h in session.scalars(select(AuditChain)) if h.length}
    heads |= {case_chain(i): (n, h) for i, n, h
              in session.execute(select(Instance.id, Instance.audit_seq, Instance.audit_head)
                                 .where(Instance.audit_seq > 0))}
    return heads


@dataclass
class History:
    """What the checkpoint file says: every chain as of its latest line, and what is wrong with the file."""

    heads: Heads = field(default_factory=dict)
    latest: Checkpoint | None = None
    problems: list[str] = field(default_factory=list)
    count: int = 0


def read(path: Path, ring: keys.Keyring) -> History:
    """Replay the checkpoint file, checking each line's signature, its link to the line before, its
    root, and that no chain ever shrinks or forks from one line to the next."""
    history = History()
    try:
        text = path.read_text()
    except FileNotFoundError:
        return history
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        where = f"checkpoint file {path} line {number}"
        try:
            data = json.loads(raw)
            point = Checkpoint(data["seq"], data["at"], data["key_id"], data["public_key"], data["events"],
                               data["chains"], data["root"], data["prev"], data["changes"], data["signature"],
                               {c: list(v) for c, v in data["changed"].items()})
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            history.problems.append(f"{where}: not a checkpoint ({exc}); the file was edited")
            break
        problem = _check(point, history, ring)
        if problem:
            history.problems.append(f"{where} ({point.name}): {problem}")
            break
        history.latest, history.count = point, history.count + 1
    return history


def _check(point: Checkpoint, history: History, ring: keys.Keyring) -> str | None:
    key = ring.get(point.key_id)
    if key is None:
        return f"signed by key {point.key_id}, which the key file does not hold"
    if point.public_key != key.public_hex or not key.signed(point.signed_bytes(), point.signature):
        return "its signature does not verify: the line was edited or forged"
    previous = history.latest
    if point.seq != (previous.seq + 1 if previous else 1) or point.prev != (previous.digest() if previous else ""):
        return "it does not follow the line before it: a checkpoint was removed or reordered"
    if point.changes != hashlib.sha256(canonical(point.changed).encode()).hexdigest():
        return "its list of changed chains was edited"
    for chain, (length, head) in point.changed.items():
        before = history.heads.get(chain)
        if before and (length < before[0] or (length == before[0] and head != before[1])):
            return (f"chain {chain} went from {before[0]} events to {length}: the log was cut or forked "
                    "between checkpoints")
        history.heads[chain] = (length, head)
    if root_of(history.heads) != point.root or len(history.heads) != point.chains:
        return "its root is not that of the chains it lists"
    return None


def write(session: Session, settings: Settings) -> Checkpoint:
    """Append a signed checkpoint of the log as the database has it now, and return it.

    Refused (:class:`CheckpointRefused`) when the file has problems or the log no longer extends the
    latest checkpoint (a chain shorter, or ending elsewhere at the same length)."""
    ring = keys.of_session(session)
    path = settings.checkpoint_path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # one writer at a time (the worker and an operator may meet)
        history = read(path, ring)
        if history.problems:
            raise CheckpointRefused(history.problems)
        heads = current_heads(session)
        problems = _shrunk(history, heads)
        if problems:
            raise CheckpointRefused(problems)
        changed = {c: [n, h] for c, (n, h) in sorted(heads.items()) if history.heads.get(c) != (n, h)}
        key = ring.current
        previous = history.latest
        point = Checkpoint(seq=previous.seq + 1 if previous else 1, at=clock.now().isoformat(), key_id=key.id,
                           public_key=key.public_hex, events=sum(n for n, _h in heads.values()), chains=len(heads),
                           root=root_of(heads), prev=previous.digest() if previous else "",
                           changes=hashlib.sha256(canonical(changed).encode()).hexdigest(), signature="",
                           changed=changed)
        point = Checkpoint(**{**point.__dict__, "signature": key.sign(point.signed_bytes())})
        fh.seek(0, os.SEEK_END)
        fh.write(point.line() + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return point


def due(settings: Settings) -> bool:
    """Whether the worker should write a checkpoint now (none yet, or the latest older than the interval)."""
    if settings.checkpoint_interval <= 0:
        return False
    latest = _last_time(settings.checkpoint_path)
    return latest is None or clock.now() - latest >= timedelta(seconds=settings.checkpoint_interval)


def _shrunk(history: History, heads: Heads) -> list[str]:
    """The chains that no longer extend the latest checkpoint."""
    problems = []
    for chain, (length, head) in sorted(history.heads.items()):
        now_length, now_head = heads.get(chain, (0, ""))
        if now_length < length:
            problems.append(f"{chain}: {length} events at {history.latest.name}, {now_length} now")
        elif now_length == length and now_head != head:
            problems.append(f"{chain}: ends elsewhere than at {history.latest.name}, with the same {length} events")
    return problems


def _last_time(path: Path) -> datetime | None:
    """The time of the file's last line, read from its end (a line starts with its time: keys are sorted)."""
    start = b'{"at":"'
    try:
        with open(path, "rb") as fh:
            end = fh.seek(0, os.SEEK_END)
            chunk, tail = 65536, b""
            while True:
                offset = max(0, end - chunk)
                fh.seek(offset)
                tail = fh.read(end - offset)
                lines = [line for line in tail.splitlines() if line.startswith(start)]
                if lines or offset == 0:
                    break
                chunk *= 4
    except FileNotFoundError:
        return None
    if not lines:
        return None
    text = lines[-1][len(start):]
    try:
        return datetime.fromisoformat(text[:text.index(b'"')].decode())
    except ValueError:
        return None
