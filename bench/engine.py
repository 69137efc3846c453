"""Engine cost per task completion against bare SpiffWorkflow, in one process, sides interleaved.

(a) bare: SpiffWorkflow's camunda parser; after every completed user task the workflow is
    serialized to JSON and deserialized again (spec left out, as any store keeps specs apart),
    which is the least any persistent use must do.
(b) ours: the same process through ``workflows``, each completion one unit of work: load the user
    and the task, check access and credential, validate the form, run the engine, write the case
    state, its inbox rows and its audit chain, commit (durably).

Both sides run in rounds, alternating, so load drift hits both alike. Printed per database:
CPU time per step of each side, wall time per completion, SQL statements per completion, and
``cpu ratio`` = CPU per completion through ``workflows`` ÷ bare CPU per step. The last line is the
worst ratio over the databases run.

Run: ``python -m bench.engine [--cases N] [--rounds R] [--postgres URL]`` (the PostgreSQL run uses
``SANXIANG_TEST_DATABASE_URL`` when set; it works in a schema of its own and drops it).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import create_engine, text

from workflows.bootstrap import init_database
from workflows.core.db import get_engine, session_scope, statements
from workflows.core.settings import load_settings
from workflows.design import deployment
from workflows.domain import cases, credentials, people, tasks
from workflows.engine import serialization

MODEL = Path(__file__).with_name("six_steps.bpmn")
STEPS = 6


@dataclass
class Side:
    cpu: float = 0.0
    wall: float = 0.0
    steps: int = 0
    statements: list[int] = field(default_factory=list)

    def ms_cpu(self) -> float:
        return 1000 * self.cpu / self.steps

    def ms_wall(self) -> float:
        return 1000 * self.wall / self.steps


@contextmanager
def timed(side: Side, steps: int):
    cpu, wall = time.process_time(), time.perf_counter()
    yield
    side.cpu += time.process_time() - cpu
    side.wall += time.perf_counter() - wall
    side.steps += steps


def bare_spec():
    parser = CamundaParser()
    parser.add_bpmn_file(str(MODEL))
    return parser.get_spec("six_steps")


def bare(spec, n: int, side: Side) -> None:
    with timed(side, n * STEPS):
        for _ in range(n):
            workflow = BpmnWorkflow(spec)
            workflow.do_engine_steps()
            state = serialization.dumps(workflow)
            for step in range(1, STEPS + 1):
                workflow = serialization.loads(state, spec, {})
                task = workflow.get_next_task(state=TaskState.READY, manual=True)
                task.data[f"note{step}"] = "已记录"
                task.run()
                workflow.do_engine_steps()
                state = serialization.dumps(workflow)
            assert workflow.completed


def prepare(settings, model: Path = MODEL) -> None:
    """A fresh schema, one officer (``officer``, with a credential) and ``model`` deployed."""
    with session_scope(settings) as session:
        init_database(settings, session)
        people.ensure_unit(session, "social", "社会组织管理科")
        user = people.add_user(session, "bench", "officer", "张明", "social", "password", ["officer"])
        credentials.issue(session, "bench", user.username, "B1", "新市区", date.today() - timedelta(days=1),
                              date.today() + timedelta(days=365))
        deployment.deploy(session, {model.name: model.read_bytes()}, "bench")


def ours(settings, n: int, side: Side) -> None:
    """``n`` cases of six completions; only the completions are timed and counted."""
    for _ in range(n):
        with session_scope(settings) as session:
            officer = people.get_user(session, "officer")
            task_id = cases.start(session, settings, officer, "six_steps", {"party_name": "某协会"}).tasks[0].task_id
        for step in range(1, STEPS + 1):
            with statements(settings.database_url) as seen, timed(side, 1):
                with session_scope(settings) as session:
                    officer = people.get_user(session, "officer")
                    done = tasks.complete_or_raise(session, officer, task_id, {f"note{step}": "已记录"})
                    task_id = done.next_tasks[0].task_id if done.next_tasks else None
            side.statements.append(len(seen))
        assert done.instance.status == "completed"


@contextmanager
def database(kind: str, pg_url: str | None, folder: str | None = None):
    """Settings for a fresh database of ``kind`` (a SQLite file, or a PostgreSQL schema dropped
    afterwards), its instance folder ``folder`` or a temporary one."""
    with (nullcontext(folder) if folder else tempfile.TemporaryDirectory()) as folder:
        if kind == "sqlite":
            yield load_settings({"SANXIANG_INSTANCE_PATH": folder})
            return
        schema = "bench_" + uuid.uuid4().hex[:10]
        admin = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        sep = "&" if "?" in pg_url else "?"
        settings = load_settings({"SANXIANG_INSTANCE_PATH": folder,
                                  "SANXIANG_DATABASE_URL": f"{pg_url}{sep}options=-csearch_path%3D{schema}"})
        try:
            yield settings
        finally:
            get_engine(settings.database_url).dispose()
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


def run(kind: str, pg_url: str | None, n: int, rounds: int) -> float:
    spec = bare_spec()
    with database(kind, pg_url) as settings:
        prepare(settings)
        bare(spec, 3, Side()), ours(settings, 3, Side())  # warm caches and imports
        a, b = Side(), Side()
        for _ in range(rounds):
            bare(spec, n, a)
            ours(settings, n, b)
    per = sorted(b.statements)
    ratio = b.ms_cpu() / a.ms_cpu()
    print(f"[{kind}] bare SpiffWorkflow: {a.ms_cpu():6.3f} ms CPU per step")
    print(f"[{kind}] workflows         : {b.ms_cpu():6.3f} ms CPU per completion, {b.ms_wall():6.3f} ms wall "
          f"(one durable commit each), statements per completion: {per[len(per) // 2]} (max {per[-1]})")
    print(f"[{kind}] cpu ratio: {ratio:.2f}")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10, help="cases per side per round")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--postgres", default=os.environ.get("SANXIANG_TEST_DATABASE_URL"),
                        help="a PostgreSQL URL to run on as well")
    args = parser.parse_args()
    kinds = ["sqlite"] + (["postgresql"] if args.postgres else [])
    ratios = [run(kind, args.postgres, args.cases, args.rounds) for kind in kinds]
    print(f"cpu ratio: {max(ratios):.2f}")


if __name__ == "__main__":
    main()
