"""Hostile diagrams (issue 10, parts 1 and 5): what can be known from the file is refused at deploy,
naming file, line and element; the rest deploys, and its case is parked in ``error`` with a message
naming the element when its code passes a limit, never a traceback, never a hung process.

Each file in ``tests/bpmn/hostile`` says in its first comment what it tries.
"""
from __future__ import annotations

import time
import pytest

from tests.conftest import BPMN_DIR
from workflows.core.models import Instance
from workflows.design import deployment
from workflows.design.validation import validate
from workflows.domain import cases, tasks
from workflows.domain.people import get_user

HOSTILE = BPMN_DIR / "hostile"
REFUSED = sorted(p.name for p in HOSTILE.glob("deploy_*.bpmn"))
PARKED = sorted(p.name for p in HOSTILE.glob("run_*.bpmn"))


def files_of(name: str) -> dict[str, bytes]:
    """The diagram and the decision table beside it, if it has one."""
    path = HOSTILE / name
    found = {name: path.read_bytes()}
    table = path.with_suffix(".dmn")
    if table.exists():
        found[table.name] = table.read_bytes()
    return found


def intent(name: str) -> str:
    return (HOSTILE / name).read_text().splitlines()[1]


@pytest.mark.parametrize("name", REFUSED)
def test_what_the_file_shows_is_refused_at_deploy(name):
    problems = validate(files_of(name))
    assert problems, intent(name)
    for problem in problems:
        assert problem.file in files_of(name) and problem.line and problem.element, str(problem)
        assert "Traceback" not in problem.message


@pytest.mark.parametrize("name", PARKED)
def test_a_bomb_parks_its_case_naming_the_element(db, settings, name):
    deployment.deploy(db, files_of(name), "designer")
    zhang = get_user(db, "zhang")
    began = time.monotonic()
    started = cases.start(db, settings, zhang, "hostile", {"n": 10})
    if started.instance.status == "running":  # the bomb waits behind a person's task
        [row] = started.tasks
        tasks.claim(db, zhang, row.task_id)
        tasks.complete_or_raise(db, zhang, row.task_id, {"n": 10})
    db.commit()
    elapsed = time.monotonic() - began
    db.expire_all()
    case = db.get(Instance, started.instance.id)
    assert case.status == "error", intent(name)
    assert case.error_task and case.error_message.startswith(f"{case.error_task}:"), case.error_message
    assert "Traceback" not in case.error_message and len(case.error_message) < 2000
    assert elapsed < 60, f"{name} ran {elapsed:.1f} s"  # a hung case would not come back at all
