"""Demo cases for `sanxiang init --demo`: penalty cases driven through the engine to different
stages and states, so the inboxes, the case pages and the supervision views of the demo people
have something in them. Cases with a history are driven on the engine clock set back to when it
happened, so their deadlines have run as they would have."""
from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.core import clock, contract
from workflows.domain import cases, records, supervision, tasks
from workflows.domain.steps import CaseRun
from workflows.engine import specs
from workflows.domain.forms import fields_of
from workflows.core.models import Instance, Matter
from workflows.domain.people import get_user
from workflows.engine.runtime import today
from workflows.core.settings import Settings

# The head of an MP4 file (an ``ftyp`` box): demo recordings are MP4 files carrying a note, not video.
DEMO_RECORDING = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"


class _Case:
    """One demo case, completed task by task as the demo people of each lane."""

    def __init__(self, session: Session, settings: Settings, matter_code: str, party: dict[str, Any],
                 filer: str = "officer1", head: str = "head"):
        self.session, self.store, self.filer, self.head = session, records.evidence_store(settings), filer, head
        self.party, self.basis = party, session.get(Matter, matter_code).legal_basis
        self.instance = cases.start(session, settings, get_user(session, filer), "enforcement_case",
                                    {"matter_code": matter_code, "party_name": party["party_name"]}).instance

    def do(self, spec_id: str, username: str, attach: tuple[str, ...] = (), **data: Any) -> "_Case":
        """Complete the ready task ``spec_id``, with a stored document for each required file field
        and for the fields named in ``attach``."""
        [row] = [r for r in cases.ready_tasks_of(self.session, self.instance.id) if r.spec_id == spec_id]
        model = specs.get(self.session, self.instance.model_version, self.instance.process_id)
        for field in fields_of(model.task_spec(row.process_id, row.spec_id)):
            if field.type == "file" and (field.required or field.id in attach) and field.id not in data:
                text = f"{self.instance.case_no}\n{field.label}（演示材料）\n".encode()
                name = f"{field.label}.txt"
                if field.properties.get("media") == "av":  # a recording: an MP4 box around the demo note
                    text, name = DEMO_RECORDING + text, f"{field.label}.mp4"
                stored = records.store_evidence(self.session, self.store, io.BytesIO(text), name,
                                                username, self.instance, row.task_id, field.id)
                data[field.id] = [stored.sha256] if field.multiple else stored.sha256
        tasks.complete_or_raise(self.session, get_user(self.session, username), row.task_id, data)
        return self

    def filed(self, summary: str, second: str = "officer2") -> "_Case":
        return self.do("file_case", self.filer, matter_code=self.instance.matter_code, case_source="inspection",
                       **self.party, violation_date=today() - timedelta(days=30), violation_summary=summary,
                       serious_harm=False, second_officer=second, lead_recusal="none") \
            .do("confirm_participation", second, second_participation="confirm", second_recusal="none")

    def approved(self) -> "_Case":
        return self.do("approve_filing_unit", self.head, unit_filing_opinion="approve", unit_filing_comment="符合立案条件。") \
            .do("approve_filing_agency", "director", filing_decision="approve", filing_decision_comment="同意立案。")

    def inspected(self, findings: str) -> "_Case":
        return self.do("onsite_inspection", self.filer, inspection_date=today(), inspection_officers_present=True,
                       inspection_credential_shown=True, inspection_rights_informed=True,
                       inspection_doc_no=f"新民检〔{today().year}〕{self.instance.id}号", inspection_findings=findings)

    def investigated(self, facts: str, **penalty: Any) -> "_Case":
        return self.inspected(facts) \
            .do("collect_evidence", self.filer, evidence_credential_shown=True, evidence_rights_informed=True,
                evidence_doc_no=f"新民询〔{today().year}〕{self.instance.id}号", evidence_summary="询问当事人负责人，调取相关材料。") \
            .do("investigation_report", self.filer, facts_found=facts, evidence_list="现场检查笔录、询问笔录、书证。",
                legal_basis=self.basis, proposed_outcome="penalise", **penalty) \
            .do("review_report", self.head, review_outcome="penalise", review_opinion="事实清楚，同意拟处罚意见。")

    def notified(self, **penalty: Any) -> "_Case":
        return self.do("prior_notice", self.filer, notice_doc_no=f"新民告〔{today().year}〕{self.instance.id}号",
                       notice_date=today(), notice_method="on_the_spot", notice_content_confirmed=True, **penalty)

    def rechecked(self, **penalty: Any) -> "_Case":
        return self.do("record_statement", self.filer, statement_made="waived") \
            .do("recheck_penalty", self.filer, defence_adopted="none", recheck_reason="当事人放弃陈述申辩，维持拟处罚意见。",
                recheck_outcome="proceed", **penalty)

    def decided(self, text: str) -> "_Case":
        return self.do("decide_penalty", "director", decision_result="decide", decision_text=text,
                       decision_doc_no=f"新民罚决〔{today().year}〕{self.instance.id}号") \
            .do("serve_decision", self.filer, attach=("service_receipt",), service_method="on_the_spot",
                service_credential_shown=True, service_date=today())


