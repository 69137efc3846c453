"""The hash-chained audit log detects every edit, deletion and reordering."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, select, update

from tests.conftest import bpmn
from workflows import audit, cases, deployment
from workflows.db import session_scope
from workflows.models import AuditChain, AuditEvent, HumanTask, Instance
from workflows.people import get_user


@pytest.fixture
def case(db, settings):
    deployment.deploy(db, {"approval.bpmn": bpmn("approval.bpmn")}, "designer")
    instance = cases.start_case(db, settings, get_user(db, "zhang"), "approval", {"party_name": "某协会"})
    for n in range(3):
        audit.record(db, "zhang", "case.view", instance_id=instance.id, n=n)
    db.flush()
    return instance


def chain_rows(db, instance):
    return audit.events_of(db, instance.id)


def test_an_untouched_log_verifies(db, case):
    assert audit.verify(db) == []
    events = chain_rows(db, case)
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert all(e.prev_hash == p.hash for p, e in zip(events, events[1:]))


def test_an_edited_payload_is_detected(db, case):
    target = chain_rows(db, case)[2]
    db.execute(update(AuditEvent).where(AuditEvent.id == target.id).values(payload='{"n":99}'))
    db.expire_all()
    [broken] = audit.verify(db)
    assert (broken.chain, broken.seq) == (f"case:{case.id}", 3) and "content changed" in broken.problem


def test_an_edited_actor_is_detected(db, case):
    target = chain_rows(db, case)[0]
    db.execute(update(AuditEvent).where(AuditEvent.id == target.id).values(actor="someone-else"))
    db.expire_all()
    assert [b.seq for b in audit.verify(db)] == [1]


def test_a_deleted_middle_row_is_detected(db, case):
    db.execute(delete(AuditEvent).where(AuditEvent.id == chain_rows(db, case)[1].id))
    db.expire_all()
    [broken] = audit.verify(db)
    assert broken.seq == 2 and "missing" in broken.problem


def test_a_deleted_tail_is_detected_by_the_chain_head(db, case):
    db.execute(delete(AuditEvent).where(AuditEvent.id == chain_rows(db, case)[-1].id))
    db.expire_all()
    [broken] = audit.verify(db)
    assert "tail deleted" in broken.problem


def test_reordered_rows_are_detected(db, case):
    (a, a_seq), (b, b_seq) = [(e.id, e.seq) for e in chain_rows(db, case)[1:3]]
    db.execute(update(AuditEvent).where(AuditEvent.id == a).values(seq=-1))
    db.execute(update(AuditEvent).where(AuditEvent.id == b).values(seq=a_seq))
    db.execute(update(AuditEvent).where(AuditEvent.id == a).values(seq=b_seq))
    db.expire_all()
    [broken] = audit.verify(db)
    assert broken.seq == 2


def test_a_deleted_case_with_its_whole_chain_is_detected(db, case):
    chain = audit.case_chain(case.id)
    db.execute(delete(AuditEvent).where(AuditEvent.chain == chain))
    db.execute(delete(AuditChain).where(AuditChain.name == chain))
    db.execute(delete(HumanTask).where(HumanTask.instance_id == case.id))
    db.execute(delete(Instance).where(Instance.id == case.id))
    db.expire_all()
    problems = {b.problem for b in audit.verify(db)}
    assert problems == {"case recorded as created but missing", "case chain missing"}


def test_the_system_chain_is_verified_too(db, case):
    first = db.scalars(select(AuditEvent).where(AuditEvent.chain == audit.SYSTEM).order_by(AuditEvent.seq)).first()
    db.execute(update(AuditEvent).where(AuditEvent.id == first.id).values(action="user.remove"))
    db.expire_all()
    assert [(b.chain, b.seq) for b in audit.verify(db)] == [("system", 1)]


def test_concurrent_writers_never_fork_a_chain(db, case, settings):
    db.commit()
    instance_id = case.id

    def write(n):
        with session_scope(settings) as session:
            audit.record(session, f"user{n % 4}", "case.view", instance_id=instance_id, n=n)
            audit.record(session, f"user{n % 4}", "auth.login", n=n)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(40)))
    with session_scope(settings, write=False) as session:
        assert audit.verify(session) == []
        assert [e.seq for e in audit.events_of(session, instance_id)] == list(range(1, 45))
