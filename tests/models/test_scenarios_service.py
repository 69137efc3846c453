"""Service of the decision (送达) and post-decision disclosure (事后公开): public notice, the 7-working-day
limits across the National Day holiday, redaction, and cases not published."""
from __future__ import annotations

import json
from datetime import date

import pytest

from workflows.core.errors import FormInvalid
from workflows.core.models import Disclosure

from .conftest import PERSON, end_of, shanghai


def decided(bureau, party=None, **penalty):
    penalty = penalty or {"penalty_type": "fine", "fine_amount": "3000"}
    case = bureau.start().file(**(party or {})).approve_filing().investigate().report(**penalty)
    text = "给予警告。" if penalty["penalty_type"] == "warning" else "罚款人民币三千元。"
    return case.notify(**penalty).statement().recheck().decide(decision_text=text)


def test_service_by_public_notice_is_deemed_served_after_30_days(bureau):
    case = decided(bureau)
    bureau.clock.set(shanghai(2026, 11, 3))  # the notice is recorded once published
    case.serve(service_method="public_notice", service_date=None, service_receipt=None,
               public_notice_date=date(2026, 11, 3), service_av=[case.recording()])
    case.publish()
    assert case.tasks == [] and case.instance.next_timer_at == end_of(date(2026, 12, 3))  # 民事诉讼法 Art. 95

    assert bureau.at(shanghai(2026, 12, 3, 23)) == 0
    assert bureau.at(shanghai(2026, 12, 4, 0, 0, 1)) == 1
    assert case.ready == ["record_payment"]
    assert case.data["service_date"] == date(2026, 12, 3) and case.data["served"] is True
    assert case.task("record_payment").due_at == end_of(date(2026, 12, 18))  # 15 days from service
    served = ["serve_decision", "gw_service", "publish_decision", "write_disclosure",
              "public_notice_period", "deemed_served", "record_service", "join_service_disclosure", "end_served",
              "service", "gw_execution", "start_execution"]
    assert case.path[-len(served):] == served
    assert case.fired == ["public_notice_period"]
    assert [e.action for e in case.events][-3:] == ["task.complete", "disclosure.write", "timer.fire"]


@pytest.mark.parametrize("service, missing", [
    ({"service_method": "public_notice", "service_receipt": None},
     {"public_notice_date": ["请填写公告发布日期"], "service_av": ["请上传送达音像记录"]}),
    ({"service_method": "leaving", "service_witness": "社区工作人员刘某"}, {"service_av": ["请上传送达音像记录"]}),
    ({"service_method": "electronic"}, {"electronic_consent_file": ["请上传电子送达确认书"]}),
    ({"service_method": "post", "service_receipt": None}, {"service_receipt": ["请上传送达回证或邮寄回执"]}),
])
def test_an_incomplete_service_record_is_refused_on_the_form(bureau, service, missing):
    case = decided(bureau)
    with pytest.raises(FormInvalid) as refused:
        case.serve(**service)
    assert refused.value.errors == missing
    assert sorted(case.ready) == ["publish_decision", "serve_decision"] and "gw_service" not in case.path


def test_publication_overdue_alert_counts_working_days_across_national_day(bureau):
    bureau.clock.set(shanghai(2026, 9, 30, 9))
    case = decided(bureau, penalty_type="warning").serve()
    assert case.data["decision_date"] == date(2026, 9, 30)
    # 8, 9, 10 (an adjusted working Saturday), 12–15 October: 1–7 October are holidays
    assert case.task("publish_decision").due_at == end_of(date(2026, 10, 15))

    assert bureau.at(shanghai(2026, 10, 9)) == 0
    assert bureau.at(shanghai(2026, 10, 15, 23, 59, 58)) == 0
    assert case.ready == ["publish_decision"]
    assert bureau.at(shanghai(2026, 10, 16, 0, 0, 1)) == 1
    assert case.ready == ["disclosure_overdue", "publish_decision"]  # non-interrupting: still to publish
    alert = case.task("disclosure_overdue")
    assert (alert.role_id, alert.unit_id) == ("unit_head", case.instance.unit_id)
    case.do("disclosure_overdue", "wang", disclosure_followup="已督促承办人当日公开。")
    case.publish()

    assert case.fired == ["publish_timer"] and "service_overdue_alert" not in case.path
    published = ["record_service", "publish_timer", "disclosure_overdue", "end_disclosure_alert", "publish_decision",
                 "write_disclosure", "join_service_disclosure", "end_served", "service",
                 "gw_execution", "start_closure"]
    assert case.path[-len(published):] == published
    assert case.ready == ["archive_case"]
    assert [d.published_on for d in case.disclosures] == [date(2026, 10, 16)]
    assert case.done_by[-2:] == [("disclosure_overdue", "wang"), ("publish_decision", "zhang")]


