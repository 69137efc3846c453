"""Static checks over every process model and decision table in ``bpmn/``."""
from __future__ import annotations

import ast
import keyword
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.specs.user_task import UserTask

from workflows.domain import duties
from workflows.engine.returns import back_edges

ROOT = Path(__file__).resolve().parents[2]
MODEL_DIR = ROOT / "bpmn"
BPMN_FILES = sorted(MODEL_DIR.glob("*.bpmn"))
DMN_FILES = sorted(MODEL_DIR.glob("*.dmn"))

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
    "dmn": "https://www.omg.org/spec/DMN/20191111/MODEL/",
}
ROLE_LABELS = {
    "officer": "执法人员",
    "unit_head": "承办机构负责人",
    "legal_reviewer": "法制审核人员",
    "agency_head": "机关负责人",
    "office": "办公室",
    "designer": "流程设计人员",
    "manager": "管理/监督人员",
    "admin": "系统管理员",
}
FIELD_TYPES = {"string", "textarea", "long", "decimal", "boolean", "date", "enum", "user", "matter", "file"}
CONSTRAINTS = {"required", "min", "max", "minlength", "maxlength", "readonly"}
RESERVED_NAMES = {
    "today", "now", "add_working_days", "working_days_between", "deadline", "deadline_date",
    "Decimal", "date", "timedelta", "len", "min", "max", "sum", "abs", "round", "sorted", "any",
    "all", "int", "float", "str", "bool", "list", "dict", "set", "tuple", "range", "enumerate",
    "zip", "isinstance",
}
FORBIDDEN_CALLS = {"getattr", "setattr", "delattr", "open", "eval", "exec", "compile", "globals",
                   "locals", "vars", "__import__", "input", "breakpoint"}
FLOW_NODE_TAGS = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "exclusiveGateway", "parallelGateway",
    "inclusiveGateway", "eventBasedGateway",
}
NAMED_TASK_TAGS = {"userTask", "callActivity", "businessRuleTask", "scriptTask"}


def _local(el) -> str:
    return etree.QName(el).localname


def _parse(path: Path):
    return etree.parse(str(path)).getroot()


def _bounds(shape):
    b = shape.find("dc:Bounds", NS)
    x, y = float(b.get("x")), float(b.get("y"))
    return (x, y, x + float(b.get("width")), y + float(b.get("height")))


def _overlap(a, b) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > 0.5 and min(a[3], b[3]) - max(a[1], b[1]) > 0.5


def _inside(inner, outer) -> bool:
    return (inner[0] >= outer[0] - 0.5 and inner[1] >= outer[1] - 0.5
            and inner[2] <= outer[2] + 0.5 and inner[3] <= outer[3] + 0.5)


def _on_border(point, rect, tol=1.0) -> bool:
    x, y = point
    x0, y0, x1, y1 = rect
    within_x = x0 - tol <= x <= x1 + tol
    within_y = y0 - tol <= y <= y1 + tol
    return ((abs(x - x0) <= tol or abs(x - x1) <= tol) and within_y) or \
           ((abs(y - y0) <= tol or abs(y - y1) <= tol) and within_x)


def _processes():
    for path in BPMN_FILES:
        root = _parse(path)
        for process in root.findall("bpmn:process", NS):
            yield path, root, process


def _flow_nodes(process):
    return [el for el in process if isinstance(el.tag, str) and _local(el) in FLOW_NODE_TAGS]


def _properties(el) -> dict[str, str]:
    return {p.get("name"): p.get("value")
            for p in el.findall("bpmn:extensionElements/camunda:properties/camunda:property", NS)}


