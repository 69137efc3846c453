"""Validation refuses what would fail only on a live case, one line per problem, nothing stored."""
from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from tests.conftest import BPMN_DIR, bpmn
from workflows.design.validation import validate

HOSTILE = BPMN_DIR / "hostile"
GOOD = bpmn("approval.bpmn")


def variant(old: str, new: str, base: bytes = GOOD) -> bytes:
    text = base.decode()
    assert old in text, old
    return text.replace(old, new).encode()


def test_the_test_diagram_is_valid():
    assert validate({"approval.bpmn": GOOD}) == []


@pytest.mark.parametrize("name, expected", [
    ("xxe.bpmn", "DTDs and entities are not allowed"),
    ("laughs.bpmn", "DTDs and entities are not allowed"),
    ("empty.bpmn", "the file is empty"),
    ("truncated.bpmn", "not well-formed"),
    ("random.bpmn", "not well-formed"),
])
def test_unsafe_or_broken_xml_is_refused_before_the_parser_sees_it(name, expected):
    problems = validate({name: (HOSTILE / name).read_bytes()})
    assert len(problems) == 1
    assert problems[0].file == name and expected in problems[0].message
    assert "root:" not in str(problems[0])  # /etc/passwd was never read into the message


@pytest.mark.parametrize("attack", sorted(p.name for p in HOSTILE.glob("script_*.bpmn")))
def test_hostile_scripts_are_refused_at_deploy(attack):
    problems = validate({attack: (HOSTILE / attack).read_bytes()})
    assert problems, attack
    assert all(p.element == "compute" and p.line for p in problems)


def test_problem_lines_name_file_element_and_line():
    bad = variant('name="unit_head"', 'name="清洁工"')
    [problem] = validate({"x.bpmn": bad})
    assert problem.element == "approve"
    assert problem.line == bad.decode().splitlines().index(
        next(line for line in bad.decode().splitlines() if 'id="approve"' in line)) + 1
    assert str(problem).startswith(f"x.bpmn:{problem.line}: approve: lane '清洁工'")


def test_lane_may_be_role_id_or_chinese_label():
    assert validate({"x.bpmn": variant('name="unit_head"', 'name="承办机构负责人"')}) == []


def test_user_task_outside_any_lane_is_refused():
    bad = variant("<bpmn:flowNodeRef>approve</bpmn:flowNodeRef>", "")
    assert "in no lane" in validate({"x.bpmn": bad})[0].message


@pytest.mark.parametrize("old, new, message", [
    ('id="fine" label="罚款金额" type="decimal"', 'id="fine" label="罚款金额" type="money"', "unknown type 'money'"),
    ('id="divisor"', 'id="_divisor"', "not a plain identifier"),
    ('id="divisor"', 'id="class"', "not a plain identifier"),
    ('id="divisor"', 'id="deadline"', "shadows the script helper"),
    ('id="divisor"', 'id="len"', "shadows the script helper"),
    ('<camunda:property id="role" value="officer" />', '<camunda:property id="role" value="boss" />',
     "needs property role"),
    ('name="maxlength" config="50"', 'name="pattern" config="50"', "unknown constraint 'pattern'"),
    ('id="divisor"', 'id="case_no"', "set by the engine when a case starts"),
])
def test_form_field_problems(old, new, message):
    problems = validate({"x.bpmn": variant(old, new)})
    assert any(message in p.message for p in problems), problems


def _with_property(field: str, prop: str, value: str) -> bytes:
    old = f'<camunda:formField id="{field}"'
    text = GOOD.decode()
    start = text.index(old)
    end = text.index(">", start)
    tag = text[start:end].rstrip("/ ")
    close = "" if text[end - 1] != "/" else "</camunda:formField>"
    prop_xml = f'<camunda:properties><camunda:property id="{prop}" value="{value}" /></camunda:properties>'
    return (text[:start] + tag + ">" + prop_xml + close + text[end + 1:]).encode()


@pytest.mark.parametrize("field, prop, value", [
    ("party_name", "format", "id_number"), ("party_name", "format", "credit_code"),
    ("party_name", "format", "party_id"), ("party_name", "format", "phone"), ("violation_date", "past", "true"),
])
def test_known_formats_and_past_dates_may_be_deployed(field, prop, value):
    assert validate({"x.bpmn": _with_property(field, prop, value)}) == []


@pytest.mark.parametrize("field, prop, value, message", [
    ("party_name", "format", "passport", "has unknown format 'passport'"),
    ("fine", "format", "phone", "format applies to string fields only"),
    ("violation_date", "past", "yes", "past must be \"true\" or \"false\""),
    ("party_name", "past", "true", "past applies to date fields only"),
])
def test_unknown_format_or_misplaced_past_is_refused_at_deploy(field, prop, value, message):
    bad = _with_property(field, prop, value)
    [problem] = validate({"x.bpmn": bad})
    assert message in problem.message and problem.element == field and problem.file == "x.bpmn"
    assert problem.line == next(i for i, line in enumerate(bad.decode().splitlines(), 1) if f'id="{field}"' in line)


def test_the_disclosure_hook_must_be_a_script_task():
    problems = validate({"x.bpmn": variant('<bpmn:userTask id="approve"', '<bpmn:userTask id="write_disclosure"')
                         .replace(b'"approve"', b'"write_disclosure"').replace(b">approve<", b">write_disclosure<")})
    assert any(p.element == "write_disclosure" and "disclosure hook" in p.message for p in problems), problems


