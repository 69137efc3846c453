"""Deciding a case: a minor penalty without review, no-penalty outcomes, the ban on raising the
penalty after the defence, and the 90-day decision limit with its extension."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from .conftest import CLOSED, FILED, INVESTIGATED, NOTIFIED, end_of, shanghai

DECIDED = ["decide_penalty", "gw_decision", "record_decision", "merge_decision", "split_service_disclosure"]


def test_minor_penalty_runs_from_filing_to_closure_without_legal_review(bureau):
    case = bureau.start().up_to_notice(penalty_type="warning")
    case.notify(penalty_type="warning").statement(statement_made="waived").recheck()
    assert case.data["major"] is False and case.data["major_reason"] == "不属于重大执法决定"
    case.decide().serve().publish()
    assert case.ready == ["archive_case"]  # a warning needs no execution
    case.close("executed")

    assert case.instance.status == "completed"
    served_and_published = ["serve_decision", "gw_service", "record_service", "publish_decision",
                            "gw_disclosure_valid", "write_disclosure", "join_service_disclosure", "gw_execution"]
    assert case.path == FILED + INVESTIGATED + NOTIFIED + DECIDED + served_and_published + CLOSED
    data = case.data
    assert (data["case_status"], data["decision_kind"], data["penalty_type"], data["closed_on"]) == (
        "closed", "penalty", "warning", date(2026, 11, 2))
    assert data["officers"] == ["zhang", "li"] and data["filing_date"] == date(2026, 11, 2)
    assert case.done_by == [
        ("file_case", "zhang"), ("confirm_participation", "li"), ("approve_filing_unit", "wang"),
        ("approve_filing_agency", "wu"), ("onsite_inspection", "zhang"), ("collect_evidence", "zhang"),
        ("investigation_report", "zhang"), ("review_report", "wang"), ("prior_notice", "zhang"),
        ("record_statement", "zhang"), ("recheck_penalty", "zhang"), ("decide_penalty", "wu"),
        ("serve_decision", "zhang"), ("publish_decision", "zhang"), ("archive_case", "zhang"),
        ("approve_closure", "wang")]
    assert case.actions[0] == "case.start" and case.actions.count("disclosure.write") == 1
    assert "legal_review" not in case.path and "collective_discussion" not in case.path


@pytest.mark.parametrize("outcome, closure", [("no_penalty_minor", "no_penalty"),
                                              ("not_established", "not_established")])
def test_unit_head_concludes_no_penalty(bureau, outcome, closure):
    case = bureau.start().file().approve_filing().investigate()
    case.report(outcome)
    case.do("decide_no_penalty", "wu", no_penalty_decision="decide", decision_doc_no="新民不罚〔2026〕1号",
            decision_text="违法行为轻微并及时改正，没有造成危害后果，不予行政处罚。")
    # decisions other than penalties are published within 20 working days (118 §6), not 7
    assert case.task("publish_decision").due_at == end_of(date(2026, 11, 30))
    case.serve().publish(disclosure_decision_text="不予行政处罚。")
    assert case.ready == ["archive_case"]
    case.close(closure)

    assert case.path == FILED + INVESTIGATED + [
        "decide_no_penalty", "gw_no_penalty", "record_no_penalty", "merge_decision", "split_service_disclosure",
        "serve_decision", "gw_service", "record_service", "publish_decision", "gw_disclosure_valid",
        "write_disclosure", "join_service_disclosure", "gw_execution"] + CLOSED
    assert "prior_notice" not in case.path
    data = case.data
    assert (data["decision_kind"], data["suggested_closure_reason"], data["amount_due"]) == (
        "no_penalty", closure, Decimal("0"))
    assert [d.publish for d in case.disclosures] == [True]
    assert case.done_by[7:9] == [("review_report", "wang"), ("decide_no_penalty", "wu")]


def test_defence_rejected_and_a_heavier_penalty_is_sent_back_to_re_check(bureau):
    case = bureau.start().up_to_notice(penalty_type="fine", fine_amount="5000")
    case.notify(penalty_type="fine", fine_amount="5000")
    case.statement(statement_made="made", statement_content="当事人辩称系初次违法，请求从轻。")
    case.recheck(defence_adopted="rejected", recheck_reason="申辩理由不成立，且查明另有违法所得。",
                 fine_amount="8000")
    assert case.ready == ["recheck_penalty"] and case.data["penalty_increased"] is True
    case.recheck(defence_adopted="rejected", recheck_reason="申辩理由不成立。", penalty_type="revoke_registration")
    assert case.ready == ["recheck_penalty"] and case.data["penalty_increased"] is True
    case.recheck(defence_adopted="rejected", recheck_reason="申辩理由不成立，维持告知的处罚。", fine_amount="5000")

    assert case.ready == ["decide_penalty"]
    increase_check = ["recheck_penalty", "gw_recheck", "check_no_increase", "gw_increase"]
    assert case.path[len(FILED + INVESTIGATED):] == NOTIFIED[:5] + increase_check * 3 + ["assess_major", "gw_major"]
    data = case.data
    assert (data["penalty_increased"], data["fine_amount"], data["notified_fine_amount"]) == (
        False, Decimal("5000"), Decimal("5000"))
    assert [task for task, _ in case.done_by].count("recheck_penalty") == 3
    assert case.task("decide_penalty").role_id == "agency_head"


def test_decision_limit_of_90_days_is_extended_once_then_supervised(bureau):
    bureau.clock.set(shanghai(2026, 6, 1))
    case = bureau.start().up_to_notice().notify().statement().recheck()
    assert case.task("decide_penalty").due_at == end_of(date(2026, 8, 30))  # 90 days after filing on 1 June

    assert bureau.at(shanghai(2026, 8, 30, 23, 0)) == 0
    assert case.ready == ["decide_penalty"]
    assert bureau.at(shanghai(2026, 8, 31, 0, 0, 1)) == 1
    assert case.ready == ["request_extension"]  # the decision task is withdrawn until the limit is extended
    case.do("request_extension", "wang", extension_reason="案情复杂，需补充调取银行流水。")
    case.do("approve_extension", "wu", extension_decision="approve", extension_comment="同意延长三十日。")
    assert case.task("decide_penalty").due_at == end_of(date(2026, 9, 29))
    assert case.data["extension_granted"] is True

    assert bureau.at(shanghai(2026, 9, 30, 0, 0, 1)) == 1
    assert case.ready == ["overdue_supervision"]
    assert case.task("overdue_supervision").role_id == "manager"
    case.do("overdue_supervision", "jiang", supervision_measure="urge", supervision_note="督促十日内作出决定。")
    assert case.task("decide_penalty").due_at == end_of(date(2026, 10, 30))
    case.decide()

    # the withdrawn decision tasks never completed: the path shows the timers instead
    assert case.path[len(FILED + INVESTIGATED + NOTIFIED):] == [
        "decision_timer", "gw_extension_used", "request_extension", "approve_extension", "gw_extension",
        "grant_extension", "decision_timer", "gw_extension_used", "overdue_supervision", "rearm_decision_timer",
        ] + DECIDED
    assert case.fired == ["decision_timer", "decision_timer"]
    assert case.data["decision_overdue"] is True and case.data["decision_date"] == date(2026, 9, 30)
    assert case.done_by[-4:] == [("request_extension", "wang"), ("approve_extension", "wu"),
                                 ("overdue_supervision", "jiang"), ("decide_penalty", "wu")]


def test_refused_extension_goes_straight_to_supervision(bureau):
    bureau.clock.set(shanghai(2026, 6, 1))
    case = bureau.start().up_to_notice().notify().statement().recheck()
    bureau.at(shanghai(2026, 8, 31, 9))
    case.do("request_extension", "wang", extension_reason="需补充证据。")
    case.do("approve_extension", "wu", extension_decision="reject", extension_comment="不同意，应尽快决定。")
    assert case.ready == ["overdue_supervision"] and case.data["extension_granted"] is False
    assert "grant_extension" not in case.path
    assert case.fired == ["decision_timer"]
