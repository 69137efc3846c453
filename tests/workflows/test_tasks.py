"""Completing a task is one cheap unit of work: one load of the task with its case, a handful of writes."""
from __future__ import annotations

from pathlib import Path

from workflows.core.db import session_scope, statements
from workflows.design import deployment
from workflows.domain import cases, tasks
from workflows.domain.people import get_user

SIX_STEPS = Path(__file__).resolve().parents[2] / "bench" / "six_steps.bpmn"


def test_a_completion_costs_at_most_six_statements_user_included(db, settings):
    deployment.deploy(db, {SIX_STEPS.name: SIX_STEPS.read_bytes()}, "designer")
    task_id = cases.start(db, settings, get_user(db, "zhang"), "six_steps").tasks[0].task_id
    db.commit()
    counts = []
    for step in range(1, 7):
        with statements(settings.database_url) as seen:
            with session_scope(settings) as session:
                done = tasks.complete_or_raise(session, get_user(session, "zhang"), task_id, {f"note{step}": "记"})
                task_id = done.next_tasks[0].task_id if done.next_tasks else None
        counts.append(len(seen))
    assert done.instance.status == "completed"
    assert max(counts) <= 6, counts
