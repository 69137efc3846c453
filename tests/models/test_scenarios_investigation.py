"""Investigation (调查取证): recorded in-process disclosure and AV, evidence preservation within 7
working days, the party's recusal request, and transfer to judicial organs."""
from __future__ import annotations

import io
from datetime import date

import pytest

from tests.webapp.support import tiny_png
from workflows.domain import records, tasks
from workflows.domain.evidence_store import EvidenceTypeNotAllowed
from workflows.core.errors import FormInvalid

from .conftest import CLOSED, FILED, TO_NOTICE, end_of, shanghai

PRESERVE = ["collect_evidence", "gw_evidence", "approve_preservation", "gw_preservation_approval",
            "register_preservation"]
REPORTED = ["collect_evidence", "gw_evidence", "investigation_report", "review_report", "gw_review_outcome"]


def opened(bureau):
    return bureau.start().file().approve_filing().inspect()


def test_evidence_collection_needs_av_and_the_in_process_notice(bureau):
    case = opened(bureau)
    with pytest.raises(FormInvalid) as invalid:
        case.submit("collect_evidence", "zhang", {"evidence_credential_shown": False, "evidence_summary": "询问。"})
    assert invalid.value.errors == {
        "evidence_credential_shown": ["请确认调查取证时已出示行政执法证件"],
        "evidence_rights_informed": ["请确认已告知执法事由和权利义务"],
        "evidence_doc_no": ["请填写出具的执法文书编号"], "evidence_av": ["请上传调查取证音像记录"]}
    case.collect()
    assert case.path == FILED + ["onsite_inspection", "collect_evidence", "gw_evidence"]
    data = case.data
    assert data["evidence_credential_shown"] is data["evidence_rights_informed"] is True
    assert data["evidence_doc_no"] == "新民询〔2026〕1号" and len(data["evidence_av"]) == 1
    linked = {(link.task_id is not None, link.field_id) for link in records.evidence_of(bureau.db, case.instance.id)}
    assert {(True, "inspection_record"), (True, "inspection_av"), (True, "evidence_av")} <= linked
    assert case.actions.count("evidence.store") == 3


def preserve(case):
    case.collect(preservation_needed=True)
    case.do("approve_preservation", "wu", preservation_approved="approve",
            preservation_approval_comment="证据可能灭失，同意先行登记保存。")
    case.do("register_preservation", "zhang", preservation_date=date(2026, 11, 2), preservation_credential_shown=True,
            preservation_rights_informed=True, preservation_doc_no="新民保〔2026〕1号",
            preservation_items="出借协议原件2份、收款收据1本。")
    return case


def test_preserved_evidence_is_decided_within_seven_working_days(bureau):
    case = preserve(opened(bureau))
    decide = case.task("decide_preservation")
    assert decide.due_at == end_of(date(2026, 11, 11))  # 3–6, 9–11 Nov
    assert bureau.at(shanghai(2026, 11, 11, 17)) == 0
    case.do("decide_preservation", "zhang", preservation_outcome="record_copy",
            preservation_decision_doc_no="新民保决〔2026〕1号")
    case.collect().report()

    assert case.path == FILED + ["onsite_inspection"] + PRESERVE + ["decide_preservation"] + REPORTED + TO_NOTICE
    assert case.data["preservation_outcome"] == "record_copy" and "preservation_lapsed" not in case.data
    assert case.fired == [] and case.ready == ["prior_notice"]
    assert [t for t, _ in case.done_by].count("collect_evidence") == 2


def test_preservation_lapses_when_no_decision_is_made_in_time(bureau):
    case = preserve(opened(bureau))
    assert bureau.at(shanghai(2026, 11, 12, 0, 0, 1)) == 1
    assert case.ready == ["return_preserved_items"]
    assert (case.data["preservation_outcome"], case.data["preservation_lapsed"]) == ("lapsed", True)
    case.do("return_preserved_items", "zhang", return_date=date(2026, 11, 12))
    assert case.ready == ["collect_evidence"]
    assert case.path == FILED + ["onsite_inspection"] + PRESERVE + [
        "preservation_timer", "mark_preservation_lapsed", "return_preserved_items"]
    assert case.fired == ["preservation_timer"]
    assert case.done_by[-2:] == [("register_preservation", "zhang"), ("return_preserved_items", "zhang")]


def test_refused_preservation_returns_to_evidence_collection(bureau):
    case = opened(bureau).collect(preservation_needed=True)
    case.do("approve_preservation", "wu", preservation_approved="reject", preservation_approval_comment="无需保存。")
    assert case.ready == ["collect_evidence"]
    assert case.path == FILED + ["onsite_inspection"] + PRESERVE[:-1]
    assert case.data["preservation_approved"] == "reject" and case.done_by[-1] == ("approve_preservation", "wu")


