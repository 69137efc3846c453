"""Filing (立案): limitation period, two-level approval, officers, recusal and credentials."""
from __future__ import annotations

from datetime import date

import pytest

from workflows.domain import tasks
from workflows.core.errors import CredentialRequired, FormInvalid, NotAllowed
from workflows.core.models import Matter
from workflows.domain import credentials
from workflows.domain.people import add_user

from .conftest import FILED, shanghai


def test_violation_older_than_two_years_is_not_filed(bureau):
    # two years end on Friday 30 October 2026; filing is on Monday 2 November (2024-11-01 would end on
    # Sunday 1 November 2026, moved to that Monday by 民法典 Art. 203)
    case = bureau.start().file(violation_date=date(2024, 10, 30))
    assert case.instance.status == "completed" and case.tasks == []
    assert case.path == ["start_case", "start_filing", "file_case", "init_case", "gw_limitation", "record_not_filed",
                         "end_not_filed", "filing", "gw_filed", "end_case_not_filed"]
    data = case.data
    assert (data["limitation_ok"], data["limitation_expires"], data["case_status"], data["closure_reason"]) == (
        False, date(2026, 10, 30), "not_filed", "time_barred")
    assert case.done_by == [("file_case", "zhang")]


def test_the_limitation_looks_at_when_the_violation_was_discovered(bureau):
    """APL Art. 36 bars a violation not discovered within two years: one discovered in time and filed
    later is still filed; a discovery before the violation is refused on the form."""
    case = bureau.start()
    with pytest.raises(FormInvalid, match="discovery_date: 发现违法行为的日期不能早于违法行为发生日期"):
        case.file(violation_date=date(2024, 10, 30), discovery_date=date(2024, 10, 1))
    case.file(violation_date=date(2024, 10, 30), discovery_date=date(2026, 10, 20))
    assert (case.data["limitation_expires"], case.data["limitation_ok"]) == (date(2026, 10, 30), True)
    assert case.ready == ["confirm_participation"]


def test_five_year_limitation_where_life_or_health_was_harmed(bureau):
    case = bureau.start().file(violation_date=date(2023, 3, 1), serious_harm=True)
    assert (case.data["limitation_expires"], case.data["limitation_ok"]) == (date(2028, 3, 1), True)
    assert case.ready == ["confirm_participation"] and case.task("confirm_participation").assignee == "li"
    assert case.path == FILED[:5] and case.done_by == [("file_case", "zhang")]


def test_agency_head_refuses_to_file(bureau):
    case = bureau.start().file()
    case.do("confirm_participation", "li", second_participation="confirm", second_recusal="none")
    case.do("approve_filing_unit", "wang", unit_filing_opinion="approve", unit_filing_comment="拟同意。")
    case.do("approve_filing_agency", "wu", filing_decision="refuse", filing_decision_comment="不属于本机关管辖。")
    assert case.instance.status == "completed"
    assert case.path == FILED[:12] + ["record_not_filed", "end_not_filed", "filing", "gw_filed", "end_case_not_filed"]
    assert (case.data["case_status"], case.data["closure_reason"]) == ("not_filed", "not_filed")
    assert case.done_by[-2:] == [("approve_filing_unit", "wang"), ("approve_filing_agency", "wu")]


def test_returned_filing_is_corrected_and_approved(bureau):
    case = bureau.start(matter_code="MZ-CF-0001", party_name="某协会").file()
    case.do("confirm_participation", "li", second_participation="confirm", second_recusal="none")
    case.do("approve_filing_unit", "wang", unit_filing_opinion="return", unit_filing_comment="案情摘要不清楚。")
    assert case.ready == ["file_case"]
    case.file(violation_summary="2026年10月13日起将登记证书出借给某公司开展培训活动。")
    case.approve_filing()
    assert case.ready == ["onsite_inspection"]
    first, second = FILED[:10], FILED[2:]
    assert case.path == first + second
    assert [task for task, _ in case.done_by] == [
        "file_case", "confirm_participation", "approve_filing_unit", "file_case", "confirm_participation",
        "approve_filing_unit", "approve_filing_agency"]


def test_the_matter_chosen_at_filing_is_the_cases_matter(bureau):
    case = bureau.start(matter_code="MZ-CF-0001", party_name="某协会")
    assert case.instance.matter_code == "MZ-CF-0001"
    with pytest.raises(FormInvalid) as invalid:
        case.file(matter_code="MZ-CF-9999")
    assert invalid.value.errors == {"matter_code": ["执法事项：执法事项目录中没有该事项"]}
    bureau.db.add(Matter(code="MZ-CF-0002", name="社会团体超出章程规定的宗旨和业务范围进行活动", field="社会组织",
                         legal_basis="《社会团体登记管理条例》第三十条", penalty="警告"))
    case.file(matter_code="MZ-CF-0002")
    assert (case.instance.matter_code, case.instance.party_name) == ("MZ-CF-0002", "新市区夕阳红养老服务协会")


def test_lead_officer_with_a_conflict_is_replaced_by_the_agency_head(bureau):
    case = bureau.start().file(lead_recusal="conflict")
    case.do("confirm_participation", "li", second_participation="confirm", second_recusal="none")
    assert case.ready == ["recusal_decision"]
    case.do("recusal_decision", "wu", recusal_decision_note="张三系当事人负责人近亲属，决定回避。",
            lead_officer="li", second_officer="chen", lead_recusal="none")
    assert case.task("confirm_participation").assignee == "chen"
    case.do("confirm_participation", "chen", second_participation="confirm", second_recusal="none")
    case.do("approve_filing_unit", "wang", unit_filing_opinion="approve", unit_filing_comment="同意。")
    case.do("approve_filing_agency", "wu", filing_decision="approve", filing_decision_comment="同意立案。")

    assert case.data["officers"] == ["li", "chen"]
    assert case.task("onsite_inspection").assignee == "li"
    assert case.path == FILED[:8] + ["recusal_decision", "confirm_participation", "build_officers",
                                     "gw_officers"] + FILED[8:]
    with pytest.raises(NotAllowed):  # the task belongs to li now, not to zhang
        tasks.complete_or_raise(bureau.db, bureau.user("zhang"), case.task("onsite_inspection").task_id, {})


