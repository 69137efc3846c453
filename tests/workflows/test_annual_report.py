"""The annual statistics report's figures, from case rows, inbox rows, disclosure records and people
written out by hand; its tables, CSV, stored form and PDF."""
from __future__ import annotations

import csv
import io
import re
import zlib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

from workflows.core import contract
from workflows.core.errors import FormInvalid, NotAllowed
from workflows.core.models import Disclosure, DisclosureEvent, HumanTask, Instance, ModelSet
from workflows.core.workdays import TZ
from workflows.design import deployment
from workflows.domain import annual_report, disclosure, people
from workflows.domain.annual_report_pdf import render_html, render_pdf
from workflows.domain.people import get_user

MODELS = Path(__file__).resolve().parents[2] / "bpmn"
_seq = iter(range(1, 1000))


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=TZ)


def case(db, kind=None, decided=None, penalty=None, fine=None, gains=None, review=None) -> Instance:
    n = next(_seq)
    instance = Instance(case_no=f"T-{n}", process_id="enforcement_case", model_version=db.scalar(select(ModelSet.version)),
                        unit_id=get_user(db, "zhang").unit_id, status="completed" if decided else "running",
                        state="{}", created_by="zhang", decision_kind=kind, decided_on=decided, penalty_type=penalty,
                        fine_amount=Decimal(fine) if fine else None,
                        confiscation_amount=Decimal(gains) if gains else None, review_result=review,
                        audit_seq=0, audit_head="0" * 64, lock_version=1)
    db.add(instance)
    db.flush()
    return instance


def task(db, instance: Instance, element: str, done: datetime | None, created: datetime | None = None) -> None:
    db.add(HumanTask(instance_id=instance.id, task_id=f"task-{next(_seq)}", spec_id=element, process_id="x",
                     name=element, lane="officer", role_id="officer", state="completed" if done else "ready",
                     created_at=created or done or at(2026, 1, 5), completed_at=done, completed_by="zhang" if done else None))
    db.flush()


def disclosed(db, instance: Instance, published_on: date | None, publish: bool = True) -> Disclosure:
    record = Disclosure(kind="decision", instance_id=instance.id, case_no=instance.case_no, title=instance.case_no,
                        content="{}", publish=publish, published_on=published_on if publish else None,
                        not_published_reason=None if publish else "minors")
    db.add(record)
    db.flush()
    return record


def changed(db, record: Disclosure, kind: str, ground: str, day: date) -> None:
    db.add(DisclosureEvent(disclosure_id=record.id, kind=kind, effective_on=day, actor="office", ground=ground))
    db.flush()


@pytest.fixture
def known(db):
    """A year of the bureau, written out by hand (today is Monday 2 November 2026)."""
    deployment.deploy(db, deployment.read_model_files([MODELS]), "designer")
    warned = case(db, "penalty", date(2026, 3, 10), "warning")
    fined = case(db, "penalty", date(2026, 5, 6), "fine", "20000", review="agree")
    fined_and_seized = case(db, "penalty", date(2026, 10, 30), "fine", "5000.50", "8000")
    seized = case(db, "penalty", date(2026, 6, 1), "confiscation", gains="1200", review="agree_after_coordination")
    case(db, "penalty", date(2025, 12, 30), "warning")  # last year's: not counted
    spared = case(db, "no_penalty", date(2026, 7, 1))
    transferred = case(db, "transfer")
    rejected = case(db, review="rejected")
    running = case(db)

    task(db, transferred, contract.TRANSFER_ELEMENT, at(2026, 8, 1))
    task(db, fined, contract.HEARING_ELEMENT, at(2026, 4, 1))
    task(db, running, contract.HEARING_ELEMENT, None)  # scheduled, not held
    task(db, warned, contract.HEARING_ELEMENT, at(2025, 12, 1))  # last year's
    task(db, fined, contract.DISCUSSION_ELEMENT, at(2026, 5, 1))
    task(db, fined, contract.REVIEW_ELEMENT, at(2026, 4, 20))
    task(db, seized, contract.REVIEW_ELEMENT, at(2026, 5, 10))
    task(db, seized, contract.REVIEW_RETURN_ELEMENT, None, created=at(2026, 5, 15))
    task(db, seized, contract.REVIEW_ELEMENT, at(2026, 5, 20))
    task(db, rejected, contract.REVIEW_ELEMENT, at(2026, 9, 1))
    task(db, running, contract.REVIEW_ELEMENT, at(2026, 10, 1))

    warned_record = disclosed(db, warned, date(2026, 3, 11))    # the day after: on time
    fined_record = disclosed(db, fined, date(2026, 6, 15))      # six weeks later: late
    disclosed(db, fined, date(2026, 5, 7))                      # a later record does not make it timely
    disclosed(db, spared, None, publish=False)                  # withheld by law
    # seized (1 June): nothing yet, past its 7 working days; fined_and_seized (30 October): still within them

    # 复议 and 诉讼 as the withdrawals and corrections of published decisions record them
    changed(db, fined_record, "requested", "review_revoked", date(2026, 9, 8))  # asked for: not an outcome yet
    changed(db, fined_record, "withdrawn", "review_revoked", date(2026, 9, 10))
    changed(db, warned_record, "corrected", "litigation_changed", date(2026, 10, 1))
    changed(db, warned_record, "corrected", "content_error", date(2026, 10, 2))  # not a remedy
    changed(db, warned_record, "corrected", "litigation_changed", date(2025, 12, 1))  # last year's

    people.add_user(db, "system", "gone", "离职者", "social", "secret-pass", ["officer"])
    people.deactivate_user(db, "system", "gone", "调离")
    db.flush()
    return {"fined_and_seized": fined_and_seized}


