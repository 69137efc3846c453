"""The register of decision disclosures (公开台账) for staff: every decision's record, whether it was
published on time, where it stands (public, expired, withdrawn, taken down, withheld), the open
request to withdraw or correct it; and the two acts on a published record outside its case:

* asking to withdraw or correct it (撤回、更正): starts a ``disclosure_correction`` case, whose
  approval applies the change (:func:`workflows.domain.disclosure.apply_change`);
* taking it down early on the party's credit repair (信用修复): once the minimum period of its class
  has passed, by the unit's head, an agency head or an administrator; audited on the decided case.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import clock, contract
from workflows.core.errors import Conflict, FormInvalid, NotAllowed, NotFound
from workflows.core.messages import Message
from workflows.core.models import Disclosure, DisclosureEvent, Instance, User
from workflows.core.settings import Settings
from workflows.domain import access, cases, disclosure, steps
from workflows.engine.runtime import today

OPEN = ("running", "suspended", "error")
STATES = ("public", "expired", "withdrawn", "removed", "withheld")


@dataclass(frozen=True)
class Row:
    record: Disclosure
    case: Instance
    state: str
    on_time: bool | None  # published within the limit; None: not published
    request: Instance | None  # the open withdrawal or correction case

    @property
    def content(self) -> dict:
        return json.loads(self.record.content or "{}")


@dataclass(frozen=True)
class Register:
    rows: list[Row]
    page: int
    has_next: bool
    state: str


def _state_clause(state: str, day: date):
    if state == "public":
        return (Disclosure.status == "published") & (Disclosure.retain_until >= day)
    if state == "expired":
        return (Disclosure.status == "published") & (Disclosure.retain_until < day)
    return Disclosure.status == state


def register(session: Session, user: User, page: int = 1, per_page: int = 25, state: str = "") -> Register:
    """Decision records newest decision first, the unit's own for a unit head (supervisors only)."""
    scope = access.monitor_scope(user)
    day, page = today(), max(page, 1)
    q = (select(Disclosure, Instance).join(Instance, Disclosure.instance_id == Instance.id)
         .where(Disclosure.kind == "decision"))
    if scope is not None:
        q = q.where(Instance.unit_id == scope)
    if state in STATES:
        q = q.where(_state_clause(state, day))
    found = session.execute(q.order_by(Disclosure.decision_date.desc(), Disclosure.id.desc())
                            .offset((page - 1) * per_page).limit(per_page + 1)).all()
    requests = open_requests(session, [record.id for record, _ in found[:per_page]])
    rows = [Row(record, case, disclosure.public_state(record, day),
                None if record.published_on is None or record.due_on is None else record.published_on <= record.due_on,
                requests.get(record.id)) for record, case in found[:per_page]]
    return Register(rows, page, len(found) > per_page, state if state in STATES else "")


def open_requests(session: Session, disclosure_ids: list[int]) -> dict[int, Instance]:
    """The open ``disclosure_correction`` case of each record that has one."""
    if not disclosure_ids:
        return {}
    rows = session.execute(select(DisclosureEvent.disclosure_id, Instance)
                           .join(Instance, DisclosureEvent.instance_id == Instance.id)
                           .where(DisclosureEvent.disclosure_id.in_(disclosure_ids),
                                  DisclosureEvent.kind == "requested", Instance.status.in_(OPEN)))
    return {disclosure_id: case for disclosure_id, case in rows}


def _decision(session: Session, disclosure_id: int) -> tuple[Disclosure, Instance]:
    record = session.get(Disclosure, disclosure_id)
    case = session.get(Instance, record.instance_id) if record is not None and record.instance_id else None
    if record is None or record.kind != "decision" or case is None:
        raise NotFound(Message("公开记录不存在"))
    return record, case


def _check_public(record: Disclosure) -> None:
    state = disclosure.public_state(record, today())
    if state != "public":
        raise Conflict(Message("该信息当前未在公示（%(state)s），不能办理", state=STATE_LABELS[state]))


STATE_LABELS = {"public": Message("公示中"), "expired": Message("公示期满"), "withdrawn": Message("已撤回"),
                "removed": Message("已提前撤下"), "withheld": Message("不予公开")}


def request_change(session: Session, settings: Settings, actor: User, disclosure_id: int) -> cases.Started:
    """Start a request to withdraw or correct a published decision of the actor's unit (its head
    fills in the request as the case's first task)."""
    record, case = _decision(session, disclosure_id)
    cases.check_start(session, actor, contract.CORRECTION_PROCESS)
    if actor.unit_id != case.unit_id:
        raise NotAllowed(Message("只能申请撤回或更正本科室案件的公开信息"))
    _check_public(record)
    pending = open_requests(session, [record.id]).get(record.id)
    if pending is not None:
        raise Conflict(Message("该信息已有未办结的撤回或更正申请：%(case_no)s", case_no=pending.case_no))
    content = json.loads(record.content or "{}")
    summary = " · ".join(x for x in (content.get("decision_doc_no"), content.get("party"), record.title) if x)
    started = cases.start(session, settings, actor, contract.CORRECTION_PROCESS, {
        contract.CORRECTION_TARGET_KEY: record.id, "target_case_no": case.case_no, "target_summary": summary[:300]})
    disclosure.event(session, record, "requested", actor.username, instance_id=started.instance.id)
    session.flush()
    return started


def remove_on_repair(session: Session, actor: User, disclosure_id: int, applied_on: date | str | None,
                     reason: str, obligations_met: bool) -> Disclosure:
    """Take a published decision off the portal before its retention ends, on the party's credit
    repair (信用修复): allowed once the minimum period of its class has passed, for credit
    information only; kept internally, audited on the decided case."""
    record, case = _decision(session, disclosure_id)
    access.check_supervise(actor, case)
    errors = {}
    if isinstance(applied_on, str):
        try:
            applied_on = date.fromisoformat(applied_on.strip()) if applied_on.strip() else None
        except ValueError:
            errors["applied_on"] = [Message("日期格式不正确")]
    if applied_on is None and "applied_on" not in errors:
        errors["applied_on"] = [Message("请填写信用修复申请日期")]
    elif isinstance(applied_on, date) and applied_on > today():
        errors["applied_on"] = [Message("申请日期不能晚于今天")]
    if not (reason or "").strip():
        errors["reason"] = [Message("请说明信用修复的情况")]
    if not obligations_met:
        errors["obligations_met"] = [Message("当事人须已纠正违法行为并履行完毕处罚决定规定的义务")]
    if errors:
        raise FormInvalid(errors)
    _check_public(record)
    if record.repair_from is None:
        raise Conflict(Message("该决定信息不属于失信信息，不适用信用修复"))
    if today() < record.repair_from:
        raise Conflict(Message("最短公示期至%(day)s届满，届满后方可因信用修复提前撤下", day=record.repair_from.isoformat()))
    note = disclosure.scrub(reason, disclosure.case_data(session, case.id))
    record.status, record.removed_on, record.removed_reason = "removed", today(), note
    record.updated_at = clock.now()
    disclosure.unindex(session, record)
    disclosure.event(session, record, "removed", actor.username, ground="credit_repair",
                     note="当事人已完成信用修复，提前停止公示。")
    session.flush()
    steps.record(session, case, actor.username, "disclosure.remove", disclosure_id=record.id,
                 ground="credit_repair", applied_on=applied_on.isoformat(), reason=note)
    return record
