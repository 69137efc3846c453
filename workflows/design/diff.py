"""What changed between two versions of a model set, element by element.

:func:`diff` compares two sets ``{filename: content}`` (or two versions of one file, as bytes) and
returns, per file, the elements and sequence flows added, removed and changed; a changed element
names each change in a sentence (Chinese, translatable: :class:`~workflows.core.messages.Message`):
its name or label, form fields (added, removed, and each field's type, label, default, constraints,
options and properties), script, timers, event definitions, condition, default flow, flow ends,
documentation, extension properties, lane, called process or decision, other attributes. DMN files
compare decisions (hit policy, inputs, outputs) and rules by id, cell by cell.

An element is matched by id within its file; one that left a file and appears in another (a process
split into called processes keeps its task ids) is reported once, as changed in the new file ("moved").
Files are parsed by :mod:`workflows.engine.xmlsafe`: a file it refuses is reported as refused, with
the reason, and nothing of it is read.
"""
from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field
from typing import Any

from lxml import etree

from workflows.core.messages import Message
from workflows.engine import xmlsafe
from workflows.engine.parsing import BPMN, CAMUNDA, is_dmn

NONE = Message("（无）")

KIND_LABELS = {
    "process": Message("流程"), "collaboration": Message("协作"), "participant": Message("参与者"),
    "messageFlow": Message("消息流"), "lane": Message("泳道"), "sequenceFlow": Message("连线"),
    "userTask": Message("用户任务"), "scriptTask": Message("脚本任务"), "serviceTask": Message("服务任务"),
    "businessRuleTask": Message("业务规则任务"), "manualTask": Message("人工任务"), "sendTask": Message("发送任务"),
    "receiveTask": Message("接收任务"), "task": Message("任务"), "callActivity": Message("调用活动"),
    "subProcess": Message("子流程"), "transaction": Message("事务子流程"), "adHocSubProcess": Message("自由子流程"),
    "startEvent": Message("开始事件"), "endEvent": Message("结束事件"),
    "intermediateCatchEvent": Message("中间捕获事件"), "intermediateThrowEvent": Message("中间抛出事件"),
    "boundaryEvent": Message("边界事件"), "exclusiveGateway": Message("排他网关"),
    "parallelGateway": Message("并行网关"), "inclusiveGateway": Message("包容网关"),
    "eventBasedGateway": Message("事件网关"), "complexGateway": Message("复杂网关"), "message": Message("消息"),
    "signal": Message("信号"), "error": Message("错误"), "escalation": Message("升级"),
    "textAnnotation": Message("注释"), "association": Message("关联"), "dataObject": Message("数据对象"),
    "dataObjectReference": Message("数据对象引用"), "dataStoreReference": Message("数据存储引用"),
    "decision": Message("决策"), "rule": Message("规则"), "inputData": Message("输入数据"),
    "knowledgeSource": Message("知识来源"), "businessKnowledgeModel": Message("业务知识模型"),
}

# BPMN elements whose children with an id are elements of their own (a lane set is looked through)
_CONTAINERS = {"definitions", "process", "subProcess", "transaction", "adHocSubProcess", "collaboration",
               "laneSet", "childLaneSet", "lane"}
_LOOKED_THROUGH = {"laneSet", "childLaneSet"}
_PROCESSES = {"process", "subProcess", "transaction", "adHocSubProcess"}
_TIMER_PARTS = ("timeDate", "timeDuration", "timeCycle")
# children compared by an aspect of their own (or not at all: incoming/outgoing repeat the flows)
_HANDLED_CHILDREN = {"documentation", "extensionElements", "script", "conditionExpression", "incoming", "outgoing",
                     "flowNodeRef", "childLaneSet", "laneSet"}
_HANDLED_ATTRIBUTES = {"id", "name", "default", "calledElement", "sourceRef", "targetRef",
                       CAMUNDA + "decisionRef", CAMUNDA + "formKey"}


# --- results -----------------------------------------------------------------------------------

@dataclass
class Change:
    """One change of an element: ``aspect`` (name, type, form, script, timer, event, condition, default,
    ends, documentation, properties, lane, called, attribute, extensions, other, moved, process, hit_policy,
    input, output, cell, order), the sentence, and the old and new values where they are short."""

    aspect: str
    description: str
    old: str | None = None
    new: str | None = None