def test_condition_must_compile_in_the_sandbox():
    problems = validate({"x.bpmn": variant('approved == "yes"', 'approved.__class__ == "yes"')})
    assert problems and problems[0].element == "f_yes" and "condition" in problems[0].message


def test_assignee_and_due_expressions_must_compile():
    problems = validate({"x.bpmn": variant('value="second_officer"', 'value="__import__(1)"')})
    assert problems and problems[0].element == "confirm" and problems[0].message.startswith("assignee")


TIMER = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="timed" isExecutable="true">
    <bpmn:startEvent id="s" />
    <bpmn:sequenceFlow id="a" sourceRef="s" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:timerEventDefinition id="t"><bpmn:timeDuration>EXPR</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="b" sourceRef="wait" targetRef="e" />
    <bpmn:endEvent id="e" />
  </bpmn:process>
</bpmn:definitions>"""


@pytest.mark.parametrize("expr, ok", [
    ('"P5D"', True), ('"PT1H30M"', True), ("deadline('payment', today())", True),
    ('"2026-12-01T00:00:00+08:00"', True),
    ("P5D", False),  # passes SpiffWorkflow's parser, fails only on a live case
    ('"5 days"', False), ("now() + 5", False), ('"2026-12-01T00:00:00"', False),
    ("deadline(__import__('os'))", False),
])
def test_timers_are_quoted_iso_literals_or_deadline_calls(expr, ok):
    problems = validate({"t.bpmn": TIMER.replace(b"EXPR", expr.encode())})
    assert (problems == []) is ok, problems
    if not ok:
        assert problems[0].element == "wait"


DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="x">
  <decision id="grade" name="grade">
    <decisionTable id="table">
      <input id="i1" label="kind"><inputExpression id="e1" typeRef="string"><text>kind</text></inputExpression></input>
      <input id="i2" label="amount"><inputExpression id="e2" typeRef="number"><text>amount</text></inputExpression></input>
      <output id="o1" label="major" name="major" typeRef="boolean" />
      <rule id="r1"><inputEntry id="a1"><text>CELL</text></inputEntry><inputEntry id="a2"><text>&gt;= 10000</text></inputEntry>
        <outputEntry id="b1"><text>True</text></outputEntry></rule>
      LAST
    </decisionTable>
  </decision>
</definitions>"""
CATCH_ALL = ('<rule id="r9"><inputEntry id="a9"><text>-</text></inputEntry><inputEntry id="a10"><text></text></inputEntry>'
             '<outputEntry id="b9"><text>False</text></outputEntry></rule>')


@pytest.mark.parametrize("cell, ok", [
    ('"revoke"', True), ('in ("revoke", "suspend")', True), ("", True), ("1 < ? < 5", True),
    ('"warning","revoke"', False),  # FEEL list: silently never matches in Python
    ("[1..5]", False),  # FEEL range
    ('"x".__class__', False),
])
def test_dmn_cells_compile_as_the_python_spiffworkflow_evaluates(cell, ok):
    problems = validate({"g.dmn": DMN.replace("CELL", escape(cell)).replace("LAST", CATCH_ALL).encode()})
    assert (problems == []) is ok, problems
    if not ok:
        assert problems[0].element.startswith("r1") and "input cell 1" in problems[0].message


def test_decision_table_needs_a_catch_all_row():
    problems = validate({"g.dmn": DMN.replace("CELL", '"revoke"').replace("LAST", "").encode()})
    assert [p.message for p in problems] == ["decision table has no catch-all row (a last row with every input '-')"]


def test_parser_errors_become_problem_lines_not_tracebacks():
    broken = variant('sourceRef="approve" targetRef="decide"', 'sourceRef="approve" targetRef="nowhere"')
    [problem] = validate({"x.bpmn": broken})
    assert problem.file == "x.bpmn" and problem.message


def test_missing_called_process_is_a_problem():
    caller = variant('<bpmn:scriptTask id="compute" name="计算">', '<bpmn:callActivity id="compute" calledElement="ghost">')
    caller = caller.decode().replace("</bpmn:scriptTask>", "</bpmn:callActivity>")
    caller = caller.replace(caller[caller.index("<bpmn:script>"):caller.index("</bpmn:script>") + 14], "")
    problems = validate({"x.bpmn": caller.encode()})
    assert problems and "ghost" in problems[0].message


def test_every_file_of_the_set_is_checked(tmp_path: Path):
    problems = validate({"a.bpmn": GOOD, "b.bpmn": b"<oops", "c.dmn": b""})
    assert sorted(p.file for p in problems) == ["b.bpmn", "c.dmn"]


def test_form_rules_are_checked_at_deploy_like_every_expression():
    field = '<camunda:formField id="party_name" label="当事人" type="string">'
    ruled = field + ('<camunda:properties><camunda:property id="required_if" value="__import__(\'os\')"/>'
                     '<camunda:property id="validate" value="len(party_name) &gt; 1"/></camunda:properties>')
    problems = [str(p) for p in validate({"x.bpmn": variant(field, ruled)})]
    assert any("required_if:" in p for p in problems)
    assert any("validate needs a validate_message" in p for p in problems)


def test_a_task_shows_only_fields_some_form_of_the_set_fills():
    shows = '<camunda:property name="name_en" value="Approve filing" />'
    assert validate({"x.bpmn": variant(shows, shows + '<camunda:property name="shows" value="party_name, fine" />')}) == []
    [problem] = validate({"x.bpmn": variant(shows, shows + '<camunda:property name="shows" value="party_name,secret" />')})
    assert problem.element == "approve" and "shows: secret is not a form field" in problem.message