def _organisation(name: str, code: str, address: str) -> dict[str, Any]:
    return {"party_type": "organisation", "party_name": name, "party_id_number": code, "party_address": address}


def create_demo_cases(session: Session, settings: Settings) -> None:
    """Start six penalty cases at different stages (nothing when the database already has cases)."""
    if session.scalar(select(func.count()).select_from(Instance)
                      .where(Instance.process_id.not_in(contract.CATALOGUE_PROCESSES))):
        return
    warning = {"penalty_type": "warning"}

    _Case(session, settings, "MZ-CF-0002", _organisation("新市区青年创业促进会", "51650100MJ0000001G", "新市区长春中路18号")) \
        .filed("超出章程规定的业务范围组织收费培训。")  # waits for the unit head's filing review

    _Case(session, settings, "MZ-CF-0003", _organisation("新市区明德职业培训学校", "52650100MJ0000002G", "新市区河北东路66号")) \
        .filed("拒不接受年度检查。").approved().inspected("现场检查时负责人拒绝提供财务账簿。")  # evidence collection next

    _Case(session, settings, "MZ-CF-0001", _organisation("新市区书画艺术研究会", "51650100MJ0000003N", "新市区苏州路9号")) \
        .filed("将登记证书出借给某公司使用。").approved().investigated("出借登记证书一次，未收取费用。", **warning) \
        .notified(**warning)  # the party's 5 working days to state and defend run

    major = {"penalty_type": "revoke_registration"}
    _Case(session, settings, "MZ-CF-0001", _organisation("新市区丝路文化交流协会", "51650100MJ0000004R", "新市区北京南路200号")) \
        .filed("多次出租登记证书和印章牟利。").approved().investigated("出租登记证书和印章三次，获利五万元。", **major) \
        .notified(**major).rechecked(**major) \
        .do("submit_review", "officer1", review_case_summary="当事人多次出租登记证书和印章牟利，拟撤销登记。",
            review_proposed_decision="撤销登记。", review_legal_basis="《社会团体登记管理条例》第三十条",
            review_discretion="情节严重，适用最重档次。") \
        .do("check_package", "reviewer", package_complete="complete")  # the legal reviewer's review is next

    confiscation = {"penalty_type": "confiscation", "confiscation_amount": "8000"}
    _Case(session, settings, "MZ-CF-0001", _organisation("新市区天山户外运动协会", "51650100MJ0000005W", "新市区喀什东路35号")) \
        .filed("出借登记证书并收取费用。").approved().investigated("出借登记证书，违法所得八千元。", **confiscation) \
        .notified(**confiscation).rechecked(**confiscation) \
        .decided("没收违法所得人民币八千元。")  # served; publication within 7 working days is due

    _supervision_cases(session, settings, warning)

    _Case(session, settings, "MZ-CF-0003", _organisation("新市区启航青少年服务中心", "52650100MJ0000006W", "新市区阿勒泰路12号")) \
        .filed("未按规定接受年度检查。").approved().investigated("逾期未参加年度检查，经催告后已补报。", **warning) \
        .notified(**warning).rechecked(**warning).decided("给予警告。") \
        .do("publish_decision", "officer1", disclosure_facts="当事人未按规定接受年度检查。",
            disclosure_basis="《民办非企业单位登记管理暂行条例》第二十五条", disclosure_decision_text="给予警告。", publish=True) \
        .do("archive_case", "officer1", closure_reason="executed", closure_summary="警告已送达，案件办结。",
            archive_no=f"新民档〔{today().year}〕1号") \
        .do("approve_closure", "head", closure_decision="approve", closure_comment="同意结案。")
    _disclosure_cases(session, settings, warning)