@dataclass
class ElementDiff:
    id: str
    kind: str  # the BPMN/DMN element name: userTask, sequenceFlow, rule …
    kind_label: str  # 用户任务, 连线, 规则 …
    name: str
    process: str | None  # the process (BPMN) or decision (DMN rule) holding it
    status: str  # added, removed, changed
    changes: list[Change]

    @property
    def descriptions(self) -> list[str]:
        return [c.description for c in self.changes]


@dataclass
class FileDiff:
    file: str
    status: str  # added, removed, changed, unchanged, refused
    elements: list[ElementDiff] = field(default_factory=list)
    error: str | None = None  # why a file was refused (old or new version)

    def ids(self, status: str) -> list[str]:
        return [e.id for e in self.elements if e.status == status]


@dataclass
class ModelDiff:
    files: list[FileDiff]

    @property
    def empty(self) -> bool:
        return all(f.status == "unchanged" for f in self.files)

    def file(self, name: str) -> FileDiff:
        return next(f for f in self.files if f.file == name)

    def markers(self) -> dict[str, dict[str, dict[str, list[str]]]]:
        """Per file: ``{"added"|"removed"|"changed": {element id: [change sentences]}}``, for a diagram."""
        out = {}
        for f in self.files:
            marks: dict[str, dict[str, list[str]]] = {"added": {}, "removed": {}, "changed": {}}
            for e in f.elements:
                marks[e.status][e.id] = [str(d) for d in e.descriptions]
            out[f.file] = marks
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"files": [asdict(f) for f in self.files], "markers": self.markers(), "empty": self.empty}


# --- comparing ---------------------------------------------------------------------------------

def diff(old_files: dict[str, bytes] | bytes, new_files: dict[str, bytes] | bytes) -> ModelDiff:
    """The element-level differences from ``old_files`` to ``new_files`` (sets, or one file's versions)."""
    if isinstance(old_files, bytes) or isinstance(new_files, bytes):
        old_files, new_files = _as_set(old_files), _as_set(new_files)
    old, new, refused = {}, {}, {}
    for side, files in ((old, old_files), (new, new_files)):
        for name, content in files.items():
            try:
                side[name] = _read(xmlsafe.parse(content))
            except xmlsafe.UnsafeXml as exc:
                refused[name] = str(exc)
    results: dict[str, FileDiff] = {}
    for name in sorted(set(old_files) | set(new_files)):
        if name in refused:
            results[name] = FileDiff(name, "refused", error=refused[name])
        elif name not in old:
            results[name] = FileDiff(name, "added", [_whole(e, "added") for e in new[name].values()])
        elif name not in new:
            results[name] = FileDiff(name, "removed", [_whole(e, "removed") for e in old[name].values()])
        else:
            elements = _compare(old[name], new[name])
            results[name] = FileDiff(name, "changed" if elements else "unchanged", elements)
    _pair_moves(results, old, new)
    return ModelDiff(list(results.values()))


def _as_set(files: dict[str, bytes] | bytes) -> dict[str, bytes]:
    return {"model": files} if isinstance(files, bytes) else files


@dataclass
class _Element:
    id: str
    kind: str
    name: str
    process: str | None
    aspects: dict[str, Any]


def _whole(e: _Element, status: str) -> ElementDiff:
    label = _kind_label(e.kind)
    if status == "added":
        text = Message("新增%(kind)s“%(name)s”", kind=label, name=e.name or e.id)
    else:
        text = Message("删除%(kind)s“%(name)s”", kind=label, name=e.name or e.id)
    ends = e.aspects.get("ends")
    if ends and e.kind in ("sequenceFlow", "messageFlow"):
        text = Message("%(text)s（%(source)s → %(target)s）", text=text, source=ends[0], target=ends[1])
    return ElementDiff(e.id, e.kind, label, e.name, e.process, status, [Change(status, text)])


