"""The designer's journey in a real browser, on the demo bureau: change the filing form in the
properties panel, catch a broken condition by validating, preview the form, dry-run the filing
scenario, deploy with a note; new cases get the new form, old ones keep theirs until migrated."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .conftest import sign_in, snap

pytestmark = pytest.mark.e2e

FLOW = "flow_gw_unit_filing_to_approve_filing_agency"
# the field the designer adds: the next index after the filing form's fields in the deployed model
FIELD = "bio-properties-panel-file_case-formField-" + str(
    (Path(__file__).resolve().parents[2] / "bpmn" / "case_filing.bpmn").read_text().split('<bpmn:userTask id="file_case"')[1]
    .split("</bpmn:userTask>")[0].count("<camunda:formField "))


def _select(page: Page, element: str) -> None:
    page.evaluate("(id) => document.getElementById('studio').studioEditor.select(id)", element)


def _open_group(page: Page, group: str) -> None:
    header = page.locator(f"[data-group-id='group-{group}'] .bio-properties-panel-group-header")
    if "open" not in (header.get_attribute("class") or ""):
        header.click()


def _condition(page: Page, text: str) -> None:
    _select(page, FLOW)
    _open_group(page, "CamundaPlatform__Condition")
    page.get_by_label("条件表达式").fill(text)
    page.get_by_label("条件表达式").press("Tab")


def test_a_designer_changes_the_filing_form_and_deploys_it(own_demo_page):
    designer = own_demo_page()
    sign_in(designer, "designer")
    designer.get_by_role("navigation", name="主导航").get_by_role("link", name="流程设计").click()
    expect(designer.get_by_role("link", name="enforcement_case.bpmn").first).to_be_visible()
    snap(designer, "40-studio-index")

    designer.get_by_role("link", name="case_filing.bpmn").first.click()
    expect(designer.locator("#studio[data-ready=true]")).to_be_attached(timeout=30_000)
    _select(designer, "file_case")
    _open_group(designer, "general")
    designer.locator("#bio-properties-panel-name").fill("立案登记（含线索渠道）")
    _open_group(designer, "CamundaPlatform__FormData")
    designer.locator("[data-group-id='group-CamundaPlatform__FormData'] .bio-properties-panel-group-header "
                     ".bio-properties-panel-add-entry").click()
    designer.locator(f"#{FIELD}-formFieldID").fill("discovery_channel")
    designer.locator(f"#{FIELD}-formFieldLabel").fill("线索来源渠道")
    designer.locator(f"#{FIELD}-formFieldType").select_option("string")
    added = designer.locator(".bio-properties-panel-collapsible-entry", has=designer.locator(f"#{FIELD}-formFieldID"))
    added.locator(".bio-properties-panel-list-entry", has_text="约束").locator(".bio-properties-panel-add-entry").click()
    designer.locator(f"#{FIELD}-formFieldConstraints-constraint-0-name").fill("required")
    designer.locator(f"#{FIELD}-formFieldConstraints-constraint-0-config").fill("true")
    designer.locator(f"#{FIELD}-formFieldConstraints-constraint-0-config").press("Tab")  # commit, as a user leaves it
    expect(designer.get_by_text("有未保存的修改")).to_be_visible()

    _condition(designer, "unit_filing_opinion == = 'approve'")  # a slip of the keyboard
    designer.get_by_role("button", name="校验").click()
    expect(designer.locator("#studio-problems")).to_contain_text(FLOW)
    expect(designer.locator(f".djs-element.has-problem[data-element-id='{FLOW}']")).to_be_attached()
    snap(designer, "41-studio-problem-on-the-diagram")
    _condition(designer, "unit_filing_opinion == 'approve'")
    designer.get_by_role("button", name="校验").click()
    expect(designer.get_by_text("校验通过：没有发现问题，可以部署。")).to_be_visible()

    _select(designer, "file_case")
    designer.get_by_role("button", name="表单预览").click()
    expect(designer.locator("#studio-preview")).to_contain_text("线索来源渠道")
    expect(designer.locator("#studio-preview")).to_contain_text("立案登记（含线索渠道）")
    snap(designer, "42-studio-form-preview")

    designer.evaluate("""() => { const box = document.getElementById('dryrun-scenario');
        const scenario = JSON.parse(box.value);
        scenario.steps.find(s => s.task === 'file_case').data.discovery_channel = '群众举报电话';
        box.value = JSON.stringify(scenario, null, 2); }""")
    designer.get_by_role("button", name="运行").click()
    expect(designer.locator("#studio-dryrun")).to_contain_text("试运行结束：流程停在这些任务：onsite_inspection",
                                                               timeout=30_000)
    expect(designer.locator(".djs-element.done[data-element-id='file_case']")).to_be_attached()
    snap(designer, "43-studio-dry-run")

    designer.get_by_role("button", name="保存草稿").click()
    expect(designer.get_by_text("草稿已保存")).to_be_visible()
    designer.get_by_role("link", name="流程设计").first.click()
    designer.get_by_label("case_filing.bpmn", exact=False).check()
    designer.get_by_label("变更说明（必填，记入版本历史和审计日志）").fill("立案登记增加线索来源渠道。")
    designer.get_by_role("button", name="校验并部署所选草稿").click()
    expect(designer.get_by_text("已部署为版本2")).to_be_visible()
    snap(designer, "44-studio-deployed")

    designer.get_by_role("link", name="在办案件迁移").click()
    movable = designer.locator("input[name=case]")
    expect(movable.first).to_be_visible()
    waiting = movable.count()
    movable.first.check()
    designer.get_by_role("button", name="迁移所选案件").click()
    expect(designer.get_by_text("已迁移1件案件")).to_be_visible()
    expect(designer.locator("input[name=case]")).to_have_count(waiting - 1)  # the others keep version 1
    snap(designer, "45-studio-migrated")

    officer = own_demo_page()
    sign_in(officer, "officer1")
    officer.get_by_role("navigation", name="主导航").get_by_role("link", name="立案").click()
    officer.get_by_label("执法事项").select_option("MZ-CF-0001")
    officer.get_by_label("当事人").fill("新市区晨曦社会工作服务中心")
    officer.get_by_role("button", name="立案并开始办理").click()
    expect(officer.get_by_role("heading", name="立案登记（含线索渠道）", level=1)).to_be_visible()
    expect(officer.get_by_label("线索来源渠道")).to_be_visible()
