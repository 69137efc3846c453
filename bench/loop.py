"""A case that loops: the cost of a step as its history grows, through ``workflows``.

Drives ``tests/bpmn/loop.bpmn`` (one user task and a counter, looping) for 400 iterations, each
completion one unit of work, and prints the CPU time of the steps around iteration 10, 50, 100, 200
and 400 (median of the 21 steps around each), the stored state's size, and ``step-200/step-10``. Finished iterations
leave the stored tree (:mod:`workflows.engine.history`); without that, the bare engine's step grows
linearly with the iterations and the case stops after 333.

Run: ``python -m bench.loop [--postgres URL]`` (PostgreSQL too when SANXIANG_TEST_DATABASE_URL is set).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from bench.engine import database, prepare
from workflows.core.db import session_scope
from workflows.core.models import Instance
from workflows.domain import cases, people, tasks

MODEL = Path(__file__).resolve().parents[1] / "tests" / "bpmn" / "loop.bpmn"
ROUNDS = 400
MARKS = (10, 50, 100, 200, 400)


def run(kind: str, pg_url: str | None) -> float:
    with database(kind, pg_url) as settings:
        prepare(settings, MODEL)
        with session_scope(settings) as session:
            started = cases.start(session, settings, people.get_user(session, "officer"), "loop", {"rounds": ROUNDS})
            task_id, instance_id = started.tasks[0].task_id, started.instance.id
        cost, size = [], {}
        for iteration in range(1, ROUNDS + 1):
            begin = time.process_time()
            with session_scope(settings) as session:
                done = tasks.complete_or_raise(session, people.get_user(session, "officer"), task_id, {"note": "记"})
                task_id = done.next_tasks[0].task_id if done.next_tasks else None
            cost.append(time.process_time() - begin)
            if iteration in MARKS:
                with session_scope(settings, write=False) as session:
                    size[iteration] = len(session.get(Instance, instance_id).state)
        assert done.instance.status == "completed", done.instance.error_message
    step = {mark: 1000 * statistics.median(cost[max(0, mark - 11):mark + 10]) for mark in MARKS}
    for mark in MARKS:
        print(f"[{kind}] iteration {mark:3d}: {step[mark]:6.3f} ms CPU per step, stored state {size[mark] / 1024:5.1f} KB")
    ratio = step[200] / step[10]
    print(f"[{kind}] step-200/step-10: {ratio:.2f}")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("SANXIANG_TEST_DATABASE_URL"))
    args = parser.parse_args()
    ratios = [run(kind, args.postgres) for kind in ["sqlite"] + (["postgresql"] if args.postgres else [])]
    print(f"step-200/step-10: {max(ratios):.2f}")


if __name__ == "__main__":
    main()
