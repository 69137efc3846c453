"""Disclosure records (公示): what the public portal will show, redacted when written.

A diagram's ``write_disclosure`` script task (:data:`~workflows.core.contract.DISCLOSURE_HOOK`)
marks the moment; the engine then writes the record from the case data and audits it with the step. Personal data is removed before the record exists (IM Art. 10): natural persons
become surname + 某, and ID numbers, phone numbers, bank accounts and home addresses never reach
the record's text. Cases marked not to be published get a record with the reason and no content.
"""
from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import contract
from workflows.core.models import Disclosure, Instance, Matter, Unit
from workflows.engine.runtime import today

MASK = "＊＊"

# Two-character surnames that must not be cut to one character.
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 钟离 闾丘 端木 南宫 西门 独孤 呼延".split())

_PATTERNS = (
    re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"),
    re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)"),   # mobile
    re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)"),                             # landline
    re.compile(r"(?<!\d)\d{4}(?:[ -]?\d{4}){2,3}(?:[ -]?\d{1,3})?(?!\d)"),      # bank card / account
)


def redact_text(text: str | None) -> str:
    """Mask ID numbers, phone numbers and bank accounts anywhere in free text."""
    if not text:
        return ""
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text


def redact_name(name: str, party_type: str | None) -> str:
    """Natural persons are shown as surname + 某; organisations keep their name."""
    name = (name or "").strip()
    if party_type != "natural_person" or not name:
        return redact_text(name)
    surname = name[:2] if name[:2] in COMPOUND_SURNAMES else name[:1]
    return surname + "某"


def scrub(text: str | None, data: dict[str, Any]) -> str:
    """Redact free text of a case: the party's own name, numbers and home address, then any numbers."""
    text = text or ""
    person = data.get("party_type") == "natural_person"
    name = (data.get("party_name") or "").strip()
    if person and name:
        text = text.replace(name, redact_name(name, "natural_person"))
    for key in ("party_id_number", "party_phone") + (("party_address",) if person else ()):
        value = (data.get(key) or "").strip()
        if len(value) >= 4:
            text = text.replace(value, MASK)
    return redact_text(text)


def _money(value: Any) -> str | None:
    return f"{Decimal(value):.2f}" if value not in (None, "") else None


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, date) else (str(value) if value else None)


def _matter_label(session: Session, code: str | None) -> str:
    matter = session.get(Matter, code) if code else None
    return f"{matter.code} {matter.name}" if matter else (code or "")


def penalty_record(session: Session, instance: Instance, data: dict[str, Any]) -> dict[str, Any]:
    """The public content of a decision, built only from redacted values."""
    unit = session.get(Unit, instance.unit_id)
    return {
        "case_no": instance.case_no,
        "enforcing_body": data.get("agency_name", ""),
        "unit": unit.name if unit else "",
        "party": redact_name(data.get("party_name", ""), data.get("party_type")),
        "party_type": data.get("party_type"),
        "matter": _matter_label(session, data.get("matter_code")),
        "facts": scrub(data.get("disclosure_facts"), data),
        "legal_basis": scrub(data.get("disclosure_basis"), data),
        "decision": scrub(data.get("disclosure_decision_text") or data.get("decision_text"), data),
        "decision_kind": data.get("decision_kind"),
        "penalty_type": data.get("penalty_type"),
        "fine_amount": _money(data.get("fine_amount")),
        "confiscation_amount": _money(data.get("confiscation_amount")),
        "decision_doc_no": data.get("decision_doc_no"),
        "decision_date": _iso(data.get("decision_date")),
    }


MATTER_FIELDS = ("matter_code", "matter_name", "matter_category", "enforcement_subject", "duties", "powers",
                 "legal_basis", "procedure", "remedy_channels", "receiving_body", "approving_body",
                 "guide_materials", "guide_time_limit", "guide_office_hours", "guide_address", "guide_phone",
                 "random_inspection", "matter_status")


def matter_record(data: dict[str, Any]) -> dict[str, Any]:
    """A pre-disclosure entry of the enforcement catalogue and its service guide (no personal data)."""
    return {"enforcing_body": data.get("agency_name", "")} | {k: _iso(data[k]) if isinstance(data.get(k), date) else data.get(k)
                                         for k in MATTER_FIELDS}


def write(session: Session, instance: Instance, process_id: str, data: dict[str, Any]) -> Disclosure:
    """Write the disclosure record of the step that just passed the disclosure hook."""
    kind = contract.disclosure_kind(process_id)
    publish = kind == "matter" or bool(data.get("publish"))
    content = matter_record(data) if kind == "matter" else penalty_record(session, instance, data)
    record = Disclosure(
        kind=kind, instance_id=instance.id, case_no=instance.case_no,
        title=content.get("matter_name") or content.get("matter") or instance.case_no,
        content=json.dumps(content if publish else {}, ensure_ascii=False, sort_keys=True),
        publish=publish, not_published_reason=None if publish else (data.get("not_published_reason") or "unspecified"),
        not_published_note=None if publish else scrub(data.get("not_published_note"), data),
        published_on=today() if publish else None,
    )
    session.add(record)
    session.flush()
    return record


def of_case(session: Session, instance_id: int) -> list[Disclosure]:
    return list(session.scalars(select(Disclosure).where(Disclosure.instance_id == instance_id)
                                .order_by(Disclosure.id)))
