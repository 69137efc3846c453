import dataclasses
from datetime import date, datetime, time, timedelta, timezone

import pytest

from workflows.core.deadlines import DEFAULT_DEADLINES, DeadlineRule, compute_deadline, due_date
from workflows.core.workdays import TZ, WorkCalendar

EXPECTED = {
    "preservation_decision": (7, "working_days"),
    "statement_defence": (5, "working_days"),
    "hearing_request": (5, "working_days"),
    "hearing_notice": (7, "working_days"),  # APL Art. 85: "seven days" are working days
    "case_decision": (90, "days"),
    "case_decision_extension": (30, "days"),
    "service": (7, "working_days"),
    "public_notice_service": (60, "days"),
    "publish_penalty": (7, "working_days"),
    "publish_other": (20, "working_days"),
    "withdraw_disclosure": (3, "working_days"),
    "payment": (15, "days"),
    "court_enforcement_wait": (10, "working_days"),
    "legal_review": (5, "working_days"),
    "legal_review_extension": (5, "working_days"),
    "av_upload": (1, "days"),
    "matter_review": (1, "years"),
    "annual_report": (31, "days"),  # from 31 December: by 31 January
    "limitation_general": (2, "years"),
    "limitation_serious": (5, "years"),
    "warning_task": (2, "working_days"),
    "warning_case": (10, "working_days"),
    "warning_credential": (60, "days"),
    "warning_annual_report": (20, "days"),
}


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar()


def test_defaults_match_the_law():
    assert {name: (rule.amount, rule.unit) for name, rule in DEFAULT_DEADLINES.items()} == EXPECTED
    for name, rule in DEFAULT_DEADLINES.items():
        assert rule.name == name
        assert rule.label_zh and rule.basis


def test_rules_are_frozen_and_validated():
    rule = DEFAULT_DEADLINES["payment"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.amount = 30  # type: ignore[misc]
    with pytest.raises(ValueError, match="unknown unit"):
        DeadlineRule("x", 1, "months", "x", "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=">= 0"):
        DeadlineRule("x", -1, "days", "x", "x")


def test_due_moment_is_the_end_of_the_day_in_shanghai(calendar):
    due = compute_deadline(DEFAULT_DEADLINES["publish_penalty"], date(2026, 9, 30), calendar)
    assert due == datetime(2026, 10, 15, 23, 59, 59, tzinfo=TZ)
    assert due.utcoffset() == timedelta(hours=8)
    assert due.isoformat() == "2026-10-15T23:59:59+08:00"


@pytest.mark.parametrize(
    "start",
    [
        date(2026, 9, 30),
        "2026-09-30",
        "2026-09-30T10:00:00+08:00",
        "2026-09-30T15:00:00Z",  # 23:00 in Shanghai
        datetime(2026, 9, 29, 16, 30, tzinfo=timezone.utc),  # 00:30 on the 30th in Shanghai
        datetime(2026, 9, 30, 8, 0, tzinfo=TZ),
    ],
)
def test_start_forms(start, calendar):
    assert due_date(DEFAULT_DEADLINES["publish_penalty"], start, calendar) == date(2026, 10, 15)


@pytest.mark.parametrize("start", [datetime(2026, 9, 30, 10, 0), "2026-09-30T10:00:00", "30/09/2026"])
def test_naive_or_malformed_starts_are_refused(start, calendar):
    with pytest.raises(ValueError):
        compute_deadline(DEFAULT_DEADLINES["service"], start, calendar)


def test_calendar_days_ignore_holidays(calendar):
    assert due_date(DEFAULT_DEADLINES["payment"], date(2026, 9, 30), calendar) == date(2026, 10, 15)
    assert due_date(DEFAULT_DEADLINES["case_decision"], date(2026, 1, 1), calendar) == date(2026, 4, 1)
    assert due_date(DEFAULT_DEADLINES["av_upload"], date(2026, 9, 30), calendar) == date(2026, 10, 1)


def test_working_days_follow_the_calendar():
    calendar = WorkCalendar({date(2026, 10, 14): False})
    assert due_date(DEFAULT_DEADLINES["court_enforcement_wait"], date(2026, 9, 30), calendar) == date(2026, 10, 21)


def test_years_keep_month_and_day_and_clamp_29_february(calendar):
    assert due_date(DEFAULT_DEADLINES["limitation_general"], date(2024, 2, 29), calendar) == date(2026, 2, 28)
    assert due_date(DEFAULT_DEADLINES["limitation_serious"], date(2021, 7, 15), calendar) == date(2026, 7, 15)
    due = compute_deadline(DEFAULT_DEADLINES["matter_review"], "2025-03-01", calendar)
    assert due.date() == date(2026, 3, 1) and due.timetz() == time(23, 59, 59, tzinfo=TZ)
