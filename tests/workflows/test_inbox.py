"""Inbox queries: the right rows for each person, paginated, filtered, never loading a workflow."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from tests.conftest import bpmn
from workflows.domain import cases, inbox, tasks
from workflows.design import deployment
from workflows.engine import serialization
from workflows.domain.inbox import Filters
from workflows.domain.people import get_user


@pytest.fixture
def many(db, settings):
    deployment.deploy(db, {"approval.bpmn": bpmn("approval.bpmn")}, "designer")
    zhang = get_user(db, "zhang")
    created = [cases.start(db, settings, zhang, "approval", {"party_name": f"协会{n:02d}"}).instance for n in range(25)]
    sun = get_user(db, "sun")
    cases.start(db, settings, sun, "approval", {"party_name": "养老院"}).instance
    return created


def test_pool_shows_only_the_users_roles_in_the_users_unit(db, many):
    li, sun, wang = (get_user(db, u) for u in ("li", "sun", "wang"))
    assert inbox.pool_tasks(db, li, per_page=100).total == 25
    assert [r.instance.party_name for r in inbox.pool_tasks(db, sun).items] == ["养老院"]
    assert inbox.pool_tasks(db, wang).total == 0  # no unit-head task yet


def test_pagination(db, many):
    li = get_user(db, "li")
    pages = [inbox.pool_tasks(db, li, page=p, per_page=10) for p in (1, 2, 3)]
    assert [len(p.items) for p in pages] == [10, 10, 5] and pages[0].pages == 3
    ids = [r.id for p in pages for r in p.items]
    assert len(set(ids)) == 25
    assert inbox.pool_tasks(db, li, per_page=10_000).per_page == inbox.MAX_PER_PAGE


def test_filters(db, many):
    li = get_user(db, "li")
    assert inbox.pool_tasks(db, li, filters=Filters(party="协会0")).total == 10
    assert inbox.pool_tasks(db, li, filters=Filters(case_no="0007")).items[0].instance.party_name == "协会06"
    assert inbox.pool_tasks(db, li, filters=Filters(name="审批")).total == 0
    assert inbox.pool_tasks(db, li, filters=Filters(process_id="other")).total == 0


def test_my_tasks_completed_by_and_case_tasks(db, many):
    zhang, li = get_user(db, "zhang"), get_user(db, "li")
    first = cases.ready_tasks_of(db, many[0].id)[0]
    tasks.claim(db, li, first.task_id)
    assert [r.task_id for r in inbox.my_tasks(db, li).items] == [first.task_id]
    assert inbox.open_count(db, li) == 25
    tasks.complete_or_raise(db, li, first.task_id, {"party_name": "协会00", "second_officer": "zhang"})
    assert [r.task_id for r in inbox.completed_by(db, li).items] == [first.task_id]
    [confirm] = cases.ready_tasks_of(db, many[0].id)
    assert inbox.my_tasks(db, zhang).items[0].task_id == confirm.task_id


def test_overdue_sorted_by_due(db, many, frozen_clock):
    assert inbox.overdue(db, frozen_clock.advance(days=1)).total == 0
    later = datetime(2026, 11, 10, tzinfo=timezone.utc)  # past the 5-working-day due of 9 Nov
    page = inbox.overdue(db, later, per_page=5)
    assert page.total == 26 and [r.due_at for r in page.items] == sorted(r.due_at for r in page.items)
    assert inbox.overdue(db, later, unit_id=get_user(db, "sun").unit_id).total == 1


def test_queries_never_deserialize_a_workflow(db, many, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("an inbox query loaded a workflow")

    monkeypatch.setattr(serialization, "loads", refuse)
    li = get_user(db, "li")
    inbox.my_tasks(db, li), inbox.pool_tasks(db, li), inbox.completed_by(db, li)
    inbox.overdue(db, datetime.now(timezone.utc) + timedelta(days=30)), inbox.open_count(db, li)
    cases.ready_tasks_of(db, many[0].id)


def test_pool_query_uses_its_index_on_sqlite(db, many, settings):
    if not settings.is_sqlite:
        pytest.skip("plan text is SQLite's")
    li = get_user(db, "li")
    statements = []
    listener = lambda conn, cursor, statement, params, context, many_: statements.append((statement, params))
    event.listen(db.get_bind(), "before_cursor_execute", listener)
    try:
        inbox.pool_tasks(db, li)
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", listener)
    query, params = next(s for s in statements if "LIMIT" in s[0])
    plan = " ".join(str(row[-1]) for row in db.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + query, params))
    assert "ix_human_task_pool" in plan
