"""The dashboard counts what the case list lists: the same filter gives the same numbers."""
from __future__ import annotations

from datetime import date

import pytest

from workflows.domain import caselist, dashboard
from workflows.domain.caselist import CaseFilters
from workflows.domain.people import get_user

from .monitoring import bureau


@pytest.fixture
def made(db, settings, frozen_clock):
    return bureau(db, settings, frozen_clock)


def chart(board, key):
    found = next(c for c in board.charts if c.key == key)
    return {label: [s.values[i] for s in found.series] for i, label in enumerate(found.labels)}


@pytest.mark.parametrize("who", ["feng", "wang"])
def test_the_tiles_and_unit_chart_match_the_case_list(db, made, who):
    user = get_user(db, who)
    board = dashboard.build(db, user, date(2026, 10, 1), date(2026, 11, 10))
    running = caselist.page(db, user, CaseFilters(status="running")).total
    red = caselist.page(db, user, CaseFilters(overdue=True)).total
    assert (board.tiles["open"], board.tiles["red"]) == (running, red) == ((4, 3) if who == "feng" else (3, 2))
    for unit_id, name in caselist.units_of(db, user).items():
        expected = caselist.page(db, user, CaseFilters(status="running", unit_id=unit_id)).total
        assert chart(board, "open_by_unit").get(name, [0])[0] == expected


def test_stages_weeks_and_overdue_tasks(db, made):
    board = dashboard.build(db, get_user(db, "feng"), date(2026, 10, 26), date(2026, 11, 10))
    assert chart(board, "open_by_stage") == {"立案登记": [3], "协办确认": [1]}
    assert chart(board, "weekly") == {"2026-10-26": [0, 0], "2026-11-02": [4, 0], "2026-11-09": [0, 0]}
    assert chart(board, "overdue_tasks") == {"社会组织管理科": [2], "养老服务科": [1]}
    assert chart(board, "time_per_stage") == {"立案登记": [0.0]}  # completed on the day it opened


def test_a_unit_outside_the_readers_scope_is_ignored(db, made):
    elderly = get_user(db, "sun").unit_id
    board = dashboard.build(db, get_user(db, "wang"), date(2026, 10, 1), date(2026, 11, 10), unit_id=elderly)
    assert board.unit_id is None and board.tiles["open"] == 3
