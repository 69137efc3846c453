"""The process view: where cases wait now, how many are overdue or failed, how long each element takes."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from tests.conftest import bpmn
from workflows.core.errors import NotAllowed, NotFound
from workflows.design import deployment
from workflows.domain import cases, process_stats, tasks
from workflows.engine import specs
from workflows.domain.people import get_user

from .monitoring import FILING, bureau


@pytest.fixture
def made(db, settings, frozen_clock):
    return bureau(db, settings, frozen_clock)


def test_cases_waiting_per_element_with_the_overdue_ones(db, made):
    waiting = process_stats.waiting(db, get_user(db, "feng"), "approval", 1)
    assert {k: (w.waiting, w.overdue) for k, w in waiting.items()} == {"register": (3, 3), "confirm": (1, 0)}
    mine = process_stats.waiting(db, get_user(db, "qian"), "approval", 1)  # the elderly unit's head
    assert {k: (w.waiting, w.overdue) for k, w in mine.items()} == {"register": (1, 1)}


def test_time_spent_per_element_mean_and_90th_percentile(db, settings, made, frozen_clock):
    for name, days in (("a", 1), ("b", 3)):  # the clock is 8 days on: a's filing takes 9 days, b's 12
        frozen_clock.advance(days=days)
        [row] = cases.ready_tasks_of(db, made[name])
        tasks.complete_or_raise(db, get_user(db, "zhang"), row.task_id, FILING)
    spent = process_stats.time_spent(db, get_user(db, "feng"), "approval", 1, frozen_clock.advance(days=0) -
                                     timedelta(days=30), frozen_clock.advance(days=0) + timedelta(days=1))
    register = spent["register"]
    assert register.count == 3  # c's (on its first day), a's and b's
    assert register.mean_s == pytest.approx((0 + 9 + 12) * 86400 / 3)
    assert register.p90_s == 12 * 86400


def test_the_view_knows_the_element_names_and_refuses_others(db, made):
    view = process_stats.view(db, get_user(db, "feng"), "approval", 1, datetime.now().astimezone(),
                              datetime.now().astimezone())
    assert view.name == "测试审批" and view.elements["register"] == "立案登记"
    with pytest.raises(NotFound):
        process_stats.view(db, get_user(db, "feng"), "nothing", 1, view.since, view.until)
    with pytest.raises(NotAllowed):
        process_stats.view(db, get_user(db, "zhang"), "approval", 1, view.since, view.until)
    assert b'id="approval"' in process_stats.diagram(db, get_user(db, "feng"), "approval", 1)


def test_a_call_activity_counts_the_cases_in_the_process_it_calls(db, settings, made):
    deployment.deploy(db, {name: bpmn(name) for name in ("caller.bpmn", "sub_review.bpmn", "grade.dmn")}, "designer")
    version = specs.current_version(db)
    for _ in range(2):
        cases.start(db, settings, get_user(db, "zhang"), "caller", {"fine": Decimal("20000")})
    waiting = process_stats.waiting(db, get_user(db, "feng"), "caller", version)
    assert {k: (w.waiting, w.overdue, w.failed) for k, w in waiting.items()} == {"review": (2, 0, 0)}
    inner = process_stats.waiting(db, get_user(db, "feng"), "sub_review", version)
    assert {k: w.waiting for k, w in inner.items()} == {"check": 2}
    view = process_stats.view(db, get_user(db, "feng"), "caller", version, datetime.now().astimezone(),
                              datetime.now().astimezone())
    assert view.calls == {"review": "sub_review"} and view.elements["review"] == "法制审核"
    assert process_stats.calls(db, "sub_review", version) == {}
