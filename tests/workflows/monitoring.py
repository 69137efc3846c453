"""Cases for the supervision tests: approval cases in two units, one of them overdue."""
from __future__ import annotations

from tests.conftest import bpmn
from workflows.design import deployment
from workflows.domain import cases, tasks
from workflows.domain.people import get_user

FILING = {"party_name": "某协会", "fine": "100.50", "divisor": "2", "second_officer": "li", "kind": "fine",
          "matter_code": "MZ-CF-0001", "violation_date": "2026-10-08"}


def bureau(db, settings, clock) -> dict[str, int]:
    """Three social-unit cases (one moved on to confirmation) and one elderly-unit case; the clock
    then moves 6 working days on, past the filing tasks' 5-working-day due time."""
    deployment.deploy(db, {"approval.bpmn": bpmn("approval.bpmn")}, "designer")
    zhang, sun = get_user(db, "zhang"), get_user(db, "sun")
    made = {name: cases.start(db, settings, zhang, "approval", {"party_name": party}).instance
            for name, party in (("a", "甲协会"), ("b", "乙基金会"), ("c", "丙协会"))}
    made["d"] = cases.start(db, settings, sun, "approval", {"party_name": "丁养老院"}).instance
    [register] = cases.ready_tasks_of(db, made["c"].id)
    tasks.complete_or_raise(db, zhang, register.task_id, FILING)
    db.commit()
    clock.advance(days=8)  # Mon 2 Nov + 8 days: Tue 10 Nov, after the filing tasks' due (Mon 9 Nov)
    return {name: instance.id for name, instance in made.items()}