def test_figures_of_the_year(db, known):
    report = annual_report.build(db, 2026)
    assert (report.year, report.start, report.end, report.complete) == (2026, date(2026, 1, 1), date(2026, 11, 2), False)
    assert report.agency == "新市区民政局"
    p = report.penalties
    assert [(line.penalty_type, line.label, line.count, line.fines, line.confiscations) for line in p.lines] == [
        ("fine", "罚款", 2, Decimal("25000.50"), Decimal("8000.00")),
        ("confiscation", "没收违法所得、没收非法财物", 1, Decimal("0.00"), Decimal("1200.00")),
        ("warning", "警告、通报批评", 1, Decimal("0.00"), Decimal("0.00")),
    ]
    assert (p.count, p.fines, p.confiscations, p.with_confiscation) == (4, Decimal("25000.50"), Decimal("9200.00"), 2)
    assert (report.no_penalty, report.transfers, report.hearings, report.discussions) == (1, 1, 1, 1)
    assert report.reviews == annual_report.Reviews(
        opinions=5, cases=4, results={"agree": 1, "agree_after_coordination": 1, "rejected": 1, "pending": 1},
        returned=1)
    d = report.disclosures
    assert (d.on_time, d.late, d.withheld, d.overdue, d.pending) == (1, 1, 1, 1, 1)
    assert (d.decisions, d.timely_rate) == (5, Decimal("33.3"))
    s = report.staffing
    assert (s.officers, s.credentialed, s.reviewers) == (4, 3, 1)  # zhao's credential expired; gone is inactive
    assert (s.credential_rate, s.reviewer_share, s.goal_percent, s.meets_goal) == (
        Decimal("75.0"), Decimal("25.0"), Decimal("5.0"), True)
    assert report.remedies == annual_report.Remedies(
        {"review_revoked": 1, "review_changed": 0, "review_unlawful": 0, "litigation_revoked": 0,
         "litigation_changed": 1, "litigation_unlawful": 0}, "not_recorded")
    assert report.inspections == "not_applicable"


def test_last_year_is_counted_to_its_end_and_next_year_refused(db, known):
    report = annual_report.build(db, 2025)
    assert (report.end, report.complete, report.penalties.count, report.hearings) == (date(2025, 12, 31), True, 1, 1)
    assert report.staffing.officers == 4
    with pytest.raises(FormInvalid):
        annual_report.build(db, 2027)


def test_reviewer_share_below_the_goal(db, known):
    for n in range(17):
        people.add_user(db, "system", f"extra{n}", f"新人{n}", "elderly", "secret-pass", ["officer"])
    staffing = annual_report.build(db, 2026).staffing
    assert (staffing.officers, staffing.reviewers, staffing.reviewer_share, staffing.meets_goal) == (
        21, 1, Decimal("4.8"), False)


def test_the_stored_form_gives_back_the_same_report(db, known):
    report = annual_report.build(db, 2026)
    again = annual_report.from_json(annual_report.to_json(report))
    assert again == report and list(again.reviews.results) == list(report.reviews.results)


def test_tables_and_csv_say_what_is_not_recorded(db, known):
    report = annual_report.build(db, 2026)
    tables = {s.key: s for s in annual_report.sections(report)}
    assert list(tables) == ["decisions", "penalties", "procedure", "reviews", "disclosure", "staffing", "remedies",
                            "inspections"]
    assert [(row.label, row.values) for row in tables["remedies"].rows] == [
        ("行政复议申请", ["未记录"]), ("经行政复议被撤销", [1]), ("经行政复议被变更", [0]), ("经行政复议被确认违法或无效", [0]),
        ("行政诉讼案件", ["未记录"]), ("经行政诉讼被撤销", [0]), ("经行政诉讼被变更", [1]), ("经行政诉讼被确认违法或无效", [0])]
    assert tables["inspections"].rows[0].values == ["不适用"]
    lines = list(csv.reader(io.StringIO(annual_report.to_csv(report).removeprefix("\ufeff"))))
    assert lines[0] == ["年度", "栏目", "项目", "指标", "数值"]
    assert ["2026", "行政处罚种类与罚没金额", "罚款", "罚款（元）", "25000.50"] in lines
    assert ["2026", "行政处罚种类与罚没金额", "合计", "没收违法所得、非法财物（元）", "9200.00"] in lines
    assert ["2026", "行政复议和行政诉讼", "行政复议申请", "件数", "未记录"] in lines
    assert ["2026", "行政复议和行政诉讼", "经行政复议被撤销", "件数", "1"] in lines
    assert ["2026", "执法人员与法制审核人员", "法制审核人员占执法人员比例（%）", "数值", "25.0"] in lines
    assert lines[-1] == ["2026", "统计口径", "统计期间", "", "2026-01-01至2026-11-02"]
    charts = {c.key: c for c in annual_report.charts(report)}
    assert charts["penalties"].labels == ["罚款", "没收违法所得、没收非法财物", "警告、通报批评"]
    assert [s.values for s in charts["disclosure"].series] == [[1, 1, 1, 1, 1]]


