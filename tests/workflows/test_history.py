"""Pruning the finished history keeps a looping case small and running, and changes nothing it does."""
from __future__ import annotations

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.util.task import TaskState

from tests.conftest import BPMN_DIR, bpmn
from workflows.core.db import session_scope
from workflows.design import deployment
from workflows.domain import cases, tasks
from workflows.domain.people import get_user
from workflows.engine import history, runtime, serialization


def drive(filename: str, process_id: str, rounds: int, prune: bool):
    """Run a looping diagram to its end, a round trip through the store after every user task."""
    parser = CamundaParser()
    parser.add_bpmn_file(str(BPMN_DIR / "history" / filename))
    spec, subprocesses = parser.get_spec(process_id), parser.get_subprocess_specs(process_id)
    passed = []

    def advance(workflow):
        workflow.refresh_timers()
        workflow.do_engine_steps(did_complete_task=lambda t: passed.append(t.task_spec.bpmn_id))
        while workflow.get_next_task(state=TaskState.READY, manual=False) is not None:
            workflow.do_engine_steps(did_complete_task=lambda t: passed.append(t.task_spec.bpmn_id))
        if prune:
            history.prune(workflow)
        return serialization.dumps(workflow)

    workflow = BpmnWorkflow(spec, subprocesses)
    workflow.task_tree.data["n"] = rounds
    state, largest = advance(workflow), 0
    while True:
        workflow = serialization.loads(state, spec, subprocesses)
        largest = max(largest, len(workflow.tasks))
        task = workflow.get_next_task(state=TaskState.READY, manual=True)
        if task is None:
            break
        task.data.update(note="x", sub_note="y")
        task.run()
        passed.append(task.task_spec.bpmn_id)
        state = advance(workflow)
    return workflow, [p for p in passed if p], largest


@pytest.mark.parametrize("filename, process_id, rounds", [
    ("complex.bpmn", "complex", 25),  # parallel split/join, a boundary timer, a call activity, in a loop
    ("par.bpmn", "par", 40),  # a loop back into a parallel split
])
def test_pruned_and_unpruned_runs_pass_the_same_elements_and_end_with_the_same_data(filename, process_id, rounds):
    whole, whole_path, whole_size = drive(filename, process_id, rounds, prune=False)
    pruned, pruned_path, pruned_size = drive(filename, process_id, rounds, prune=True)
    assert whole.completed and pruned.completed
    assert pruned_path == whole_path and pruned.data == whole.data and pruned.data["i"] == rounds
    assert pruned_size < whole_size / 5  # the stored tree stays the size of one iteration
    assert history.path(pruned, completed(pruned)) == history.path(whole, completed(whole)) == whole_path


def completed(workflow):
    return [t for t in runtime.all_tasks(workflow) if t.state == TaskState.COMPLETED]


@pytest.fixture
def loop(db, settings):
    deployment.deploy(db, {"loop.bpmn": bpmn("loop.bpmn")}, "designer")
    started = cases.start(db, settings, get_user(db, "zhang"), "loop", {"rounds": 400})
    db.commit()
    return started


def run_loop(settings, task_id: str):
    """Complete the loop's task until the case stops offering one; the case at the end."""
    while task_id is not None:
        with session_scope(settings) as session:
            done = tasks.complete_or_raise(session, get_user(session, "zhang"), task_id, {"note": "记"})
            task_id = done.next_tasks[0].task_id if done.next_tasks else None
    return done.instance


def test_a_loop_runs_past_the_engines_depth_limit_to_its_end(loop, settings):
    instance = run_loop(settings, loop.tasks[0].task_id)
    assert instance.status == "completed"
    with session_scope(settings, write=False) as session:
        assert cases.path_of(session, session.get(type(instance), instance.id)).count("work") == 400


def test_without_pruning_the_stuck_loop_fails_loudly_instead_of_waiting_silently(loop, settings, monkeypatch):
    monkeypatch.setattr(history, "prune", lambda workflow: None)
    instance = run_loop(settings, loop.tasks[0].task_id)
    assert instance.status == "error" and instance.error_message == \
        "Stalled: the engine stopped with gw still to run"
