"""Driving cases of the ``bpmn/`` models through the engine's public API, as the users of each lane.

``bureau`` is the test database with the model set deployed and a few more people. A :class:`Case`
completes tasks by element id (``case.do("review_report", "wang", review_outcome="penalise")``),
attaching a stored document to every required file field left empty, as the web form's uploads
would. The story steps (``file``, ``approve_filing``, ``investigate``, ``notify`` …) fill each form
with plausible data; keyword arguments override single fields. Timers fire only through
:meth:`Bureau.sweep`, from another unit of work, as the worker fires them.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.util.task import TaskState

from workflows.domain import audit, cases, disclosure, records, tasks
from workflows.design import deployment
from workflows.engine import specs
from workflows.domain.forms import FieldSpec, fields_of
from workflows.core.models import AuditEvent, Disclosure, HumanTask, Instance, User
from workflows.domain import credentials
from workflows.domain.people import add_user, ensure_unit, get_user
from workflows.engine.runtime import load_workflow, today
from workflows.worker import sweep_once
from workflows.core.workdays import TZ
from workflows.demo.cases import DEMO_RECORDING

MODELS = Path(__file__).resolve().parents[2] / "bpmn"

# A natural person whose personal data must never reach a disclosure record.
PERSON = {"party_type": "natural_person", "party_name": "李小明", "party_id_number": "110105199003071239",
          "party_phone": "13912345678", "party_address": "新市区幸福路8号3单元"}
ORGANISATION = {"party_type": "organisation", "party_name": "新市区夕阳红养老服务协会",
                "party_id_number": "51650100MJ0000000D", "party_phone": "0991-4567890",
                "party_address": "新市区北京路100号"}

# Element ids of the stretches every penalty case passes, in order. Each stage is a process the top
# level calls: a stage's elements begin with its start event and end with its end event, then the top
# level's call activity completes and its gateway routes the case to the next stage.
FILED = ["start_case", "start_filing", "file_case", "init_case", "gw_limitation", "confirm_participation",
         "build_officers", "gw_officers", "approve_filing_unit", "gw_unit_filing", "approve_filing_agency",
         "gw_agency_filing", "open_case", "end_filed", "filing", "gw_filed", "start_investigation", "gw_returned"]
INVESTIGATED = ["onsite_inspection", "collect_evidence", "gw_evidence", "investigation_report", "review_report",
                "gw_review_outcome"]
TO_NOTICE = ["end_to_notice", "investigation", "gw_investigated", "start_notice"]
TO_DECISION = ["end_notified", "notice", "start_decision", "gw_decision_entry"]
NOTIFIED = TO_NOTICE + ["prior_notice", "record_notice", "record_statement", "gw_hearing", "resume_decision_clock"] + \
    TO_DECISION + ["recheck_penalty", "gw_recheck", "assess_major", "gw_major"]
PASSED_REVIEW = ["start_review", "submit_review", "init_review", "check_package", "check_reviewer", "gw_package",
                 "review_case", "check_review_signer", "gw_review", "review_passed", "end_passed", "legal_review",
                 "gw_legal_review", "collective_discussion", "gw_discussion"]  # a call activity completes last
TO_SERVICE = ["end_decided", "decision", "gw_decided", "start_service"]
# A decision stage that sends the case back: the top level calls the investigation again, which resumes
# at evidence collection.
RETURNED = ["return_to_investigation", "end_returned", "decision", "gw_decided", "start_investigation",
            "gw_returned", "resume_investigation"]
CLOSED = ["start_closure", "archive_case", "approve_closure", "gw_closure", "close_case", "end_closed", "closure",
          "end_case"]

REVIEW_ITEMS = ("subject", "qualification", "facts", "evidence", "law", "discretion", "procedure", "authority",
                "documents", "crime")  # the ten review items of seed §三.1, fields item_<name>

EXTRA_PEOPLE = [  # username, name, unit, roles, credential
    ("chen", "陈一", "social", ["officer"], True),                   # a third officer: hearing chair
    ("xu", "许五", "social", ["officer", "legal_reviewer"], True),   # investigates, and also reviews
    ("han", "韩四", "law", ["legal_reviewer"], False),                # a second legal reviewer
    ("zheng", "郑二", "office", ["office"], False),
    ("jiang", "蒋三", "office", ["manager"], False),
]


def shanghai(year: int, month: int, day: int, hour: int = 9, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=TZ)


def end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=TZ)


class Bureau:
    """The deployed model set and the people of the bureau, in one test database."""

    def __init__(self, db, settings, clock):
        self.db, self.settings, self.clock = db, settings, clock
        self.store = records.evidence_store(settings)

    def user(self, username: str) -> User:
        return get_user(self.db, username)

    def start(self, process: str = "enforcement_case", who: str = "zhang", **data: Any) -> "Case":
        return Case(self, cases.start(self.db, self.settings, self.user(who), process, data).instance)

    def sweep(self) -> int:
        """Fire due timers from another unit of work, as the worker does (the test's work committed first)."""
        self.db.commit()
        fired = sweep_once(self.settings)
        self.db.expire_all()
        return fired

    def at(self, moment: datetime) -> int:
        """Move the clock to ``moment`` and let the worker sweep."""
        self.clock.set(moment)
        return self.sweep()


@dataclass
class Case:
    bureau: Bureau
    instance: Instance

    @property
    def db(self):
        return self.bureau.db

    # --- reading the case -------------------------------------------------------------------------

    @property
    def tasks(self) -> list[HumanTask]:
        return cases.ready_tasks_of(self.db, self.instance.id)

    @property
    def ready(self) -> list[str]:
        """Element ids of the ready user tasks."""
        return sorted(row.spec_id for row in self.tasks)

    def task(self, spec_id: str) -> HumanTask:
        rows = [row for row in self.tasks if row.spec_id == spec_id]
        assert len(rows) == 1, f"{spec_id} is not ready; ready: {self.ready} (case {self.instance.status})"
        return rows[0]

    @property
    def path(self) -> list[str]:
        return cases.path_of(self.db, self.instance)

    @property
    def data(self) -> dict[str, Any]:
        """The case data as of its latest step (``workflow.last_task`` may be an engine-internal task)."""
        workflow = load_workflow(self.db, self.instance)
        steps = [t for t in workflow.get_tasks(state=TaskState.COMPLETED | TaskState.READY) if t.task_spec.bpmn_id]
        return max(steps, key=lambda t: t.last_state_change).data

    @property
    def events(self) -> list[AuditEvent]:
        return audit.events_of(self.db, self.instance.id)

    @property
    def actions(self) -> list[str]:
        return [e.action for e in self.events]

    @property
    def done_by(self) -> list[tuple[str, str]]:
        """(element id, username) of every completed task, from the audit trail."""
        return [(json.loads(e.payload)["task"], e.actor) for e in self.events if e.action == "task.complete"]

    @property
    def fired(self) -> list[str]:
        """Timer elements that fired, from the audit trail."""
        return [el for e in self.events if e.action == "timer.fire" for el in json.loads(e.payload)["elements"]]

    @property
    def disclosures(self) -> list[Disclosure]:
        return disclosure.of_case(self.db, self.instance.id)

    def form(self, row: HumanTask) -> list[FieldSpec]:
        model = specs.get(self.db, self.instance.model_version, self.instance.process_id)
        return fields_of(model.task_spec(row.process_id, row.spec_id))

    # --- acting ------------------------------------------------------------------------------------

    def attach(self, row: HumanTask, field: FieldSpec, who: str) -> str:
        """Store a document for a file field of the task, linked to the case; return its hash."""
        body = f"{self.instance.case_no} {row.spec_id} {field.id}：{field.label}".encode()
        if field.properties.get("media") == "av":  # a recording: sound or video, by its bytes
            body = DEMO_RECORDING + body
        stored = records.store_evidence(self.db, self.bureau.store, io.BytesIO(body), f"{field.label}.bin", who,
                                        self.instance, row.task_id, field.id)
        return stored.sha256

    def recording(self) -> str:
        """A recording of the service (送达音像记录) stored for the serve-decision task."""
        row = self.task("serve_decision")
        return self.attach(row, next(f for f in self.form(row) if f.id == "service_av"), self.lead)

    def submit(self, spec_id: str, who: str, data: dict[str, Any]) -> cases.Outcome:
        """Complete the task with exactly ``data``."""
        return tasks.complete_or_raise(self.db, self.bureau.user(who), self.task(spec_id).task_id, data)

    def do(self, spec_id: str, who: str, **data: Any) -> cases.Outcome:
        """Complete the task, attaching a document to each required file field not given."""
        row = self.task(spec_id)
        for field in self.form(row):
            if field.type == "file" and field.required and field.id not in data:
                sha = self.attach(row, field, who)
                data[field.id] = [sha] if field.multiple else sha
        return tasks.complete_or_raise(self.db, self.bureau.user(who), row.task_id, data)

    # --- the story steps of a penalty case ------------------------------------------------------

    def file(self, who: str = "zhang", **data: Any) -> "Case":
        self.do("file_case", who, **({
            "matter_code": "MZ-CF-0001", "case_source": "inspection", **ORGANISATION,
            "violation_date": today() - timedelta(days=20), "violation_summary": "出借社会团体登记证书供他人开展活动。",
            "serious_harm": False, "second_officer": "li", "lead_recusal": "none"} | data))
        return self

    def approve_filing(self) -> "Case":
        self.do("confirm_participation", "li", second_participation="confirm", second_recusal="none")
        self.do("approve_filing_unit", "wang", unit_filing_opinion="approve", unit_filing_comment="符合立案条件。")
        self.do("approve_filing_agency", "wu", filing_decision="approve", filing_decision_comment="同意立案。")
        return self

    def inspect(self, **data: Any) -> "Case":
        self.do("onsite_inspection", self.lead, **({
            "inspection_date": today(), "inspection_officers_present": True, "inspection_credential_shown": True,
            "inspection_rights_informed": True, "inspection_doc_no": "新民检〔2026〕1号",
            "inspection_findings": "现场查见他人持该协会登记证书开展活动。"} | data))
        return self

    def collect(self, **data: Any) -> "Case":
        self.do("collect_evidence", self.lead, **({
            "evidence_credential_shown": True, "evidence_rights_informed": True, "evidence_doc_no": "新民询〔2026〕1号",
            "evidence_summary": "询问当事人负责人，调取出借协议。"} | data))
        return self

    def investigate(self) -> "Case":
        return self.inspect().collect()

    def report(self, outcome: str = "penalise", review: str | None = None, **data: Any) -> "Case":
        """The officer's investigation report proposing ``outcome``; the unit head concludes ``review``
        (the same outcome unless given)."""
        self.do("investigation_report", self.lead, **({
            "facts_found": "当事人出借登记证书。", "evidence_list": "现场检查笔录、询问笔录、出借协议。",
            "legal_basis": "《社会团体登记管理条例》第三十条", "proposed_outcome": outcome,
            "penalty_type": "warning"} | data))
        self.do("review_report", "wang", review_outcome=review or outcome, review_opinion="同意调查终结意见。")
        return self

    def notify(self, penalty_type: str = "warning", **data: Any) -> "Case":
        self.do("prior_notice", self.lead, **({
            "notice_doc_no": "新民告〔2026〕1号", "notice_date": today(), "notice_method": "on_the_spot",
            "penalty_type": penalty_type, "notice_content_confirmed": True} | data))
        return self

    def statement(self, **data: Any) -> "Case":
        self.do("record_statement", self.lead, **({"statement_made": "waived"} | data))
        return self

    def recheck(self, **data: Any) -> "Case":
        notified = self.data
        self.do("recheck_penalty", self.lead, **({
            "defence_adopted": "none", "recheck_reason": "当事人未提出陈述申辩意见，维持拟处罚意见。",
            "recheck_outcome": "proceed", "penalty_type": notified["notified_penalty_type"],
            "fine_amount": notified.get("fine_amount"), "confiscation_amount": notified.get("confiscation_amount")}
            | data))
        return self

    def pass_review(self, reviewer: str = "zhou") -> "Case":
        """Legal review that finds no problem, then collective discussion that agrees."""
        self.submit_for_review()
        self.do("check_package", reviewer, package_complete="complete")
        self.review(reviewer)
        return self.discuss()

    def submit_for_review(self) -> "Case":
        self.do("submit_review", self.lead, review_case_summary="当事人出借登记证书，情节较重。",
                review_proposed_decision="拟处罚款。", review_legal_basis="《社会团体登记管理条例》第三十条",
                review_discretion="按裁量基准“较重”档次。")
        return self

    def review(self, reviewer: str = "zhou", problems: tuple[str, ...] = (), **data: Any) -> "Case":
        items = {f"item_{item}": "problem" if item in problems else "pass" for item in REVIEW_ITEMS}
        comments = {f"item_{item}_comment": "证据不足以认定违法所得数额。" for item in problems}
        self.do("review_case", reviewer, **(items | comments | {
            "review_opinion": "problems" if problems else "agree",
            "review_opinion_text": "存在问题，请补正。" if problems else "同意。"} | data))
        return self

    def discuss(self, **data: Any) -> "Case":
        self.do("collective_discussion", "wu", **({
            "discussion_date": today(), "discussion_attendees": ["吴十", "王五", "周九"],
            "discussion_summary": "同意承办科室意见。", "discussion_conclusion": "agree"} | data))
        return self

    def decide(self, **data: Any) -> "Case":
        self.do("decide_penalty", "wu", **({"decision_result": "decide", "decision_doc_no": "新民罚决〔2026〕1号",
                                            "decision_text": "给予警告。"} | data))
        return self

    def serve(self, **data: Any) -> "Case":
        self.do("serve_decision", self.lead, **({"service_method": "on_the_spot", "service_credential_shown": True,
                                                 "service_date": today(), "service_receipt": self.receipt()} | data))
        return self

    def publish(self, **data: Any) -> "Case":
        self.do("publish_decision", self.lead, **({
            "disclosure_facts": "当事人出借社会团体登记证书。", "disclosure_basis": "《社会团体登记管理条例》第三十条",
            "disclosure_decision_text": "给予警告。", "publish": True} | data))
        return self

    def close(self, reason: str, **data: Any) -> "Case":
        self.do("archive_case", self.lead, **({"closure_reason": reason, "closure_summary": "案件办结。",
                                               "archive_no": "新民档〔2026〕1号"} | data))
        self.do("approve_closure", "wang", closure_decision="approve", closure_comment="同意结案。")
        return self

    def receipt(self) -> str:
        row = self.task("serve_decision")
        field = next(f for f in self.form(row) if f.id == "service_receipt")
        return self.attach(row, field, self.lead)

    @property
    def lead(self) -> str:
        return self.data.get("officers", ["zhang"])[0]

    def up_to_notice(self, **report: Any) -> "Case":
        """Filed, approved, investigated and reported for a penalty."""
        return self.file().approve_filing().investigate().report(**report)


@pytest.fixture
def bureau(db, settings, frozen_clock) -> Bureau:
    """The test database with the ``bpmn/`` model set deployed and the people of every lane."""
    ensure_unit(db, "office", "办公室")
    day = today()
    for username, name, unit, roles, credential in EXTRA_PEOPLE:
        user = add_user(db, "system", username, name, unit, "secret-pass", roles,
                        qualification=(f"A{username}", date(2020, 1, 1)) if "legal_reviewer" in roles else None)
        if credential:
            credentials.issue(db, "system", user.username, f"JZ9{user.id:03d}", "新市区", day - timedelta(days=365),
                           day + timedelta(days=365))
    deployment.deploy(db, deployment.read_model_files([MODELS]), "designer")
    db.commit()
    return Bureau(db, settings, frozen_clock)