def test_party_recusal_request_is_decided_by_the_agency_head(bureau):
    case = opened(bureau).collect(party_recusal_request=True, party_recusal_reason="执法人员李四与本会存在经济纠纷。")
    assert case.ready == ["party_recusal_decision"]
    case.do("party_recusal_decision", "wu", party_recusal_granted=True, party_recusal_decision_note="理由成立，李四回避。",
            lead_officer="zhang", second_officer="zhang")
    assert case.ready == ["party_recusal_decision"]  # the same person twice is not two officers
    case.do("party_recusal_decision", "wu", party_recusal_granted=True, party_recusal_decision_note="理由成立，李四回避。",
            lead_officer="zhang", second_officer="chen")
    assert case.data["officers"] == ["zhang", "chen"] and case.data["party_recusal_request"] is False
    assert case.task("collect_evidence").assignee == "zhang"
    assert case.path == FILED + ["onsite_inspection", "collect_evidence", "gw_evidence"] + [
        "party_recusal_decision", "rebuild_officers", "gw_rebuilt"] * 2
    assert case.done_by[-2:] == [("party_recusal_decision", "wu")] * 2


def test_unit_head_sends_the_report_back_for_more_evidence(bureau):
    case = opened(bureau).collect().report("penalise", review="supplement")
    assert case.ready == ["collect_evidence"] and case.data["review_outcome"] == "supplement"
    assert case.path == FILED + ["onsite_inspection"] + REPORTED
    assert case.done_by[-1] == ("review_report", "wang")


def test_suspected_crime_is_transferred_to_judicial_organs(bureau):
    case = opened(bureau).collect()
    case.report("transfer", penalty_type=None, facts_found="出借证书收取费用数额巨大，涉嫌犯罪。")
    case.do("approve_transfer", "wu", transfer_decision="approve", transfer_comment="涉嫌犯罪，同意移送公安机关。")
    case.do("transfer_case", "zhang", transfer_organ="新市区公安分局", transfer_date=date(2026, 11, 2),
            transfer_doc_no="新民移〔2026〕1号")
    assert case.ready == ["archive_case"]
    case.close("transferred")

    assert case.instance.status == "completed"
    assert case.path == FILED + ["onsite_inspection"] + REPORTED + [
        "approve_transfer", "gw_transfer", "transfer_case", "record_transfer", "end_transferred", "investigation",
        "gw_investigated"] + CLOSED
    data = case.data
    assert (data["decision_kind"], data["suggested_closure_reason"], data["closure_reason"]) == (
        "transfer", "transferred", "transferred")
    assert data["transfer_organ"] == "新市区公安分局" and case.disclosures == []
    assert case.done_by[-5:] == [("review_report", "wang"), ("approve_transfer", "wu"), ("transfer_case", "zhang"),
                                 ("archive_case", "zhang"), ("approve_closure", "wang")]


def test_an_audio_visual_record_is_sound_or_video_whatever_its_name(bureau):
    """音像记录 fields take what a body camera writes (MP4 of any brand, AVI, MOV) and refuse a photo or
    a document, at upload and on the form (a text already stored for the case cannot be cited)."""
    case = opened(bureau)
    row = case.task("collect_evidence")
    zhang = bureau.user("zhang")
    with pytest.raises(EvidenceTypeNotAllowed) as refused:
        tasks.upload(bureau.db, bureau.store, zhang, row.task_id, "evidence_av", io.BytesIO(tiny_png()), "录像.mp4")
    assert refused.value.mime == "image/png"
    camera = b"\x00\x00\x00\x18ftypavc1\x00\x00\x00\x00avc1isom" + bytes(64)
    avi = b"RIFF\x00\x00\x00\x00AVI LIST" + bytes(64)
    stored = [tasks.upload(bureau.db, bureau.store, zhang, row.task_id, "evidence_av", io.BytesIO(body), name)
              for body, name in ((camera, "执法记录仪.MP4"), (avi, "询问.avi"))]
    assert [s.mime for s in stored] == ["video/mp4", "video/avi"]
    text = records.store_evidence(bureau.db, bureau.store, io.BytesIO(b"not a recording"), "x.txt", "zhang",
                                  case.instance, row.task_id, "evidence_av")
    with pytest.raises(FormInvalid, match="evidence_av: 调查取证音像记录只能是音频或视频文件"):
        case.collect(evidence_av=[text.sha256])  # the label names the field


def test_the_head_reviews_the_report_with_it_beside_the_form(bureau):
    """The review task shows what it reviews (``shows``), labelled as the officer's form labelled it."""
    case = bureau.start().file().approve_filing().investigate()
    case.do("investigation_report", "zhang", facts_found="当事人出借登记证书。", evidence_list="现场检查笔录、询问笔录。",
            legal_basis="《社会团体登记管理条例》第三十条", proposed_outcome="penalise", penalty_type="fine",
            fine_amount="3000")
    sheet = tasks.sheet(bureau.db, bureau.user("wang"), case.task("review_report").task_id)
    shown = {item.field.id: (item.field.label, item.value) for item in sheet.shown}
    assert shown["facts_found"] == ("违法事实", "当事人出借登记证书。")
    assert shown["proposed_outcome"][1] == "给予行政处罚" and shown["penalty_type"][1] == "罚款"
    assert [e.filename for e in shown["report_file"][1]] == ["调查终结报告.bin"]
    assert "confiscation_amount" not in shown  # nothing entered, nothing shown
