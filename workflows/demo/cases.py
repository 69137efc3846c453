"""Demo cases for `sanxiang init --demo`: penalty cases driven through the engine to different
stages, so the inboxes and dashboards of the demo people have something in them."""
from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.domain import cases, records, tasks
from workflows.engine import specs
from workflows.domain.forms import fields_of
from workflows.core.models import Instance, Matter
from workflows.domain.people import get_user
from workflows.engine.runtime import today
from workflows.core.settings import Settings


class _Case:
    """One demo case, completed task by task as the demo people of each lane."""

    def __init__(self, session: Session, settings: Settings, matter_code: str, party: dict[str, Any]):
        self.session, self.store = session, records.evidence_store(settings)
        self.party, self.basis = party, session.get(Matter, matter_code).legal_basis
        self.instance = cases.start(session, settings, get_user(session, "officer1"), "enforcement_case",
                                         {"matter_code": matter_code, "party_name": party["party_name"]}).instance

    def do(self, spec_id: str, username: str, attach: tuple[str, ...] = (), **data: Any) -> "_Case":
        """Complete the ready task ``spec_id``, with a stored document for each required file field
        and for the fields named in ``attach``."""
        [row] = [r for r in cases.ready_tasks_of(self.session, self.instance.id) if r.spec_id == spec_id]
        model = specs.get(self.session, self.instance.model_version, self.instance.process_id)
        for field in fields_of(model.task_spec(row.process_id, row.spec_id)):
            if field.type == "file" and (field.required or field.id in attach) and field.id not in data:
                text = f"{self.instance.case_no}\n{field.label}（演示材料）\n".encode()
                stored = records.store_evidence(self.session, self.store, io.BytesIO(text), f"{field.label}.txt",
                                                username, self.instance, row.task_id, field.id)
                data[field.id] = [stored.sha256] if field.multiple else stored.sha256
        tasks.complete_or_raise(self.session, get_user(self.session, username), row.task_id, data)
        return self

    def filed(self, summary: str) -> "_Case":
        return self.do("file_case", "officer1", matter_code=self.instance.matter_code, case_source="inspection",
                       **self.party, violation_date=today() - timedelta(days=30), violation_summary=summary,
                       serious_harm=False, second_officer="officer2", lead_recusal="none") \
            .do("confirm_participation", "officer2", second_participation="confirm", second_recusal="none")

    def approved(self) -> "_Case":
        return self.do("approve_filing_unit", "head", unit_filing_opinion="approve", unit_filing_comment="符合立案条件。") \
            .do("approve_filing_agency", "director", filing_decision="approve", filing_decision_comment="同意立案。")

    def inspected(self, findings: str) -> "_Case":
        return self.do("onsite_inspection", "officer1", inspection_date=today(), inspection_officers_present=True,
                       inspection_credential_shown=True, inspection_rights_informed=True,
                       inspection_doc_no=f"新民检〔{today().year}〕{self.instance.id}号", inspection_findings=findings)

    def investigated(self, facts: str, **penalty: Any) -> "_Case":
        return self.inspected(facts) \
            .do("collect_evidence", "officer1", evidence_credential_shown=True, evidence_rights_informed=True,
                evidence_doc_no=f"新民询〔{today().year}〕{self.instance.id}号", evidence_summary="询问当事人负责人，调取相关材料。") \
            .do("investigation_report", "officer1", facts_found=facts, evidence_list="现场检查笔录、询问笔录、书证。",
                legal_basis=self.basis, proposed_outcome="penalise", **penalty) \
            .do("review_report", "head", review_outcome="penalise", review_opinion="事实清楚，同意拟处罚意见。")

    def notified(self, **penalty: Any) -> "_Case":
        return self.do("prior_notice", "officer1", notice_doc_no=f"新民告〔{today().year}〕{self.instance.id}号",
                       notice_date=today(), notice_method="on_the_spot", notice_content_confirmed=True, **penalty)

    def rechecked(self, **penalty: Any) -> "_Case":
        return self.do("record_statement", "officer1", statement_made="waived") \
            .do("recheck_penalty", "officer1", defence_adopted="none", recheck_reason="当事人放弃陈述申辩，维持拟处罚意见。",
                recheck_outcome="proceed", **penalty)

    def decided(self, text: str) -> "_Case":
        return self.do("decide_penalty", "director", decision_result="decide", decision_text=text,
                       decision_doc_no=f"新民罚决〔{today().year}〕{self.instance.id}号") \
            .do("serve_decision", "officer1", attach=("service_receipt",), service_method="on_the_spot",
                service_credential_shown=True, service_date=today())