def test_service_not_done_in_7_working_days_alerts_the_unit_head(bureau):
    case = decided(bureau).publish()
    assert case.task("serve_decision").due_at == end_of(date(2026, 11, 11))
    assert bureau.at(shanghai(2026, 11, 12, 0, 0, 1)) == 1
    assert case.ready == ["serve_decision", "service_overdue_alert"]
    case.do("service_overdue_alert", "wang", service_followup="当事人拒收，改为留置送达。")
    case.serve(service_method="leaving", service_av=[case.recording()])
    assert case.fired == ["service_timer"] and case.ready == ["record_payment"]


def test_an_alert_still_open_when_the_decision_is_served_and_published_is_withdrawn(bureau):
    """Service and disclosure is a stage of its own: when both are done the stage ends, and an overdue
    alert nobody handled is moot; it leaves the unit head's inbox instead of holding the case back."""
    case = decided(bureau).publish()
    assert bureau.at(shanghai(2026, 11, 12, 0, 0, 1)) == 1
    alert = case.task("service_overdue_alert")
    case.serve(service_method="leaving", service_av=[case.recording()])

    assert case.ready == ["record_payment"]
    bureau.db.refresh(alert)
    assert (alert.state, alert.completed_by) == ("cancelled", None)
    assert "service_overdue_alert" not in case.path and case.fired == ["service_timer"]
    served = ["serve_decision", "gw_service", "record_service", "join_service_disclosure", "end_served", "service",
              "gw_execution", "start_execution"]
    assert case.path[-len(served):] == served
    assert case.data["served"] is True and case.done_by[-1] == ("serve_decision", "zhang")


def test_disclosure_record_of_a_natural_person_is_redacted(bureau):
    case = decided(bureau, PERSON).serve()
    case.publish(disclosure_facts="当事人李小明（身份证号110105199003071239，电话13912345678，住新市区幸福路8号3单元）"
                                  "出借社会团体登记证书。",
                 disclosure_decision_text="对李小明罚款人民币三千元。")
    [record] = case.disclosures
    content = json.loads(record.content)
    assert (content["party"], content["party_type"], content["fine_amount"]) == ("李某", "natural_person", "3000.00")
    assert content["facts"] == "当事人李某（身份证号＊＊，电话＊＊，住＊＊）出借社会团体登记证书。"
    assert content["decision"] == "对李某罚款人民币三千元。"
    assert content["matter"] == "MZ-CF-0001 社会组织涂改、出租、出借登记证书"
    everything = " ".join(str(getattr(record, column.name)) for column in Disclosure.__table__.columns)
    for secret in ("李小明", "110105199003071239", "13912345678", "幸福路", "小明"):
        assert secret not in everything
    event = next(e for e in case.events if e.action == "disclosure.write")
    assert "李小明" not in event.payload and json.loads(event.payload)["publish"] is True
    assert record.publish and record.published_on == date(2026, 11, 2)


def test_case_involving_minors_is_recorded_as_not_published_with_the_reason(bureau):
    case = decided(bureau, PERSON).serve()
    with pytest.raises(FormInvalid, match="not_published_reason: 请选择不予公开理由"):
        case.publish(publish=False, not_published_reason=None)  # neither published nor a reason
    assert case.ready == ["publish_decision"]
    case.publish(publish=False, not_published_reason="minors", not_published_note="当事人李小明未满十八周岁。")

    [record] = case.disclosures
    assert (record.publish, record.not_published_reason, record.content, record.published_on) == (
        False, "minors", "{}", None)
    assert record.not_published_note == "当事人李某未满十八周岁。"
    event = next(e for e in case.events if e.action == "disclosure.write")
    assert json.loads(event.payload)["reason"] == "minors"
    assert case.path.count("publish_decision") == 1 and case.path.count("write_disclosure") == 1
