"""Disclosure records (公示): what the public portal shows, redacted when written, and their life after.

A diagram's ``write_disclosure`` script task (:data:`~workflows.core.contract.DISCLOSURE_HOOK`)
marks the moment; the engine then writes the record from the case data and audits it with the step.
Personal data is removed before the record exists (IM Art. 10): natural persons become surname + 某,
and ID numbers, phone numbers, bank accounts and addresses never reach the record's text; an
organisation is shown with its unified social credit code. Cases marked not to be published get a
record with the reason and no content (``withheld``).

A published decision stays public until its retention ends (``retain_until``: months from the
decision date by the class of the information, policy settings with their basis, see
:func:`retention`). Before that it may be withdrawn or corrected: the ``disclosure_correction``
process's hook applies the approved change here (:func:`apply_change`), or taken down early on credit
repair (:mod:`workflows.domain.disclosure_register`). Every public change is a
:class:`~workflows.core.models.DisclosureEvent`, which the portal's feeds read.
"""
from __future__ import annotations

import calendar as _gregorian
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workflows.core import clock, contract
from workflows.core.deadlines import due_date
from workflows.core.errors import NotFound
from workflows.core.messages import Message
from workflows.core.models import (
    Disclosure, DisclosureEvent, DisclosureTerm, Instance, Matter, PolicySetting, Unit,
)
from workflows.domain import audit
from workflows.engine import runtime
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
    """Redact free text of a case: the party's own name, numbers and address, then any numbers."""
    text = text or ""
    person = data.get("party_type") == "natural_person"
    name = (data.get("party_name") or "").strip()
    if person and name:
        text = text.replace(name, redact_name(name, "natural_person"))
    for key in ("party_id_number", "party_phone", "party_address"):
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


# Unified social credit code (统一社会信用代码, GB 32100-2015): organisations are shown with it.
CREDIT_CODE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}\Z")


def credit_code(data: dict[str, Any]) -> str | None:
    """An organisation's credit code as filed (its ``party_id_number``); never a person's number."""
    code = (data.get("party_id_number") or "").strip().upper()
    return code if data.get("party_type") != "natural_person" and CREDIT_CODE.match(code) else None


def decision_kind(data: dict[str, Any]) -> str:
    return data.get("decision_kind") or ("penalty" if data.get("penalty_type") else "other")


def decision_type(data: dict[str, Any]) -> str:
    """What the portal's type filter calls a decision: a penalty's type, else the kind of decision."""
    kind = decision_kind(data)
    return (data.get("penalty_type") or "penalty") if kind == "penalty" else kind


