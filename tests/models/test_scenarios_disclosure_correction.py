"""Withdrawing or correcting a published decision (撤回、更正): the handling unit's head asks, the agency
head approves within 3 working days of the review or court outcome (APL Art. 48), or the office is
told to chase it; the approved change reaches the public record redacted, and the case of the
decision itself is left as it was."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from workflows.core.errors import Conflict, FormInvalid, NotAllowed
from workflows.core.models import AuditEvent, DisclosureTerm
from workflows.domain import disclosure, disclosure_register, tasks

from .conftest import PERSON, Case, end_of, shanghai

REQUEST = ["start_change", "request_change", "approve_change", "gw_approval"]
WITHDRAWAL = {"change_kind": "withdraw", "change_ground": "review_revoked", "ground_date": date(2026, 11, 2),
              "change_reason": "原处罚决定经新市区人民政府行政复议决定撤销（新政复决〔2026〕5号）。"}


def published(bureau, party=None):
    """A warning decided, served and published, with its record."""
    case = bureau.start().file(**(party or {})).approve_filing().investigate().report(penalty_type="warning")
    case.notify(penalty_type="warning").statement().recheck().decide(decision_text="给予警告。").serve().publish()
    [record] = case.disclosures
    assert record.status == "published"
    return case, record


def request(bureau, record, who="wang") -> Case:
    started = disclosure_register.request_change(bureau.db, bureau.settings, bureau.user(who), record.id)
    return Case(bureau, started.instance)


def system_events(bureau, action):
    return [json.loads(e.payload) | {"instance_id": e.instance_id}
            for e in bureau.db.scalars(select(AuditEvent).where(AuditEvent.chain == "system", AuditEvent.action == action))]


def test_a_decision_revoked_on_review_is_withdrawn_with_the_agency_heads_approval(bureau):
    decided, record = published(bureau)
    change = request(bureau, record)
    assert change.instance.case_no == "新民公更〔2026〕0001号"  # numbered apart from penalty cases
    assert change.ready == ["request_change"]
    row = change.task("request_change")
    assert (row.role_id, row.unit_id) == ("unit_head", decided.instance.unit_id)
    assert change.data["target_case_no"] == decided.instance.case_no

    change.do("request_change", "wang", **WITHDRAWAL)
    approval = change.task("approve_change")
    assert (approval.role_id, approval.unit_id) == ("agency_head", None)
    assert approval.due_at == end_of(date(2026, 11, 5))  # 3 working days from the review decision
    assert change.instance.next_timer_at == end_of(date(2026, 11, 5))
    change.do("approve_change", "wu", approval_result="approve", approval_opinion="同意撤回。")

    assert change.instance.status == "completed" and change.tasks == []
    assert change.path == REQUEST + ["write_disclosure", "end_changed"]
    assert change.actions[-2:] == ["task.complete", "disclosure.write"]
    bureau.db.refresh(record)
    assert (record.status, record.withdrawn_on, record.withdrawn_ground) == ("withdrawn", date(2026, 11, 2),
                                                                             "review_revoked")
    assert record.withdrawn_reason == WITHDRAWAL["change_reason"]
    assert [e.kind for e in disclosure.events_of(bureau.db, record.id)] == ["published", "requested", "withdrawn"]
    assert disclosure.events_of(bureau.db, record.id)[-1].actor == "wu"
    assert bureau.db.scalars(select(DisclosureTerm).where(DisclosureTerm.disclosure_id == record.id)).all() == []
    [audited] = system_events(bureau, "disclosure.withdraw")
    assert audited["instance_id"] == decided.instance.id and audited["change_case"] == change.instance.case_no
    assert decided.instance.status == "running" and decided.ready == ["archive_case"]  # the case goes on
    assert disclosure.public_state(record, date(2026, 11, 2)) == "withdrawn"


def test_a_correction_replaces_the_content_redacted_with_the_decided_cases_data(bureau):
    decided, record = published(bureau, party=PERSON)
    change = request(bureau, record)
    change.do("request_change", "wang", change_kind="correct", change_ground="content_error", ground_date=date(2026, 11, 2),
              change_reason="决定书文号笔误，当事人李小明（13912345678）已知悉。",
              corrected_doc_no="新民罚决〔2026〕2号",
              corrected_facts="当事人李小明（身份证110105199003071239，住新市区幸福路8号3单元）出借社会团体登记证书。")
    change.do("approve_change", "wu", approval_result="approve", approval_opinion="同意更正。")

    bureau.db.refresh(record)
    content = json.loads(record.content)
    assert record.status == "published" and record.corrected_on == date(2026, 11, 2)
    assert content["decision_doc_no"] == "新民罚决〔2026〕2号"
    assert content["facts"] == "当事人李某（身份证＊＊，住＊＊）出借社会团体登记证书。"
    assert content["decision"] == "给予警告。" and content["party"] == "李某"  # what was not corrected stays
    *_, corrected = disclosure.events_of(bureau.db, record.id)
    assert corrected.kind == "corrected" and corrected.note == "决定书文号笔误，当事人李某（＊＊）已知悉。"
    assert json.loads(corrected.before)["decision_doc_no"] == "新民罚决〔2026〕1号"  # kept internally
    for secret in ("李小明", "13912345678", "110105199003071239", "幸福路"):
        assert secret not in record.content + corrected.note
    assert change.path == REQUEST + ["write_disclosure", "end_changed"]
    [audited] = system_events(bureau, "disclosure.correct")
    assert audited["ground"] == "content_error"


def test_a_correction_without_corrected_content_is_refused_on_the_form(bureau):
    _, record = published(bureau)
    change = request(bureau, record)
    with pytest.raises(FormInvalid, match="change_kind: 申请更正的，请至少填写一项更正后的内容"):
        change.do("request_change", "wang", **(WITHDRAWAL | {"change_kind": "correct",
                                                             "change_ground": "self_correction"}))
    assert change.ready == ["request_change"] and change.path == ["start_change"]
    change.do("request_change", "wang", **(WITHDRAWAL | {"change_kind": "correct", "change_ground": "self_correction",
                                                         "corrected_basis": "《社会团体登记管理条例》第三十条第一款"}))
    assert change.ready == ["approve_change"]


def test_a_returned_request_is_revised_and_a_rejected_one_changes_nothing(bureau):
    _, record = published(bureau)
    before = record.content
    change = request(bureau, record)
    change.do("request_change", "wang", **WITHDRAWAL)
    change.do("approve_change", "wu", approval_result="return", approval_opinion="请附复议决定书文号。")
    assert change.ready == ["request_change"]
    [returned] = tasks.returns_of(bureau.db, [change.task("request_change")]).values()  # the banner's facts
    assert (returned.by, returned.reason, returned.comment, returned.by_task) == (
        "wu", "退回", "请附复议决定书文号。", "审批撤回或更正")
    assert change.data["target_case_no"] and change.data["approval_opinion"] == "请附复议决定书文号。"
    change.do("request_change", "wang", **(WITHDRAWAL | {"change_reason": "经行政复议撤销，复议决定书：新政复决〔2026〕5号。"}))
    change.do("approve_change", "wu", approval_result="reject", approval_opinion="复议决定尚未生效，暂不撤回。")

    assert change.instance.status == "completed"
    assert change.path == REQUEST + ["request_change", "approve_change", "gw_approval",
                                     "end_rejected"]
    assert change.done_by == [("request_change", "wang"), ("approve_change", "wu"), ("request_change", "wang"),
                               ("approve_change", "wu")]
    bureau.db.refresh(record)
    assert (record.status, record.content) == ("published", before)
    assert [e.kind for e in disclosure.events_of(bureau.db, record.id)] == ["published", "requested"]
    assert "disclosure.write" not in change.actions
    # the request is closed: another may be made
    assert request(bureau, record).ready == ["request_change"]


def test_an_approval_late_past_the_3_working_days_alerts_the_office(bureau):
    _, record = published(bureau)
    change = request(bureau, record)
    change.do("request_change", "wang", **(WITHDRAWAL | {"ground_date": date(2026, 10, 30)}))  # a Friday
    assert change.task("approve_change").due_at == end_of(date(2026, 11, 4))
    assert bureau.at(shanghai(2026, 11, 4, 23, 59, 58)) == 0
    assert bureau.at(shanghai(2026, 11, 5, 0, 0, 1)) == 1
    assert change.fired == ["change_timer"]
    assert change.ready == ["approve_change", "change_overdue"]  # non-interrupting: still to approve
    alert = change.task("change_overdue")
    assert (alert.role_id, alert.unit_id) == ("office", None)
    change.do("change_overdue", "zheng", change_followup="已提醒机关负责人当日审批。")
    change.do("approve_change", "wu", approval_result="approve", approval_opinion="同意撤回。")
    assert change.instance.status == "completed"
    assert change.path == REQUEST[:-2] + ["change_timer", "change_overdue", "end_overdue_handled", "approve_change",
                                          "gw_approval", "write_disclosure", "end_changed"]
    bureau.db.refresh(record)
    assert record.status == "withdrawn" and record.withdrawn_on == date(2026, 11, 5)


def test_only_the_units_head_asks_once_for_a_record_that_is_public(bureau):
    _, record = published(bureau)
    for who in ("zhang", "wu", "admin"):  # an officer, the agency head, an administrator: not the lane's role
        with pytest.raises(NotAllowed):
            request(bureau, record, who)
    with pytest.raises(NotAllowed, match="本科室"):
        request(bureau, record, "qian")  # the head of another unit
    first = request(bureau, record)
    with pytest.raises(Conflict, match=first.instance.case_no.replace("〔", ".").replace("〕", ".")):
        request(bureau, record)
    first.do("request_change", "wang", **WITHDRAWAL)
    first.do("approve_change", "wu", approval_result="approve", approval_opinion="同意撤回。")
    with pytest.raises(Conflict, match="已撤回"):
        request(bureau, record)