def _supervision_cases(session: Session, settings: Settings, warning: dict[str, Any]) -> None:
    """Cases for the supervisors' views: one near and one past its handling limit (with a
    supervision notice), one suspended, one terminated, one stopped by a failed step."""
    now = clock.now()
    with clock.frozen(now - timedelta(days=84)):  # yellow: about a week of the 90 days left
        _Case(session, settings, "MZ-CF-0011", _organisation("新市区康乐老年公寓", "52650100MJ00000070", "新市区天津路5号"),
              filer="officer4", head="head2").filed("未与入住老人签订服务协议。", second="officer5").approved() \
            .inspected("抽查5名入住老人，均无服务协议。")
    fine = {"penalty_type": "fine", "fine_amount": "20000"}
    with clock.frozen(now - timedelta(days=97)):  # red: past the 90 days; filed, investigated, notified
        late = _Case(session, settings, "MZ-CF-0012", _organisation("新市区福寿养老院", "52650100MJ00000083", "新市区南湖路88号"),
                     filer="officer4", head="head2").filed("护理员殴打入住老人。", second="officer5").approved()
    with clock.frozen(now - timedelta(days=40)):  # the party's statement period ended a month ago: overdue
        late.investigated("护理员多次殴打入住老人，有监控录像为证。", **fine).notified(**fine)
    supervision.send(session, get_user(session, "manager"), late.instance.id,
                     "该案已超过九十日办案期限，请于三个工作日内报告进展并提出延期或结案意见。")
    suspended = _Case(session, settings, "MZ-CF-0021", _organisation("新市区安息园墓地服务部", "92650100MA0000009H",
                                                                    "新市区西山路1号")).filed("未经批准扩建墓区。").approved()
    cases.suspend(session, get_user(session, "head"), suspended.instance.id,
                  "当事人负责人因病住院，无法接受询问。", "party_incapacitated")
    withdrawn = _Case(session, settings, "MZ-CF-0031", _organisation("新市区某房地产开发公司", "91650100MA000000AP",
                                                                    "新市区友好路3号")).filed("擅自使用未经批准的小区名称。")
    cases.terminate(session, get_user(session, "director"), withdrawn.instance.id, "经核实该名称已获批准，撤销立案申请。")
    _failed_at_filing(session, settings)


def _failed_at_filing(session: Session, settings: Settings) -> None:
    """A case stopped at 登记立案 as a failed step leaves it: approved, the step still to run, the
    error on the case. Retrying (as an administrator) runs the step again."""
    case = _Case(session, settings, "MZ-CF-0022", _organisation("新市区吉祥殡葬用品店", "92650100MA000000BP", "新市区红山路7号")) \
        .filed("销售纸扎别墅等封建迷信殡葬用品。").do("approve_filing_unit", "head", unit_filing_opinion="approve",
                                                 unit_filing_comment="符合立案条件。")
    [row] = [r for r in cases.ready_tasks_of(session, case.instance.id) if r.spec_id == "approve_filing_agency"]
    run = CaseRun.load(session, case.instance)
    task = run.ready_task(row.task_id)
    task.data.update(filing_decision="approve", filing_decision_comment="同意立案。", last_actor="director")
    task.run()
    run.log("director", "task.complete", row.task_id, task=row.spec_id, name=row.name,
            data={"filing_decision": "approve", "filing_decision_comment": "同意立案。"})
    case.instance.status, case.instance.error_task = "error", "open_case"
    case.instance.error_message = "OperationalError: database is locked（写入立案日期时数据库忙，登记立案未完成）"
    run.log("system", "engine.error", task="open_case", message=case.instance.error_message)
    run.save("director", completed=row.task_id)


