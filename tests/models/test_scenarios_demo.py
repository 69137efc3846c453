"""The demo cases: penalty cases at the stages and in the states the demo people should find in their
inboxes and supervision views."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from workflows.domain import alerts, cases, inbox, supervision
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
    instances = list(db.scalars(select(Instance).where(Instance.process_id == "enforcement_case").order_by(Instance.id)))
    stages = [(i.status, sorted(row.spec_id for row in cases.ready_tasks_of(db, i.id))) for i in instances]
    assert stages == [
        ("running", ["approve_filing_unit"]),
        ("running", ["collect_evidence"]),
        ("running", ["record_statement"]),
        ("running", ["review_case"]),
        ("running", ["publish_decision"]),
        ("running", ["collect_evidence"]),  # elderly unit, 84 days into its 90: a yellow card
        ("running", ["record_statement"]),  # elderly unit, past its 90 days and its statement period: red
        ("suspended", ["onsite_inspection"]),
        ("terminated", []),
        ("error", []),  # stopped at 登记立案
        ("completed", []),
        ("completed", []),  # a natural person's decision, published on time
        ("completed", []),  # published, then withdrawn on review (disclosure_correction)
        ("completed", []),  # published, then corrected
    ]
    windows = alerts.windows(db)
    assert [windows.case(i.decision_due, i.decided_on) for i in instances[5:7]] == [alerts.YELLOW, alerts.RED]
    assert supervision.for_inbox(db, get_user(db, "officer4"))[0].instance_id == instances[6].id
    [late] = cases.ready_tasks_of(db, instances[6].id)
    assert windows.task(late.due_at) == alerts.RED
    for username in ("officer1", "officer4", "head", "reviewer"):
        assert inbox.open_count(db, get_user(db, username)) > 0, username
    admin = get_user(db, "admin")
    assert cases.retry(db, admin, instances[9].id).status == "running"  # the failed step runs again
    assert [r.spec_id for r in cases.ready_tasks_of(db, instances[9].id)] == ["onsite_inspection"]

    create_demo_cases(db, settings)
    assert db.scalar(select(func.count()).select_from(Instance).where(Instance.process_id == "enforcement_case")) == 14
