"""Rules on submitted values that a careful clerk expects (issue 9 §2), refused on the form with the
field named, the case unmoved."""
from __future__ import annotations

from datetime import date

import pytest

from workflows.core.errors import FormInvalid

from .conftest import shanghai
from .test_scenarios_hearing import notified


def refused(case, call, field: str, text: str) -> None:
    before = case.ready
    with pytest.raises(FormInvalid) as caught:
        call()
    assert any(text in message for message in caught.value.errors[field]), caught.value.errors
    assert case.ready == before


def test_the_filer_cannot_be_the_second_officer(bureau):
    case = bureau.start()
    refused(case, lambda: case.file(second_officer="zhang"), "second_officer", "须是立案人以外的另一名持证执法人员")
    case.file()
    assert case.ready == ["confirm_participation"]


def test_a_report_proposing_a_penalty_names_it_and_a_fine_its_amount(bureau):
    case = bureau.start().file().approve_filing().investigate()
    refused(case, lambda: case.report(penalty_type=None), "penalty_type", "请选择拟处罚种类")
    refused(case, lambda: case.report(penalty_type="fine"), "fine_amount", "请填写拟罚款金额")
    case.report(outcome="no_penalty_minor", penalty_type=None)  # no penalty proposed: nothing to name
    assert "investigation_report" not in case.ready


def test_a_penalty_decision_has_its_document(bureau):
    case = bureau.start().up_to_notice().notify().statement().recheck()
    refused(case, lambda: case.decide(decision_doc_no=None), "decision_doc_no", "请填写行政处罚决定书文号")
    refused(case, lambda: case.decide(decision_text=None), "decision_text", "请填写决定书主要内容")
    row = case.task("decide_penalty")
    signed = case.attach(row, next(f for f in case.form(row) if f.id == "decision_file"), "wu")
    case.decide(decision_text=None, decision_file=signed)  # the signed document instead of its text
    assert case.ready == ["publish_decision", "serve_decision"]


def test_a_hearing_is_not_held_before_its_notified_date(bureau):
    case = notified(bureau, penalty_type="fine", fine_amount="20000")
    bureau.clock.set(shanghai(2026, 11, 4))
    case.statement(statement_made="made", hearing_requested=True, hearing_request_date=date(2026, 11, 4))
    case.do("designate_chair", "wu", hearing_chair="chen")
    bureau.clock.set(shanghai(2026, 11, 5))
    case.do("notify_hearing", "zhang", hearing_date=date(2026, 11, 17), hearing_notice_date=date(2026, 11, 5),
            hearing_place="区民政局三楼会议室", hearing_public="public", hearing_notice_doc_no="新民听通〔2026〕1号")
    bureau.clock.set(shanghai(2026, 11, 16, 15))
    held = {"party_attendance": "attended", "hearing_summary": "当事人到场陈述申辩。", "hearing_result": "uphold",
            "hearing_report": "维持。"}
    refused(case, lambda: case.do("hold_hearing", "chen", hearing_held_on=date(2026, 11, 16), **held),
            "hearing_held_on", "听证不能早于听证通知书载明的日期举行")
