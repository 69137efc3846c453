"""Engine throughput against bare SpiffWorkflow, in one process.

(a) bare: SpiffWorkflow's camunda parser and default serializer; after every completed user task
    the workflow is serialized to JSON and deserialized again, as any persistent use must.
(b) ours: the same process through ``workflows`` on a SQLite file: each step is one unit of work
    that loads the case, validates the form, completes as a user with credential checks, runs the
    engine, persists the state, keeps the inbox rows and appends to the audit chain.

Prints cases/s for both and the ratio b/a last. Run: ``python bench/engine.py [--cases N]``.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.util.task import TaskState

from workflows.domain import cases, inbox, people, tasks
from workflows.design import deployment
from workflows.bootstrap import init_database
from workflows.core.db import session_scope
from workflows.core.settings import load_settings

MODEL = Path(__file__).with_name("six_steps.bpmn")
STEPS = 6


def bare(n: int) -> float:
    parser = CamundaParser()
    parser.add_bpmn_file(str(MODEL))
    spec = parser.get_spec("six_steps")
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))
    started = time.perf_counter()
    for _ in range(n):
        workflow = BpmnWorkflow(spec)
        workflow.do_engine_steps()
        state = serializer.serialize_json(workflow)
        for step in range(1, STEPS + 1):
            workflow = serializer.deserialize_json(state)
            task = workflow.get_next_task(state=TaskState.READY, manual=True)
            task.data[f"note{step}"] = "已记录"
            task.run()
            workflow.do_engine_steps()
            state = serializer.serialize_json(workflow)
        assert workflow.completed
    return n / (time.perf_counter() - started)


def ours(n: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings({"SANXIANG_INSTANCE_PATH": folder})
        with session_scope(settings) as session:
            init_database(settings, session)
            people.ensure_unit(session, "social", "社会组织管理科")
            user = people.add_user(session, "bench", "officer", "张明", "social", "pw", ["officer"])
            people.add_credential(session, "bench", user, "B1", "新市区", date.today() - timedelta(days=1),
                                  date.today() + timedelta(days=365))
            deployment.deploy(session, {MODEL.name: MODEL.read_bytes()}, "bench")
        started = time.perf_counter()
        for _ in range(n):
            with session_scope(settings) as session:
                officer = people.get_user(session, "officer")
                instance = cases.start(session, settings, officer, "six_steps", {"party_name": "某协会"}).instance
                [task_id] = [row.task_id for row in cases.ready_tasks_of(session, instance.id)]
            for step in range(1, STEPS + 1):
                with session_scope(settings) as session:
                    officer = people.get_user(session, "officer")
                    outcome = tasks.complete_or_raise(session, officer, task_id, {f"note{step}": "已记录"})
                    task_id = outcome.next_tasks[0].task_id if outcome.next_tasks else None
            assert outcome.instance.status == "completed"
        return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100)
    args = parser.parse_args()
    bare(5), ours(5)  # warm caches and imports
    a, b = bare(args.cases), ours(args.cases)
    print(f"bare SpiffWorkflow : {a:8.1f} cases/s ({a * STEPS:8.1f} task completions/s)")
    print(f"workflows (SQLite) : {b:8.1f} cases/s ({b * STEPS:8.1f} task completions/s)")
    print(f"ratio b/a: {b / a:.2f}")


if __name__ == "__main__":
    main()
