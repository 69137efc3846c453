"""Deciding a case: a minor penalty without review, no-penalty outcomes, the ban on raising the
penalty after the defence, and the 90-day decision limit with its extension."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from workflows.core.errors import FormInvalid

from .conftest import CLOSED, FILED, INVESTIGATED, NOTIFIED, RETURNED, TO_SERVICE, end_of, shanghai

DECIDED = ["decide_penalty", "gw_decision", "record_decision", "merge_decision"] + TO_SERVICE + [
    "split_service_disclosure"]


def test_minor_penalty_runs_from_filing_to_closure_without_legal_review(bureau):
    case = bureau.start().up_to_notice(penalty_type="warning")
    case.notify(penalty_type="warning").statement(statement_made="waived").recheck()
    assert case.data["major"] is False and case.data["major_reason"] == "不属于重大执法决定"
    case.decide().serve().publish()
    assert case.ready == ["archive_case"]  # a warning needs no execution
    case.close("executed")

    assert case.instance.status == "completed"
    served_and_published = ["serve_decision", "gw_service", "record_service", "publish_decision",
                            "write_disclosure", "join_service_disclosure", "end_served",
                            "service", "gw_execution"]
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
        "end_to_no_penalty", "investigation", "gw_investigated", "start_decision", "gw_decision_entry",
        "decide_no_penalty", "gw_no_penalty", "record_no_penalty", "merge_decision"] + TO_SERVICE + [
        "split_service_disclosure", "serve_decision", "gw_service", "record_service", "publish_decision",
        "write_disclosure", "join_service_disclosure", "end_served", "service",
        "gw_execution"] + CLOSED
    assert "prior_notice" not in case.path
    data = case.data
    assert (data["decision_kind"], data["suggested_closure_reason"], data["amount_due"]) == (
        "no_penalty", closure, Decimal("0"))
    assert [d.publish for d in case.disclosures] == [True]
    assert case.done_by[7:9] == [("review_report", "wang"), ("decide_no_penalty", "wu")]


def test_a_heavier_penalty_after_the_defence_is_refused_on_the_re_check_form(bureau):
    case = bureau.start().up_to_notice(penalty_type="fine", fine_amount="5000")
    case.notify(penalty_type="fine", fine_amount="5000")
    case.statement(statement_made="made", statement_content="当事人辩称系初次违法，请求从轻。")
    for heavier in ({"fine_amount": "8000"}, {"penalty_type": "revoke_registration"}):
        with pytest.raises(FormInvalid, match="penalty_type: 不得因当事人陈述、申辩而加重处罚"):
            case.recheck(defence_adopted="rejected", recheck_reason="申辩理由不成立，且查明另有违法所得。", **heavier)
        assert case.ready == ["recheck_penalty"]
    case.recheck(defence_adopted="rejected", recheck_reason="申辩理由不成立，维持告知的处罚。", fine_amount="5000")

    assert case.ready == ["decide_penalty"]
    notified = NOTIFIED[:NOTIFIED.index("recheck_penalty")]
    assert case.path[len(FILED + INVESTIGATED):] == notified + ["recheck_penalty", "gw_recheck", "assess_major", "gw_major"]
    assert (case.data["fine_amount"], case.data["notified_fine_amount"]) == (Decimal("5000"), Decimal("5000"))
    assert [task for task, _ in case.done_by].count("recheck_penalty") == 1
    assert case.task("decide_penalty").role_id == "agency_head"


def test_decision_limit_of_90_days_is_extended_once_then_supervised(bureau):
    bureau.clock.set(shanghai(2026, 6, 1))
    case = bureau.start().up_to_notice().notify().statement().recheck()
    # 90 days after filing on 1 June is Sunday 30 August: the limit ends on Monday (民法典 Art. 203)
    assert case.task("decide_penalty").due_at == end_of(date(2026, 8, 31))

    assert bureau.at(shanghai(2026, 8, 31, 23, 0)) == 0
    assert case.ready == ["decide_penalty"]
    assert bureau.at(shanghai(2026, 9, 1, 0, 0, 1)) == 1
    assert case.ready == ["request_extension"]  # the decision task is withdrawn until the limit is extended
    case.do("request_extension", "wang", extension_reason="案情复杂，需补充调取银行流水。")
    case.do("approve_extension", "wu", extension_decision="approve", extension_comment="同意延长三十日。")
    assert case.task("decide_penalty").due_at == end_of(date(2026, 9, 30))
    assert case.data["extension_granted"] is True

    assert bureau.at(shanghai(2026, 10, 1, 0, 0, 1)) == 1
    assert case.ready == ["overdue_supervision"]
    assert case.task("overdue_supervision").role_id == "manager"
    case.do("overdue_supervision", "jiang", supervision_measure="urge", supervision_note="督促十日内作出决定。")
    assert case.task("decide_penalty").due_at == end_of(date(2026, 11, 2))  # 31 October is a Saturday
    case.decide()

    # the withdrawn decision tasks never completed: the path shows the timers instead
    assert case.path[len(FILED + INVESTIGATED + NOTIFIED):] == [
        "decision_timer", "gw_extension_used", "request_extension", "approve_extension", "gw_extension",
        "grant_extension", "decision_timer", "gw_extension_used", "overdue_supervision", "rearm_decision_timer",
        ] + DECIDED
    assert case.fired == ["decision_timer", "decision_timer"]
    assert case.data["decision_overdue"] is True and case.data["decision_date"] == date(2026, 10, 1)
    assert case.done_by[-4:] == [("request_extension", "wang"), ("approve_extension", "wu"),
                                 ("overdue_supervision", "jiang"), ("decide_penalty", "wu")]


def test_refused_extension_goes_straight_to_supervision(bureau):
    bureau.clock.set(shanghai(2026, 6, 1))
    case = bureau.start().up_to_notice().notify().statement().recheck()
    bureau.at(shanghai(2026, 9, 1, 9))
    case.do("request_extension", "wang", extension_reason="需补充证据。")
    case.do("approve_extension", "wu", extension_decision="reject", extension_comment="不同意，应尽快决定。")
    assert case.ready == ["overdue_supervision"] and case.data["extension_granted"] is False
    assert "grant_extension" not in case.path
    assert case.fired == ["decision_timer"]


LARGE_FINE = {"penalty_type": "fine", "fine_amount": "150000"}


def _sent_back(bureau, stage: str):
    """A case whose decision stage sends it back for more evidence at ``stage``; the elements that did."""
    if stage == "no_penalty_decision":
        case = bureau.start().file().approve_filing().investigate().report("no_penalty_minor")
        case.do("decide_no_penalty", "wu", no_penalty_decision="supplement", decision_text="需补充调查违法所得。")
        return case, ["decide_no_penalty", "gw_no_penalty"]
    penalty = LARGE_FINE if stage == "discussion" else {"penalty_type": "warning"}
    case = bureau.start().up_to_notice(**penalty).notify(**penalty).statement()
    if stage == "recheck":
        case.recheck(recheck_outcome="supplement", recheck_reason="当事人提交新证据，需补充调查。")
        return case, ["recheck_penalty", "gw_recheck"]
    case.recheck()
    if stage == "discussion":
        case.submit_for_review().do("check_package", "zhou", package_complete="complete")
        case.review().discuss(discussion_conclusion="supplement", discussion_summary="违法所得数额需补充查证。")
        return case, ["collective_discussion", "gw_discussion"]
    case.decide(decision_result="supplement", decision_text="退回补充调查。")
    return case, ["decide_penalty", "gw_decision"]


@pytest.mark.parametrize("stage", ["recheck", "discussion", "penalty_decision", "no_penalty_decision"])
def test_a_case_sent_back_from_the_decision_stage_resumes_evidence_collection(bureau, stage):
    case, sent_back_by = _sent_back(bureau, stage)
    assert case.ready == ["collect_evidence"] and case.task("collect_evidence").assignee == "zhang"
    # the decision stage ends, the top level calls the investigation again, which skips the inspection
    assert case.path[-len(sent_back_by + RETURNED):] == sent_back_by + RETURNED
    assert case.path.count("onsite_inspection") == 1 and case.path.count("start_investigation") == 2
    data = case.data  # what every stage found stays with the case
    assert data["returned_for_investigation"] is False
    assert data["filing_date"] == date(2026, 11, 2) and data["officers"] == ["zhang", "li"]
    assert data["inspection_findings"] == "现场查见他人持该协会登记证书开展活动。"
    assert data["facts_found"] == "当事人出借登记证书。" and data["review_outcome"] in ("penalise", "no_penalty_minor")
    assert case.instance.filed_on == date(2026, 11, 2) and case.instance.decided_on is None
    assert case.done_by[-1][0] == {"recheck": "recheck_penalty", "discussion": "collective_discussion",
                                   "penalty_decision": "decide_penalty",
                                   "no_penalty_decision": "decide_no_penalty"}[stage]


def test_a_case_sent_back_is_investigated_notified_and_decided_again(bureau):
    case, _ = _sent_back(bureau, "penalty_decision")
    limit = case.instance.decision_due
    case.collect(evidence_summary="补充调取出借协议原件。").report(penalty_type="fine", fine_amount="3000")
    assert case.ready == ["prior_notice"]
    case.notify(penalty_type="fine", fine_amount="3000", notice_doc_no="新民告〔2026〕2号").statement().recheck()
    assert case.data["notified_fine_amount"] == Decimal("3000") and case.data["notice_doc_no"] == "新民告〔2026〕2号"
    assert case.task("decide_penalty").due_at == end_of(limit)  # the handling limit still runs from filing
    case.decide(decision_text="罚款人民币三千元。")
    assert sorted(case.ready) == ["publish_decision", "serve_decision"]
    case.serve().publish()
    case.do("record_payment", "zhang", payment_status="paid", payment_amount="3000", payment_date=date(2026, 11, 2))
    case.close("executed")

    assert case.instance.status == "completed"
    first_round = FILED + INVESTIGATED + NOTIFIED + ["decide_penalty", "gw_decision"] + RETURNED
    again = ["collect_evidence", "gw_evidence", "investigation_report", "review_report", "gw_review_outcome"]
    assert case.path[:len(first_round)] == first_round
    assert case.path[len(first_round):len(first_round + again + NOTIFIED)] == again + NOTIFIED
    assert case.path[-len(CLOSED) - 4:] == ["gw_payment", "record_executed", "end_executed", "execution"] + CLOSED
    data = case.data
    assert (data["decision_kind"], data["decision_result"], data["fine_amount"]) == (
        "penalty", "decide", Decimal("3000"))
    assert data["returned_for_investigation"] is False and data["case_status"] == "closed"
    assert [task for task, _ in case.done_by].count("decide_penalty") == 2
    assert [task for task, _ in case.done_by].count("prior_notice") == 2