def _compare(old: dict[str, _Element], new: dict[str, _Element]) -> list[ElementDiff]:
    out = []
    for key, e in new.items():
        if key not in old:
            out.append(_whole(e, "added"))
            continue
        changes = _changes(old[key], e)
        if changes:
            out.append(ElementDiff(e.id, e.kind, _kind_label(e.kind), e.name, e.process, "changed", changes))
    out.extend(_whole(e, "removed") for key, e in old.items() if key not in new)
    _reordered(old, new, out)
    return out


def _pair_moves(results: dict[str, FileDiff], old: dict, new: dict) -> None:
    """An element removed from one file and added to another with the same id and kind moved there."""
    removed: dict[tuple[str, str], list[FileDiff]] = {}
    for f in results.values():
        for e in f.elements:
            if e.status == "removed":
                removed.setdefault((e.id, e.kind), []).append(f)
    for f in results.values():
        for i, e in enumerate(f.elements):
            sources = [s for s in removed.get((e.id, e.kind), []) if s is not f] if e.status == "added" else None
            if not sources:
                continue
            source = sources[0]
            removed[(e.id, e.kind)].remove(source)
            before, after = old[source.file][e.id], new[f.file][e.id]
            moved = Change("moved", Message("从%(file)s移入（流程%(old)s → %(new)s）", file=source.file,
                                            old=before.process or NONE, new=after.process or NONE),
                           source.file, f.file)
            f.elements[i] = ElementDiff(e.id, e.kind, e.kind_label, e.name, e.process, "changed",
                                        [moved, *_changes(before, after, moved=True)])
            source.elements = [x for x in source.elements if not (x.id == e.id and x.status == "removed")]
    for f in results.values():
        if f.status == "changed" and not f.elements:
            f.status = "unchanged"


# --- reading a file ----------------------------------------------------------------------------

def _read(root: etree._Element) -> dict[str, _Element]:
    return _read_dmn(root) if is_dmn(root) else _read_bpmn(root)


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _text(el: etree._Element | None) -> str:
    if el is None:
        return ""
    return "\n".join(line.rstrip() for line in (el.text or "").strip().replace("\r\n", "\n").splitlines())


def _read_bpmn(root: etree._Element) -> dict[str, _Element]:
    lanes = {}
    for lane in root.iter(BPMN + "lane"):
        for ref in lane.findall(BPMN + "flowNodeRef"):
            if ref.text:
                lanes[ref.text.strip()] = lane.get("name") or lane.get("id")
    out: dict[str, _Element] = {}

    def walk(parent: etree._Element, process: str | None) -> None:
        for el in parent:
            if not isinstance(el.tag, str) or etree.QName(el).namespace != BPMN[1:-1]:
                continue
            local = _local(el)
            if local in _LOOKED_THROUGH:
                walk(el, process)
                continue
            if not el.get("id"):
                continue
            out[el.get("id")] = _Element(el.get("id"), local, el.get("name") or "", process,
                                         _bpmn_aspects(el, lanes))
            if local in _CONTAINERS:
                walk(el, el.get("id") if local == "process" else process)

    walk(root, None)
    return out