def _expressions(process):
    """(where, kind, text) for every piece of restricted Python in a process."""
    for el in process.iter():
        if not isinstance(el.tag, str):
            continue
        tag = _local(el)
        owner = el.getparent().get("id") if el.getparent() is not None else "?"
        if tag == "script":
            yield owner, "exec", el.text or ""
        elif tag == "conditionExpression":
            yield owner, "eval", el.text or ""
        elif tag in ("timeDate", "timeDuration", "timeCycle"):
            yield el.getparent().getparent().get("id"), "eval", el.text or ""
    for task in process.findall("bpmn:userTask", NS):
        props = _properties(task)
        for key in ("assignee", "due"):
            if key in props:
                yield f"{task.get('id')}.{key}", "eval", props[key]
        for field in task.iterfind(".//camunda:formField", NS):
            for rule in field.findall("camunda:properties/camunda:property", NS):
                if rule.get("id") in ("required_if", "validate"):
                    yield f"{task.get('id')}.{field.get('id')}.{rule.get('id')}", "eval", rule.get("value")


def _dmn_expressions(root):
    for table in root.iter("{%s}decisionTable" % NS["dmn"]):
        for expr in table.iterfind("dmn:input/dmn:inputExpression/dmn:text", NS):
            yield table.get("id"), "eval", expr.text or ""
        for rule in table.iterfind("dmn:rule", NS):
            for entry in rule.iterfind("dmn:outputEntry/dmn:text", NS):
                if entry.text:
                    yield rule.get("id"), "eval", entry.text


def _check_restricted(where, mode, text):
    tree = ast.parse(text.strip(), mode=mode)
    for node in ast.walk(tree):
        assert not isinstance(node, (ast.Import, ast.ImportFrom)), f"{where}: import"
        if isinstance(node, ast.Name):
            assert not node.id.startswith("_"), f"{where}: name {node.id}"
            assert node.id not in FORBIDDEN_CALLS, f"{where}: {node.id}"
        if isinstance(node, ast.Attribute):
            assert not node.attr.startswith("_"), f"{where}: attribute {node.attr}"


# --------------------------------------------------------------------------- parsing

STAGES = {"filing": "case_filing", "investigation": "case_investigation", "notice": "case_notice",
          "decision": "case_decision", "service": "case_service", "execution": "case_execution",
          "closure": "case_closure"}  # call activity of the case: the stage process it calls


def test_model_files_exist():
    names = {p.name for p in BPMN_FILES} | {p.name for p in DMN_FILES}
    assert {"enforcement_case.bpmn", "legal_review.bpmn", "hearing.bpmn", "pre_disclosure.bpmn",
            "major_decision.dmn"} | {f"{stage}.bpmn" for stage in STAGES.values()} <= names


@pytest.fixture(scope="module")
def parser():
    parser = CamundaParser(validator=BpmnValidator())
    parser.add_bpmn_files([str(p) for p in BPMN_FILES])
    parser.add_dmn_files([str(p) for p in DMN_FILES])
    return parser


def test_every_process_parses_with_its_subprocesses(parser):
    ids = [process.get("id") for _, _, process in _processes()]
    assert ids and sorted(parser.get_process_ids()) == sorted(ids)
    for pid in ids:
        spec = parser.get_spec(pid)
        assert spec.name == pid
        subprocesses = parser.get_subprocess_specs(pid)
        for _, _, process in _processes():
            if process.get("id") == pid:
                for call in process.findall("bpmn:callActivity", NS):
                    assert call.get("calledElement") in subprocesses


def test_the_case_is_a_chain_of_stages_each_a_process_of_its_own_file():
    root = _parse(MODEL_DIR / "enforcement_case.bpmn")
    [case] = root.findall("bpmn:process", NS)
    calls = {c.get("id"): c.get("calledElement") for c in case.findall("bpmn:callActivity", NS)}
    assert calls == STAGES
    kinds = {_local(el) for el in _flow_nodes(case)}
    assert kinds == {"startEvent", "callActivity", "exclusiveGateway", "endEvent"}, kinds
    for called in STAGES.values():
        [process] = _parse(MODEL_DIR / f"{called}.bpmn").findall("bpmn:process", NS)
        assert process.get("id") == called and process.findall("bpmn:laneSet/bpmn:lane", NS)


