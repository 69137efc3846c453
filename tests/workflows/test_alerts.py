"""Yellow and red cards: past due is red; due within the warning window (working days) is yellow."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import update

from workflows.core.models import DeadlineSetting
from workflows.core.workdays import TZ
from workflows.domain import alerts


def test_task_cards_count_working_days(db):
    windows = alerts.windows(db)  # Monday 2 Nov 2026, noon; 2 working days: through Wednesday 4 Nov
    assert windows.task_until == date(2026, 11, 4)
    assert windows.task(windows.now - timedelta(minutes=1)) == alerts.RED
    assert windows.task(datetime(2026, 11, 4, 23, 59, tzinfo=TZ)) == alerts.YELLOW
    assert windows.task(datetime(2026, 11, 5, 9, 0, tzinfo=TZ)) is None
    assert windows.task(None) is None


def test_the_handling_limit_card_stops_at_the_decision(db):
    windows = alerts.windows(db)  # 10 working days: through Monday 16 Nov
    assert windows.case(date(2026, 11, 1), None) == alerts.RED
    assert windows.case(date(2026, 11, 16), None) == alerts.YELLOW
    assert windows.case(date(2026, 11, 17), None) is None
    assert windows.case(date(2026, 11, 1), date(2026, 10, 30)) is None
    clock = alerts.handling_clock(windows, "running", date(2026, 9, 1), date(2026, 11, 30), None)
    assert (clock.days_used, clock.days_left, clock.card) == (62, 28, None)
    paused = alerts.handling_clock(windows, "suspended", date(2026, 8, 1), date(2026, 10, 30), None)
    assert (paused.days_left, paused.card) == (-3, None)  # shown, but a suspended case carries no card


def test_the_windows_are_settings(db):
    db.execute(update(DeadlineSetting).where(DeadlineSetting.name == "warning_task").values(amount=5))
    assert alerts.windows(db).task_until == date(2026, 11, 9)