def test_live_figures_are_for_the_report_readers(db, known):
    assert annual_report.live(db, get_user(db, "feng"), 2026).year == 2026  # a manager
    with pytest.raises(NotAllowed):
        annual_report.live(db, get_user(db, "zhang"), 2026)  # an officer
    with pytest.raises(NotAllowed):
        annual_report.live(db, get_user(db, "wang"), 2026)  # a unit head


def test_the_pdf_is_chinese_text_with_bars_and_tables(db, known):
    report = annual_report.build(db, 2026)
    html = render_html(report)
    assert "2026年度行政执法统计报告" in html and "内部统计数据，未经审批" in html
    assert html.count("<svg") == 5 and html.count("<table>") == 8 and "<script" not in html
    pdf = render_pdf(report)
    assert pdf.startswith(b"%PDF")
    assert b"Noto-Sans-CJK-SC" in _inflated(pdf)  # the Chinese is set in the Noto CJK font, embedded


def _inflated(pdf: bytes) -> bytes:
    """The PDF with its compressed streams inflated (font names sit in compressed object streams)."""
    out = [pdf]
    for stream in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(stream.group(1)))
        except zlib.error:
            pass
    return b"".join(out)


def test_the_elements_counted_are_user_tasks_of_the_models():
    tasks = {el.get("id") for path in MODELS.glob("*.bpmn")
             for el in etree.parse(str(path)).iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}userTask")}
    assert {contract.HEARING_ELEMENT, contract.DISCUSSION_ELEMENT, contract.TRANSFER_ELEMENT, contract.REVIEW_ELEMENT,
            contract.REVIEW_RETURN_ELEMENT} <= tasks


def test_the_remedy_grounds_counted_are_grounds_of_the_correction_model():
    """复议/诉讼 outcomes are counted from the withdrawal and correction grounds; applications are
    reported as not recorded: true as long as no form asks for one."""
    grounds = {value.get("id") for path in MODELS.glob("*.bpmn")
               for field in etree.parse(str(path)).iter("{http://camunda.org/schema/1.0/bpmn}formField")
               if field.get("id") == "change_ground"
               for value in field.iter("{http://camunda.org/schema/1.0/bpmn}value")}
    assert set(annual_report.REMEDY_GROUNDS) <= grounds and set(annual_report.REMEDY_GROUNDS) <= set(disclosure.GROUNDS)
    fields = {el.get("id") for path in MODELS.glob("*.bpmn")
              for el in etree.parse(str(path)).iter("{http://camunda.org/schema/1.0/bpmn}formField")}
    assert not {f for f in fields if "reconsideration" in f or "litigation" in f or "appeal" in f}


def test_the_command_line_prints_and_writes_the_report(db, known, settings, tmp_path, monkeypatch):
    import json

    from click.testing import CliRunner

    from workflows.cli import main

    db.commit()
    monkeypatch.setenv("SANXIANG_INSTANCE_PATH", str(settings.instance_path))
    monkeypatch.setenv("SANXIANG_DATABASE_URL", settings.database_url)
    run = CliRunner().invoke
    text = run(main, ["report", "annual", "2026", "--csv", str(tmp_path / "r.csv"), "--pdf", str(tmp_path / "r.pdf")])
    assert text.exit_code == 0, text.output
    assert "2026年度行政执法统计（2026-01-01至2026-11-02，实时数据）" in text.output
    assert "  合计：件数 4；罚款（元） 25000.50；没收违法所得、非法财物（元） 9200.00" in text.output
    assert "  行政复议申请：件数 未记录" in text.output and "  经行政复议被撤销：件数 1" in text.output
    assert (tmp_path / "r.csv").read_text(encoding="utf-8").startswith("\ufeff年度,栏目")
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    out = json.loads(run(main, ["report", "annual", "2026", "--json"]).output)
    assert out["penalties"]["fines"] == "25000.50" and out["rates"]["reviewer_share"] == "25.0"
    assert out["published"] is None
    missing = run(main, ["report", "annual", "2026", "--published"])
    assert missing.exit_code == 4 and "has not been published" in missing.output
    assert run(main, ["report", "annual", "2027"]).exit_code == 1