def test_second_officer_who_declines_is_replaced(bureau):
    case = bureau.start().file()
    case.do("confirm_participation", "li", second_participation="decline", second_recusal="none",
            second_note="已抽调参加专项检查。")
    assert case.data["officers_ok"] is False and case.ready == ["recusal_decision"]
    case.do("recusal_decision", "wu", recusal_decision_note="改派陈一。", lead_officer="zhang",
            second_officer="chen", lead_recusal="none")
    case.do("confirm_participation", "chen", second_participation="confirm", second_recusal="none")
    assert case.ready == ["approve_filing_unit"] and case.data["officers"] == ["zhang", "chen"]
    assert case.path == FILED[:8] + ["recusal_decision", "confirm_participation", "build_officers", "gw_officers"]
    assert case.done_by == [("file_case", "zhang"), ("confirm_participation", "li"), ("recusal_decision", "wu"),
                            ("confirm_participation", "chen")]


def test_officer_without_a_valid_credential_is_refused(bureau):
    case = bureau.start()
    row = case.task("file_case")
    assert row.assignee == "zhang"  # the filing is the filer's
    tasks.release(bureau.db, bureau.user("zhang"), row.task_id)  # offered to the unit's officers
    with pytest.raises(CredentialRequired, match="没有当日有效的行政执法证件"):
        tasks.complete_or_raise(bureau.db, bureau.user("zhao"), row.task_id, {})
    with pytest.raises(CredentialRequired):
        tasks.claim(bureau.db, bureau.user("zhao"), row.task_id)
    with pytest.raises(NotAllowed):
        case.file(who="sun")  # an officer of another unit
    with pytest.raises(FormInvalid) as invalid:
        case.file(second_officer="zhao")
    assert invalid.value.errors == {"second_officer": ["第二名执法人员：赵六没有当日有效的行政执法证件"]}
    with pytest.raises(FormInvalid) as invalid:
        case.file(second_officer="wang")
    assert invalid.value.errors == {"second_officer": ["第二名执法人员：王五不具有执法人员角色"]}
    assert case.ready == ["file_case"] and case.path == ["start_case", "start_filing"]
    assert "task.complete" not in case.actions


def test_credential_lapsing_mid_case_stops_its_holder_and_the_unit_head_hands_over(bureau):
    add_user(bureau.db, "system", "wei", "魏六", "social", "secret-pass", ["officer"])
    credentials.issue(bureau.db, "system", "wei", "JZ8001", "新市区", date(2024, 11, 6), date(2026, 11, 5))
    case = bureau.start(who="wei").file(who="wei").approve_filing()
    assert case.task("onsite_inspection").assignee == "wei"

    bureau.clock.set(shanghai(2026, 11, 6))
    with pytest.raises(CredentialRequired):
        case.inspect()
    with pytest.raises(CredentialRequired):
        tasks.reassign(bureau.db, bureau.user("wang"), case.task("onsite_inspection").task_id, "zhao")
    tasks.reassign(bureau.db, bureau.user("wang"), case.task("onsite_inspection").task_id, "li")
    case.do("onsite_inspection", "li", inspection_date=date(2026, 11, 6), inspection_officers_present=True,
            inspection_credential_shown=True, inspection_rights_informed=True, inspection_doc_no="新民检〔2026〕2号",
            inspection_findings="现场检查。")
    assert case.ready == ["collect_evidence"]
    assert [a for a in case.actions if a.startswith("task.")][-2:] == ["task.reassign", "task.complete"]
    assert case.done_by[-1] == ("onsite_inspection", "li")


def test_unit_scoped_lanes_keep_other_units_out(bureau):
    case = bureau.start().file()
    case.do("confirm_participation", "li", second_participation="confirm", second_recusal="none")
    with pytest.raises(NotAllowed):
        case.do("approve_filing_unit", "qian", unit_filing_opinion="approve", unit_filing_comment="同意。")
    with pytest.raises(NotAllowed):
        case.do("approve_filing_unit", "zhang", unit_filing_opinion="approve", unit_filing_comment="同意。")
    case.do("approve_filing_unit", "wang", unit_filing_opinion="approve", unit_filing_comment="同意。")
    assert case.done_by[-1] == ("approve_filing_unit", "wang")


def test_the_filer_cannot_confirm_as_the_second_officer(bureau):
    case = bureau.start().file()
    confirm = case.task("confirm_participation")
    tasks.release(case.db, bureau.user("li"), confirm.task_id)  # the second officer puts it back in the pool
    with pytest.raises(NotAllowed, match="按照职责分离，张三已办理本案的“立案登记”，不能办理“确认参与调查”"):
        tasks.claim(case.db, bureau.user("zhang"), confirm.task_id)
    with pytest.raises(NotAllowed, match="按照职责分离"):
        tasks.complete_or_raise(case.db, bureau.user("zhang"), confirm.task_id,
                                {"second_participation": "confirm", "second_recusal": "none"})
    assert case.ready == ["confirm_participation"]
    tasks.claim(case.db, bureau.user("li"), confirm.task_id)
    case.do("confirm_participation", "li", second_participation="confirm", second_recusal="none")
    assert case.ready == ["approve_filing_unit"]
