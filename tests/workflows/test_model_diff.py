"""The difference between two versions of a model set, element by element, in sentences a designer reads."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import BPMN_DIR, bpmn
from workflows.design.diff import diff
from workflows.engine.parsing import BPMN, CAMUNDA

MODELS = Path(__file__).resolve().parents[2] / "bpmn"
HOSTILE = BPMN_DIR / "hostile"


def models() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in MODELS.iterdir() if p.suffix in (".bpmn", ".dmn")}


def holding(files: dict[str, bytes], element_id: str) -> tuple[str, etree._Element, etree._Element]:
    """The file holding ``element_id``, its parsed root and the element."""
    for name, content in files.items():
        root = etree.fromstring(content)
        found = root.xpath("//*[@id=$id]", id=element_id)
        if found:
            return name, root, found[0]
    raise AssertionError(f"no element {element_id}")


def edit(files: dict[str, bytes], element_id: str, change) -> dict[str, bytes]:
    """A copy of ``files`` with ``change(element, root)`` applied to the element, wherever it lives."""
    name, root, element = holding(files, element_id)
    change(element, root)
    return {**files, name: etree.tostring(root, xml_declaration=True, encoding="UTF-8")}


def text_variant(name: str, old: str, new: str) -> bytes:
    text = bpmn(name).decode()
    assert old in text, old
    return text.replace(old, new).encode()


def only_changes(result) -> dict[str, tuple[str, list[str]]]:
    return {e.id: (e.status, [c.aspect for c in e.changes]) for f in result.files for e in f.elements}


# --- the model set -------------------------------------------------------------------------------

def test_the_same_set_has_no_differences():
    result = diff(models(), models())
    assert result.empty and all(f.status == "unchanged" and f.elements == [] for f in result.files)


def test_a_renamed_task_a_new_required_field_a_changed_condition_and_a_removed_flow_are_exactly_the_diff():
    old = models()

    def rename(task, _):
        task.set("name", "立案登记（新）")

    def add_field(task, _):
        form = task.find(f"{BPMN}extensionElements/{CAMUNDA}formData")
        added = etree.SubElement(form, CAMUNDA + "formField", id="unit_filing_basis", label="审核依据", type="string")
        etree.SubElement(etree.SubElement(added, CAMUNDA + "validation"), CAMUNDA + "constraint",
                         name="required", config="true")

    def condition(flow, _):
        flow.find(BPMN + "conditionExpression").text = "unit_filing_opinion in ('approve', 'approve_with_notes')"

    def remove(flow, root):
        for ref in root.xpath("//bpmn:incoming|//bpmn:outgoing", namespaces={"bpmn": BPMN[1:-1]}):
            if ref.text == flow.get("id"):
                ref.getparent().remove(ref)
        for edge in root.xpath("//*[@bpmnElement=$id]", id=flow.get("id")):
            edge.getparent().remove(edge)
        flow.getparent().remove(flow)

    new = edit(old, "file_case", rename)
    new = edit(new, "approve_filing_unit", add_field)
    new = edit(new, "flow_gw_unit_filing_to_approve_filing_agency", condition)
    new = edit(new, "flow_recusal_decision_to_confirm_participation", remove)
    result = diff(old, new)

    assert only_changes(result) == {
        "file_case": ("changed", ["name"]),
        "approve_filing_unit": ("changed", ["form"]),
        "flow_gw_unit_filing_to_approve_filing_agency": ("changed", ["condition"]),
        "flow_recusal_decision_to_confirm_participation": ("removed", ["removed"]),
    }
    [changed_file] = [f for f in result.files if f.status != "unchanged"]
    assert changed_file.file == holding(old, "file_case")[0]
    marks = result.markers()[changed_file.file]
    assert marks["changed"] == {
        "file_case": ["名称：“立案登记” → “立案登记（新）”"],
        "approve_filing_unit": ["新增表单字段unit_filing_basis（审核依据，string，必填）"],
        "flow_gw_unit_filing_to_approve_filing_agency": [
            "条件：unit_filing_opinion == 'approve' → unit_filing_opinion in ('approve', 'approve_with_notes')"],
    }
    assert marks["removed"] == {"flow_recusal_decision_to_confirm_participation": [
        "删除连线“更换执法人员后重新确认”（recusal_decision → confirm_participation）"]}
    assert marks["added"] == {}
    [flow] = [e for e in changed_file.elements if e.id == "flow_gw_unit_filing_to_approve_filing_agency"]
    assert (flow.kind, flow.kind_label, flow.changes[0].old, flow.changes[0].new) == (
        "sequenceFlow", "连线", "unit_filing_opinion == 'approve'",
        "unit_filing_opinion in ('approve', 'approve_with_notes')")
    json.dumps(result.to_dict(), ensure_ascii=False)  # JSON-friendly as it is


def test_form_field_changes_name_what_changed():
    old = models()

    def change(task, _):
        form = task.find(f"{BPMN}extensionElements/{CAMUNDA}formData")
        fields = {f.get("id"): f for f in form.findall(CAMUNDA + "formField")}
        fields["party_name"].set("label", "当事人名称")
        fields["party_phone"].set("type", "long")
        fields["party_address"].find(f"{CAMUNDA}validation/{CAMUNDA}constraint[@name='maxlength']").set("config", "500")
        source = fields["case_source"]
        source.remove(source.find(CAMUNDA + "value[@id='other']"))
        etree.SubElement(source, CAMUNDA + "value", id="media", name="媒体曝光")
        source.find(CAMUNDA + "value[@id='complaint']").set("name", "投诉举报")
        fields["second_officer"].find(f"{CAMUNDA}properties/{CAMUNDA}property").set("value", "unit_head")
        form.remove(fields["filing_files"])

    [element] = [e for f in diff(old, edit(old, "file_case", change)).files for e in f.elements]
    assert (element.id, element.status) == ("file_case", "changed")
    assert [str(d) for d in element.descriptions] == [
        "表单字段case_source：选项complaint的名称“投诉、举报” → “投诉举报”",
        "表单字段case_source：新增选项media（媒体曝光）",
        "表单字段case_source：删除选项other（其他）",
        "表单字段party_name：标签 当事人姓名或名称 → 当事人名称",
        "表单字段party_phone：类型 string → long",
        "表单字段party_address：约束maxlength 300 → 500",
        "表单字段second_officer：属性role officer → unit_head",
        "删除表单字段filing_files（案源材料）",
    ]


def test_scripts_timers_documentation_properties_lanes_and_calls_are_named():
    approval = bpmn("approval.bpmn")
    changed = text_variant("approval.bpmn", "checked = True", "checked = True\naudited = True")
    changed = changed.replace(b"<bpmn:flowNodeRef>confirm</bpmn:flowNodeRef>\n", b"") \
        .replace(b"<bpmn:flowNodeRef>approve</bpmn:flowNodeRef>",
                 b"<bpmn:flowNodeRef>approve</bpmn:flowNodeRef><bpmn:flowNodeRef>confirm</bpmn:flowNodeRef>") \
        .replace("审批立案。".encode(), "审批立案，写明理由。".encode()) \
        .replace(b"deadline('statement_defence', today())", b"deadline('statement_defence', violation_date)")
    marks = diff({"approval.bpmn": approval}, {"approval.bpmn": changed}).markers()["approval.bpmn"]
    assert marks["changed"] == {
        "register": ["扩展属性due：deadline('statement_defence', today()) → deadline('statement_defence', violation_date)"],
        "compute": ["脚本已修改（+1 −0 行）"],
        "confirm": ["泳道：执法人员 → unit_head"],
        "approve": ["说明已修改（+1 −1 行）"],
    }

    timers = text_variant("timers.bpmn", "<bpmn:timeDuration>\"P1D\"</bpmn:timeDuration>",
                          "<bpmn:timeDuration>\"P2D\"</bpmn:timeDuration>")
    assert diff(bpmn("timers.bpmn"), timers).markers()["model"]["changed"] == {
        "wait_a_day": ['计时器：timeDuration: "P1D" → timeDuration: "P2D"']}

    caller = text_variant("caller.bpmn", 'calledElement="sub_review"', 'calledElement="legal_review"')
    caller = caller.replace(b'camunda:decisionRef="grade_decision"', b'camunda:decisionRef="major_decision"')
    assert diff(bpmn("caller.bpmn"), caller).markers()["model"]["changed"] == {
        "grade": ["调用的决策：grade_decision → major_decision"],
        "review": ["调用的流程：sub_review → legal_review"]}


def test_added_elements_and_files_are_listed():
    added = text_variant("approval.bpmn", '<bpmn:endEvent id="end_ok" />',
                         '<bpmn:endEvent id="end_ok" />\n<bpmn:endEvent id="end_other" name="其他" />')
    result = diff({"approval.bpmn": bpmn("approval.bpmn")},
                  {"approval.bpmn": added, "sub_review.bpmn": bpmn("sub_review.bpmn")})
    assert result.markers()["approval.bpmn"]["added"] == {"end_other": ["新增结束事件“其他”"]}
    sub = result.file("sub_review.bpmn")
    assert sub.status == "added"
    assert set(sub.ids("added")) == {"sub_review", "lane_reviewer", "s", "a", "check", "b", "e"}


def test_an_element_moved_to_another_file_is_reported_once_as_moved():
    old = {"approval.bpmn": bpmn("approval.bpmn")}
    new = {"stage.bpmn": text_variant("approval.bpmn", 'label="当事人" type="string"', 'label="当事人名称" type="string"')}
    result = diff(old, new)
    assert result.file("approval.bpmn").status == "removed" and result.file("approval.bpmn").elements == []
    register = next(e for e in result.file("stage.bpmn").elements if e.id == "register")
    assert register.status == "changed"
    assert [str(d) for d in register.descriptions] == [
        "从approval.bpmn移入（流程approval → approval）", "表单字段party_name：标签 当事人 → 当事人名称"]


# --- DMN -----------------------------------------------------------------------------------------

def test_decision_rules_added_removed_changed_and_reordered_by_id():
    old = (MODELS / "major_decision.dmn").read_bytes()
    root = etree.fromstring(old)
    ns = {"d": etree.QName(root).namespace}
    table = root.find(".//d:decisionTable", ns)
    rules = table.findall("d:rule", ns)
    rules[0].findall("d:outputEntry/d:text", ns)[1].text = '"撤销登记（重大）"'
    rules[1].getparent().remove(rules[1])
    rules[2].addnext(etree.fromstring(etree.tostring(rules[2])))  # a copy with a new id
    table.findall("d:rule", ns)[2].set("id", "rule_03b")
    rules[4].addprevious(rules[5])  # rule_06 before rule_05
    table.find("d:input", ns).set("label", "处罚的种类")
    new = etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    result = diff({"major_decision.dmn": old}, {"major_decision.dmn": new})
    changes = only_changes(result)
    assert changes == {
        "major_decision": ("changed", ["input"]),
        "rule_01": ("changed", ["cell"]),
        "rule_03b": ("added", ["added"]),
        "rule_02": ("removed", ["removed"]),
        "rule_06": ("changed", ["order"]),
    }
    marks = result.markers()["major_decision.dmn"]
    assert marks["changed"]["major_decision"] == ["输入列“处罚的种类”的标签：处罚种类 → 处罚的种类"]
    [reason] = next(e for e in result.file("major_decision.dmn").elements if e.id == "rule_01").changes
    assert str(reason.description) == f'输出“判定理由”：{reason.old} → "撤销登记（重大）"'
    assert reason.old.startswith('"') and reason.old != reason.new
    assert marks["changed"]["rule_06"] == ["规则顺序：第6行 → 第5行"]


# --- hostile input -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["xxe.bpmn", "laughs.bpmn", "truncated.bpmn", "empty.bpmn"])
def test_hostile_or_broken_xml_is_refused_and_the_rest_still_compared(name):
    content = (HOSTILE / name).read_bytes()
    renamed = text_variant("approval.bpmn", 'name="立案审批"', 'name="审批"')
    result = diff({"approval.bpmn": bpmn("approval.bpmn"), name: b"<x/>"},
                  {"approval.bpmn": renamed, name: content})
    refused = result.file(name)
    assert refused.status == "refused" and refused.elements == []
    assert refused.error and "root:" not in refused.error
    assert result.markers()["approval.bpmn"]["changed"] == {"approve": ["名称：“立案审批” → “审批”"]}