def _bpmn_aspects(el: etree._Element, lanes: dict[str, str]) -> dict[str, Any]:
    local = _local(el)
    ext = el.find(BPMN + "extensionElements")
    aspects: dict[str, Any] = {
        "name": el.get("name") or "",
        "documentation": "\n\n".join(_text(d) for d in el.findall(BPMN + "documentation")),
        "properties": _properties(ext),
        "form": _form(ext),
        "extensions": _canonical([c for c in (ext if ext is not None else []) if isinstance(c.tag, str)
                                  and c.tag not in (CAMUNDA + "formData", CAMUNDA + "properties")]),
        "attributes": {_attr_name(k): v for k, v in el.attrib.items() if k not in _HANDLED_ATTRIBUTES},
        "default": el.get("default") or "",
        "called": el.get("calledElement") or el.get(CAMUNDA + "decisionRef") or "",
    }
    if local not in ("process", "lane", "participant", "collaboration"):
        aspects["lane"] = lanes.get(el.get("id"), "")
    if local in _CONTAINERS or local in ("participant",):
        aspects["other"] = ""  # its parts are elements of their own
    else:
        aspects["other"] = _canonical([c for c in el if isinstance(c.tag, str) and _local(c) not in _HANDLED_CHILDREN
                                       and not _local(c).endswith("EventDefinition")])
    if local == "scriptTask" or el.find(BPMN + "script") is not None:
        aspects["script"] = _text(el.find(BPMN + "script"))
    if local in ("sequenceFlow", "messageFlow", "association"):
        aspects["ends"] = (el.get("sourceRef") or "", el.get("targetRef") or "")
    if local == "sequenceFlow":
        aspects["condition"] = _text(el.find(BPMN + "conditionExpression"))
    timers, events = [], []
    for definition in el:
        if not isinstance(definition.tag, str) or not _local(definition).endswith("EventDefinition"):
            continue
        if _local(definition) == "timerEventDefinition":
            for part in _TIMER_PARTS:
                found = definition.find(BPMN + part)
                if found is not None:
                    timers.append(f"{part}: {_text(found)}")
        else:
            refs = ", ".join(f"{_attr_name(k)}={v}" for k, v in sorted(definition.attrib.items()) if k != "id")
            events.append(_local(definition) + (f"({refs})" if refs else ""))
    aspects["timer"] = timers
    aspects["event"] = events
    aspects["kind"] = local
    return aspects


def _attr_name(key: str) -> str:
    qname = etree.QName(key)
    return f"camunda:{qname.localname}" if qname.namespace == CAMUNDA[1:-1] else \
        qname.localname if qname.namespace is None else key


def _properties(ext: etree._Element | None) -> dict[str, str]:
    if ext is None:
        return {}
    return {p.get("name") or p.get("id") or "": p.get("value") or ""
            for props in ext.findall(CAMUNDA + "properties") for p in props.findall(CAMUNDA + "property")}


def _form(ext: etree._Element | None) -> dict[str, dict[str, Any]]:
    if ext is None:
        return {}
    fields = {}
    for data in ext.findall(CAMUNDA + "formData"):
        for f in data.findall(CAMUNDA + "formField"):
            fields[f.get("id") or ""] = {
                "type": f.get("type") or "", "label": f.get("label") or "", "default": f.get("defaultValue"),
                "constraints": {c.get("name") or "": c.get("config") or "" for c in f.iter(CAMUNDA + "constraint")},
                "values": {v.get("id") or "": v.get("name") or "" for v in f.findall(CAMUNDA + "value")},
                "properties": {p.get("id") or p.get("name") or "": p.get("value") or ""
                               for p in f.iter(CAMUNDA + "property")},
            }
    return fields


def _canonical(elements: list[etree._Element]) -> str:
    """A whitespace-insensitive text of some elements, to see whether anything else changed."""
    parts = []
    for el in elements:
        copy = etree.fromstring(etree.tostring(el))
        for node in copy.iter():
            if isinstance(node.tag, str):
                node.text = (node.text or "").strip() or None
                node.tail = None
        parts.append(etree.tostring(copy, method="c14n").decode())
    return "".join(parts)


