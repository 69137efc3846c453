"""Back-edges of a process: the flows that send a case back to an earlier element on purpose (a
review returns the report, an instalment is still owed). Each carries its reason: the flow's name,
or the name of the gateway's flow that leads into the unnamed step before it.

Found by depth-first search from the start events: a flow to an element still on the search path
goes back. Computed once per parsed model and kept on the process spec, so the engine can tell, when
a case passes such a flow, that the task it reopens must say who sent it back and why.
"""
from __future__ import annotations

from lxml import etree

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def back_edges(process: etree._Element) -> dict[tuple[str, str], str]:
    """(source id, target id) → reason of every back-edge of ``process`` ('' when nothing names it)."""
    flows = [(f.get("sourceRef"), f.get("targetRef"), (f.get("name") or "").strip())
             for f in process.iter(BPMN + "sequenceFlow")]
    outgoing: dict[str, list[tuple[str, str]]] = {}
    incoming: dict[str, list[tuple[str, str]]] = {}
    for source, target, name in flows:
        outgoing.setdefault(source, []).append((target, name))
        incoming.setdefault(target, []).append((source, name))
    kinds = {el.get("id"): etree.QName(el).localname for el in process if isinstance(el.tag, str)}
    starts = [i for i, kind in kinds.items() if kind == "startEvent"]
    found: dict[tuple[str, str], str] = {}
    state: dict[str, int] = {}  # 1 on the path, 2 done
    for start in starts:
        stack = [(start, iter(outgoing.get(start, [])))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                continue
            target, name = child
            if state.get(target) == 1:
                found[(node, target)] = name or _name_into(node, incoming, kinds)
            elif target not in state:
                state[target] = 1
                stack.append((target, iter(outgoing.get(target, []))))
    return found


def _name_into(node: str, incoming: dict[str, list[tuple[str, str]]], kinds: dict[str, str]) -> str:
    """An unnamed back-edge leaving a step (a script recomputing a clock): the name of the one
    named flow that leads into that step."""
    names = [name for source, name in incoming.get(node, []) if name]
    return names[0] if len(names) == 1 and kinds.get(node) != "userTask" else ""
