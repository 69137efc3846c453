"""The demo cases: six penalty cases at the stages the demo people should find in their inboxes."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from workflows.domain import cases, inbox
from workflows.bootstrap import init_database
from workflows.core.db import session_scope
from workflows.demo import load_demo
from workflows.demo.cases import create_demo_cases
from workflows.core.models import Instance
from workflows.domain.people import get_user


@pytest.fixture
def db(settings, frozen_clock):
    """A database holding the demo people and catalogue, with the models deployed."""
    with session_scope(settings) as session:
        init_database(settings, session)
        load_demo(session, settings, with_cases=False)
    with session_scope(settings) as session:
        yield session


def test_demo_cases_fill_every_inbox_once(db, settings):
    create_demo_cases(db, settings)
    instances = list(db.scalars(select(Instance).order_by(Instance.id)))
    stages = [(i.status, sorted(row.spec_id for row in cases.ready_tasks_of(db, i.id))) for i in instances]
    assert stages == [
        ("running", ["approve_filing_unit"]),
        ("running", ["collect_evidence"]),
        ("running", ["record_statement"]),
        ("running", ["review_case"]),
        ("running", ["publish_decision"]),
        ("completed", []),
    ]
    assert {i.matter_code for i in instances} == {"MZ-CF-0001", "MZ-CF-0002", "MZ-CF-0003"}
    for username in ("officer1", "head", "reviewer"):
        assert inbox.open_count(db, get_user(db, username)) > 0, username

    create_demo_cases(db, settings)
    assert db.scalar(select(func.count()).select_from(Instance)) == 6