def _read_dmn(root: etree._Element) -> dict[str, _Element]:
    ns = "{%s}" % etree.QName(root).namespace
    out: dict[str, _Element] = {}
    for el in root:
        if not isinstance(el.tag, str) or not el.get("id") or etree.QName(el).namespace != ns[1:-1]:
            continue
        local = _local(el)
        table = el.find(ns + "decisionTable")
        inputs = []
        outputs = []
        aspects: dict[str, Any] = {
            "name": el.get("name") or "", "kind": local, "documentation": _text(el.find(ns + "description")),
            "attributes": {_attr_name(k): v for k, v in el.attrib.items() if k not in ("id", "name")},
        }
        if table is not None:
            inputs = [(i.get("id") or f"#{n}", i.get("label") or "", _text(i.find(f"{ns}inputExpression/{ns}text")),
                       i.find(ns + "inputExpression").get("typeRef") if i.find(ns + "inputExpression") is not None
                       else "") for n, i in enumerate(table.findall(ns + "input"))]
            outputs = [(o.get("id") or f"#{n}", o.get("label") or "", o.get("name") or "", o.get("typeRef") or "")
                       for n, o in enumerate(table.findall(ns + "output"))]
            aspects |= {"hit_policy": table.get("hitPolicy") or "UNIQUE", "aggregation": table.get("aggregation") or "",
                        "inputs": inputs, "outputs": outputs}
        literal = el.find(ns + "literalExpression")
        aspects["other"] = _text(literal.find(ns + "text")) if literal is not None else \
            "" if table is not None or local == "decision" else _canonical(list(el))
        out[el.get("id")] = _Element(el.get("id"), local, el.get("name") or "", None, aspects)
        if table is None:
            continue
        for row, rule in enumerate(table.findall(ns + "rule"), start=1):
            cells_in = [_text(e.find(ns + "text")) for e in rule.findall(ns + "inputEntry")]
            cells_out = [_text(e.find(ns + "text")) for e in rule.findall(ns + "outputEntry")]
            rule_id = rule.get("id") or f"{el.get('id')}#{row}"
            out[rule_id] = _Element(rule_id, "rule", _text(rule.find(ns + "description")) or f"#{row}",
                                    el.get("id"), {
                                        "kind": "rule", "row": row,
                                        "documentation": _text(rule.find(ns + "description")),
                                        "cells_in": {inputs[i][0] if i < len(inputs) else f"#{i}": c
                                                     for i, c in enumerate(cells_in)},
                                        "cells_out": {outputs[i][0] if i < len(outputs) else f"#{i}": c
                                                      for i, c in enumerate(cells_out)},
                                        "columns": {i[0]: i[1] or i[2] for i in inputs}
                                        | {o[0]: o[1] or o[2] for o in outputs},
                                    })
    return out


# --- describing changes ------------------------------------------------------------------------

def _kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def _show(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return NONE
    return str(value)


def _changes(old: _Element, new: _Element, moved: bool = False) -> list[Change]:
    a, b = old.aspects, new.aspects
    out: list[Change] = []

    def simple(aspect: str, sentence) -> None:
        if a.get(aspect, "") != b.get(aspect, ""):
            before, after = a.get(aspect) or None, b.get(aspect) or None
            out.append(Change(aspect, sentence(_show(before), _show(after)), before, after))

    if a.get("kind") != b.get("kind"):
        out.append(Change("type", Message("类型：%(old)s → %(new)s", old=_kind_label(a.get("kind")),
                                          new=_kind_label(b.get("kind"))), a.get("kind"), b.get("kind")))
    if old.process != new.process and not moved:
        out.append(Change("process", Message("所属流程：%(old)s → %(new)s", old=_show(old.process),
                                             new=_show(new.process)), old.process, new.process))
    simple("name", lambda x, y: Message("名称：“%(old)s” → “%(new)s”", old=x, new=y))
    if a.get("ends") != b.get("ends"):
        ends_old, ends_new = (" → ".join(x) if x else NONE for x in (a.get("ends"), b.get("ends")))
        out.append(Change("ends", Message("连线端点：%(old)s 改为 %(new)s", old=ends_old, new=ends_new),
                          ends_old, ends_new))
    simple("condition", lambda x, y: Message("条件：%(old)s → %(new)s", old=x, new=y))
    simple("default", lambda x, y: Message("默认路径：%(old)s → %(new)s", old=x, new=y))
    simple("lane", lambda x, y: Message("泳道：%(old)s → %(new)s", old=x, new=y))
    if "businessRuleTask" in (a.get("kind"), b.get("kind")):
        simple("called", lambda x, y: Message("调用的决策：%(old)s → %(new)s", old=x, new=y))
    else:
        simple("called", lambda x, y: Message("调用的流程：%(old)s → %(new)s", old=x, new=y))
    if a.get("script", "") != b.get("script", ""):
        out.append(_text_change("script", Message("脚本"), a.get("script", ""), b.get("script", "")))
    if a.get("timer", []) != b.get("timer", []):
        out.append(Change("timer", Message("计时器：%(old)s → %(new)s", old="; ".join(a.get("timer", [])) or NONE,
                                           new="; ".join(b.get("timer", [])) or NONE),
                          "; ".join(a.get("timer", [])), "; ".join(b.get("timer", []))))
    if a.get("event", []) != b.get("event", []):
        out.append(Change("event", Message("事件定义：%(old)s → %(new)s", old=", ".join(a.get("event", [])) or NONE,
                                           new=", ".join(b.get("event", [])) or NONE)))
    if a.get("documentation", "") != b.get("documentation", ""):
        out.append(_text_change("documentation", Message("说明"), a.get("documentation", ""), b.get("documentation", "")))
    out.extend(_form_changes(a.get("form", {}), b.get("form", {})))
    out.extend(_mapping_changes("properties", Message("扩展属性"), a.get("properties", {}), b.get("properties", {})))
    out.extend(_mapping_changes("attribute", Message("属性"), a.get("attributes", {}), b.get("attributes", {})))
    if a.get("extensions", "") != b.get("extensions", ""):
        out.append(Change("extensions", Message("其他扩展设置已修改")))
    # DMN
    simple("hit_policy", lambda x, y: Message("命中策略：%(old)s → %(new)s", old=x, new=y))
    simple("aggregation", lambda x, y: Message("聚合方式：%(old)s → %(new)s", old=x, new=y))
    out.extend(_columns("input", Message("输入"), a.get("inputs", []), b.get("inputs", []),
                        (Message("标签"), Message("表达式"), Message("类型"))))
    out.extend(_columns("output", Message("输出"), a.get("outputs", []), b.get("outputs", []),
                        (Message("标签"), Message("变量名"), Message("类型"))))
    out.extend(_cells(a, b))
    if a.get("other", "") != b.get("other", ""):
        out.append(Change("other", Message("其他定义已修改")))
    return out


def _text_change(aspect: str, what: str, old: str, new: str) -> Change:
    if not old:
        return Change(aspect, Message("新增%(what)s", what=what), None, new)
    if not new:
        return Change(aspect, Message("删除%(what)s", what=what), old, None)
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0))
    plus = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
    minus = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
    return Change(aspect, Message("%(what)s已修改（+%(plus)s −%(minus)s 行）", what=what, plus=plus, minus=minus),
                  old, new)


