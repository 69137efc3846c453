"""Pre-disclosure (事前公开) of an enforcement matter: drafted by the unit, checked by the legal
reviewer, approved by the government office, published, and reviewed every year."""
from __future__ import annotations

import json
from datetime import date

import pytest

from workflows.core.errors import CredentialRequired, FormInvalid
from workflows.core.models import Matter
from workflows.domain import credentials, lookups

from .conftest import end_of, shanghai

MATTER = {
    "matter_code": "MZ-CF-0011", "matter_name": "养老机构未与老年人或其代理人签订服务协议", "matter_category": "penalty",
    "matter_field": "养老服务", "matter_status": "active", "enforcement_subject": "新市区民政局", "duties": "对养老机构服务协议签订情况进行监督检查。",
    "powers": "责令改正，给予警告；情节严重的，处以3万元以下罚款。",
    "legal_basis": "《养老机构管理办法》（民政部令第66号）第四十六条", "penalty_types": "警告；罚款",
    "discretion": "未签订服务协议的，责令改正，给予警告；拒不改正的，处1万元以上3万元以下罚款。", "procedure": "立案、调查取证、告知、决定、送达、执行。",
    "remedy_channels": "行政复议：新市区人民政府；行政诉讼：新市区人民法院。", "receiving_body": "养老服务科",
    "approving_body": "新市区民政局", "guide_time_limit": "自立案之日起九十日内作出决定",
    "guide_office_hours": "工作日 9:30–13:30，15:30–19:30",
    "guide_address": "新市区北京南路100号", "guide_phone": "0991-1234567", "random_inspection": True,
}
APPROVED = ["legal_check_matter", "gw_legal_check", "approve_matter", "gw_office", "write_disclosure",
            "gw_matter_status"]


def drafted(bureau, **changes):
    case = bureau.start("pre_disclosure", who="sun")
    case.do("draft_matter", "sun", **(MATTER | changes))
    return case


def check_and_approve(case, legal="pass", office="approve"):
    case.do("legal_check_matter", "zhou", legal_check_result=legal, legal_check_opinion="依据准确。")
    if legal == "pass":
        case.do("approve_matter", "zheng", office_result=office, office_opinion="同意公示。")


def test_matter_is_published_after_legal_check_and_office_approval(bureau):
    case = drafted(bureau)
    assert case.instance.case_no == "新民公〔2026〕0001号"  # numbered apart from penalty cases
    check_and_approve(case)
    assert case.tasks == [] and case.instance.status == "running"  # waits for the annual review
    assert case.path == ["start_matter", "draft_matter"] + APPROVED
    [record] = case.disclosures
    content = json.loads(record.content)
    assert (record.kind, record.publish, record.title, record.published_on) == (
        "matter", True, MATTER["matter_name"], date(2026, 11, 2))
    assert content["guide_phone"] == "0991-1234567" and content["enforcing_body"] == "新市区民政局"
    assert case.done_by == [("draft_matter", "sun"), ("legal_check_matter", "zhou"), ("approve_matter", "zheng")]
    assert case.actions[-2:] == ["disclosure.write", "catalogue.publish"]


def test_rejected_drafts_go_back_to_the_unit(bureau):
    case = drafted(bureau)
    check_and_approve(case, legal="return")
    assert case.ready == ["draft_matter"]
    case.do("draft_matter", "sun", **(MATTER | {"legal_basis": "《养老机构管理办法》第四十六条", "change_note": "补正依据"}))
    check_and_approve(case, office="return")
    assert case.ready == ["draft_matter"] and case.disclosures == []
    assert case.path == ["start_matter", "draft_matter", "legal_check_matter", "gw_legal_check", "draft_matter"] + \
        APPROVED[:4]
    assert case.task("draft_matter").role_id == "officer"


def test_published_matter_comes_up_for_review_a_year_later(bureau):
    case = drafted(bureau)
    check_and_approve(case)
    assert case.instance.next_timer_at == end_of(date(2027, 11, 2))
    assert bureau.at(shanghai(2027, 11, 2, 18)) == 0
    assert bureau.at(shanghai(2027, 11, 3, 9)) == 1
    assert case.ready == ["draft_matter"] and case.fired == ["annual_review"]
    with pytest.raises(CredentialRequired):  # the drafter's credential lapsed on 2 November
        case.do("draft_matter", "sun", **MATTER)
    credentials.issue(bureau.db, "system", "sun", "JZ7001", "新市区", date(2027, 10, 20), date(2029, 10, 19))
    case.do("draft_matter", "sun", **(MATTER | {"guide_phone": "0991-7654321", "change_note": "办公电话变更"}))
    check_and_approve(case)

    assert [json.loads(d.content)["guide_phone"] for d in case.disclosures] == ["0991-1234567", "0991-7654321"]
    assert case.path == ["start_matter", "draft_matter"] + APPROVED + ["annual_review", "draft_matter"] + APPROVED


