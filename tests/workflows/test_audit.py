"""The hash-chained audit log detects every edit, deletion and reordering."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, select, update

from tests.conftest import bpmn
from workflows.core.errors import Conflict
from workflows.domain import audit, cases, steps
from workflows.design import deployment
from workflows.core.db import session_scope
from workflows.core.models import AuditEvent, HumanTask, Instance
from workflows.domain.people import get_user


@pytest.fixture
def case(db, settings):
    deployment.deploy(db, {"approval.bpmn": bpmn("approval.bpmn")}, "designer")
    instance = cases.start(db, settings, get_user(db, "zhang"), "approval", {"party_name": "某协会"}).instance
    for n in range(3):
        steps.record(db, instance, "zhang", "case.note", n=n)
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
    db.execute(delete(AuditEvent).where(AuditEvent.chain == audit.case_chain(case.id)))
    db.execute(delete(HumanTask).where(HumanTask.instance_id == case.id))
    db.execute(delete(Instance).where(Instance.id == case.id))
    db.expire_all()
    assert [(b.chain, b.problem) for b in audit.verify(db)] == [
        (audit.case_chain(case.id), "case recorded as created but missing")]


def test_a_case_chain_emptied_under_its_case_is_detected(db, case):
    db.execute(delete(AuditEvent).where(AuditEvent.chain == audit.case_chain(case.id)))
    db.expire_all()
    [broken] = audit.verify(db)
    assert broken.chain == audit.case_chain(case.id) and "tail deleted" in broken.problem


def test_reads_go_to_the_readers_chain_and_are_verified(db, case):
    audit.record_access(db, "wang", audit.VIEW, case.id)
    audit.record_access(db, "wang", "evidence.read", case.id, sha256="a" * 64)
    db.flush()
    assert audit.reads_of(db, case.id) == 2
    assert [e.action for e in audit.events_of(db, case.id)][-1] == "case.note"  # the case's chain is untouched
    assert audit.verify(db) == []
    first = db.scalars(select(AuditEvent).where(AuditEvent.chain == audit.access_chain("wang"))
                       .order_by(AuditEvent.seq)).first()
    db.execute(delete(AuditEvent).where(AuditEvent.id == first.id))
    db.expire_all()
    [broken] = audit.verify(db)
    assert broken.chain == "access:wang" and broken.seq == 1


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
            audit.record_access(session, f"user{n % 4}", audit.VIEW, instance_id, n=n)
            audit.record(session, f"user{n % 4}", "auth.login", n=n)
        for _ in range(50):  # a writer that loses the race on the case row tries again, as a user would
            try:
                with session_scope(settings) as session:
                    steps.record(session, session.get(Instance, instance_id), f"user{n % 4}", "case.note", n=n)
                return
            except Conflict:
                continue
        raise AssertionError("never got through")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(40)))
    with session_scope(settings, write=False) as session:
        assert audit.verify(session) == []
        assert [e.seq for e in audit.events_of(session, instance_id)] == list(range(1, 45))
        assert audit.reads_of(session, instance_id) == 40