_FIELD_PARTS = (("type", Message("类型")), ("label", Message("标签")), ("default", Message("默认值")))


def _form_changes(old: dict[str, dict], new: dict[str, dict]) -> list[Change]:
    out = []
    for fid, f in new.items():
        if fid not in old:
            required = Message("，必填") if f["constraints"].get("required") == "true" else ""
            out.append(Change("form", Message("新增表单字段%(field)s（%(label)s，%(type)s%(required)s）", field=fid,
                                              label=f["label"] or fid, type=f["type"], required=required),
                              None, fid))
            continue
        g = old[fid]
        for part, label in _FIELD_PARTS:
            if g[part] != f[part]:
                out.append(Change("form", Message("表单字段%(field)s：%(part)s %(old)s → %(new)s", field=fid, part=label,
                                                  old=_show(g[part]), new=_show(f[part])),
                                  _show(g[part]), _show(f[part])))
        for name in {**g["constraints"], **f["constraints"]}:
            before, after = g["constraints"].get(name), f["constraints"].get(name)
            if before != after:
                out.append(Change("form", Message("表单字段%(field)s：约束%(name)s %(old)s → %(new)s", field=fid,
                                                  name=name, old=_show(before), new=_show(after)),
                                  before, after))
        for value, name in f["values"].items():
            if value not in g["values"]:
                out.append(Change("form", Message("表单字段%(field)s：新增选项%(value)s（%(name)s）", field=fid,
                                                  value=value, name=name), None, value))
            elif g["values"][value] != name:
                out.append(Change("form", Message("表单字段%(field)s：选项%(value)s的名称“%(old)s” → “%(new)s”",
                                                  field=fid, value=value, old=g["values"][value], new=name),
                                  g["values"][value], name))
        for value, name in g["values"].items():
            if value not in f["values"]:
                out.append(Change("form", Message("表单字段%(field)s：删除选项%(value)s（%(name)s）", field=fid,
                                                  value=value, name=name), value, None))
        if [v for v in g["values"] if v in f["values"]] != [v for v in f["values"] if v in g["values"]]:
            out.append(Change("form", Message("表单字段%(field)s：选项顺序已调整", field=fid)))
        for name in {**g["properties"], **f["properties"]}:
            before, after = g["properties"].get(name), f["properties"].get(name)
            if before != after:
                out.append(Change("form", Message("表单字段%(field)s：属性%(name)s %(old)s → %(new)s", field=fid,
                                                  name=name, old=_show(before), new=_show(after)), before, after))
    for fid, g in old.items():
        if fid not in new:
            out.append(Change("form", Message("删除表单字段%(field)s（%(label)s）", field=fid, label=g["label"] or fid),
                              fid, None))
    if [f for f in old if f in new] != [f for f in new if f in old]:
        out.append(Change("form", Message("表单字段顺序已调整")))
    return out


