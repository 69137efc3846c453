"""A process killed mid-write leaves nothing half-written (issue 10, part 5).

A kill -9 is simulated by raising :class:`Killed` (a ``BaseException``, as uncatchable by the code
under test as a signal) before the k-th SQL statement of a unit of work, k drawn at random: 60 times
in a burst of completions and 40 times in timer sweeps. After each kill the case (or every swept
case) is exactly as before the unit began; the work then goes through; at the end every case, inbox
row and audit chain verifies.
"""
from __future__ import annotations

import random
from contextlib import contextmanager
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import event, select

from tests.conftest import bpmn
from workflows.core.db import get_engine, session_scope, statements
from workflows.core.models import HumanTask, Instance
from workflows.design import deployment
from workflows.domain import cases, integrity, records, tasks
from workflows.domain.people import get_user
from workflows.worker import run_worker, sweep

MORNING = datetime(2026, 9, 30, 1, 0, tzinfo=timezone.utc)
ACTORS = {"register": "zhang", "confirm": "li", "approve": "wang"}
VALUES = {"register": {"party_name": "某协会", "second_officer": "li", "fine": "100"},
          "confirm": {"confirmed": True}, "approve": {"approved": "yes", "opinion": "同意"}}


class Killed(BaseException):
    """The process died before this statement: nothing after it ran."""


@contextmanager
def killed_at(url: str, statement: int):
    """Die before the ``statement``-th SQL statement of the block (transaction control counts too)."""
    seen = 0

    def die(conn, cursor, sql, parameters, context, executemany):
        nonlocal seen
        seen += 1
        if seen == statement:
            raise Killed(f"killed before statement {statement}: {sql.split()[0]}")

    engine = get_engine(url)
    event.listen(engine, "before_cursor_execute", die)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", die)


def snapshot(settings, case_ids: list[int]) -> dict:
    """What a unit of work may change about the cases: row, state, head, inbox rows."""
    with session_scope(settings, write=False) as session:
        rows = session.execute(select(Instance.id, Instance.status, Instance.lock_version, Instance.audit_seq,
                                      Instance.audit_head, Instance.state, Instance.next_timer_at)
                               .where(Instance.id.in_(case_ids))).all()
        inbox = session.execute(select(HumanTask.instance_id, HumanTask.task_id, HumanTask.state,
                                       HumanTask.assignee).where(HumanTask.instance_id.in_(case_ids))
                                .order_by(HumanTask.id)).all()
        return {"cases": sorted(map(tuple, rows)), "inbox": list(map(tuple, inbox))}


def step(settings, case_id: int) -> bool:
    """One unit of work of a person on the case (claim and complete its ready task); False when done."""
    with session_scope(settings) as session:
        ready = cases.ready_tasks_of(session, case_id)
        if not ready:
            return False
        [row] = ready
        spec_id = _spec_id(row)
        actor = get_user(session, ACTORS[spec_id])
        if row.assignee is None:
            tasks.claim(session, actor, row.task_id)
        tasks.complete_or_raise(session, actor, row.task_id, VALUES[spec_id])
    return True


def _spec_id(row: HumanTask) -> str:
    return {"立案登记": "register", "协办确认": "confirm", "立案审批": "approve"}[row.name]


def test_kills_during_a_burst_of_completions_leave_each_case_whole(db, settings):
    deployment.deploy(db, {"approval.bpmn": bpmn("approval.bpmn")}, "designer")
    zhang = get_user(db, "zhang")
    case_ids = [cases.start(db, settings, zhang, "approval", {"party_name": "某协会"}).instance.id
                for _ in range(30)]  # 90 steps for 60 injections
    db.commit()
    with statements(settings.database_url) as seen:
        step(settings, case_ids[0])
    longest = len(seen) + 4  # transaction control and the claim's writes come on top
    rng, killed, tried = random.Random(20261130), 0, 0
    turn = 0
    while tried < 60 and turn < 1000:
        case_id = case_ids[turn % len(case_ids)]
        turn += 1
        before = snapshot(settings, [case_id])
        if not before["inbox"] or all(r[2] != "ready" for r in before["inbox"]):
            continue
        tried += 1
        try:
            with killed_at(settings.database_url, rng.randint(1, longest)):
                step(settings, case_id)
        except Killed:
            killed += 1
            assert snapshot(settings, [case_id]) == before, f"case {case_id} half-written"
            assert step(settings, case_id)  # the officer tries again: it goes through
        assert snapshot(settings, [case_id]) != before
    assert killed >= 40, f"only {killed} of {tried} injections landed inside the unit of work"
    for case_id in case_ids:
        while step(settings, case_id):
            pass
    with session_scope(settings, write=False) as session:
        assert {session.get(Instance, i).status for i in case_ids} == {"completed"}
        assert integrity.problems(session, records.evidence_store(settings)) == []


def test_kills_during_timer_sweeps_leave_every_case_due(db, settings, frozen_clock):
    frozen_clock.set(MORNING)
    deployment.deploy(db, {"timers.bpmn": bpmn("timers.bpmn")}, "designer")
    zhang = get_user(db, "zhang")
    case_ids = [cases.start(db, settings, zhang, "timed", {"decision_date": date(2026, 9, 30)}).instance.id
                for _ in range(30)]
    db.commit()
    frozen_clock.advance(days=2)
    rng, killed = random.Random(11), 0
    for _ in range(40):
        before = snapshot(settings, case_ids)
        try:
            with killed_at(settings.database_url, rng.randint(1, 30)):
                sweep(settings, batch=10)
        except Killed:
            killed += 1
            assert snapshot(settings, case_ids) == before, "a killed sweep left writes behind"
        else:
            pytest.fail("a sweep of 10 due cases ran fewer than 30 statements")
    assert killed == 40
    assert run_worker(settings, once=True) == 30
    with session_scope(settings, write=False) as session:
        assert all(len(cases.ready_tasks_of(session, i)) == 1 for i in case_ids)
        assert integrity.problems(session, records.evidence_store(settings)) == []