def test_abolished_matter_is_published_as_abolished_and_ends(bureau):
    case = drafted(bureau, matter_status="abolished", change_note="上位法修改，事项取消。")
    check_and_approve(case)
    assert case.instance.status == "completed"
    assert case.path[-2:] == ["gw_matter_status", "end_abolished"]
    assert json.loads(case.disclosures[0].content)["matter_status"] == "abolished"


# --- one catalogue: what pre_disclosure publishes is what officers file against -----------------

def test_publishing_a_matter_makes_it_fileable(bureau):
    case = bureau.start(matter_code="MZ-CF-0011", party_name="新市区康乐老年公寓")
    with pytest.raises(FormInvalid) as invalid:  # not in the catalogue yet
        case.file(matter_code="MZ-CF-0011")
    assert invalid.value.errors == {"matter_code": ["执法事项：执法事项目录中没有该事项"]}

    published = drafted(bureau)
    check_and_approve(published)
    matter = bureau.db.get(Matter, "MZ-CF-0011")
    assert (matter.active, matter.revision, matter.field, matter.penalty, matter.discretion) == (
        True, 1, "养老服务", "警告；罚款", MATTER["discretion"])
    assert (matter.approved_by, matter.approved_role, matter.source_case_id) == ("zheng", "office", published.instance.id)
    assert matter.approved_at == shanghai(2026, 11, 2, 12)
    assert matter.random_inspection is True and matter.guide_phone == "0991-1234567"
    assert "MZ-CF-0011" in [m.code for m in lookups.active_matters(bureau.db)]

    case.file(matter_code="MZ-CF-0011")
    assert case.instance.matter_code == "MZ-CF-0011" and case.ready == ["confirm_participation"]


def test_abolishing_a_matter_stops_new_filings_but_running_cases_keep_it(bureau):
    check_and_approve(drafted(bureau))
    running = bureau.start(matter_code="MZ-CF-0011").file(matter_code="MZ-CF-0011")

    abolish = drafted(bureau, matter_status="abolished", change_note="上位法修改，事项取消。")
    assert bureau.db.get(Matter, "MZ-CF-0011").active  # a draft changes nothing
    check_and_approve(abolish)
    matter = bureau.db.get(Matter, "MZ-CF-0011")
    assert (matter.active, matter.revision, matter.source_case_id) == (False, 2, abolish.instance.id)
    assert matter.abolished_at is not None
    assert "MZ-CF-0011" not in [m.code for m in lookups.active_matters(bureau.db)]

    with pytest.raises(FormInvalid):
        bureau.start(matter_code="MZ-CF-0011").file(matter_code="MZ-CF-0011")
    running.approve_filing()  # the running case carries on with its matter
    assert running.instance.matter_code == "MZ-CF-0011" and "onsite_inspection" in running.ready

    check_and_approve(drafted(bureau, change_note="恢复公示。"))  # published again: in force again
    matter = bureau.db.get(Matter, "MZ-CF-0011")
    assert (matter.active, matter.abolished_at, matter.revision) == (True, None, 3)


def test_a_returned_draft_leaves_the_catalogue_as_it_was(bureau):
    check_and_approve(drafted(bureau))
    case = drafted(bureau, matter_name="改名后的事项", guide_phone="0991-0000000")
    check_and_approve(case, office="return")
    matter = bureau.db.get(Matter, "MZ-CF-0011")
    assert (matter.name, matter.guide_phone, matter.revision) == (MATTER["matter_name"], "0991-1234567", 1)


def test_the_existing_catalogue_entry_is_updated_in_place(bureau):
    before = bureau.db.get(Matter, "MZ-CF-0001")
    assert before.approved_at is None and before.revision == 0  # from the earlier catalogue
    check_and_approve(drafted(bureau, matter_code="MZ-CF-0001", matter_name="社会组织涂改、出租、出借登记证书或印章",
                              matter_field="社会组织"))
    after = bureau.db.get(Matter, "MZ-CF-0001")
    assert (after.name, after.revision, after.approved_role, after.active) == (
        "社会组织涂改、出租、出借登记证书或印章", 1, "office", True)
