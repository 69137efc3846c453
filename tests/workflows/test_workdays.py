import logging
from datetime import date, datetime, timezone

import pytest

from workflows.core import workdays
from workflows.core.workdays import TZ, HolidayOverride, WorkCalendar, parse_holiday_csv


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar()


def test_national_day_and_adjusted_saturday(calendar):
    assert calendar.add_working_days(date(2026, 9, 30), 7) == date(2026, 10, 15)
    assert not calendar.is_working_day(date(2026, 10, 1))
    assert calendar.is_working_day(date(2026, 10, 10))  # Saturday, adjusted working day (调休)
    assert not calendar.is_working_day(date(2026, 10, 17))  # ordinary Saturday


def test_zero_days_is_the_start_day_and_negative_is_refused(calendar):
    assert calendar.add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 3)
    with pytest.raises(ValueError, match=">= 0"):
        calendar.add_working_days(date(2026, 10, 3), -1)


def test_working_days_between_counts_the_half_open_interval(calendar):
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 15)) == 7
    assert calendar.working_days_between(date(2026, 10, 15), date(2026, 9, 30)) == -7
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 9, 30)) == 0
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 7)) == 0
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 8)) == 1


def test_overrides_win_over_the_package():
    calendar = WorkCalendar({date(2026, 10, 15): False, date(2026, 10, 17): True})
    assert not calendar.is_working_day(date(2026, 10, 15))
    assert calendar.is_working_day(date(2026, 10, 17))
    assert calendar.add_working_days(date(2026, 9, 30), 7) == date(2026, 10, 16)


def test_years_beyond_the_package_fall_back_to_weekdays_and_warn_once(calendar, caplog, monkeypatch):
    monkeypatch.setattr(workdays, "_warned_years", set())
    with caplog.at_level(logging.WARNING, logger="workflows.workdays"):
        assert calendar.is_working_day(date(2030, 1, 1))  # a Tuesday; New Year unknown without data
        assert not calendar.is_working_day(date(2030, 1, 5))
        calendar.working_days_between(date(2029, 12, 1), date(2030, 3, 1))
    messages = [r.getMessage() for r in caplog.records]
    assert sum("2030" in m for m in messages) == 1
    assert sum("2029" in m for m in messages) == 1


def test_no_warning_for_a_year_the_overrides_cover(caplog, monkeypatch):
    monkeypatch.setattr(workdays, "_warned_years", set())
    calendar = WorkCalendar({date(2027, 1, 1): False})
    with caplog.at_level(logging.WARNING, logger="workflows.workdays"):
        assert not calendar.is_working_day(date(2027, 1, 1))
        assert calendar.is_working_day(date(2027, 1, 4))
    assert caplog.records == []


def test_aware_datetimes_count_on_the_shanghai_day(calendar):
    evening_utc = datetime(2026, 9, 30, 17, 0, tzinfo=timezone.utc)  # 01:00 on 1 October in Shanghai
    assert not calendar.is_working_day(evening_utc)
    assert calendar.add_working_days(datetime(2026, 9, 30, 9, 0, tzinfo=TZ), 7) == date(2026, 10, 15)


def test_naive_datetimes_are_refused(calendar):
    with pytest.raises(ValueError, match="naive"):
        calendar.is_working_day(datetime(2026, 9, 30, 9, 0))


def test_parse_holiday_csv():
    text = "\ufeffdate,kind,name\n2027-01-01,holiday,元旦\n\n2027-02-07, Workday ,春节调休\n2027-02-08,holiday,\n"
    assert parse_holiday_csv(text) == [
        HolidayOverride(date(2027, 1, 1), False, "元旦"),
        HolidayOverride(date(2027, 2, 7), True, "春节调休"),
        HolidayOverride(date(2027, 2, 8), False, ""),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: expected the header"),
        ("day,kind,name\n2027-01-01,holiday,元旦\n", "line 1: expected the header"),
        ("date,kind,name\n2027-01-01,holiday,元旦\n2027-13-01,holiday,x\n", "line 3: '2027-13-01' is not a date"),
        ("date,kind,name\n2027-01-01,vacation,元旦\n", "line 2: kind must be"),
        ("date,kind,name\n2027-01-01,holiday\n", "line 2: expected 3 columns"),
        ("date,kind,name\n2027-01-01,holiday,a\n2027-01-01,workday,b\n", "line 3: 2027-01-01 already given on line 2"),
    ],
)
def test_parse_holiday_csv_names_the_bad_line(text, message):
    with pytest.raises(ValueError, match=message):
        parse_holiday_csv(text)
