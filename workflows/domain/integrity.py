"""One check of everything the records promise: every audit chain links up and ends where its head
says, and every evidence file still hashes to its name (`sanxiang verify`, and the administrators'
"verify now")."""
from __future__ import annotations

from sqlalchemy.orm import Session

from workflows.domain import audit, records
from workflows.domain.evidence_store import EvidenceStore


def problems(session: Session, store: EvidenceStore) -> list[str]:
    """Each problem as one line; empty when everything verifies."""
    return [f"audit chain {b}" for b in audit.verify(session)] + records.verify_store(session, store)
