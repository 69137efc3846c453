"""A case on its own diagram: passed elements, where it waits, overdue and failed ones, flows taken,
who did what; called processes drill down."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import bpmn
from workflows.core.errors import NotAllowed, NotFound
from workflows.design import deployment
from workflows.domain import casediagram, cases, tasks
from workflows.domain.people import get_user

from .monitoring import FILING, bureau


@pytest.fixture
def made(db, settings, frozen_clock):
    return bureau(db, settings, frozen_clock)


def test_passed_current_and_overdue_elements_with_the_flows_taken(db, made):
    shown = casediagram.of_case(db, get_user(db, "feng"), made["c"])
    assert shown.completed == ["start", "register", "compute"] and shown.current == ["confirm"]
    assert set(shown.flows) == {"f1", "f2", "f2b"} and shown.overdue == [] and shown.error is None
    [done] = shown.steps["register"]
    assert (done.who, done.done) == ("zhang", True)
    late = casediagram.of_case(db, get_user(db, "feng"), made["a"])
    assert late.current == ["register"] and late.overdue == ["register"]
    with pytest.raises(NotAllowed):
        casediagram.of_case(db, get_user(db, "sun"), made["a"])  # another unit's officer


def test_a_called_process_is_a_link_and_its_own_diagram(db, settings, made):
    deployment.deploy(db, {name: bpmn(name) for name in ("caller.bpmn", "sub_review.bpmn", "grade.dmn")}, "designer")
    case = cases.start(db, settings, get_user(db, "zhang"), "caller", {"fine": Decimal("20000")}).instance
    shown = casediagram.of_case(db, get_user(db, "feng"), case.id)
    assert shown.calls == {"review": "sub_review"} and "review" in shown.current
    inner = casediagram.of_case(db, get_user(db, "feng"), case.id, "sub_review")
    assert inner.process_id == "sub_review" and inner.current and inner.version == case.model_version
    assert b'id="sub_review"' in casediagram.diagram(db, get_user(db, "feng"), case.id, "sub_review")
    with pytest.raises(NotFound):
        casediagram.of_case(db, get_user(db, "feng"), case.id, "approval")  # not called by this case


def test_a_failed_case_shows_where_it_failed(db, settings, made):
    [row] = cases.ready_tasks_of(db, made["b"])
    tasks.complete_or_raise(db, get_user(db, "zhang"), row.task_id, {**FILING, "divisor": "0"})
    shown = casediagram.of_case(db, get_user(db, "feng"), made["b"])
    assert shown.error == "compute" and "compute" not in shown.completed


def test_a_call_activity_stands_for_the_work_inside_it(db, settings, made):
    deployment.deploy(db, {name: bpmn(name) for name in ("caller.bpmn", "sub_review.bpmn", "grade.dmn")}, "designer")
    case = cases.start(db, settings, get_user(db, "zhang"), "caller", {"fine": Decimal("20000")}).instance
    [pending] = casediagram.of_case(db, get_user(db, "feng"), case.id).steps["review"]
    assert pending.done is False  # whoever holds the task inside holds the call
    case.status, case.error_task = "error", "check"  # as a step failing inside the called process leaves it
    assert casediagram.of_case(db, get_user(db, "feng"), case.id).error == "review"
    assert casediagram.of_case(db, get_user(db, "feng"), case.id, "sub_review").error == "check"
