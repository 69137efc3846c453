"""One check of everything the records promise (`sanxiang verify`, and the administrators' "verify now").

- every audit chain links up under the audit key and ends where its head says (:mod:`audit`);
- the log still extends the latest signed checkpoint outside the database (:mod:`checkpoints`),
  so a chain cut short or deleted wholesale shows even when its head was moved back with it;
- every case is as the seal on its chain recorded it: state, status, version, inbox rows and who
  completed each task (:func:`audit.scan`);
- every deployed model set is the files its deployment event recorded, each blob still hashing to
  its name;
- every evidence link is one its case's chain recorded, and every evidence its chains recorded is
  still linked, described and stored, each file hashing to its name (:mod:`records`).
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import keys
from workflows.core.models import ModelBlob, ModelFile, ModelSet
from workflows.domain import audit, checkpoints, records
from workflows.domain.evidence_store import EvidenceStore


@dataclass(frozen=True)
class Problem:
    kind: str  # key | checkpoint | audit | model | evidence
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "subject": self.subject, "message": self.message}


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)
    checkpoint: checkpoints.Checkpoint | None = None
    key_id: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        latest = self.checkpoint
        return {"ok": self.ok, "problems": [p.as_dict() for p in self.problems], "checked": self.checked,
                "key_id": self.key_id,
                "checkpoint": latest.header() | {"signature": latest.signature} if latest else None}


def report(session: Session, store: EvidenceStore) -> Report:
    """Check everything; each problem names what is wrong and where."""
    out = Report()
    settings = session.info.get("settings")
    try:
        ring = keys.of_session(session)
    except keys.KeyMissing as exc:
        out.problems.append(Problem("key", "audit key", f"{exc}: the audit chains cannot be verified"))
        out.problems += _evidence_files(session, store)
        return out
    out.key_id = ring.current.id
    history = checkpoints.read(settings.checkpoint_path, ring)
    out.problems += [Problem("checkpoint", "checkpoints", p) for p in history.problems]
    out.checkpoint = history.latest
    ledger = audit.scan(session, history.heads, history.latest.name if history.latest else "")
    out.problems += [Problem("audit", f"audit chain {b.chain}" + (f" #{b.seq}" if b.seq is not None else ""),
                             b.problem) for b in ledger.breaks]
    if history.latest and ledger.events < history.latest.events:
        out.problems.append(Problem("checkpoint", "audit log",
                                    f"{ledger.events} events in the database, {history.latest.events} at "
                                    f"{history.latest.name}: {history.latest.events - ledger.events} deleted"))
    models = _model_sets(session, ledger)
    out.problems += models
    evidence = records.verify_links(session, store, ledger)
    out.problems += [Problem("evidence", subject, message) for subject, message in evidence]
    out.checked = {"chains": len(ledger.heads), "events": ledger.events, "cases": len(ledger.cases),
                   "model_sets": len(ledger.deployments), "checkpoints": history.count}
    return out


def problems(session: Session, store: EvidenceStore) -> list[str]:
    """Each problem as one line; empty when everything verifies."""
    return [str(p) for p in report(session, store).problems]


def _evidence_files(session: Session, store: EvidenceStore) -> list[Problem]:
    return [Problem("evidence", subject, message) for subject, message in records.verify_files(session, store)]


def _model_sets(session: Session, ledger: audit.Ledger) -> list[Problem]:
    """Each model set against the files its deployment recorded; each blob against its hash."""
    found: list[Problem] = []
    files: dict[int, dict[str, str]] = defaultdict(dict)
    for version, filename, digest in session.execute(select(ModelFile.version, ModelFile.filename, ModelFile.sha256)):
        files[version][filename] = digest
    versions = set(session.scalars(select(ModelSet.version)))
    system_intact = audit.SYSTEM not in ledger.broken
    for version in sorted(versions | set(files)):
        subject = f"model set version {version}"
        deployed = ledger.deployments.get(version)
        if deployed is None:
            if system_intact:
                found.append(Problem("model", subject, "the system chain never recorded its deployment: "
                                                       "inserted outside the engine"))
            continue
        seq, recorded = deployed
        if recorded is None:
            continue
        now = files.get(version, {})
        diff = ([f"changed {n}" for n in sorted(set(now) & set(recorded)) if now[n] != recorded[n]]
                + [f"missing {n}" for n in sorted(set(recorded) - set(now))]
                + [f"added {n}" for n in sorted(set(now) - set(recorded))])
        if diff:
            found.append(Problem("model", subject, f"its files are not those its deployment recorded (system #{seq}): "
                                                   + "; ".join(diff) + " (edited outside the engine)"))
    if system_intact:
        found += [Problem("model", f"model set version {v}", f"deployed (system #{seq}) but missing from the database")
                  for v, (seq, _files) in sorted(ledger.deployments.items()) if v not in versions]
    names: dict[str, list[str]] = defaultdict(list)
    for version, by_name in files.items():
        for filename, digest in by_name.items():
            names[digest].append(f"{filename} (version {version})")
    for digest, content in session.execute(select(ModelBlob.sha256, ModelBlob.content)):
        if hashlib.sha256(content).hexdigest() != digest:
            used = ", ".join(sorted(names.get(digest, []))) or "no model set"
            found.append(Problem("model", f"model file {digest[:12]}…", f"its content no longer hashes to its name: "
                                                                      f"edited in the database (used by {used})"))
    return found