def _organisation(name: str, code: str, address: str) -> dict[str, Any]:
    return {"party_type": "organisation", "party_name": name, "party_id_number": code, "party_address": address}


def create_demo_cases(session: Session, settings: Settings) -> None:
    """Start six penalty cases at different stages (nothing when the database already has cases)."""
    if session.scalar(select(func.count()).select_from(Instance)):
        return
    warning = {"penalty_type": "warning"}

    _Case(session, settings, "MZ-CF-0002", _organisation("新市区青年创业促进会", "51650100MJ0000001A", "新市区长春中路18号")) \
        .filed("超出章程规定的业务范围组织收费培训。")  # waits for the unit head's filing review

    _Case(session, settings, "MZ-CF-0003", _organisation("新市区明德职业培训学校", "52650100MJ0000002B", "新市区河北东路66号")) \
        .filed("拒不接受年度检查。").approved().inspected("现场检查时负责人拒绝提供财务账簿。")  # evidence collection next

    _Case(session, settings, "MZ-CF-0001", _organisation("新市区书画艺术研究会", "51650100MJ0000003C", "新市区苏州路9号")) \
        .filed("将登记证书出借给某公司使用。").approved().investigated("出借登记证书一次，未收取费用。", **warning) \
        .notified(**warning)  # the party's 5 working days to state and defend run

    major = {"penalty_type": "revoke_registration"}
    _Case(session, settings, "MZ-CF-0001", _organisation("新市区丝路文化交流协会", "51650100MJ0000004D", "新市区北京南路200号")) \
        .filed("多次出租登记证书和印章牟利。").approved().investigated("出租登记证书和印章三次，获利五万元。", **major) \
        .notified(**major).rechecked(**major) \
        .do("submit_review", "officer1", review_case_summary="当事人多次出租登记证书和印章牟利，拟撤销登记。",
            review_proposed_decision="撤销登记。", review_legal_basis="《社会团体登记管理条例》第三十条",
            review_discretion="情节严重，适用最重档次。") \
        .do("check_package", "reviewer", package_complete="complete")  # the legal reviewer's review is next

    confiscation = {"penalty_type": "confiscation", "confiscation_amount": "8000"}
    _Case(session, settings, "MZ-CF-0001", _organisation("新市区天山户外运动协会", "51650100MJ0000005E", "新市区喀什东路35号")) \
        .filed("出借登记证书并收取费用。").approved().investigated("出借登记证书，违法所得八千元。", **confiscation) \
        .notified(**confiscation).rechecked(**confiscation) \
        .decided("没收违法所得人民币八千元。")  # served; publication within 7 working days is due

    _Case(session, settings, "MZ-CF-0003", _organisation("新市区启航青少年服务中心", "52650100MJ0000006F", "新市区阿勒泰路12号")) \
        .filed("未按规定接受年度检查。").approved().investigated("逾期未参加年度检查，经催告后已补报。", **warning) \
        .notified(**warning).rechecked(**warning).decided("给予警告。") \
        .do("publish_decision", "officer1", disclosure_facts="当事人未按规定接受年度检查。",
            disclosure_basis="《民办非企业单位登记管理暂行条例》第二十五条", disclosure_decision_text="给予警告。", publish=True) \
        .do("archive_case", "officer1", closure_reason="executed", closure_summary="警告已送达，案件办结。",
            archive_no=f"新民档〔{today().year}〕1号") \
        .do("approve_closure", "head", closure_decision="approve", closure_comment="同意结案。")
