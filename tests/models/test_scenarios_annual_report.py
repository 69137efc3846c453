"""The annual statistics report (年度统计报告): drafted by the office, reviewed by the legal reviewer,
approved by the agency head, then published by the engine with the figures of that moment; a
reminder in January while it is still not published (it is due by 31 January)."""
from __future__ import annotations

from datetime import date

import pytest

from workflows.core.errors import Conflict, FormInvalid, NotAllowed
from workflows.core.models import AnnualReport
from workflows.domain import annual_report

from .conftest import end_of, shanghai

DRAFTED = ["draft_annual_report", "record_draft", "review_annual_report", "gw_annual_review"]
APPROVED = ["record_review", "approve_annual_report", "gw_annual_approval", "publish_annual_report", "end_published"]
STARTED = ["start_report", "init_report", "split_report"]


def started(bureau, year: int = 2026, who: str = "zheng"):
    from .conftest import Case

    return Case(bureau, annual_report.start_approval(bureau.db, bureau.settings, bureau.user(who), year).instance)


def draft(case, **data):
    case.do("draft_annual_report", "zheng", **({"report_summary": "本年度共作出行政处罚决定若干件，详见各表。",
                                                "report_checked": True} | data))


def review(case, result: str = "pass"):
    case.do("review_annual_report", "zhou", annual_review_result=result,
            annual_review_opinion="数据口径准确。" if result == "pass" else "请补充说明统计口径。")


def approve(case, result: str = "approve"):
    case.do("approve_annual_report", "wu", annual_approval=result,
            annual_approval_opinion="同意公开。" if result == "approve" else "请补充执法人员持证情况说明。")


def rows(bureau) -> list[AnnualReport]:
    return list(bureau.db.query(AnnualReport).order_by(AnnualReport.id))


def test_the_report_is_drafted_reviewed_approved_and_published(bureau):
    case = started(bureau)
    assert case.instance.case_no == "新民统〔2026〕0001号"  # numbered apart from penalty cases
    row = case.task("draft_annual_report")
    assert (row.role_id, row.unit_id, row.due_at) == ("office", None, end_of(date(2027, 1, 31)))
    assert case.data["report_due"] == date(2027, 1, 31)
    assert case.instance.next_timer_at == end_of(date(2027, 1, 20))  # the January reminder waits
    draft(case)
    assert case.task("review_annual_report").role_id == "legal_reviewer"
    review(case)
    assert case.task("approve_annual_report").role_id == "agency_head"
    assert rows(bureau) == []  # nothing public before the approval
    approve(case)

    assert case.instance.status == "completed" and case.tasks == []
    assert case.instance.next_timer_at is None  # the reminder will not come
    assert case.path == STARTED + DRAFTED + APPROVED
    assert case.done_by == [("draft_annual_report", "zheng"), ("review_annual_report", "zhou"),
                            ("approve_annual_report", "wu")]
    assert case.actions[-1] == "annual_report.publish"
    [stored] = rows(bureau)
    assert (stored.year, stored.case_no, stored.as_of, stored.drafted_by, stored.reviewed_by, stored.approved_by) == (
        2026, case.instance.case_no, date(2026, 11, 2), "zheng", "zhou", "wu")
    assert stored.summary.startswith("本年度共作出")
    published = annual_report.published(bureau.db, 2026)
    assert published.revision == 1 and published.report.year == 2026 and not published.report.complete


def test_the_legal_reviewer_and_the_agency_head_send_it_back_to_the_office(bureau):
    case = started(bureau)
    draft(case)
    review(case, "return")
    assert case.ready == ["draft_annual_report"]
    draft(case, report_summary="补充了统计口径说明。")
    review(case)
    approve(case, "return")
    assert case.ready == ["draft_annual_report"] and rows(bureau) == []
    draft(case, report_summary="补充了执法人员持证情况说明。")
    review(case)
    approve(case)
    assert case.path == STARTED + DRAFTED + DRAFTED + ["record_review", "approve_annual_report",
                                                      "gw_annual_approval"] + DRAFTED + APPROVED
    assert case.data["report_rounds"] == 3
    assert rows(bureau)[0].summary == "补充了执法人员持证情况说明。"


def test_january_brings_a_reminder_until_the_report_is_published(bureau):
    case = started(bureau)
    assert bureau.at(shanghai(2027, 1, 20, 18)) == 0
    assert bureau.at(shanghai(2027, 1, 21, 9)) == 1
    assert case.fired == ["report_warning"]
    assert case.ready == ["annual_report_reminder", "draft_annual_report"]
    reminder = case.task("annual_report_reminder")
    assert (reminder.role_id, reminder.due_at) == ("office", end_of(date(2027, 1, 31)))
    case.do("annual_report_reminder", "zheng", reminder_note="已编制初稿，1月25日前送法制审核。")
    assert case.ready == ["draft_annual_report"] and case.instance.status == "running"
    draft(case)
    review(case)
    approve(case)
    assert case.instance.status == "completed"
    assert case.path == STARTED + ["report_warning", "annual_report_reminder", "end_reminded"] + DRAFTED + APPROVED
    [stored] = rows(bureau)
    assert stored.as_of == date(2026, 12, 31)  # the whole year, published in January
    assert annual_report.published(bureau.db, 2026).report.complete


def test_publication_closes_a_reminder_nobody_answered(bureau):
    bureau.clock.set(shanghai(2027, 1, 22))
    case = started(bureau, 2026)  # started after the reminder date: the reminder comes at once
    assert case.fired == ["report_warning"]
    assert case.ready == ["annual_report_reminder", "draft_annual_report"]
    draft(case)
    review(case)
    approve(case)
    assert case.instance.status == "completed" and case.tasks == []
    assert "annual_report_reminder" not in [spec for spec, _ in case.done_by]
    assert len(rows(bureau)) == 1


def test_one_approval_per_year_at_a_time_and_corrections_are_new_publications(bureau):
    case = started(bureau)
    with pytest.raises(Conflict, match="已在审批中"):
        started(bureau)
    other = started(bureau, 2025)  # another year may run beside it
    assert other.instance.case_no == "新民统〔2026〕0002号"
    assert annual_report.approval(bureau.db, 2026).instance.id == case.instance.id
    draft(case)
    review(case)
    approve(case)
    assert annual_report.approval(bureau.db, 2026).instance is None
    correction = started(bureau)
    draft(correction, report_summary="更正：补录一件处罚决定。")
    review(correction)
    approve(correction)
    published = annual_report.published(bureau.db, 2026)
    assert published.revision == 2 and published.summary == "更正：补录一件处罚决定。"
    assert annual_report.published_years(bureau.db) == [2026]


def test_only_the_office_starts_it_and_only_for_a_year_that_has_begun(bureau):
    with pytest.raises(NotAllowed):
        started(bureau, who="zhou")
    with pytest.raises(FormInvalid):
        started(bureau, 2027)
    with pytest.raises(FormInvalid):
        started(bureau, 1999)
