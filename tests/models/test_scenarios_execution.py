"""Execution (执行): payment within 15 days, deferral, the 3% daily surcharge capped at the fine,
the demand letter and court enforcement after 10 working days."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from workflows.domain import tasks

from .conftest import CLOSED, end_of, shanghai

DUE = date(2026, 11, 17)  # 15 days after service on 2 November


def served(bureau, fine="5000"):
    penalty = {"penalty_type": "fine", "fine_amount": fine}
    case = bureau.start().file().approve_filing().investigate().report(**penalty)
    case.notify(**penalty).statement().recheck().decide(decision_text=f"罚款人民币{fine}元。")
    return case.serve().publish()


def test_late_payment_after_the_demand_carries_the_surcharge(bureau):
    case = served(bureau)
    assert case.task("record_payment").due_at == end_of(DUE)
    assert bureau.at(shanghai(2026, 11, 17, 23, 59)) == 0
    assert bureau.at(shanghai(2026, 11, 18, 0, 0, 1)) == 1
    assert case.ready == ["demand_payment"]
    assert case.data["late_surcharge"] == Decimal("150.00")  # one day: 3% of ¥5,000
    case.do("demand_payment", "zhang", demand_doc_no="新民催〔2026〕1号", demand_date=date(2026, 11, 18))
    assert case.task("await_after_demand").due_at == end_of(date(2026, 12, 2))  # 10 working days

    bureau.clock.set(shanghai(2026, 11, 27, 10))
    case.do("await_after_demand", "zhang", late_payment_date=date(2026, 11, 27), late_payment_amount="6500.00")
    data = case.data
    assert (data["late_surcharge"], data["amount_paid"], data["amount_outstanding"]) == (
        Decimal("1500.00"), Decimal("6500.00"), Decimal("0.00"))  # ten days late: 10 × ¥150
    assert data["payment_due_date"] == DUE and data["suggested_closure_reason"] == "executed"
    case.close("executed")
    executed = ["gw_execution", "start_execution", "payment_timer", "compute_surcharge", "demand_payment",
                "await_after_demand", "settle_late_payment", "gw_settled", "record_executed", "end_executed",
                "execution"] + CLOSED
    assert case.path[-len(executed):] == executed
    assert case.fired == ["payment_timer"]
    assert case.done_by[-4:] == [("demand_payment", "zhang"), ("await_after_demand", "zhang"),
                                 ("archive_case", "zhang"), ("approve_closure", "wang")]


def test_unpaid_fine_goes_to_court_with_the_surcharge_capped_at_the_fine(bureau):
    bureau.clock.set(shanghai(2026, 9, 1, 9))
    case = served(bureau, fine="2000")
    assert bureau.at(shanghai(2026, 10, 26, 9)) == 1  # swept 40 days after the due day (16 September)
    assert case.data["late_surcharge"] == Decimal("2000.00")  # 40 × 3% = 120%, capped at 100%
    assert case.data["amount_outstanding"] == Decimal("4000.00")
    case.do("demand_payment", "zhang", demand_doc_no="新民催〔2026〕2号", demand_date=date(2026, 10, 26))
    assert bureau.at(shanghai(2026, 11, 9, 23)) == 0
    assert bureau.at(shanghai(2026, 11, 10, 0, 0, 1)) == 1
    case.do("apply_court_enforcement", "zhang", court_name="乌鲁木齐市新市区人民法院",
            court_application_date=date(2026, 11, 10), court_application_doc_no="新民强〔2026〕1号")
    case.close("court_enforcement")

    assert case.instance.status == "completed"
    to_court = ["gw_execution", "start_execution", "payment_timer", "compute_surcharge", "demand_payment",
                "enforcement_wait_timer", "apply_court_enforcement", "record_court", "end_court", "execution"] + CLOSED
    assert case.path[-len(to_court):] == to_court
    assert case.fired == ["payment_timer", "enforcement_wait_timer"]
    assert case.data["suggested_closure_reason"] == "court_enforcement"


def test_approved_deferral_moves_the_payment_deadline(bureau):
    case = served(bureau)
    case.do("record_payment", "zhang", payment_status="deferral_request", deferral_reason="经营困难，申请延期缴纳。")
    assert case.ready == ["approve_deferral"]
    case.do("approve_deferral", "wu", deferral_decision="approve", deferral_kind="defer",
            deferral_start=date(2026, 12, 2), deferral_comment="同意延期至十二月。")
    assert case.task("record_payment").due_at == end_of(date(2026, 12, 17))
    assert bureau.at(shanghai(2026, 11, 18, 9)) == 0  # the original deadline no longer runs

    case.do("record_payment", "zhang", payment_status="paid", payment_amount="2000", payment_date=date(2026, 11, 18))
    assert case.ready == ["record_payment"] and case.data["amount_outstanding"] == Decimal("3000")
    again = case.task("record_payment")  # the same task again: it says why, and starts afresh
    [back] = tasks.returns_of(bureau.db, [again]).values()
    assert (back.reason, back.by_task) == ("尚未缴清，继续登记缴纳", "登记缴纳罚没款")
    form = tasks.sheet(bureau.db, bureau.user("zhang"), again.task_id).values
    assert (form["payment_amount"], form["payment_date"], form["payment_receipt"]) == (None, None, None)
    assert bureau.at(shanghai(2026, 12, 10, 9)) == 0  # a payment date is never in the future
    case.do("record_payment", "zhang", payment_status="paid", payment_amount="3000", payment_date=date(2026, 12, 10))
    assert case.ready == ["archive_case"]
    assert case.data["deferral_granted"] is True and case.data["amount_paid"] == Decimal("5000")
    paid = ["record_payment", "sum_payment", "gw_payment"]
    deferred = ["gw_execution", "start_execution"] + paid + ["approve_deferral", "gw_deferral", "apply_deferral"] + \
        paid * 2 + ["record_executed", "end_executed", "execution", "start_closure"]
    assert case.path[-len(deferred):] == deferred
    assert case.fired == []
