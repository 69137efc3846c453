"""Separation of duties (职责分离): a task or a user field of a model names the work that rules a
person out (``not_by``: task ids, ``role:<id>``); the engine refuses them at claim, completion and
choice, with the reason."""
from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import bpmn
from workflows.core.errors import NotAllowed
from workflows.design import deployment
from workflows.domain import cases, credentials, duties, people, tasks
from workflows.domain.people import get_user

APPROVAL = bpmn("approval.bpmn").replace(
    b'<camunda:property name="name_en" value="Approve filing" />',
    b'<camunda:property name="name_en" value="Approve filing" /><camunda:property name="not_by" value="role:officer" />')


def test_not_by_names_tasks_and_roles():
    assert duties.parse("file_case, role:officer  onsite_inspection") == (
        frozenset({"file_case", "onsite_inspection"}), frozenset({"officer"}))


def test_who_did_the_work_of_a_role_in_the_case_may_not_approve_it(db, settings):
    assert b'value="role:officer"' in APPROVAL
    deployment.deploy(db, {"approval.bpmn": APPROVAL}, "designer")
    admin = get_user(db, "admin")
    people.set_roles(db, admin, "wang", {"unit_head": (None, None), "officer": (None, None)})
    credentials.issue(db, admin, "wang", "JZ7001", "新市区", date(2026, 1, 1), date(2028, 12, 31))
    people.add_user(db, admin, "ma", "马九", "social", "secret-pass", ["unit_head"])
    wang = get_user(db, "wang")
    started = cases.start(db, settings, wang, "approval", {"party_name": "某协会"})
    register = started.first_for(wang)
    tasks.complete_or_raise(db, wang, register.task_id, {"party_name": "某协会", "second_officer": "li"})
    confirm = next(t for t in cases.ready_tasks_of(db, started.instance.id) if t.spec_id == "confirm")
    tasks.complete_or_raise(db, get_user(db, "li"), confirm.task_id, {"confirmed": True})
    approve = next(t for t in cases.ready_tasks_of(db, started.instance.id) if t.spec_id == "approve")
    with pytest.raises(NotAllowed, match="按照职责分离，王五已办理本案的“立案登记”，不能办理“立案审批”"):
        tasks.claim(db, wang, approve.task_id)
    assert tasks.sheet(db, wang, approve.task_id).refusal is not None
    assert duties.conflict(db, started.instance.id, "li", "role:officer").spec_id == "confirm"
    assert duties.conflict(db, started.instance.id, "ma", "role:officer register") is None
    tasks.claim(db, get_user(db, "ma"), approve.task_id)  # a head who did none of the case's officer work
