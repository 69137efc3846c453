"""One poisoned case never stops the others' timers (issue 10, part 2): among 100 due cases, one
whose timer leads to a script leaving data the case cannot store, and one whose stored state no
longer loads. The sweep parks both in ``error``, audited and visible, fires the other 98, and
``sanxiang worker --once`` says how many failed in its exit status."""
from __future__ import annotations

from datetime import date, datetime, timezone

from click.testing import CliRunner
from sqlalchemy import select, update

from tests.conftest import bpmn
from workflows.cli import main
from workflows.core.db import session_scope
from workflows.core.models import AuditEvent, Instance
from workflows.design import deployment
from workflows.domain import audit, cases
from workflows.domain.people import get_user
from workflows.worker import SweepReport, run_worker

MORNING = datetime(2026, 9, 30, 1, 0, tzinfo=timezone.utc)
TIMED = bpmn("timers.bpmn")
# the same diagram under another id, its timer leading to a script that leaves bytes behind
POISONED = (TIMED.decode().replace('id="timed"', 'id="poisoned"')
            .replace('<bpmn:sequenceFlow id="f1" sourceRef="wait_a_day" targetRef="publish" />',
                     '<bpmn:sequenceFlow id="f1" sourceRef="wait_a_day" targetRef="poison" />'
                     '<bpmn:scriptTask id="poison" name="投毒"><bpmn:script>x = b"abc"</bpmn:script></bpmn:scriptTask>'
                     '<bpmn:sequenceFlow id="f1b" sourceRef="poison" targetRef="publish" />')
            .replace("<bpmn:flowNodeRef>publish</bpmn:flowNodeRef>",
                     "<bpmn:flowNodeRef>publish</bpmn:flowNodeRef><bpmn:flowNodeRef>poison</bpmn:flowNodeRef>")).encode()


def due_cases(db, settings, frozen_clock) -> tuple[list[int], int, int]:
    """98 healthy cases, one poisoned by its diagram, one by its stored state; all due."""
    frozen_clock.set(MORNING)
    deployment.deploy(db, {"timers.bpmn": TIMED, "poisoned.bpmn": POISONED}, "designer")
    zhang = get_user(db, "zhang")
    data = {"decision_date": date(2026, 9, 30)}
    healthy = [cases.start(db, settings, zhang, "timed", data).instance.id for _ in range(49)]
    by_diagram = cases.start(db, settings, zhang, "poisoned", data).instance.id
    healthy += [cases.start(db, settings, zhang, "timed", data).instance.id for _ in range(49)]
    by_state = cases.start(db, settings, zhang, "timed", data).instance.id
    db.execute(update(Instance).where(Instance.id == by_state).values(state='{"not": "a workflow"}'))
    db.commit()
    frozen_clock.advance(days=2)
    return healthy, by_diagram, by_state


def test_one_poisoned_case_among_a_hundred_stops_only_itself(db, settings, frozen_clock):
    healthy, by_diagram, by_state = due_cases(db, settings, frozen_clock)
    report = SweepReport()
    assert run_worker(settings, once=True, batch=30, report=report) == 100
    assert sorted(case_id for case_id, _ in report.failed) == sorted([by_diagram, by_state])
    with session_scope(settings, write=False) as session:
        for case_id in healthy:
            assert [r.name for r in cases.ready_tasks_of(session, case_id)] == ["公示决定"], case_id
        poisoned = session.get(Instance, by_diagram)
        assert poisoned.status == "error" and poisoned.error_task == "poison"
        assert poisoned.error_message.startswith("poison: the script leaves data a case cannot store: x is bytes")
        broken = session.get(Instance, by_state)
        assert broken.status == "error" and broken.error_message.startswith("the timer sweep failed on this case")
        for case_id in (by_diagram, by_state):
            assert "engine.error" in session.scalars(select(AuditEvent.action)
                                                     .where(AuditEvent.chain == f"case:{case_id}")).all()
        # the state written past the engine is what verify reports; the sweep's own writes are sound
        assert [(b.chain, "edited outside the engine" in b.problem) for b in audit.verify(session)] == [
            (f"case:{by_state}", True)]
    assert run_worker(settings, once=True) == 0  # parked cases are not swept again


def test_the_worker_command_counts_the_failed_cases_in_its_exit_status(db, settings, frozen_clock, monkeypatch):
    due_cases(db, settings, frozen_clock)
    db.close()
    monkeypatch.setenv("SANXIANG_INSTANCE_PATH", str(settings.instance_path))
    monkeypatch.setenv("SANXIANG_DATABASE_URL", settings.database_url)
    result = CliRunner().invoke(main, ["worker", "--once"], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert "2 case(s) failed" in result.output and "Traceback" not in result.output
