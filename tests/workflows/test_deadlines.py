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
    "public_notice_service": (30, "days"),  # 民事诉讼法 Art. 95 (2021): it was 60
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


def test_calendar_days_count_holidays_inside_the_period(calendar):
    # 15 days from 30 September: 1-7 October count, 15 October is a Thursday
    assert due_date(DEFAULT_DEADLINES["payment"], date(2026, 9, 30), calendar) == date(2026, 10, 15)
    assert due_date(DEFAULT_DEADLINES["case_decision"], date(2026, 1, 1), calendar) == date(2026, 4, 1)


def test_a_period_ending_on_a_holiday_ends_on_the_next_working_day(calendar):
    # 民法典 Art. 203: 18 September + 15 days is 3 October, inside National Day (1-7 October 2026)
    assert due_date(DEFAULT_DEADLINES["payment"], date(2026, 9, 18), calendar) == date(2026, 10, 8)
    due = compute_deadline(DEFAULT_DEADLINES["payment"], "2026-09-18T10:00:00+08:00", calendar)
    assert due == datetime(2026, 10, 8, 23, 59, 59, tzinfo=TZ)


def test_a_period_ending_on_a_saturday_ends_on_monday(calendar):
    # 1 May + 15 days is Saturday 16 May, an ordinary rest day
    assert date(2026, 5, 16).weekday() == 5
    assert due_date(DEFAULT_DEADLINES["payment"], date(2026, 5, 1), calendar) == date(2026, 5, 18)


def test_a_period_ending_on_a_working_day_is_unchanged(calendar):
    assert date(2026, 6, 17).weekday() == 2
    assert due_date(DEFAULT_DEADLINES["payment"], date(2026, 6, 2), calendar) == date(2026, 6, 17)
    # an adjusted working Saturday (10 October 2026) is a working day: the period ends on it
    assert due_date(DEFAULT_DEADLINES["payment"], date(2026, 9, 25), calendar) == date(2026, 10, 10)


def test_years_ending_on_a_holiday_end_on_the_next_working_day(calendar):
    # 3 October 2024 + 2 years is 3 October 2026, a National Day holiday
    assert due_date(DEFAULT_DEADLINES["limitation_general"], date(2024, 10, 3), calendar) == date(2026, 10, 8)


def test_holiday_overrides_move_the_end_too():
    calendar = WorkCalendar({date(2026, 6, 17): False})
    assert due_date(DEFAULT_DEADLINES["payment"], date(2026, 6, 2), calendar) == date(2026, 6, 18)


def test_hours_fixed_dates_and_reminders_are_not_extended(calendar):
    # av_upload is "within 24 hours" (a period of hours); reminders are no legal periods
    assert due_date(DEFAULT_DEADLINES["av_upload"], date(2026, 9, 30), calendar) == date(2026, 10, 1)
    assert due_date(DEFAULT_DEADLINES["warning_annual_report"], date(2026, 9, 11), calendar) == date(2026, 10, 1)
    # annual_report is the fixed date 31 January (here a Saturday), not a period
    assert due_date(DEFAULT_DEADLINES["annual_report"], date(2025, 12, 31), calendar) == date(2026, 1, 31)
    assert due_date(DEFAULT_DEADLINES["warning_credential"], date(2026, 8, 2), calendar) == date(2026, 10, 1)


def test_working_days_skip_national_day(calendar):
    # for contrast: 7 working days from Monday 28 September are 29, 30 September, 8, 9, 10 (an adjusted
    # working Saturday), 12 and 13 October
    assert due_date(DEFAULT_DEADLINES["service"], date(2026, 9, 28), calendar) == date(2026, 10, 13)


def test_public_notice_is_deemed_served_after_30_days(calendar):
    rule = DEFAULT_DEADLINES["public_notice_service"]
    assert (rule.amount, rule.unit) == (30, "days") and "民事诉讼法第95条" in rule.basis
    assert due_date(rule, date(2026, 11, 3), calendar) == date(2026, 12, 3)
    # 30 days from 2 September is 2 October, a holiday: deemed served on 8 October
    assert due_date(rule, date(2026, 9, 2), calendar) == date(2026, 10, 8)


def test_working_days_follow_the_calendar():
    calendar = WorkCalendar({date(2026, 10, 14): False})
    assert due_date(DEFAULT_DEADLINES["court_enforcement_wait"], date(2026, 9, 30), calendar) == date(2026, 10, 21)


def test_years_keep_month_and_day_and_clamp_29_february(calendar):
    # 28 February 2026 is a Saturday, but an adjusted working day
    assert due_date(DEFAULT_DEADLINES["limitation_general"], date(2024, 2, 29), calendar) == date(2026, 2, 28)
    assert due_date(DEFAULT_DEADLINES["limitation_serious"], date(2021, 7, 15), calendar) == date(2026, 7, 15)
    due = compute_deadline(DEFAULT_DEADLINES["matter_review"], "2025-03-02", calendar)
    assert due.date() == date(2026, 3, 2) and due.timetz() == time(23, 59, 59, tzinfo=TZ)
