"""Disclosure records are redacted when written; unpublished cases keep only the reason."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from tests.conftest import bpmn
from workflows.domain import cases, disclosure
from workflows.design import deployment
from workflows.domain.people import get_user


@pytest.mark.parametrize("name, kind, shown", [
    ("张三", "natural_person", "张某"), ("欧阳娜娜", "natural_person", "欧阳某"), ("王", "natural_person", "王某"),
    ("新市区某某养老服务中心", "organisation", "新市区某某养老服务中心"),
])
def test_names(name, kind, shown):
    assert disclosure.redact_name(name, kind) == shown


@pytest.mark.parametrize("text, leaked", [
    ("身份证号110105199003071234，", "110105199003071234"),
    ("身份证 11010519900307123X 号", "11010519900307123X"),
    ("联系电话13912345678", "13912345678"),
    ("电话 +86 139-1234-5678", "1234-5678"),
    ("座机010-62345678", "62345678"),
    ("账户 6222 0212 3456 7890 123", "7890"),
    ("银行卡6222021234567890123", "6222021234567890123"),
])
def test_personal_numbers_never_reach_the_text(text, leaked):
    redacted = disclosure.redact_text(text)
    assert leaked not in redacted and disclosure.MASK in redacted


def test_ordinary_numbers_survive():
    text = "罚款人民币5000元，依据第四十六条，2026年10月15日作出决定，文号新民罚〔2026〕0001号"
    assert disclosure.redact_text(text) == text


def test_write_builds_a_redacted_record_and_audits_it(db, settings):
    deployment.deploy(db, {"approval.bpmn": bpmn("approval.bpmn")}, "designer")
    instance = cases.start(db, settings, get_user(db, "zhang"), "approval", {"party_name": "李某某"}).instance
    data = {"party_name": "李小明", "party_type": "natural_person", "party_id_number": "110105199003071234",
            "party_phone": "13912345678", "party_address": "新市区幸福路8号3单元", "matter_code": "MZ-CF-0001",
            "disclosure_facts": "当事人李小明（电话13912345678，住新市区幸福路8号3单元）出借登记证书", "disclosure_basis": "第三十条",
            "disclosure_decision_text": "警告", "penalty_type": "warning", "fine_amount": Decimal("2000"),
            "decision_date": date(2026, 10, 15), "publish": True, "agency_name": "新市区民政局"}
    record = disclosure.write(db, instance, "enforcement_case", data)
    content = json.loads(record.content)
    stored = record.content + (record.title or "")
    for secret in ("李小明", "110105199003071234", "13912345678", "幸福路"):
        assert secret not in stored
    assert content["party"] == "李某" and content["fine_amount"] == "2000.00"
    assert content["facts"] == "当事人李某（电话＊＊，住＊＊）出借登记证书"
    assert content["matter"].startswith("MZ-CF-0001 ") and content["enforcing_body"] == "新市区民政局"
    assert record.publish and record.published_on == date(2026, 11, 2)


def test_cases_with_minors_are_recorded_as_not_published(db, settings):
    deployment.deploy(db, {"approval.bpmn": bpmn("approval.bpmn")}, "designer")
    instance = cases.start(db, settings, get_user(db, "zhang"), "approval", {"party_name": "某"}).instance
    record = disclosure.write(db, instance, "enforcement_case",
                              {"party_name": "王小", "party_type": "natural_person", "publish": False,
                               "not_published_reason": "minors", "not_published_note": "当事人未满十八周岁"})
    assert (record.publish, record.not_published_reason, record.content) == (False, "minors", "{}")
    assert record.published_on is None