def test_element_ids_are_unique_in_everything_a_case_runs(parser):
    """A case's path and its diagrams name elements by id alone, across the processes it calls."""
    processes = {process.get("id"): process for _, _, process in _processes()}
    called = {c.get("calledElement") for p in processes.values() for c in p.findall("bpmn:callActivity", NS)}
    for top in set(processes) - called:
        seen: dict[str, str] = {}
        for pid in [top, *parser.get_subprocess_specs(top)]:
            for el in _flow_nodes(processes[pid]) + processes[pid].findall("bpmn:sequenceFlow", NS):
                assert el.get("id") not in seen, f"{el.get('id')} is in {seen.get(el.get('id'))} and {pid}"
                seen[el.get("id")] = pid


def test_user_tasks_have_role_lane_form_and_documentation(parser):
    labels = set(ROLE_LABELS.values())
    seen = 0
    for pid in parser.get_process_ids():
        for spec in parser.get_spec(pid).task_specs.values():
            if not isinstance(spec, UserTask):
                continue
            seen += 1
            assert spec.lane in labels, f"{pid}.{spec.bpmn_id}: lane {spec.lane!r}"
            assert spec.form.key, f"{pid}.{spec.bpmn_id}: no formKey"
            assert spec.form.fields, f"{pid}.{spec.bpmn_id}: empty form"
            assert spec.documentation and spec.documentation.strip(), f"{pid}.{spec.bpmn_id}: no documentation"
    assert seen > 0


# --------------------------------------------------------------------------- dialect

@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.name)
def test_lanes_are_roles_and_hold_every_node(path):
    root = _parse(path)
    for process in root.findall("bpmn:process", NS):
        lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
        assert lanes, f"{process.get('id')}: no laneSet"
        names = [lane.get("name") for lane in lanes]
        assert len(names) == len(set(names))
        assert set(names) <= set(ROLE_LABELS.values()), names
        refs = [ref.text for lane in lanes for ref in lane.findall("bpmn:flowNodeRef", NS)]
        assert len(refs) == len(set(refs)), "a node is in two lanes"
        node_ids = {el.get("id") for el in _flow_nodes(process)}
        assert set(refs) == node_ids, f"not in a lane: {node_ids - set(refs)}"


@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.name)
def test_ids_names_and_english_names(path):
    root = _parse(path)
    for process in root.findall("bpmn:process", NS):
        for el in _flow_nodes(process) + process.findall("bpmn:sequenceFlow", NS):
            assert el.get("id").isidentifier() and el.get("id").isascii(), el.get("id")
        for el in _flow_nodes(process):
            tag = _local(el)
            if tag in NAMED_TASK_TAGS:
                assert el.get("name"), el.get("id")
                name_en = _properties(el).get("name_en")
                assert name_en and name_en.isascii(), f"{el.get('id')}: name_en"
            if tag in NAMED_TASK_TAGS | {"startEvent", "endEvent"}:
                assert any(ord(ch) > 0x2E7F for ch in el.get("name") or ""), f"{el.get('id')}: Chinese name"


@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.name)
def test_form_fields_follow_the_dialect(path):
    root = _parse(path)
    for task in root.iter("{%s}userTask" % NS["bpmn"]):
        tid = task.get("id")
        assert task.get("{%s}formKey" % NS["camunda"]) == tid
        fields = task.findall("bpmn:extensionElements/camunda:formData/camunda:formField", NS)
        assert fields, tid
        ids = [f.get("id") for f in fields]
        assert len(ids) == len(set(ids)), f"{tid}: duplicate field"
        for field in fields:
            fid, ftype = field.get("id"), field.get("type")
            where = f"{tid}.{fid}"
            assert fid.isidentifier() and fid.isascii() and not fid.startswith("_"), where
            assert not keyword.iskeyword(fid) and fid not in RESERVED_NAMES, where
            assert ftype in FIELD_TYPES, where
            assert field.get("label"), where
            props = {p.get("id"): p.get("value")
                     for p in field.findall("camunda:properties/camunda:property", NS)}
            for c in field.findall("camunda:validation/camunda:constraint", NS):
                assert c.get("name") in CONSTRAINTS, where
            values = field.findall("camunda:value", NS)
            if ftype == "enum":
                assert values and all(v.get("id") and v.get("name") for v in values), where
            else:
                assert not values, where
            if ftype == "user":
                assert props.get("role") in ROLE_LABELS, where
                assert set(props) <= {"role", "not_by", "validate", "validate_message"}, where
        props = _properties(task)
        assert set(props) <= {"name_en", "assignee", "due", "av_required", "not_by", "return_comment", "shows"}, tid
        if "return_comment" in props:  # the comment a task that sends the case back gives as its reason
            assert props["return_comment"] in ids, f"{tid}: return_comment names no field of the form"
        if "av_required" in props:
            assert props["av_required"] == "true"
            assert any(f.get("type") == "file" for f in fields), f"{tid}: AV task without a file field"


