"""Model sets: numbered versions with hashes, partial deploys, no-op redeploys, pinned cases."""
from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.conftest import bpmn
from workflows.domain import cases, tasks
from workflows.design import deployment
from workflows.engine import specs
from workflows.core.errors import ValidationFailed
from workflows.core.models import AuditEvent, ModelBlob, ModelSet
from workflows.domain.people import get_user

SET = {name: bpmn(name) for name in ("approval.bpmn", "caller.bpmn", "sub_review.bpmn", "grade.dmn")}


def test_deploy_stores_version_with_each_files_sha256(db):
    result = deployment.deploy(db, SET, "designer")
    assert result.version == 1 and result.changed == tuple(sorted(SET))
    stored = {f.filename: f.sha256 for f in db.get(ModelSet, 1).files}
    assert stored == {n: hashlib.sha256(c).hexdigest() for n, c in SET.items()}
    assert specs.files_of(db, 1) == SET
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "model.deploy")).one()
    assert '"version":1' in event.payload and event.actor == "designer"


def test_redeploying_unchanged_files_is_a_no_op(db):
    deployment.deploy(db, SET, "designer")
    again = deployment.deploy(db, {"grade.dmn": SET["grade.dmn"]}, "designer")
    assert (again.version, again.is_new) == (1, False)
    assert db.scalar(select(func.count()).select_from(ModelSet)) == 1


def test_partial_deploy_replaces_those_files_and_carries_the_others(db):
    deployment.deploy(db, SET, "designer")
    changed = SET["sub_review.bpmn"].replace("审核意见".encode(), "复核意见".encode())
    result = deployment.deploy(db, {"sub_review.bpmn": changed}, "designer")
    assert (result.version, result.changed) == (2, ("sub_review.bpmn",))
    assert specs.files_of(db, 2) == SET | {"sub_review.bpmn": changed}
    # unchanged contents are stored once
    assert db.scalar(select(func.count()).select_from(ModelBlob)) == len(SET) + 1


def test_invalid_set_stores_nothing(db):
    deployment.deploy(db, SET, "designer")
    broken = SET["approval.bpmn"].replace(b'approved == "yes"', b"approved ==")
    with pytest.raises(ValidationFailed) as failed:
        deployment.deploy(db, {"approval.bpmn": broken}, "designer")
    assert failed.value.problems[0].element == "f_yes"
    assert specs.current_version(db) == 1
    assert specs.files_of(db, 1)["approval.bpmn"] == SET["approval.bpmn"]


def test_a_partial_deploy_is_validated_as_the_whole_set(db):
    deployment.deploy(db, SET, "designer")
    without_dmn = SET["caller.bpmn"].replace(b"grade_decision", b"missing_decision")
    with pytest.raises(ValidationFailed):
        deployment.deploy(db, {"caller.bpmn": without_dmn}, "designer")


def test_a_case_runs_entirely_on_the_version_it_started_on(db, settings):
    deployment.deploy(db, SET, "designer")
    officer, reviewer = get_user(db, "zhang"), get_user(db, "zhou")
    old = cases.start(db, settings, officer, "caller", {"fine": Decimal("20000")}).instance
    v2 = {"sub_review.bpmn": SET["sub_review.bpmn"].replace("审核意见".encode(), "复核意见".encode()),
          "grade.dmn": SET["grade.dmn"].replace(b'Decimal("10000")', b'Decimal("50000")')}
    assert deployment.deploy(db, v2, "designer").version == 2
    new = cases.start(db, settings, officer, "caller", {"fine": Decimal("20000")}).instance
    old_task, new_task = cases.ready_tasks_of(db, old.id)[0], cases.ready_tasks_of(db, new.id)[0]
    assert (old.model_version, new.model_version) == (1, 2)
    assert (old_task.name, new_task.name) == ("审核意见", "复核意见")  # called process pinned
    assert old_task.role_id == "legal_reviewer" and old_task.process_id == "sub_review"
    tasks.complete_or_raise(db, reviewer, old_task.task_id, {"opinion": "同意"})
    tasks.complete_or_raise(db, reviewer, new_task.task_id, {"opinion": "同意"})
    assert (old.status, new.status) == ("completed", "completed")
    majors = [_last_data(db, i)["major"] for i in (old, new)]
    assert majors == [True, False]  # the DMN of each case's own version


def _last_data(db, instance):
    from workflows.engine.runtime import load_workflow
    return load_workflow(db, instance).last_task.data


def test_specs_are_parsed_once_per_set(db):
    deployment.deploy(db, SET, "designer")
    first = specs.get(db, 1, "caller")
    assert specs.get(db, 1, "caller") is first


def test_read_model_files_takes_folders_and_files(tmp_path):
    (tmp_path / "a.bpmn").write_bytes(b"a")
    (tmp_path / "b.dmn").write_bytes(b"b")
    (tmp_path / "notes.txt").write_bytes(b"ignored")
    single = tmp_path / "sub"
    single.mkdir()
    (single / "c.bpmn").write_bytes(b"c")
    assert deployment.read_model_files([tmp_path, single / "c.bpmn"]) == {"a.bpmn": b"a", "b.dmn": b"b", "c.bpmn": b"c"}
