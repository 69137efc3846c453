"""Legal review of major decisions (重大执法决定法制审核): passed first time, problems corrected,
disagreement settled by the agency head, reviewer independence and the review time limit."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from workflows.domain import policy, tasks
from workflows.core.errors import FormInvalid, NotAllowed

from .conftest import (CLOSED, FILED, INVESTIGATED, NOTIFIED, ORGANISATION, PASSED_REVIEW, PERSON, RETURNED,
                       REVIEW_ITEMS, TO_SERVICE, end_of, shanghai)

LARGE_FINE = {"penalty_type": "fine", "fine_amount": "150000"}
SUBMITTED = ["start_review", "submit_review", "init_review", "check_package", "check_reviewer",
             "gw_package"]
REVIEWED = ["review_case", "check_review_signer", "gw_review"]


def at_legal_review(bureau, who="zhang"):
    """A large fine on an organisation: major by the catalogue, so the case goes to legal review."""
    case = bureau.start(who=who).file(who=who).approve_filing().investigate().report(**LARGE_FINE)
    return case.notify(**LARGE_FINE).statement().recheck()


def test_major_case_passes_legal_review_first_time_and_is_executed(bureau):
    case = at_legal_review(bureau)
    assert (case.data["major"], case.data["major_reason"]) == (True, "对法人或其他组织处较大数额罚款")
    assert case.data["hearing_eligible"] is True and case.data["hearing_requested"] is False
    assert case.ready == ["submit_review"]
    case.pass_review()
    case.decide(decision_text="罚款人民币十五万元。").serve().publish(disclosure_decision_text="罚款人民币十五万元。")
    assert case.task("record_payment").due_at == end_of(date(2026, 11, 17))  # 15 days after service
    case.do("record_payment", "zhang", payment_status="paid", payment_amount="150000.00",
            payment_date=date(2026, 11, 2))
    case.close("executed")

    assert case.instance.status == "completed"
    assert case.path == FILED + INVESTIGATED + NOTIFIED + PASSED_REVIEW + [
        "decide_penalty", "gw_decision", "record_decision", "merge_decision"] + TO_SERVICE + [
        "split_service_disclosure", "serve_decision", "gw_service", "record_service", "publish_decision",
        "write_disclosure", "join_service_disclosure", "end_served", "service",
        "gw_execution", "start_execution", "record_payment", "sum_payment", "gw_payment", "record_executed",
        "end_executed", "execution"] + CLOSED
    data = case.data
    assert (data["legal_review_passed"], data["legal_review_result"], data["review_signed_by"]) == (
        True, "agree", "zhou")
    assert all(data[f"item_{item}"] == "pass" for item in REVIEW_ITEMS)
    assert (data["amount_due"], data["amount_paid"], data["amount_outstanding"]) == (
        Decimal("150000"), Decimal("150000.00"), Decimal("0.00"))
    assert data["executed_on"] == date(2026, 11, 2) and data["suggested_closure_reason"] == "executed"
    assert case.done_by[11:16] == [("submit_review", "zhang"), ("check_package", "zhou"), ("review_case", "zhou"),
                                   ("collective_discussion", "wu"), ("decide_penalty", "wu")]


@pytest.mark.parametrize("party, report, reason", [
    (ORGANISATION, {"penalty_type": "revoke_registration"}, "撤销登记"),
    (ORGANISATION, {"penalty_type": "suspend_activities"}, "责令停止活动、责令停产停业"),
    (PERSON, {"penalty_type": "fine", "fine_amount": "10000"}, "对自然人处较大数额罚款"),
    (ORGANISATION, {"penalty_type": "warning", "complex_case": True}, "案件情况疑难复杂、涉及多个法律关系"),
    (ORGANISATION, {"penalty_type": "warning", "major_public_interest": True}, "涉及重大公共利益"),
    (ORGANISATION, {"penalty_type": "warning", "affects_third_party": True}, "直接关系当事人或者第三人重大权益"),
])
def test_the_major_decision_catalogue_sends_these_cases_to_review(bureau, party, report, reason):
    penalty = {k: v for k, v in report.items() if k in ("penalty_type", "fine_amount")}
    case = bureau.start().file(**party).approve_filing().investigate().report(**report)
    case.notify(**penalty).statement().recheck()
    assert (case.data["major"], case.data["major_reason"]) == (True, reason)
    assert case.ready == ["submit_review"] and case.path[-3:] == ["assess_major", "gw_major", "start_review"]
    assert case.done_by[-1] == ("recheck_penalty", "zhang")


def test_incomplete_submission_is_sent_back_before_review(bureau):
    case = at_legal_review(bureau).submit_for_review()
    case.do("check_package", "zhou", package_complete="incomplete", missing_materials="缺少裁量基准适用说明。")
    assert case.ready == ["submit_review"]
    case.submit_for_review()
    case.do("check_package", "zhou", package_complete="complete")
    assert case.task("review_case").assignee == "zhou"
    assert case.path[len(FILED + INVESTIGATED + NOTIFIED):] == SUBMITTED + SUBMITTED[1:]


def test_problems_found_are_corrected_and_pass_on_re_review(bureau):
    case = at_legal_review(bureau).submit_for_review()
    case.do("check_package", "zhou", package_complete="complete")
    case.review(problems=("evidence", "discretion"))
    assert case.ready == ["correct_case"] and case.task("correct_case").assignee == "zhang"
    case.do("correct_case", "zhang", unit_response="corrected", correction_note="已补充银行流水，裁量档次调整说明附后。")
    assert case.task("review_case").assignee == "zhou"
    returned = tasks.returns_of(bureau.db, [case.task("review_case")])[case.task("review_case").task_id]
    assert (returned.by, returned.reason, returned.comment) == ("zhang", "已补正", "已补充银行流水，裁量档次调整说明附后。")
    # "agree" while an item is still marked as a problem is refused on the form, and so is a problem
    # without its comment
    with pytest.raises(FormInvalid, match="review_opinion: 审核项目中有“存在问题”的，审核意见不能为“同意”"):
        case.review(problems=("discretion",), review_opinion="agree", review_opinion_text="基本同意。")
    with pytest.raises(FormInvalid, match="item_discretion_comment: 请填写该项审核意见"):
        case.review(problems=("discretion",), item_discretion_comment="")
    assert case.ready == ["review_case"]
    case.review()
    assert case.ready == ["collective_discussion"]

    correction = ["correct_case", "gw_correct", "restart_review_clock"]
    assert case.path[len(FILED + INVESTIGATED + NOTIFIED):] == SUBMITTED + REVIEWED + correction + REVIEWED + [
        "review_passed", "end_passed", "legal_review", "gw_legal_review"]
    data = case.data
    assert (data["legal_review_passed"], data["legal_review_result"]) == (True, "agree")
    assert data["review_problems"] == []
    opinions = [json.loads(e.payload)["data"] for e in case.events
                if e.action == "task.complete" and json.loads(e.payload)["task"] == "review_case"]
    assert [(o["review_opinion"], o["item_evidence"], o["item_discretion"]) for o in opinions] == [
        ("problems", "problem", "problem"), ("agree", "pass", "pass")]
    assert opinions[0]["item_evidence_comment"] == "证据不足以认定违法所得数额。"


@pytest.mark.parametrize("result, after", [
    ("follow_unit", ["coordinated_pass", "end_passed", "legal_review", "gw_legal_review"]),
    ("reinvestigate", ["review_failed", "end_failed", "legal_review", "gw_legal_review"] + RETURNED),
])
def test_disagreement_between_reviewer_and_unit_is_decided_by_the_agency_head(bureau, result, after):
    case = at_legal_review(bureau).submit_for_review()
    case.do("check_package", "zhou", package_complete="complete")
    case.review(problems=("law",))
    case.do("correct_case", "zhang", unit_response="disagree", correction_note="适用条款正确，不同意审核意见。")
    assert case.task("coordinate").role_id == "agency_head"
    case.do("coordinate", "wu", coordination_by="agency_head", coordination_result=result,
            coordination_note="经协调，作出决定。")

    assert case.path[len(FILED + INVESTIGATED + NOTIFIED):] == SUBMITTED + REVIEWED + [
        "correct_case", "gw_correct", "coordinate", "gw_coordination"] + after
    data = case.data
    if result == "follow_unit":
        assert case.ready == ["collective_discussion"]
        assert (data["legal_review_passed"], data["legal_review_result"]) == (True, "agree_after_coordination")
    else:  # no decision when review fails: back to investigation
        assert case.ready == ["collect_evidence"]
        assert (data["legal_review_passed"], data["legal_review_result"]) == (False, "rejected")
    assert case.done_by[-2:] == [("correct_case", "zhang"), ("coordinate", "wu")]


def test_coordination_siding_with_the_reviewer_sends_the_case_to_correction(bureau):
    case = at_legal_review(bureau).submit_for_review()
    case.do("check_package", "zhou", package_complete="complete")
    case.review(problems=("procedure",))
    case.do("correct_case", "zhang", unit_response="disagree", correction_note="程序合法。")
    case.do("coordinate", "wu", coordination_by="collective", coordination_result="follow_review",
            coordination_note="集体讨论认为应补正程序。")
    assert case.ready == ["correct_case"] and case.data["coordination_by"] == "collective"
    assert case.path[len(FILED + INVESTIGATED + NOTIFIED):] == SUBMITTED + REVIEWED + [
        "correct_case", "gw_correct", "coordinate", "gw_coordination"]
    assert case.done_by[-1] == ("coordinate", "wu")


def test_an_investigator_is_refused_as_legal_reviewer(bureau):
    case = at_legal_review(bureau, who="xu").submit_for_review()
    assert case.data["officers"] == ["xu", "li"]
    with pytest.raises(NotAllowed, match="按照职责分离，.+已办理本案的“立案登记”，不能办理“送审材料审查”"):
        case.do("check_package", "xu", package_complete="complete")  # xu investigated: refused, with the reason
    case.do("check_package", "han", package_complete="complete")
    review = case.task("review_case")
    assert review.assignee == "han"
    with pytest.raises(NotAllowed):
        tasks.complete_or_raise(bureau.db, bureau.user("xu"), review.task_id, {})
    # nor can a supervisor hand the review to the investigator
    with pytest.raises(NotAllowed, match="按照职责分离"):
        tasks.reassign(bureau.db, bureau.user("wu"), review.task_id, "xu")
    case.review("han")

    assert case.ready == ["collective_discussion"]
    assert case.path[len(FILED + INVESTIGATED + NOTIFIED):] == SUBMITTED + REVIEWED + [
        "review_passed", "end_passed", "legal_review", "gw_legal_review"]
    assert (case.data["review_signed_by"], case.data["legal_review_passed"]) == ("han", True)
    reviewers = [who for task, who in case.done_by if task in ("check_package", "review_case")]
    assert reviewers == ["han", "han"]


def test_review_time_limit_is_extended_once_then_marked_overdue(bureau):
    case = at_legal_review(bureau).submit_for_review()
    case.do("check_package", "zhou", package_complete="complete")
    assert case.task("review_case").due_at == end_of(date(2026, 11, 9))  # 5 working days

    assert bureau.at(shanghai(2026, 11, 10, 0, 0, 1)) == 1
    case.do("review_deadline", "wu", review_extension_decision="approve", review_deadline_note="案情复杂，延长五个工作日。")
    assert case.task("review_case").due_at == end_of(date(2026, 11, 16))
    assert case.data["review_extended"] is True

    assert bureau.at(shanghai(2026, 11, 17, 0, 0, 1)) == 1
    case.do("review_deadline", "wu", review_extension_decision="approve", review_deadline_note="再次申请延长。")
    assert case.task("review_case").due_at == end_of(date(2026, 11, 24))
    assert case.data["review_overdue"] is True  # the extension is granted only once
    case.review()

    assert case.fired == ["review_timer", "review_timer"]
    assert case.path[len(FILED + INVESTIGATED + NOTIFIED + SUBMITTED):] == [
        "review_timer", "review_deadline", "extend_review"] * 2 + REVIEWED + [
        "review_passed", "end_passed", "legal_review", "gw_legal_review"]


def test_the_larger_amount_thresholds_are_settings_and_a_confiscation_counts(bureau):
    """较大数额 (hearing and the major-decision catalogue) comes from the settings with their basis, and
    what is confiscated counts with the fine toward it."""
    fine = {"penalty_type": "fine", "fine_amount": "20000"}
    policy.change_policy(bureau.db, bureau.user("admin"), "hearing_fine_person", "30000", "本省规定", "提高标准")
    case = bureau.start().file(**PERSON).approve_filing().investigate().report(**fine)
    case.notify(**fine)
    assert case.data["hearing_eligible"] is False  # ¥20,000 is below this province's ¥30,000
    case.statement().recheck()
    assert (case.data["major"], case.data["major_reason"]) == (False, "不属于重大执法决定")

    both = {"penalty_type": "confiscation", "fine_amount": "4000", "confiscation_amount": "27000"}
    case = bureau.start().file(**PERSON).approve_filing().investigate().report(**both)
    case.notify(**both).statement().recheck()
    assert (case.data["major"], case.data["major_reason"]) == (True, "对自然人处较大数额罚款")  # 4,000 + 27,000