def _mapping_changes(aspect: str, what: str, old: dict[str, str], new: dict[str, str]) -> list[Change]:
    out = []
    for key in {**old, **new}:
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if before is None:
            text = Message("新增%(what)s%(key)s = %(new)s", what=what, key=key, new=after)
        elif after is None:
            text = Message("删除%(what)s%(key)s（原为 %(old)s）", what=what, key=key, old=before)
        else:
            text = Message("%(what)s%(key)s：%(old)s → %(new)s", what=what, key=key, old=_show(before), new=_show(after))
        out.append(Change(aspect, text, before, after))
    return out


def _columns(aspect: str, what: str, old: list[tuple], new: list[tuple], parts: tuple[str, ...]) -> list[Change]:
    out = []
    before = {c[0]: c for c in old}
    after = {c[0]: c for c in new}
    for cid, column in after.items():
        if cid not in before:
            out.append(Change(aspect, Message("新增%(what)s列“%(label)s”", what=what,
                                              label=column[1] or column[2] or cid)))
            continue
        for label, x, y in zip(parts, before[cid][1:], column[1:]):
            if x != y:
                out.append(Change(aspect, Message("%(what)s列“%(column)s”的%(part)s：%(old)s → %(new)s", what=what,
                                                  column=column[1] or cid, part=label, old=_show(x), new=_show(y)),
                                  x, y))
    for cid, column in before.items():
        if cid not in after:
            out.append(Change(aspect, Message("删除%(what)s列“%(label)s”", what=what,
                                              label=column[1] or column[2] or cid)))
    if [c for c in before if c in after] != [c for c in after if c in before]:
        out.append(Change(aspect, Message("%(what)s列顺序已调整", what=what)))
    return out


def _cells(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    out = []
    columns = {**a.get("columns", {}), **b.get("columns", {})}
    for side, what in (("cells_in", Message("输入")), ("cells_out", Message("输出"))):
        before, after = a.get(side, {}), b.get(side, {})
        for cid in list(dict.fromkeys([*before, *after])):
            x, y = before.get(cid), after.get(cid)
            if x != y:
                out.append(Change("cell", Message("%(what)s“%(column)s”：%(old)s → %(new)s", what=what,
                                                  column=columns.get(cid, cid), old=_show(x), new=_show(y)), x, y))
    return out


def _reordered(old: dict[str, _Element], new: dict[str, _Element], out: list[ElementDiff]) -> None:
    """DMN rules whose place among the rules both versions have changed (the first hit wins)."""
    for decision in dict.fromkeys(e.process for e in new.values() if e.kind == "rule"):
        before = [e.id for e in old.values() if e.kind == "rule" and e.process == decision and e.id in new]
        after = [e.id for e in new.values() if e.kind == "rule" and e.process == decision and e.id in old]
        matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
        kept = {after[j + k] for _, j, size in matcher.get_matching_blocks() for k in range(size)}
        for rid in after:
            if rid in kept:
                continue
            change = Change("order", Message("规则顺序：第%(old)s行 → 第%(new)s行", old=old[rid].aspects["row"],
                                             new=new[rid].aspects["row"]),
                            str(old[rid].aspects["row"]), str(new[rid].aspects["row"]))
            reported = next((d for d in out if d.id == rid and d.status == "changed"), None)
            if reported is not None:
                reported.changes.append(change)
            else:
                e = new[rid]
                out.append(ElementDiff(rid, "rule", _kind_label("rule"), e.name, e.process, "changed", [change]))
