"""Evidence of a case (音像及书证记录): stored by content hash, linked to case and task, audited."""
from __future__ import annotations

from typing import BinaryIO, Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.domain import access, audit, steps
from workflows.core.errors import InstanceNotActive, NotFound
from workflows.domain.evidence_store import (
    AV_TYPES, DEFAULT_ALLOWED_TYPES, EvidenceStore, EvidenceTypeNotAllowed, LocalEvidenceStore, StoredObject,
)
from workflows.core.messages import Message
from workflows.core.models import Evidence, EvidenceLink, Instance, User
from workflows.core.settings import Settings


def evidence_store(settings: Settings) -> EvidenceStore:
    return LocalEvidenceStore(settings.evidence_path, settings.evidence_max_bytes, DEFAULT_ALLOWED_TYPES)


def store_evidence(session: Session, store: EvidenceStore, stream: BinaryIO, filename: str, actor: str,
                   instance: Instance, task_id: str | None = None, field_id: str | None = None,
                   av_only: bool = False) -> Evidence:
    """Stream a file into the store and link it to the case (and task); the hash is audited.

    A closed case's file is complete: nothing is added after archiving (MCA-68 Art. 51). An
    audio-visual record (``av_only``, a field with ``media="av"``) is sound or video, judged from the
    bytes; anything else is refused before it is linked to the case."""
    if instance.status in ("completed", "terminated"):
        raise InstanceNotActive(Message("案件%(case_no)s已结案归档，不能再添加证据", case_no=instance.case_no))
    stored: StoredObject = store.put(stream, filename)
    if av_only and stored.mime not in AV_TYPES:
        raise EvidenceTypeNotAllowed(stored.mime, AV_TYPES)
    row = session.get(Evidence, stored.sha256)
    if row is None:
        row = Evidence(sha256=stored.sha256, size=stored.size, mime=stored.mime, filename=stored.filename,
                       uploaded_by=actor)
        session.add(row)
    link = session.scalars(select(EvidenceLink).where(
        EvidenceLink.sha256 == stored.sha256, EvidenceLink.instance_id == instance.id,
        EvidenceLink.task_id == task_id, EvidenceLink.field_id == field_id)).first()
    if link is None:
        session.add(EvidenceLink(sha256=stored.sha256, instance_id=instance.id, task_id=task_id,
                                 field_id=field_id, linked_by=actor))
    steps.record(session, instance, actor, "evidence.store", task_id=task_id, field=field_id,
                 sha256=stored.sha256, size=stored.size, mime=stored.mime, filename=stored.filename)
    return row


def evidence_of(session: Session, instance_id: int) -> list[EvidenceLink]:
    return list(session.scalars(select(EvidenceLink).where(EvidenceLink.instance_id == instance_id)
                                .order_by(EvidenceLink.linked_at, EvidenceLink.id)))


def read_evidence(session: Session, store: EvidenceStore, actor: User, instance_id: int,
                  sha256: str) -> tuple[Evidence, Iterator[bytes]]:
    """Open a case's evidence for a reader of the case; reading a record (调阅) is itself recorded."""
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound(f"case {instance_id} does not exist")
    access.check_read_case(session, actor, instance)
    link = session.scalars(select(EvidenceLink).where(EvidenceLink.instance_id == instance.id,
                                                      EvidenceLink.sha256 == sha256)).first()
    if link is None:
        raise NotFound(Message("该案件没有这份证据"))
    chunks = store.open(sha256)
    audit.record_access(session, actor.username, "evidence.read", instance.id, sha256=sha256)
    return link.evidence, chunks


def verify_store(session: Session, store: EvidenceStore) -> list[str]:
    """Re-hash every stored file the database knows; name each that changed or vanished."""
    return [f"{subject}: {message}" for subject, message in verify_files(session, store)]


def verify_files(session: Session, store: EvidenceStore, also: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Re-hash every stored file the database (or ``also``) names: (subject, what is wrong) of each
    that changed or vanished."""
    problems = []
    for sha256 in sorted(set(session.scalars(select(Evidence.sha256))) | set(also)):
        problem = store.check(sha256)
        if problem:
            problems.append((f"evidence {sha256}", problem))
    return problems


def verify_links(session: Session, store: EvidenceStore, ledger: audit.Ledger) -> list[tuple[str, str]]:
    """Evidence as the case chains recorded it (``evidence.store``: which file, for which case, task
    and field) against the links, the evidence rows and the files: a link moved to another case, or
    a file deleted with its rows, shows. (subject, what is wrong) of each problem."""
    problems = []
    links = {(link.instance_id, link.sha256, link.task_id, link.field_id)
             for link in session.execute(select(EvidenceLink.instance_id, EvidenceLink.sha256, EvidenceLink.task_id,
                                                EvidenceLink.field_id))}
    described = set(session.scalars(select(Evidence.sha256)))
    recorded: dict[tuple, int] = {}
    for case_id, facts in ledger.cases.items():
        for seq, sha256, task_id, field_id, filename in facts.evidence:
            where, what = f"audit chain {audit.case_chain(case_id)} #{seq}", f"evidence {sha256} ({filename})"
            recorded.setdefault((case_id, sha256, task_id, field_id), seq)
            if (case_id, sha256, task_id, field_id) not in links:
                problems.append((where, f"{what} stored here is no longer linked to the case: "
                                        "the link was deleted or moved outside the engine"))
            if sha256 not in described:
                problems.append((where, f"{what} stored here has no evidence row: deleted outside the engine"))
    for case_id, sha256, task_id, field_id in sorted(links - set(recorded), key=str):
        if audit.case_chain(case_id) in ledger.broken:
            continue
        problems.append((f"evidence {sha256}", f"linked to case {case_id}" + (f", task {task_id}" if task_id else "")
                         + ", but that case's chain never recorded storing it: linked outside the engine"))
    return problems + verify_files(session, store, {key[1] for key in recorded})
