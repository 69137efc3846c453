"""Whoever can write to the database, but holds neither the audit key nor the checkpoint file, cannot
change the record unnoticed: each tampering below is done the way an attacker with SQL would do it,
and `verify` must name what is wrong (issue 10, part 3). On both databases.

Tampering tried: see ``TAMPERINGS`` (one test each); every one must be detected.
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from typing import Callable

import pytest
from sqlalchemy import delete, insert, select, update

from tests.conftest import bpmn
from tests.workflows.test_records import png
from workflows.core.models import (
    AuditChain, AuditEvent, Evidence, EvidenceLink, HumanTask, Instance, ModelBlob, ModelFile,
)
from workflows.design import deployment
from workflows.domain import audit, cases, checkpoints, integrity, records, tasks
from workflows.domain.people import get_user


@dataclass
class Bureau:
    """A small but busy record: two cases, a claim, an upload, completions, a read, a checkpoint."""

    db: object
    settings: object
    store: object
    a: int  # case with evidence, one task done and the next one assigned
    b: int  # a second case, only started
    photo: str  # the evidence's SHA-256

    def problems(self) -> list[str]:
        self.db.expire_all()
        found = integrity.problems(self.db, self.store)
        self.db.commit()  # SQLite: let other units of work write
        return found


@pytest.fixture
def bureau(db, settings) -> Bureau:
    deployment.deploy(db, {"approval.bpmn": bpmn("approval.bpmn")}, "designer")
    store = records.evidence_store(settings)
    zhang = get_user(db, "zhang")
    a = cases.start(db, settings, zhang, "approval", {"party_name": "某协会"})
    b = cases.start(db, settings, zhang, "approval", {"party_name": "另一协会"})
    [row] = a.tasks
    tasks.claim(db, zhang, row.task_id)
    photo = tasks.upload(db, store, zhang, row.task_id, "photos", io.BytesIO(png()), "现场照片.png")
    tasks.complete_or_raise(db, zhang, row.task_id, {"party_name": "某协会", "second_officer": "li",
                                                     "photos": [photo.sha256]})
    audit.record_access(db, "wang", audit.VIEW, a.instance.id)
    db.commit()
    checkpoints.write(db, settings)
    bureau = Bureau(db, settings, store, a.instance.id, b.instance.id, photo.sha256)
    assert bureau.problems() == []
    return bureau


# --- the tamperings ----------------------------------------------------------------------------

def _last(db, chain: str) -> AuditEvent:
    return db.scalars(select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq.desc())).first()


def delete_everything(t: Bureau) -> str:
    t.db.execute(delete(AuditEvent))
    t.db.execute(delete(AuditChain))
    return "event(s) deleted from its end: checkpoint #1"


def delete_everything_and_reset_heads(t: Bureau) -> str:
    delete_everything(t)
    t.db.execute(update(Instance).values(audit_seq=0, audit_head=audit.GENESIS))
    return "events in the database, "


def delete_everything_without_a_checkpoint(t: Bureau) -> str:
    t.settings.checkpoint_path.unlink()
    delete_everything_and_reset_heads(t)
    return "the system chain never recorded its creation"


def delete_system_tail_and_move_head_back(t: Bureau) -> str:
    last = _last(t.db, audit.SYSTEM)
    t.db.execute(delete(AuditEvent).where(AuditEvent.id == last.id))
    t.db.execute(update(AuditChain).where(AuditChain.name == audit.SYSTEM).values(length=last.seq - 1,
                                                                                   head=last.prev_hash))
    return f"system #{last.seq}: 1 event(s) deleted from its end: checkpoint #1"


def delete_case_tail_and_move_head_back(t: Bureau) -> str:
    last = _last(t.db, audit.case_chain(t.a))
    t.db.execute(delete(AuditEvent).where(AuditEvent.id == last.id))
    t.db.execute(update(Instance).where(Instance.id == t.a).values(audit_seq=last.seq - 1, audit_head=last.prev_hash))
    return f"case:{t.a} #{last.seq}: 1 event(s) deleted from its end"


def delete_case_tail_without_a_checkpoint(t: Bureau) -> str:
    t.settings.checkpoint_path.unlink()
    delete_case_tail_and_move_head_back(t)
    return "the case's state (its serialized workflow) is not the one recorded here"


def delete_access_tail_and_move_head_back(t: Bureau) -> str:
    chain = audit.access_chain("wang")
    t.db.execute(delete(AuditEvent).where(AuditEvent.chain == chain))
    t.db.execute(delete(AuditChain).where(AuditChain.name == chain))
    return "access:wang #1: 1 event(s) deleted from its end"


def _rechain(t: Bureau, chain: str, edit: Callable[[dict], None], link: Callable[[dict], str], start: int = 1) -> None:
    """Rewrite a chain the way a forger would: edit events from ``start`` on, recompute their links, move the head."""
    prev = audit.GENESIS
    for event in t.db.execute(select(AuditEvent.__table__).where(AuditEvent.chain == chain)
                              .order_by(AuditEvent.seq)).mappings().all():
        row = dict(event)
        if row["seq"] < start:
            prev = row["hash"]
            continue
        edit(row)
        row["prev_hash"] = prev
        row["hash"] = link(row)
        t.db.execute(update(AuditEvent).where(AuditEvent.id == row["id"]).values(
            payload=row["payload"], actor=row["actor"], key_id=row["key_id"], seal=row["seal"],
            prev_hash=row["prev_hash"], hash=row["hash"]))
        prev = row["hash"]
    if chain.startswith(audit.CASE_PREFIX):
        t.db.execute(update(Instance).where(Instance.id == int(chain.split(":")[1])).values(audit_head=prev))
    else:
        t.db.execute(update(AuditChain).where(AuditChain.name == chain).values(head=prev))


def _forge_actor(row: dict) -> None:
    if row["action"] == "task.complete":
        row["actor"] = "li"


def forge_with_plain_sha256(t: Bureau) -> str:
    def unkeyed(row):
        _forge_actor(row)
        row["key_id"] = None
    seq = t.db.scalar(select(AuditEvent.seq).where(AuditEvent.chain == audit.case_chain(t.a),
                                                  AuditEvent.action == "task.complete"))
    _rechain(t, audit.case_chain(t.a), unkeyed, audit.legacy_link, start=seq)
    return f"case:{t.a} #{seq}: written without the audit key after keyed events: forged"


def forge_whole_chain_with_plain_sha256(t: Bureau) -> str:
    def unkeyed(row):
        _forge_actor(row)
        row["key_id"], row["seal"] = None, None
    _rechain(t, audit.case_chain(t.a), unkeyed, audit.legacy_link)
    return "recorded here: replaced since"


def forge_whole_chain_without_a_checkpoint(t: Bureau) -> str:
    t.settings.checkpoint_path.unlink()
    forge_whole_chain_with_plain_sha256(t)
    return "were written without the audit key and no keyed anchor vouches for them"


def forge_keeping_the_key_id(t: Bureau) -> str:
    _rechain(t, audit.case_chain(t.a), _forge_actor, lambda row: hashlib.sha256(
        audit.canonical(audit._body(row) | {"key_id": row["key_id"], "seal": row["seal"]}).encode()).hexdigest())
    return f"case:{t.a} #1: content changed after it was written (its keyed hash does not match"


def forge_with_a_key_of_ones_own(t: Bureau) -> str:
    from workflows.core.keys import Key
    own = Key.from_secret(b"\x01" * 32)

    def rekeyed(row):
        _forge_actor(row)
        row["key_id"] = own.id
    _rechain(t, audit.case_chain(t.a), rekeyed, lambda row: audit.keyed_link(row, own))
    return f"linked under audit key {own.id}, which the key file does not hold"


def delete_evidence_file_and_rows(t: Bureau) -> str:
    t.db.execute(delete(EvidenceLink).where(EvidenceLink.sha256 == t.photo))
    t.db.execute(delete(Evidence).where(Evidence.sha256 == t.photo))
    path = t.settings.evidence_path / t.photo[:2] / t.photo[2:4] / t.photo
    path.chmod(0o644)
    path.unlink()
    return f"evidence {t.photo} (现场照片.png) stored here is no longer linked to the case"


def relink_evidence_to_another_case(t: Bureau) -> str:
    t.db.execute(update(EvidenceLink).where(EvidenceLink.sha256 == t.photo).values(instance_id=t.b))
    return f"linked to case {t.b}, task "


def edit_deployed_bpmn_blob(t: Bureau) -> str:
    t.db.execute(update(ModelBlob).values(content=bpmn("approval.bpmn").replace(b"approve", b"approvX")))
    return "its content no longer hashes to its name: edited in the database (used by approval.bpmn (version 1))"


def repoint_deployed_bpmn(t: Bureau) -> str:
    content = bpmn("approval.bpmn").replace("同意立案".encode(), "默认同意".encode())
    digest = hashlib.sha256(content).hexdigest()
    t.db.execute(insert(ModelBlob).values(sha256=digest, content=content))
    t.db.execute(update(ModelFile).values(sha256=digest))
    return "model set version 1: its files are not those its deployment recorded (system #"


def edit_case_state(t: Bureau) -> str:
    state = t.db.scalar(select(Instance.state).where(Instance.id == t.a))
    forged = state.replace('"second_officer": "li"', '"second_officer": "zhao"')
    assert forged != state
    t.db.execute(update(Instance).where(Instance.id == t.a).values(state=forged))
    return f"case:{t.a} #"


def edit_case_party(t: Bureau) -> str:
    t.db.execute(update(Instance).where(Instance.id == t.a).values(party_name="别的协会"))
    return "the case row's columns (number, unit, party, matter, facts of the decision, reasons) are not those"


def edit_case_status(t: Bureau) -> str:
    t.db.execute(update(Instance).where(Instance.id == t.a).values(status="completed"))
    return "the case's status is 'completed', but 'running' was recorded here"


def _ready_row(t: Bureau) -> HumanTask:
    return t.db.scalars(select(HumanTask).where(HumanTask.instance_id == t.a, HumanTask.state == "ready")).one()


def steal_a_task(t: Bureau) -> str:
    row = _ready_row(t)
    t.db.execute(update(HumanTask).where(HumanTask.id == row.id).values(assignee="zhao"))
    return f"inbox rows differ from those recorded: changed {row.task_id} (协办确认, assignee zhao)"


def hide_a_ready_task(t: Bureau) -> str:
    row = _ready_row(t)
    t.db.execute(update(HumanTask).where(HumanTask.id == row.id).values(state="cancelled"))
    return f"inbox rows differ from those recorded: no longer ready {row.task_id}"


def delete_a_ready_task(t: Bureau) -> str:
    row = _ready_row(t)
    t.db.execute(delete(HumanTask).where(HumanTask.id == row.id))
    return f"no longer ready {row.task_id}"


def insert_a_task(t: Bureau) -> str:
    row = _ready_row(t)
    values = {c.key: getattr(row, c.key) for c in HumanTask.__table__.columns if c.key != "id"}
    t.db.execute(insert(HumanTask).values(values | {"task_id": "00000000-0000-4000-8000-000000000001",
                                                    "assignee": "zhao"}))
    return "never recorded 00000000-0000-4000-8000-000000000001"


def rewrite_who_completed_a_task(t: Bureau) -> str:
    t.db.execute(update(HumanTask).where(HumanTask.instance_id == t.a, HumanTask.state == "completed")
                 .values(completed_by="li"))
    return "was completed here by zhang, but its inbox row names li"


TAMPERINGS = [delete_everything, delete_everything_and_reset_heads, delete_everything_without_a_checkpoint,
              delete_system_tail_and_move_head_back, delete_case_tail_and_move_head_back,
              delete_case_tail_without_a_checkpoint, delete_access_tail_and_move_head_back,
              forge_with_plain_sha256, forge_whole_chain_with_plain_sha256,
              forge_whole_chain_without_a_checkpoint, forge_keeping_the_key_id,
              forge_with_a_key_of_ones_own, delete_evidence_file_and_rows, relink_evidence_to_another_case,
              edit_deployed_bpmn_blob, repoint_deployed_bpmn, edit_case_state, edit_case_party, edit_case_status,
              steal_a_task,
              hide_a_ready_task, delete_a_ready_task, insert_a_task, rewrite_who_completed_a_task]


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=[t.__name__ for t in TAMPERINGS])
def test_tampering_is_detected_and_named(bureau, tamper):
    expected = tamper(bureau)
    bureau.db.commit()
    found = bureau.problems()
    assert any(expected in problem for problem in found), found


def test_a_forged_state_names_the_case_and_the_sealing_event(bureau):
    edit_case_state(bureau)
    [problem] = bureau.problems()
    last = _last(bureau.db, audit.case_chain(bureau.a))
    assert problem == (f"audit chain case:{bureau.a} #{last.seq}: the case's state (its serialized workflow) is not "
                       "the one recorded here: edited outside the engine")


def test_deleted_evidence_is_named_three_ways(bureau):
    delete_evidence_file_and_rows(bureau)
    found = "\n".join(bureau.problems())
    assert "no longer linked to the case" in found and "has no evidence row" in found
    assert f"evidence {bureau.photo}: missing" in found


def test_the_report_for_monitoring_names_the_kind(bureau):
    relink_evidence_to_another_case(bureau)
    steal_a_task(bureau)
    bureau.db.expire_all()
    report = integrity.report(bureau.db, bureau.store).as_dict()
    assert report["ok"] is False and {p["kind"] for p in report["problems"]} == {"evidence", "audit"}
    assert report["checkpoint"]["seq"] == 1 and report["checked"]["cases"] == 2


def test_legitimate_work_after_a_checkpoint_keeps_verifying(bureau):
    db, li = bureau.db, get_user(bureau.db, "li")
    row = _ready_row(bureau)
    tasks.complete_or_raise(db, li, row.task_id, {"confirmed": True})
    cases.suspend(db, get_user(db, "wang"), bureau.b, "当事人下落不明", "party_ended")
    db.commit()
    assert bureau.problems() == []
    assert checkpoints.write(db, bureau.settings).seq == 2
    assert bureau.problems() == []


def test_the_checkpoint_file_itself_is_checked(bureau):
    path = bureau.settings.checkpoint_path
    checkpoints.write(bureau.db, bureau.settings)
    first, second = path.read_text().splitlines()
    forged = json.loads(second)
    forged["events"] -= 1
    path.write_text(first + "\n" + audit.canonical(forged) + "\n")
    assert any("its signature does not verify" in p for p in bureau.problems())
    path.write_text(second + "\n")  # the first line taken out
    assert any("does not follow the line before it" in p for p in bureau.problems())


def test_no_checkpoint_is_written_over_a_shortened_log(bureau):
    delete_case_tail_and_move_head_back(bureau)
    bureau.db.commit()
    with pytest.raises(checkpoints.CheckpointRefused, match=f"case:{bureau.a}: .* events at checkpoint #1"):
        checkpoints.write(bureau.db, bureau.settings)


def test_the_timer_worker_writes_a_checkpoint_each_interval(bureau, frozen_clock):
    from workflows.worker import run_worker

    path = bureau.settings.checkpoint_path
    run_worker(bureau.settings, once=True)  # the fixture's checkpoint is not an hour old yet
    assert len(path.read_text().splitlines()) == 1
    frozen_clock.advance(hours=1)
    run_worker(bureau.settings, once=True)
    assert len(path.read_text().splitlines()) == 2 and bureau.problems() == []
    delete_case_tail_and_move_head_back(bureau)  # a cut log is never checkpointed over
    bureau.db.commit()
    frozen_clock.advance(hours=1)
    run_worker(bureau.settings, once=True)
    assert len(path.read_text().splitlines()) == 2
    assert any("1 event(s) deleted from its end: checkpoint #2" in p for p in bureau.problems())