@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.name)
def test_expressions_are_restricted_python(path):
    root = _parse(path)
    for process in root.findall("bpmn:process", NS):
        for where, mode, text in _expressions(process):
            assert text.strip(), where
            _check_restricted(where, mode, text)


@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.name)
def test_timers_use_deadline_settings(path):
    root = _parse(path)
    for timer in root.iter("{%s}timerEventDefinition" % NS["bpmn"]):
        exprs = [el.text or "" for el in timer if isinstance(el.tag, str)]
        assert exprs, timer.getparent().get("id")
        for text in exprs:
            assert "deadline(" in text, f"{timer.getparent().get('id')}: {text}"


@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.name)
def test_gateways_route_every_case(path):
    root = _parse(path)
    for process in root.findall("bpmn:process", NS):
        flows = process.findall("bpmn:sequenceFlow", NS)
        for gw in process.findall("bpmn:exclusiveGateway", NS):
            out = [f for f in flows if f.get("sourceRef") == gw.get("id")]
            if len(out) < 2:
                continue
            default = gw.get("default")
            assert default in {f.get("id") for f in out}, f"{gw.get('id')}: no default flow"
            for f in out:
                has_condition = f.find("bpmn:conditionExpression", NS) is not None
                assert has_condition != (f.get("id") == default), f.get("id")


# --------------------------------------------------------------------------- diagram
# The committed diagrams are the designers': a shape moved in a modeler is theirs to place. What every
# diagram must keep is completeness (a shape for every node and lane, an edge for every flow), nodes
# inside the lanes they belong to, and no node hiding another. The tidiness of `sanxiang layout`'s own
# output (orthogonal flows ending on the shapes, labels clear of everything) is checked on what the
# tool produces, not on the files.

@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.name)
def test_diagram_shows_every_node_in_its_lane_and_every_flow(path):
    _check_complete(_parse(path))


@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.name)
def test_layout_tool_draws_a_tidy_diagram_of_each_model(path):
    from workflows.design.layout import layout_tree

    root = _parse(path)
    before = etree.tostring(root)
    first = layout_tree(root)
    assert etree.tostring(root) == before, "layout_tree changed its input"
    _check_complete(first)
    _check_tidy(first)
    second = layout_tree(first)
    assert etree.tostring(second) == etree.tostring(first), "layout is not deterministic"


