"""The hash-chained audit log detects every edit, deletion and reordering."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic import command
from sqlalchemy import delete, select, update

from tests.conftest import bpmn
from workflows.bootstrap import init_database
from workflows.core.errors import Conflict
from workflows.domain import audit, cases, steps, tasks
from workflows.design import deployment, migration
from workflows.core.db import get_engine, session_scope
from workflows.core.schema import alembic_config
from workflows.core.models import AuditChain, AuditEvent, HumanTask, Instance
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


# --- keys, seals, the upgrade of a log written before keys ------------------------------------------

def test_links_are_keyed_with_the_key_outside_the_database(db, case, settings):
    from workflows.core import keys
    ring = keys.keyring(settings)
    path = settings.audit_key_path
    assert path.parent == settings.instance_path and oct(path.stat().st_mode)[-3:] == "600"
    for event in db.execute(select(AuditEvent.__table__)).mappings():
        assert event["key_id"] == ring.current.id
        assert event["hash"] == audit.keyed_link(event, ring.current) != audit.legacy_link(event)


def test_events_under_a_key_the_file_does_not_hold_are_named(db, case, settings):
    db.commit()
    settings.audit_key_path.write_text("ab" * 32 + "\n")  # another key file
    with session_scope(settings, write=False) as session:
        found = audit.verify(session)
    assert found and all("which the key file does not hold" in b.problem for b in found)


def test_a_retired_key_still_verifies_what_it_linked(db, case, settings):
    from workflows.core import keys
    db.commit()
    old = keys.keyring(settings).current.id
    with settings.audit_key_path.open("a") as fh:  # rotation: a new key appended
        fh.write("cd" * 32 + "\n")
    with session_scope(settings) as session:
        steps.record(session, session.get(Instance, case.id), "zhang", "case.note", n=9)
    with session_scope(settings, write=False) as session:
        assert audit.verify(session) == []
        used = {e.key_id for e in audit.events_of(session, case.id)}
    assert used == {old, keys.keyring(settings).current.id} and len(used) == 2


def test_a_step_seals_the_state_status_version_and_inbox_rows(db, case):
    event = chain_rows(db, case)[0]  # case.start: the step's last event
    seal = json.loads(event.seal)
    assert seal["state"] == audit.state_hash(db.scalar(select(Instance.state).where(Instance.id == case.id)))
    assert (seal["status"], seal["version"]) == ("running", 1)
    [row] = db.scalars(select(HumanTask).where(HumanTask.instance_id == case.id)).all()
    assert seal["inbox"] == {row.task_id: audit.row_digest(row)}
    assert seal["case"] == audit.case_digest(db.get(Instance, case.id))
    assert json.loads(chain_rows(db, case)[1].seal) == {"status": "running", "case": seal["case"]}  # a note


def test_a_claim_seals_its_row(db, case):
    [row] = cases.ready_tasks_of(db, case.id)
    tasks.claim(db, get_user(db, "zhang"), row.task_id)
    db.flush()
    last = chain_rows(db, case)[-1]
    assert last.action == "task.claim" and json.loads(last.seal)["rows"] == {row.task_id: audit.row_digest(row)}
    db.execute(update(HumanTask).where(HumanTask.id == row.id).values(assignee=None))
    db.expire_all()
    [broken] = audit.verify(db)
    assert broken.seq == last.seq and f"changed {row.task_id}" in broken.problem


def _to_legacy(session) -> None:
    """Rewrite the log as the engine wrote it before keys: plain SHA-256 links, no key ids, no seals."""
    heads = {}
    events = session.execute(select(AuditEvent.__table__).order_by(AuditEvent.chain, AuditEvent.seq)).mappings().all()
    for event in events:
        row = dict(event) | {"key_id": None, "seal": None, "prev_hash": heads.get(event["chain"], audit.GENESIS)}
        row["hash"] = audit.legacy_link(row)
        session.execute(update(AuditEvent).where(AuditEvent.id == row["id"]).values(
            key_id=None, seal=None, prev_hash=row["prev_hash"], hash=row["hash"]))
        heads[event["chain"]] = row["hash"]
    for chain, head in heads.items():
        if chain.startswith(audit.CASE_PREFIX):
            session.execute(update(Instance).where(Instance.id == int(chain.split(":")[1])).values(audit_head=head))
        else:
            session.execute(update(AuditChain).where(AuditChain.name == chain).values(head=head))


def _upgrade_from_before_keys(db, settings) -> None:
    """The database as the engine left it before keys (revision 0010, plain links), then `sanxiang init`."""
    _to_legacy(db)
    db.commit()
    engine = get_engine(settings.database_url)
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0010")
    init_database(settings, db)
    db.commit()


def test_a_log_written_before_keys_verifies_once_anchored_at_upgrade(db, case, settings):
    _to_legacy(db)
    db.commit()
    [unanchored] = audit.verify(db)
    assert "no keyed anchor vouches for them: forged" in unanchored.problem
    init_database(settings, db)  # not an upgrade from before keys: nothing is anchored
    assert audit.verify(db) == [unanchored]
    _upgrade_from_before_keys(db, settings)
    assert audit.verify(db) == []
    assert not audit.anchor_legacy(db)  # never twice
    steps.record(db, db.get(Instance, case.id), "zhang", "case.note", n=5)  # keyed from here on
    db.commit()
    assert audit.verify(db) == []
    anchor = db.scalars(select(AuditEvent).where(AuditEvent.action == audit.ANCHOR)).one()
    assert anchor.key_id is not None and json.loads(anchor.payload)["chains"] >= 2


def test_a_legacy_event_forged_after_the_upgrade_is_detected(db, case, settings):
    _upgrade_from_before_keys(db, settings)
    # a forger edits the first legacy event and gives it a matching plain SHA-256 again
    target = db.scalars(select(AuditEvent).where(AuditEvent.chain == audit.SYSTEM).order_by(AuditEvent.seq)).first()
    row = dict(db.execute(select(AuditEvent.__table__).where(AuditEvent.id == target.id)).mappings().one())
    row["actor"] = "forger"
    db.execute(update(AuditEvent).where(AuditEvent.id == target.id).values(actor="forger", hash=audit.legacy_link(row)))
    db.commit()
    db.expire_all()
    [broken] = audit.verify(db)
    assert (broken.chain, broken.seq) == (audit.SYSTEM, 2) and "previous-hash link broken" in broken.problem


def test_a_legacy_chain_rewritten_whole_differs_from_the_anchor(db, case, settings):
    _upgrade_from_before_keys(db, settings)
    chain = audit.access_chain("wang")
    audit.record_access(db, "wang", audit.VIEW, case.id)  # an access chain that exists only after the anchor
    db.commit()
    # the forger rewrites the case chain, legacy from end to end, with plain links from the start
    events = db.scalars(select(AuditEvent).where(AuditEvent.chain == audit.case_chain(case.id))
                        .order_by(AuditEvent.seq)).all()
    prev = audit.GENESIS
    for event in events:
        row = dict(db.execute(select(AuditEvent.__table__).where(AuditEvent.id == event.id)).mappings().one())
        row["actor"], row["prev_hash"] = "forger", prev
        prev = audit.legacy_link(row)
        db.execute(update(AuditEvent).where(AuditEvent.id == event.id)
                   .values(actor="forger", prev_hash=row["prev_hash"], hash=prev))
    db.execute(update(Instance).where(Instance.id == case.id).values(audit_head=prev))
    db.commit()
    db.expire_all()
    [broken] = audit.verify(db)
    assert broken.chain == audit.SYSTEM and "differ from those anchored here at the upgrade" in broken.problem
    assert chain not in broken.problem


def test_unkeyed_events_written_after_the_anchor_are_forgeries(db, case, settings):
    _upgrade_from_before_keys(db, settings)
    audit.record(db, "zhang", "case.note")
    db.flush()
    last = db.scalars(select(AuditEvent).where(AuditEvent.chain == audit.SYSTEM)
                      .order_by(AuditEvent.seq.desc())).first()
    row = dict(db.execute(select(AuditEvent.__table__).where(AuditEvent.id == last.id)).mappings().one())
    row["key_id"] = None
    digest = audit.legacy_link(row)
    db.execute(update(AuditEvent).where(AuditEvent.id == last.id).values(key_id=None, hash=digest))
    db.execute(update(AuditChain).where(AuditChain.name == audit.SYSTEM).values(head=digest))
    db.expire_all()
    [broken] = audit.verify(db)
    assert broken.seq == last.seq and "written without the audit key after keyed events" in broken.problem


def test_migration_seals_the_rebuilt_inbox_rows(db, settings):
    deployment.deploy(db, {"approval.bpmn": bpmn("approval.bpmn")}, "designer")
    instance = cases.start(db, settings, get_user(db, "zhang"), "approval", {"party_name": "某协会"}).instance
    [row] = cases.ready_tasks_of(db, instance.id)
    tasks.claim(db, get_user(db, "zhang"), row.task_id)
    renamed = bpmn("approval.bpmn").replace("立案登记".encode(), "立案登记（新）".encode())
    deployment.deploy(db, {"approval.bpmn": renamed}, "designer")
    migration.migrate(db, "designer", instance.id, db.get(Instance, instance.id).lock_version)
    db.commit()
    assert [r.name for r in cases.ready_tasks_of(db, instance.id)] == ["立案登记（新）"]
    assert audit.verify(db) == []
