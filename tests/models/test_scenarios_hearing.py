"""Hearing (听证): requested in time, too late, or for a penalty that does not qualify; the chair
never an investigator, the party notified 7 days ahead, hearing time excluded from the 90 days."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from workflows.core.errors import FormInvalid

from .conftest import FILED, INVESTIGATED, ORGANISATION, PERSON, TO_DECISION, TO_NOTICE, end_of, shanghai

NOTICE = TO_NOTICE + ["prior_notice", "record_notice", "record_statement"]
HEARD = ["start_hearing", "designate_chair"]


def notified(bureau, party=PERSON, **penalty):
    case = bureau.start().file(**party).approve_filing().investigate().report(**penalty)
    return case.notify(**penalty)


def test_hearing_requested_in_time_is_held_and_excluded_from_the_decision_limit(bureau):
    case = notified(bureau, penalty_type="fine", fine_amount="20000")
    assert case.data["hearing_eligible"] is True  # ¥20,000 on a natural person
    bureau.clock.set(shanghai(2026, 11, 4))
    case.statement(statement_made="made", statement_content="当事人要求听证。", hearing_requested=True,
                   hearing_request_date=date(2026, 11, 4))
    assert case.ready == ["designate_chair"]

    with pytest.raises(FormInvalid, match="听证主持人：按照职责分离，已办理本案“.+”的人员不能担任"):
        case.do("designate_chair", "wu", hearing_chair="zhang")  # an investigator: refused on the form
    assert case.ready == ["designate_chair"]
    case.do("designate_chair", "wu", hearing_chair="chen", designation_note="由未参与调查的陈一主持。")
    bureau.clock.set(shanghai(2026, 11, 5))  # the notice is recorded once served
    hearing_notice = {"hearing_notice_date": date(2026, 11, 5), "hearing_place": "区民政局三楼会议室",
                      "hearing_public": "public", "hearing_notice_doc_no": "新民听通〔2026〕1号"}
    with pytest.raises(FormInvalid, match="hearing_date: 听证通知书应当在举行听证的七日前送达"):
        case.do("notify_hearing", "zhang", hearing_date=date(2026, 11, 10), **hearing_notice)  # under 7 days
    assert case.ready == ["notify_hearing"]
    case.do("notify_hearing", "zhang", hearing_date=date(2026, 11, 17), **hearing_notice)
    assert case.task("hold_hearing").assignee == "chen"

    bureau.clock.set(shanghai(2026, 11, 17, 15))
    case.do("hold_hearing", "chen", hearing_held_on=date(2026, 11, 17), party_attendance="attended",
            hearing_summary="当事人到场陈述申辩。", hearing_result="reduce", hearing_report="建议减为罚款八千元。")
    assert case.data["hearing_held"] is True and case.data["hearing_chaired_by"] == "chen"
    # the 15 days from notice to the hearing's end do not count against the 90 days
    assert case.data["decision_clock_start"] == date(2026, 11, 17)
    case.recheck(defence_adopted="partly", recheck_reason="采纳听证意见，减轻处罚。", fine_amount="8000")
    # ¥8,000 is below the catalogue's threshold, but a decision after a hearing is major
    assert (case.data["major"], case.data["major_reason"]) == (True, "经过听证程序")
    case.pass_review()
    assert case.task("decide_penalty").due_at == end_of(date(2027, 2, 15))

    heard = NOTICE + ["gw_hearing"] + HEARD + [
        "notify_hearing", "hold_hearing", "finish_hearing", "end_hearing",
        "hearing", "resume_decision_clock"] + TO_DECISION + ["recheck_penalty", "gw_recheck"]
    start = len(FILED + INVESTIGATED)
    assert case.path[start:start + len(heard)] == heard
    assert case.done_by[9:15] == [
        ("record_statement", "zhang"), ("designate_chair", "wu"), ("notify_hearing", "zhang"), ("hold_hearing", "chen"),
        ("recheck_penalty", "zhang"), ("submit_review", "zhang")]
    assert case.data["fine_amount"] == Decimal("8000") and case.data["notified_fine_amount"] == Decimal("20000")


def test_hearing_request_without_its_date_is_refused_on_the_form(bureau):
    case = notified(bureau, penalty_type="fine", fine_amount="20000")
    with pytest.raises(FormInvalid, match="hearing_request_date: 请填写听证申请日期"):
        case.statement(statement_made="made", hearing_requested=True)
    assert case.ready == ["record_statement"] and "hearing" not in case.path
    bureau.clock.set(shanghai(2026, 11, 3))
    case.statement(statement_made="made", hearing_requested=True, hearing_request_date=date(2026, 11, 3))
    assert case.ready == ["designate_chair"]
    assert case.path[len(FILED + INVESTIGATED):] == NOTICE + ["gw_hearing", "start_hearing"]


def test_hearing_request_after_the_window_is_not_granted(bureau):
    """The officer records the statement late (before the worker fired): the request date decides."""
    case = notified(bureau, penalty_type="fine", fine_amount="20000")
    assert case.task("record_statement").due_at == end_of(date(2026, 11, 9))
    bureau.clock.set(shanghai(2026, 11, 10, 8, 30))
    case.statement(statement_made="made", hearing_requested=True, hearing_request_date=date(2026, 11, 10))
    assert case.ready == ["recheck_penalty"]
    assert case.path[len(FILED + INVESTIGATED):] == NOTICE + ["gw_hearing", "resume_decision_clock"] + TO_DECISION
    assert case.data["hearing_requested"] is True and case.data["hearing_eligible"] is True
    assert case.done_by[-1] == ("record_statement", "zhang") and case.fired == []


def test_silence_until_the_statement_window_closes_ends_the_right_to_a_hearing(bureau):
    case = notified(bureau, penalty_type="fine", fine_amount="20000")
    assert bureau.at(shanghai(2026, 11, 9, 23, 0)) == 0
    assert bureau.at(shanghai(2026, 11, 10, 0, 0, 1)) == 1
    assert case.ready == ["recheck_penalty"]
    assert case.path[len(FILED + INVESTIGATED):] == TO_NOTICE + [
        "prior_notice", "record_notice", "statement_timer", "no_statement", "gw_hearing", "resume_decision_clock"] + \
        TO_DECISION
    assert (case.data["statement_made"], case.data["hearing_requested"]) == ("none", False)
    assert case.fired == ["statement_timer"] and case.done_by[-1] == ("prior_notice", "zhang")
    assert case.data["decision_clock_start"] == date(2026, 11, 10)


@pytest.mark.parametrize("party, penalty", [
    (PERSON, {"penalty_type": "warning"}),
    (PERSON, {"penalty_type": "fine", "fine_amount": "9999.99"}),
    (ORGANISATION, {"penalty_type": "fine", "fine_amount": "50000"}),
])
def test_penalty_that_does_not_qualify_gets_no_hearing(bureau, party, penalty):
    case = notified(bureau, party, **penalty)
    case.statement(statement_made="made", hearing_requested=True, hearing_request_date=date(2026, 11, 2))
    assert case.data["hearing_eligible"] is False
    assert case.ready == ["recheck_penalty"]
    assert case.path[len(FILED + INVESTIGATED):] == NOTICE + ["gw_hearing", "resume_decision_clock"] + TO_DECISION
    assert case.done_by[-2:] == [("prior_notice", "zhang"), ("record_statement", "zhang")]


@pytest.mark.parametrize("penalty", ["suspend_activities", "revoke_registration"])
def test_suspension_and_revocation_qualify_for_a_hearing_without_a_fine(bureau, penalty):
    case = notified(bureau, ORGANISATION, penalty_type=penalty)
    bureau.clock.set(shanghai(2026, 11, 9))  # the last day of the statement window
    case.statement(statement_made="made", hearing_requested=True, hearing_request_date=date(2026, 11, 9))
    assert case.data["hearing_eligible"] is True and case.ready == ["designate_chair"]
    assert case.path[len(FILED + INVESTIGATED):] == NOTICE + ["gw_hearing"] + HEARD[:1]
    assert case.done_by[-1] == ("record_statement", "zhang")