def _plane(root, process):
    pid = process.get("id")
    planes = [p for p in root.iter("{%s}BPMNPlane" % NS["bpmndi"]) if p.get("bpmnElement") == pid]
    assert len(planes) == 1, f"{pid}: {len(planes)} diagrams"
    plane = planes[0]
    shapes = {s.get("bpmnElement"): s for s in plane.findall("bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in plane.findall("bpmndi:BPMNEdge", NS)}
    return shapes, edges


def _check_complete(root):
    for process in root.findall("bpmn:process", NS):
        shapes, edges = _plane(root, process)
        nodes = _flow_nodes(process)
        flows = process.findall("bpmn:sequenceFlow", NS)
        lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)

        for el in nodes + lanes:
            assert el.get("id") in shapes, f"no shape for {el.get('id')}"
        for f in flows:
            assert f.get("id") in edges, f"no edge for {f.get('id')}"
            assert len(edges[f.get("id")].findall("di:waypoint", NS)) >= 2, f"{f.get('id')}: edge without a line"

        rect = {nid: _bounds(s) for nid, s in shapes.items()}
        lane_of = {ref.text: lane.get("id") for lane in lanes
                   for ref in lane.findall("bpmn:flowNodeRef", NS)}
        for el in nodes:
            nid = el.get("id")
            assert _inside(rect[nid], rect[lane_of[nid]]), f"{nid} outside its lane {lane_of[nid]}"

        host = {el.get("id"): el.get("attachedToRef") for el in nodes if el.get("attachedToRef")}
        ids = [el.get("id") for el in nodes]
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                if host.get(a) == b or host.get(b) == a:
                    continue  # a boundary event sits on its host's border
                assert not _overlap(rect[a], rect[b]), f"{a} overlaps {b}"


def _check_tidy(root):
    for process in root.findall("bpmn:process", NS):
        shapes, edges = _plane(root, process)
        nodes = _flow_nodes(process)
        flows = process.findall("bpmn:sequenceFlow", NS)
        rect = {nid: _bounds(s) for nid, s in shapes.items()}
        ids = [el.get("id") for el in nodes]
        for el in nodes:
            if el.get("attachedToRef"):
                bid, hid = el.get("id"), el.get("attachedToRef")
                centre = ((rect[bid][0] + rect[bid][2]) / 2, (rect[bid][1] + rect[bid][3]) / 2)
                assert _on_border(centre, rect[hid]), f"{bid} not on the border of {hid}"

        labels = []
        for nid, shape in shapes.items():
            label = shape.find("bpmndi:BPMNLabel", NS)
            if label is not None:
                labels.append((nid, _bounds(label)))
        for f in flows:
            edge = edges[f.get("id")]
            points = [(float(w.get("x")), float(w.get("y"))) for w in edge.findall("di:waypoint", NS)]
            for a, b in zip(points, points[1:]):
                assert a[0] == b[0] or a[1] == b[1], f"{f.get('id')} is not orthogonal"
            assert _on_border(points[0], rect[f.get("sourceRef")]), f"{f.get('id')} start"
            assert _on_border(points[-1], rect[f.get("targetRef")]), f"{f.get('id')} end"
            label = edge.find("bpmndi:BPMNLabel", NS)
            if f.get("name"):
                assert label is not None, f"{f.get('id')}: unplaced label"
            if label is not None:
                labels.append((f.get("id"), _bounds(label)))
        for i, (a, ra) in enumerate(labels):
            for b, rb in labels[i + 1:]:
                assert not _overlap(ra, rb), f"label of {a} overlaps label of {b}"
            for nid in ids:
                assert not _overlap(ra, rect[nid]), f"label of {a} overlaps {nid}"


def test_a_designers_moved_shape_keeps_the_diagram_valid():
    """Moving a task within its lane, as in a modeler, leaves flows bent and labels where they were:
    the checks of the committed files still pass; a task dragged out of its lane or onto another does not."""
    root = _parse(MODEL_DIR / "case_filing.bpmn")
    process = root.find("bpmn:process", NS)
    shapes, _ = _plane(root, process)
    bounds = shapes["approve_filing_agency"].find("dc:Bounds", NS)
    bounds.set("x", str(float(bounds.get("x")) + 7.5))
    bounds.set("y", str(float(bounds.get("y")) + 3))
    _check_complete(root)
    x, y = bounds.get("x"), bounds.get("y")
    lane = _bounds(shapes["lane_agency_head"])
    bounds.set("y", str(lane[3] + 10))
    with pytest.raises(AssertionError, match="outside its lane"):
        _check_complete(root)
    other = shapes["open_case"].find("dc:Bounds", NS)
    bounds.set("x", other.get("x"))
    bounds.set("y", other.get("y"))
    with pytest.raises(AssertionError, match="overlaps"):
        _check_complete(root)
    bounds.set("x", x)
    bounds.set("y", y)
    _check_complete(root)


# --------------------------------------------------------------------------- decisions

@pytest.mark.parametrize("path", DMN_FILES, ids=lambda p: p.name)
def test_decision_tables_end_with_a_catch_all(path):
    root = _parse(path)
    tables = list(root.iter("{%s}decisionTable" % NS["dmn"]))
    assert tables
    for table in tables:
        rules = table.findall("dmn:rule", NS)
        assert rules, table.get("id")
        for entry in rules[-1].findall("dmn:inputEntry", NS):
            text = (entry.findtext("dmn:text", default="", namespaces=NS) or "").strip()
            assert text in ("", "-"), f"{table.get('id')}: last rule is not a catch-all"
        for rule in rules:
            for entry in rule.findall("dmn:inputEntry", NS):
                text = (entry.findtext("dmn:text", default="", namespaces=NS) or "").strip()
                assert ".." not in text, f"{rule.get('id')}: FEEL range, use a Python comparison"
        for where, mode, text in _dmn_expressions(root):
            _check_restricted(where, mode, text)


def test_business_rule_tasks_reference_existing_decisions():
    decisions = {d.get("id") for p in DMN_FILES for d in _parse(p).iter("{%s}decision" % NS["dmn"])}
    for path, _, process in _processes():
        for task in process.findall("bpmn:businessRuleTask", NS):
            assert task.get("{%s}decisionRef" % NS["camunda"]) in decisions, task.get("id")


def test_separation_of_duties_names_tasks_and_roles_that_exist():
    tasks = {t.get("id") for path in BPMN_FILES for t in _parse(path).iter("{%s}userTask" % NS["bpmn"])}
    declared = [(p.get("value"), path.name) for path in BPMN_FILES for p in _parse(path).iter("{%s}property" % NS["camunda"])
                if "not_by" in (p.get("name"), p.get("id"))]
    assert declared
    for value, where in declared:
        named, roles = duties.parse(value)
        assert named <= tasks and roles <= set(ROLE_LABELS), (where, value)


BACK_EDGES = [(path.name, process.get("id"), edge, reason) for path, _, process in _processes()
              for edge, reason in back_edges(process).items()]


@pytest.mark.parametrize("model, process, edge, reason", BACK_EDGES, ids=lambda v: "→".join(v) if isinstance(v, tuple) else str(v))
def test_every_way_back_says_why_and_who_decided(model, process, edge, reason):
    """A case sent back to an earlier task is never silent: the back-edge has a name the reopened
    task shows, and a person's form that sends it back gives its comment field (``return_comment``)."""
    assert reason, f"{model}: {edge[0]} → {edge[1]} has no name to show as the reason"
    root = etree.parse(str(MODEL_DIR / model)).getroot()
    [proc] = [p for p in root.iter("{%s}process" % NS["bpmn"]) if p.get("id") == process]
    nodes = {el.get("id"): el for el in proc if isinstance(el.tag, str)}
    incoming = {}
    for flow in proc.iterfind("bpmn:sequenceFlow", NS):
        incoming.setdefault(flow.get("targetRef"), []).append(flow.get("sourceRef"))
    node = edge[0]
    while node in nodes and _local(nodes[node]) != "userTask" and len(incoming.get(node, [])) == 1:
        node = incoming[node][0]
    decider = nodes.get(node)
    if decider is None or _local(decider) != "userTask":
        return  # a rule sends it back (a timer, a sum still owed): the name is the reason
    comments = [f for f in decider.iterfind(".//camunda:formField", NS) if f.get("type") == "textarea"
                and any(word in f.get("label", "") for word in ("意见", "说明", "理由"))]
    if comments and edge[1] != node:  # a person sends it elsewhere: their comment goes with it
        assert _properties(decider).get("return_comment") in {f.get("id") for f in comments}, node