def penalty_record(session: Session, instance: Instance, data: dict[str, Any]) -> dict[str, Any]:
    """The public content of a decision, built only from redacted values."""
    unit = session.get(Unit, instance.unit_id)
    return {
        "case_no": instance.case_no,
        "enforcing_body": data.get("agency_name", ""),
        "unit": unit.name if unit else "",
        "party": redact_name(data.get("party_name", ""), data.get("party_type")),
        "party_type": data.get("party_type"),
        "party_code": credit_code(data),
        "matter": _matter_label(session, data.get("matter_code")),
        "facts": scrub(data.get("disclosure_facts"), data),
        "legal_basis": scrub(data.get("disclosure_basis"), data),
        "decision": scrub(data.get("disclosure_decision_text") or data.get("decision_text"), data),
        "decision_kind": decision_kind(data),
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


# --- retention (公示期) ------------------------------------------------------------------------

# Penalties whose information is "serious" (严重失信) whatever the amount; a fine or confiscation of
# the hearing's "larger amount" (较大数额, the policy settings ``hearing_fine_*``) is serious too.
SERIOUS_TYPES = frozenset({"lower_qualification", "suspend_activities", "restrict_practice", "revoke_licence",
                           "revoke_registration"})
RETENTION_CLASSES = ("minor", "general", "serious", "other")
# The policy settings' first values (months), for a database that has not been given them yet.
RETENTION_DEFAULTS = {"disclosure_keep_minor": 3, "disclosure_min_minor": 0, "disclosure_keep_general": 12,
                      "disclosure_min_general": 3, "disclosure_keep_serious": 36, "disclosure_min_serious": 12,
                      "disclosure_keep_other": 60, "disclosure_keep_person": 24}


@dataclass(frozen=True)
class Retention:
    """How long a decision stays public: its class, from when credit repair may take it down early
    (None: never, it is no credit information), and its last public day."""

    cls: str
    repair_from: date | None
    retain_until: date


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later; past the end of a shorter month, that month's last day."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, _gregorian.monthrange(year, month)[1]))


def _number(session: Session, name: str, default: Decimal) -> Decimal:
    row = session.get(PolicySetting, name)
    try:
        return Decimal(row.value) if row is not None else default
    except InvalidOperation:
        return default


def _months(session: Session, name: str) -> int:
    return int(_number(session, name, Decimal(RETENTION_DEFAULTS[name])))


def retention_class(session: Session, data: dict[str, Any]) -> str:
    """``minor`` (only a warning or circulated criticism), ``general``, ``serious`` (the penalty types
    of :data:`SERIOUS_TYPES`, or an amount of at least the hearing's larger amount), or ``other`` (a
    decision that is no penalty): the classes of the credit-repair rules (信用修复管理办法)."""
    if decision_kind(data) != "penalty":
        return "other"
    kind = data.get("penalty_type")
    if kind in SERIOUS_TYPES:
        return "serious"
    person = data.get("party_type") == "natural_person"
    larger = _number(session, "hearing_fine_person" if person else "hearing_fine_organisation",
                     Decimal(10000 if person else 100000))
    amounts = [Decimal(str(v)) for v in (data.get("fine_amount"), data.get("confiscation_amount")) if v not in (None, "")]
    if any(amount >= larger for amount in amounts):
        return "serious"
    return "minor" if kind == "warning" and not any(amounts) else "general"


def retention(session: Session, data: dict[str, Any], decided: date) -> Retention:
    """The retention of a decision made on ``decided``, by the settings as they are today (a change
    of the settings applies to records written from then on)."""
    cls = retention_class(session, data)
    keep = _months(session, f"disclosure_keep_{cls}")
    if data.get("party_type") == "natural_person":
        keep = min(keep, _months(session, "disclosure_keep_person"))
    repair = None if cls == "other" else add_months(decided, min(_months(session, f"disclosure_min_{cls}"), keep))
    return Retention(cls, repair, add_months(decided, keep))


# --- the party search's index -----------------------------------------------------------------

def normalize(text: str | None) -> str:
    """Text as searched: full-width forms folded, case folded, no spaces."""
    return "".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def terms(party: str | None, code: str | None = None) -> set[str]:
    """The pieces a party is found by: every two characters of its name (the name itself if one
    character), and its credit code whole."""
    text = normalize(party)
    found = {text[i:i + 2] for i in range(len(text) - 1)} if len(text) > 1 else ({text} if text else set())
    if code:
        found.add("#" + normalize(code))
    return {t[:24] for t in found}


def _index(session: Session, record: Disclosure, content: dict[str, Any]) -> None:
    pieces = terms(record.party, content.get("party_code"))
    if pieces:
        session.add_all(DisclosureTerm(term=t, disclosure_id=record.id) for t in sorted(pieces))


def unindex(session: Session, record: Disclosure) -> None:
    session.execute(delete(DisclosureTerm).where(DisclosureTerm.disclosure_id == record.id))


# --- writing ----------------------------------------------------------------------------------

def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def event(session: Session, record: Disclosure, kind: str, actor: str, *, ground: str | None = None,
          note: str = "", instance_id: int | None = None, before: str | None = None) -> DisclosureEvent:
    row = DisclosureEvent(disclosure_id=record.id, kind=kind, effective_on=today(), at=clock.now(), actor=actor,
                          ground=ground, note=note, instance_id=instance_id, before=before)
    session.add(row)
    return row


def write(session: Session, instance: Instance, process_id: str, data: dict[str, Any]) -> Disclosure:
    """Write the disclosure record of the step that just passed the disclosure hook (for the
    correction process: apply the approved change to the record it names)."""
    if process_id == contract.CORRECTION_PROCESS:
        return apply_change(session, instance, data)
    kind = contract.disclosure_kind(process_id)
    publish = kind == "matter" or bool(data.get("publish"))
    content = matter_record(data) if kind == "matter" else penalty_record(session, instance, data)
    record = Disclosure(
        kind=kind, instance_id=instance.id, case_no=instance.case_no,
        title=content.get("matter_name") or content.get("matter") or instance.case_no,
        content=json.dumps(content if publish else {}, ensure_ascii=False, sort_keys=True),
        publish=publish, not_published_reason=None if publish else (data.get("not_published_reason") or "unspecified"),
        not_published_note=None if publish else scrub(data.get("not_published_note"), data),
        published_on=today() if publish else None, status="published" if publish else "withheld",
        updated_at=clock.now(),
    )
    if kind == "decision":
        decided = _day(data.get("decision_date")) or today()
        rule = "publish_penalty" if decision_kind(data) == "penalty" else "publish_other"
        record.decision_date, record.decision_type = decided, decision_type(data)
        record.due_on = due_date(runtime.session_rules(session)[rule], decided, runtime.session_calendar(session))
        record.party = redact_name(data.get("party_name", ""), data.get("party_type"))
        record.matter_code = data.get(contract.MATTER_KEY)
        if publish:
            kept = retention(session, data, decided)
            record.retention_class, record.repair_from, record.retain_until = kept.cls, kept.repair_from, kept.retain_until
    session.add(record)
    session.flush()
    if kind == "decision" and publish:
        event(session, record, "published", data.get("last_actor") or "system")
        _index(session, record, content)
        session.flush()
    return record


# --- withdrawal and correction (撤回、更正) -------------------------------------------------------

# The correction form's fields and the public content's keys they replace.
CORRECTABLE = {"corrected_facts": "facts", "corrected_basis": "legal_basis",
               "corrected_decision_text": "decision", "corrected_doc_no": "decision_doc_no"}
GROUNDS = ("review_revoked", "review_changed", "review_unlawful", "litigation_revoked", "litigation_changed",
           "litigation_unlawful", "self_correction", "content_error")


def case_data(session: Session, instance_id: int | None) -> dict[str, Any]:
    """The data of the decided case (what redaction must keep out of a change)."""
    instance = session.get(Instance, instance_id) if instance_id else None
    if instance is None:
        return {}
    return dict(runtime.current_data(runtime.load_workflow(session, instance)))


def apply_change(session: Session, case: Instance, data: dict[str, Any]) -> Disclosure:
    """Withdraw or correct the record an approved ``disclosure_correction`` case names, redacting
    what the request says with the decided case's own data. A record no longer public (withdrawn,
    taken down, withheld) is left as it is, and the audit says so."""
    record = session.get(Disclosure, int(data.get(contract.CORRECTION_TARGET_KEY) or 0))
    if record is None or record.kind != "decision":
        raise NotFound(Message("要撤回或更正的公开记录不存在"))
    actor, change = data.get("last_actor") or "system", data.get("change_kind")
    if record.status != "published" or change not in ("withdraw", "correct"):
        audit.record(session, actor, "disclosure.change_skipped", instance_id=record.instance_id,
                     disclosure_id=record.id, change_case=case.case_no, status=record.status)
        return record
    source = case_data(session, record.instance_id)
    ground, reason = data.get("change_ground"), scrub(data.get("change_reason"), source)
    if change == "withdraw":
        record.status, record.withdrawn_on, record.withdrawn_ground = "withdrawn", today(), ground
        record.withdrawn_reason = reason
        unindex(session, record)
        event(session, record, "withdrawn", actor, ground=ground, note=reason, instance_id=case.id)
    else:
        before, content = record.content, json.loads(record.content)
        changed = {key: scrub(data[field], source) for field, key in CORRECTABLE.items() if data.get(field)}
        content.update(changed)
        record.content = json.dumps(content, ensure_ascii=False, sort_keys=True)
        record.corrected_on = today()
        event(session, record, "corrected", actor, ground=ground, note=reason, instance_id=case.id, before=before)
    record.updated_at = clock.now()
    session.flush()
    audit.record(session, actor, f"disclosure.{change}", instance_id=record.instance_id, disclosure_id=record.id,
                 change_case=case.case_no, ground=ground)
    return record


def public_state(record: Disclosure, day: date) -> str:
    """Where a decision's record stands on ``day``: ``public``, ``expired`` (its retention ended),
    ``withdrawn``, ``removed`` (credit repair) or ``withheld`` (never published)."""
    if record.status == "published":
        return "public" if record.retain_until is None or record.retain_until >= day else "expired"
    return record.status


def of_case(session: Session, instance_id: int) -> list[Disclosure]:
    return list(session.scalars(select(Disclosure).where(Disclosure.instance_id == instance_id)
                                .order_by(Disclosure.id)))


def events_of(session: Session, disclosure_id: int) -> list[DisclosureEvent]:
    return list(session.scalars(select(DisclosureEvent).where(DisclosureEvent.disclosure_id == disclosure_id)
                                .order_by(DisclosureEvent.at, DisclosureEvent.id)))