def create_demo_report(session: Session, settings: Settings) -> None:
    """The demo year's annual statistics report, drafted by the office, reviewed and approved, so
    the portal has one to show (nothing when an approval already exists or the models lack it)."""
    from workflows.core import contract
    from workflows.domain import annual_report

    version = specs.current_version(session)
    if version is None or contract.REPORT_PROCESS not in specs.process_names(session, version) or \
            session.scalar(select(func.count()).select_from(Instance).where(
                Instance.process_id == contract.REPORT_PROCESS)):
        return
    year = today().year
    started = annual_report.start_approval(session, settings, get_user(session, "office"), year)
    for spec_id, username, data in (
            ("draft_annual_report", "office", {"report_checked": True, "report_summary":
                f"{year}年，本局依法开展社会组织、养老服务、殡葬和地名管理领域行政执法，作出行政处罚决定、"
                "办理法制审核和事后公开的情况见下列各表。\n本报告统计数据由行政执法案件系统根据案件数据生成，"
                "统计截至公开之日。"}),
            ("review_annual_report", "reviewer", {"annual_review_result": "pass",
                                                  "annual_review_opinion": "统计口径准确，未含个人信息。"}),
            ("approve_annual_report", "director", {"annual_approval": "approve", "annual_approval_opinion": "同意公开。"})):
        [row] = [r for r in cases.ready_tasks_of(session, started.instance.id) if r.spec_id == spec_id]
        tasks.complete_or_raise(session, get_user(session, username), row.task_id, data)


def _disclosure_cases(session: Session, settings: Settings, warning: dict[str, Any]) -> None:
    """Decisions on the portal (事后公开): a natural person's, published on time four days after the
    decision and redacted (surname + 某, no ID number, phone or address); one whose decision was
    revoked on administrative review and was withdrawn; one corrected (a wrong document number)."""
    from workflows.domain import disclosure, disclosure_register

    now = clock.now()

    def published(case: _Case, facts: str, text: str, decided_days_ago: int, published_days_ago: int,
                  second: str = "officer2") -> _Case:
        with clock.frozen(now - timedelta(days=decided_days_ago)):
            case.filed(facts, second=second).approved().investigated(facts, **warning).notified(**warning).rechecked(**warning) \
                .decided(text)
        with clock.frozen(now - timedelta(days=published_days_ago)):
            case.do("publish_decision", case.filer, disclosure_facts=f"当事人{case.party['party_name']}{facts}",
                    disclosure_basis=case.basis, disclosure_decision_text=text, publish=True) \
                .do("archive_case", case.filer, closure_reason="executed", closure_summary="警告已送达，案件办结。",
                    archive_no=f"新民档〔{today().year}〕{case.instance.id}号") \
                .do("approve_closure", case.head, closure_decision="approve", closure_comment="同意结案。")
        return case

    def changed(case: _Case, days_ago: int, approver: str, **request: Any) -> None:
        with clock.frozen(now - timedelta(days=days_ago)):
            [record] = disclosure.of_case(session, case.instance.id)
            started = disclosure_register.request_change(session, settings, get_user(session, case.head), record.id)
            for spec_id, username, data in (("request_change", case.head, request),
                                            ("approve_change", approver, {"approval_result": "approve",
                                                                          "approval_opinion": "同意。"})):
                [row] = [r for r in cases.ready_tasks_of(session, started.instance.id) if r.spec_id == spec_id]
                tasks.complete_or_raise(session, get_user(session, username), row.task_id, data)

    person = {"party_type": "natural_person", "party_name": "刘建国", "party_id_number": "650102198503150015",
              "party_phone": "13899887766", "party_address": "新市区红山路88号2栋3单元"}
    published(_Case(session, settings, "MZ-CF-0022", person),
              "在其经营的店铺内销售纸扎别墅等封建迷信殡葬用品。", "责令改正，给予警告，没收封建迷信殡葬用品。", 12, 8)

    revoked = published(_Case(session, settings, "MZ-CF-0011",
                              _organisation("新市区晨光养老服务中心", "52650100MJ000000CF", "新市区西虹东路21号"),
                              filer="officer4", head="head2"),
                        "未与入住老人签订服务协议。", "给予警告。", 20, 18, second="officer5")
    changed(revoked, 6, "director", change_kind="withdraw", change_ground="review_revoked",
            ground_date=today() - timedelta(days=7),
            change_reason="新市区人民政府行政复议决定（新政复决〔2026〕12号）认定事实不清，撤销原行政处罚决定。")

    corrected = published(_Case(session, settings, "MZ-CF-0002",
                                _organisation("新市区雪莲文化艺术交流协会", "51650100MJ000000DM", "新市区光明路45号")),
                          "超出章程规定的业务范围开展营利性演出活动。", "给予警告。", 30, 27)
    changed(corrected, 25, "director", change_kind="correct", change_ground="content_error",
            ground_date=today() - timedelta(days=25), change_reason="原公开的决定书文号有误，予以更正。",
            corrected_doc_no=f"新民罚决〔{today().year}〕{corrected.instance.id}-1号")
