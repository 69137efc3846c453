"""Supervising cases that run as a chain of stages: the case's own diagram shows the stage it is in
(overdue or failed when something inside it is), each stage's diagram the work inside it, and the
process view counts the cases in each stage."""
from __future__ import annotations

from datetime import datetime, timedelta

from workflows.domain import casediagram, process_stats

from .conftest import shanghai

LARGE_FINE = {"penalty_type": "fine", "fine_amount": "150000"}
STAGES = {"filing": "case_filing", "investigation": "case_investigation", "notice": "case_notice",
          "decision": "case_decision", "service": "case_service", "execution": "case_execution",
          "closure": "case_closure"}


def in_legal_review(bureau):
    """A major case whose legal reviewer has the review task: two calls deep (case → decision → review)."""
    case = bureau.start().up_to_notice(**LARGE_FINE).notify(**LARGE_FINE).statement().recheck()
    case.submit_for_review().do("check_package", "zhou", package_complete="complete")
    assert case.ready == ["review_case"]
    return case


def test_each_diagram_shows_where_the_case_is_one_level_down(bureau):
    case = in_legal_review(bureau)
    manager, db, case_id = bureau.user("jiang"), bureau.db, case.instance.id

    top = casediagram.of_case(db, manager, case_id)
    assert top.process_id == "enforcement_case" and top.calls == STAGES
    assert top.current == ["decision"] and top.overdue == [] and top.error is None
    assert top.completed == ["start_case", "filing", "gw_filed", "investigation", "gw_investigated", "notice"]
    assert {"flow_start_case_to_filing", "flow_filing_to_gw_filed", "flow_gw_filed_to_investigation",
            "flow_investigation_to_gw_investigated", "flow_gw_investigated_to_notice",
            "flow_notice_to_decision"} <= set(top.flows)
    assert not {"flow_gw_filed_to_end_case_not_filed", "flow_decision_to_gw_decided"} & set(top.flows)
    [holder] = top.steps["decision"]  # the stage is held by whoever holds the task inside it
    assert (holder.who, holder.done) == ("zhou", False)

    stage = casediagram.of_case(db, manager, case_id, "case_decision")
    assert stage.current == ["legal_review"] and stage.calls == {"legal_review": "legal_review"}
    assert stage.completed[:3] == ["start_decision", "gw_decision_entry", "recheck_penalty"]
    assert [(s.who, s.done) for s in stage.steps["recheck_penalty"]] == [("zhang", True)]
    assert [(s.who, s.done) for s in stage.steps["legal_review"]] == [("zhou", False)]

    review = casediagram.of_case(db, manager, case_id, "legal_review")
    assert review.current == ["review_case", "review_timer"] and review.calls == {}  # its timer waits too
    assert [(s.who, s.done) for s in review.steps["review_case"]] == [("zhou", False)]

    done = casediagram.of_case(db, manager, case_id, "case_filing")  # a stage the case has left
    assert done.current == [] and "open_case" in done.completed and "end_filed" in done.completed


def test_an_overdue_task_marks_every_level_above_it(bureau):
    case = in_legal_review(bureau)
    bureau.clock.set(shanghai(2026, 11, 10, 9))  # the review's 5 working days ended on 9 November
    manager, db, case_id = bureau.user("jiang"), bureau.db, case.instance.id
    assert casediagram.of_case(db, manager, case_id).overdue == ["decision"]
    assert casediagram.of_case(db, manager, case_id, "case_decision").overdue == ["legal_review"]
    assert casediagram.of_case(db, manager, case_id, "legal_review").overdue == ["review_case"]
    assert casediagram.of_case(db, manager, case_id, "case_notice").overdue == []


def test_a_failed_step_inside_a_stage_marks_the_stage(bureau):
    case = bureau.start().file()
    case.do("confirm_participation", "li", second_participation="confirm", second_recusal="none")
    case.do("approve_filing_unit", "wang", unit_filing_opinion="approve", unit_filing_comment="同意。")
    case.instance.status, case.instance.error_task = "error", "approve_filing_agency"  # as a failed step leaves it
    manager, db, case_id = bureau.user("jiang"), bureau.db, case.instance.id
    assert casediagram.of_case(db, manager, case_id).error == "filing"
    assert casediagram.of_case(db, manager, case_id, "case_filing").error == "approve_filing_agency"
    assert casediagram.of_case(db, manager, case_id, "case_notice").error is None


def test_the_process_view_counts_the_cases_in_each_stage(bureau):
    in_review = in_legal_review(bureau)
    filing = bureau.start().file()
    filing.do("confirm_participation", "li", second_participation="confirm", second_recusal="none")
    notified = bureau.start().up_to_notice().notify()
    manager, db, version = bureau.user("jiang"), bureau.db, in_review.instance.model_version
    bureau.clock.set(shanghai(2026, 11, 10, 9))  # the review and the statement period are overdue now

    waiting = process_stats.waiting(db, manager, "enforcement_case", version)
    assert {k: (w.waiting, w.overdue, w.failed) for k, w in waiting.items()} == {
        "filing": (1, 0, 0), "notice": (1, 1, 0), "decision": (1, 1, 0)}
    waiting = process_stats.waiting(db, manager, "case_decision", version)
    assert {k: (w.waiting, w.overdue) for k, w in waiting.items()} == {"legal_review": (1, 1)}
    waiting = process_stats.waiting(db, manager, "legal_review", version)
    assert {k: (w.waiting, w.overdue) for k, w in waiting.items()} == {"review_case": (1, 1)}
    assert process_stats.calls(db, "enforcement_case", version) == STAGES

    filing.instance.status, filing.instance.error_task = "error", "approve_filing_unit"
    db.flush()
    waiting = process_stats.waiting(db, manager, "enforcement_case", version)
    assert (waiting["filing"].waiting, waiting["filing"].failed) == (0, 1)
    assert process_stats.waiting(db, manager, "case_filing", version)["approve_filing_unit"].failed == 1

    now = datetime.now().astimezone()
    view = process_stats.view(db, manager, "enforcement_case", version, now - timedelta(days=1), now)
    assert view.calls == STAGES and view.elements["notice"] == "告知与听证"
    assert notified.ready == ["record_statement"]
