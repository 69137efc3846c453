"""Chinese working-day calendar: statutory holidays and adjusted working days (调休)."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

import chinese_calendar

TZ = ZoneInfo("Asia/Shanghai")

log = logging.getLogger(__name__)

# Years already warned about, so a long count logs once per year and not once per day.
_warned_years: set[int] = set()

_CSV_HEADER = ["date", "kind", "name"]
_CSV_KINDS = {"holiday": False, "workday": True}


class HolidayOverride(NamedTuple):
    """One administrator-maintained calendar day, e.g. next year's holidays before a package update."""

    date: date
    is_working: bool
    name: str


def to_local_date(value: date) -> date:
    """Return the Asia/Shanghai calendar day of a date or an aware datetime."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} has no time zone")
        return value.astimezone(TZ).date()
    return value


class WorkCalendar:
    """Working days from `chinese_calendar`, with overrides that always win.

    Outside the package's years (2004-2026 in 1.11.0) and the overrides, days fall back to
    Monday-Friday with a warning, so a stale package degrades loudly instead of failing.
    """

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        self._overrides = dict(overrides or {})
        self._override_years = {d.year for d in self._overrides}
        self._lookup = lru_cache(maxsize=8192)(self._compute)

    def is_working_day(self, d: date) -> bool:
        """Return True when government offices work on this day."""
        return self._lookup(to_local_date(d))

    def add_working_days(self, d: date, n: int) -> date:
        """Return the n-th working day after d (d itself not counted; n=0 returns d)."""
        if n < 0:
            raise ValueError(f"number of working days must be >= 0, got {n}")
        day = to_local_date(d)
        while n:
            day += timedelta(days=1)
            if self._lookup(day):
                n -= 1
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Count working days in (a, b]; negative when b is before a."""
        start, end = to_local_date(a), to_local_date(b)
        if end < start:
            return -self.working_days_between(end, start)
        return sum(self._lookup(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))

    def _compute(self, d: date) -> bool:
        if d in self._overrides:
            return self._overrides[d]
        try:
            return chinese_calendar.is_workday(d)
        except NotImplementedError:
            if d.year not in self._override_years and d.year not in _warned_years:
                _warned_years.add(d.year)
                log.warning(
                    "no holiday data for %s: counting Monday-Friday as working days; "
                    "upload that year's holidays or update chinese_calendar",
                    d.year,
                )
            return d.weekday() < 5


def parse_holiday_csv(text: str) -> list[HolidayOverride]:
    """Parse `date,kind,name` rows (kind `holiday` or `workday`) from an uploaded CSV."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != _CSV_HEADER:
        raise ValueError(f"line 1: expected the header 'date,kind,name', got {header!r}")
    rows: list[HolidayOverride] = []
    seen: dict[date, int] = {}
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != 3:
            raise ValueError(f"line {line}: expected 3 columns (date,kind,name), got {len(fields)}")
        raw_date, raw_kind, name = (f.strip() for f in fields)
        try:
            day = date.fromisoformat(raw_date)
        except ValueError:
            raise ValueError(f"line {line}: {raw_date!r} is not a date like 2027-10-01") from None
        kind = raw_kind.lower()
        if kind not in _CSV_KINDS:
            raise ValueError(f"line {line}: kind must be 'holiday' or 'workday', got {raw_kind!r}")
        if day in seen:
            raise ValueError(f"line {line}: {day.isoformat()} already given on line {seen[day]}")
        seen[day] = line
        rows.append(HolidayOverride(day, _CSV_KINDS[kind], name))
    return rows
