"""Validation of a model set: everything that would otherwise fail only on a live case.

Each problem is one line naming the file, the element id and the line. Nothing here runs diagram
code: scripts, conditions and DMN cells are only compiled in the sandbox.
"""
from __future__ import annotations

import ast
import keyword
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from workflows.engine import xmlsafe
from workflows.domain.forms import FIELD_TYPES, FORMATS
from workflows.engine.parsing import BPMN, CAMUNDA, build_parser, is_dmn
from workflows.core import contract
from workflows.core.roles import ROLE_BY_LANE
from workflows.core.settings import limits
from workflows.engine.sandbox import HELPER_NAMES, check_source, literal_value

IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
ISO_DURATION = re.compile(r"R?\d*/?P(?!\Z)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?\Z")
DEADLINE_HELPERS = {"deadline"}
CONSTRAINTS = {"required", "min", "max", "minlength", "maxlength", "readonly"}


@dataclass(frozen=True)
class Problem:
    file: str
    element: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line or '-'}: {self.element or '-'}: {self.message}"


def validate(files: dict[str, bytes]) -> list[Problem]:
    """Every problem in the set ``{filename: content}``; empty means it may be deployed."""
    problems: list[Problem] = []
    roots: dict[str, etree._Element] = {}
    for name, content in sorted(files.items()):
        try:
            roots[name] = xmlsafe.parse(content)
        except xmlsafe.UnsafeXml as exc:
            problems.append(Problem(name, "", exc.line, str(exc)))
    for name, root in roots.items():
        problems.extend(_duplicate_ids(name, root))
        problems.extend(_lint_dmn(name, root) if is_dmn(root) else _lint_bpmn(name, root))
    problems.extend(_set_problems(roots))
    if problems:
        return problems
    return _check_with_engine_parser(roots)


def _check_with_engine_parser(roots: dict[str, etree._Element]) -> list[Problem]:
    """Let SpiffWorkflow build every executable process; any exception becomes a problem line."""
    try:
        parser = build_parser(roots)
        for process_id in parser.get_process_ids():
            parser.get_spec(process_id)
            parser.get_subprocess_specs(process_id)
    except Exception as exc:  # the parser raises many kinds; none may escape as a traceback
        return [Problem(getattr(exc, "file_name", "") or "", getattr(exc, "id", "") or "",
                        getattr(exc, "line_number", None) or None, _one_line(exc))]
    return []


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def _lint_bpmn(name: str, root: etree._Element) -> list[Problem]:
    problems: list[Problem] = []

    def problem(el: etree._Element, message: str) -> None:
        problems.append(Problem(name, el.get("id", ""), el.sourceline, message))

    if etree.QName(root).localname != "definitions":
        return [Problem(name, "", root.sourceline, "not a BPMN or DMN definitions document")]
    for process in root.iter(BPMN + "process"):
        lanes = {ref.text.strip(): lane.get("name", "") for lane in process.iter(BPMN + "lane")
                 for ref in lane.iter(BPMN + "flowNodeRef") if ref.text}
        for task in process.iter(BPMN + "userTask"):
            lane = lanes.get(task.get("id", ""))
            if lane is None:
                problem(task, "user task is in no lane; put it in the lane of the role that does it")
            elif lane not in ROLE_BY_LANE:
                problem(task, f"lane {lane!r} is not a role id or a role's Chinese label")
            for field in task.iter(CAMUNDA + "formField"):
                for message in _field_problems(field):
                    problem(field, message)
            comment = next((p.get("value") for p in task.iter(CAMUNDA + "property")
                            if p.get("name") == "return_comment"), None)
            if comment is not None and comment not in {f.get("id") for f in task.iter(CAMUNDA + "formField")}:
                problem(task, f"return_comment {comment!r} is not a field of this task's form")
        hook = process.find(f".//*[@id='{contract.DISCLOSURE_HOOK}']")
        if hook is not None and etree.QName(hook).localname != "scriptTask":
            problem(hook, f"{contract.DISCLOSURE_HOOK!r} is the engine's disclosure hook: it must be a script task")
        hook = process.find(f".//*[@id='{contract.REPORT_HOOK}']")
        if hook is not None and etree.QName(hook).localname != "scriptTask":
            problem(hook, f"{contract.REPORT_HOOK!r} is the engine's annual-report hook: it must be a script task")
        for el in process.iter():
            if not isinstance(el.tag, str):
                continue
            local = etree.QName(el).localname
            if local == "script" and el.text and el.text.strip():
                for message in check_source(el.text, "exec"):
                    problem(el.getparent(), f"script: {message}")
            elif local == "conditionExpression" and el.text and el.text.strip():
                for message in check_source(el.text.strip(), "eval"):
                    problem(el.getparent(), f"condition: {message}")
            elif local in ("timeDuration", "timeDate", "timeCycle"):
                for message in _timer_problems(el.text or "", local):
                    problem(el.getparent().getparent(), message)
            elif local in ("loopCardinality", "completionCondition", "loopCondition", "condition") \
                    and el.text and el.text.strip():
                owner = el.getparent() if local == "condition" else el.getparent().getparent()
                for message in _expression_problems(el.text.strip(), local):
                    problem(owner, message)
            elif local == "standardLoopCharacteristics" and el.get("loopMaximum"):
                for message in _expression_problems(el.get("loopMaximum"), "loopMaximum"):
                    problem(el.getparent(), message)
            elif local == "messageEventDefinition" and el.get(CAMUNDA + "expression"):
                for message in check_source(el.get(CAMUNDA + "expression"), "eval"):
                    problem(el.getparent(), f"message expression: {message}")
            elif local == "property" and el.getparent().tag == CAMUNDA + "properties" \
                    and el.get("name") in ("assignee", "due"):
                for message in check_source(el.get("value", ""), "eval"):
                    problem(el.getparent().getparent().getparent(), f"{el.get('name')}: {message}")
    return problems


def _field_problems(field: etree._Element) -> list[str]:
    fid, ftype = field.get("id", ""), field.get("type", "")
    out = []
    if not IDENTIFIER.match(fid) or keyword.iskeyword(fid):
        out.append(f"form field id {fid!r} is not a plain identifier (letters, digits, _; no leading _)")
    elif fid in HELPER_NAMES:
        out.append(f"form field id {fid!r} shadows the script helper of that name")
    if ftype not in FIELD_TYPES:
        out.append(f"form field {fid!r} has unknown type {ftype!r} (known: {', '.join(FIELD_TYPES)})")
    readonly = any(c.get("name") == "readonly" and c.get("config") == "true" for c in field.iter(CAMUNDA + "constraint"))
    if fid in contract.START_KEYS and not readonly:
        out.append(f"form field {fid!r} is set by the engine when a case starts: make it readonly or rename it")
    if ftype == "enum" and not field.findall(CAMUNDA + "value"):
        out.append(f"enum field {fid!r} has no values")
    props = {p.get("id"): p.get("value") for p in field.iter(CAMUNDA + "property")}
    for rule in ("required_if", "validate"):
        if rule in props:
            out += [f"form field {fid!r}: {rule}: {message}" for message in check_source(props[rule] or "", "eval")]
    if "media" in props and (props["media"] != "av" or ftype != "file"):
        out.append(f"form field {fid!r}: media=\"av\" is the only media rule, for file fields")
    if props.get("carry", "true") not in ("true", "false"):
        out.append(f"form field {fid!r}: carry must be \"true\" or \"false\", not {props['carry']!r}")
    if "validate" in props and not (props.get("validate_message") or "").strip():
        out.append(f"form field {fid!r}: validate needs a validate_message telling the user what to correct")
    if ftype == "user" and props.get("role") not in ROLE_BY_LANE:
        out.append(f"user field {fid!r} needs property role = a role id (got {props.get('role')!r})")
    if "format" in props:
        if ftype != "string":
            out.append(f"property format applies to string fields only (field {fid!r} is {ftype!r})")
        elif props["format"] not in FORMATS:
            out.append(f"form field {fid!r} has unknown format {props['format']!r} (known: {', '.join(FORMATS)})")
    if "past" in props:
        if ftype != "date":
            out.append(f"property past applies to date fields only (field {fid!r} is {ftype!r})")
        elif props["past"] not in ("true", "false"):
            out.append(f"form field {fid!r}: past must be \"true\" or \"false\", not {props['past']!r}")
    bounds = {}
    for c in field.iter(CAMUNDA + "constraint"):
        if c.get("name") not in CONSTRAINTS:
            out.append(f"form field {fid!r} has unknown constraint {c.get('name')!r}")
            continue
        message, value = _constraint_problem(ftype, c.get("name"), c.get("config"))
        if message:
            out.append(f"form field {fid!r}: {message}")
        else:
            bounds[c.get("name")] = value
    for low, high in (("min", "max"), ("minlength", "maxlength")):
        if low in bounds and high in bounds and bounds[low] > bounds[high]:
            out.append(f"form field {fid!r}: {low} {bounds[low]} is greater than {high} {bounds[high]}")
    return out


_BOUND_TYPES = {"long": ("a whole number", int), "decimal": ("a number", Decimal), "date": ("a date (2026-01-31)",
                                                                                         date.fromisoformat)}


def _constraint_problem(ftype: str, name: str, config: str | None) -> tuple[str | None, object]:
    """Whether a constraint's value suits it (``minlength="abc"`` broke the task page; ``max="abc"``
    on a long field made every value invalid); returns (problem, parsed value)."""
    text = (config or "").strip()
    if name in ("required", "readonly"):
        return (None, None) if text in ("true", "false") else (f"{name} must be \"true\" or \"false\", not {config!r}",
                                                               None)
    if name in ("minlength", "maxlength"):
        if ftype not in ("string", "textarea"):
            return f"{name} applies to text fields only (this one is {ftype!r})", None
        if not text.isdigit() or len(text) > 9:
            return f"{name} must be a whole number of characters, not {config!r}", None
        return None, int(text)
    if ftype not in _BOUND_TYPES:
        return f"{name} applies to long, decimal and date fields only (this one is {ftype!r})", None
    what, parse = _BOUND_TYPES[ftype]
    try:
        value = parse(text) if ftype != "long" or re.fullmatch(r"[+-]?\d{1,18}", text) else parse("x")
        if ftype == "decimal" and not value.is_finite():
            raise ValueError
    except (ValueError, ArithmeticError):
        return f"{name} must be {what}, not {config!r}", None
    return None, value


def _timer_problems(text: str, kind: str = "timeDuration") -> list[str]:
    """A timer is a quoted ISO 8601 literal or a call of a deadline helper; nothing else runs. A cycle
    is a literal with a finite count of repetitions, at most ``max_timer_cycles``, no more often than
    ``min_timer_period``."""
    source = text.strip()
    if kind == "timeCycle":
        return _cycle_problems(source)
    try:
        node = ast.parse(source, mode="eval").body
    except SyntaxError:
        return [f"timer {source!r} is not an expression: quote ISO 8601 literals, e.g. \"P5D\", "
                "or call deadline('name', start)"]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if ISO_DURATION.match(node.value) or _is_iso_datetime(node.value):
            return []
        return [f"timer literal {node.value!r} is not ISO 8601"]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in DEADLINE_HELPERS:
        return [f"timer: {m}" for m in check_source(source, "eval")]
    return [f"timer {source!r} must be a quoted ISO 8601 literal (\"P5D\") or a deadline(...) call"]


def _cycle_problems(source: str) -> list[str]:
    lim = limits()
    try:
        node = ast.parse(source, mode="eval").body
    except SyntaxError:
        node = None
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return [f"timer cycle {source!r} must be a quoted ISO 8601 repetition, e.g. \"R3/P1D\""]
    match = re.fullmatch(r"R(\d*)/(.+)", node.value.strip())
    if match is None:
        return [f"timer cycle {node.value!r} is not an ISO 8601 repetition (R<count>/<period>)"]
    count, parts = match.group(1), match.group(2).split("/")
    if not count:
        return [f"timer cycle {node.value!r} repeats for ever: give the count, e.g. \"R3/P1D\""]
    if int(count) > lim.max_timer_cycles:
        return [f"timer cycle {node.value!r} repeats {int(count):,} times (at most {lim.max_timer_cycles:,})"]
    durations = [p for p in parts if p.upper().startswith("P")]
    if len(durations) != 1 or len(parts) > 2 or not ISO_DURATION.match(durations[0]) \
            or not all(p == durations[0] or _is_iso_datetime(p) for p in parts):
        return [f"timer cycle {node.value!r} needs one period (P...) and at most a start time with its offset"]
    try:
        period = TimerEventDefinition.get_timedelta_from_start(
            TimerEventDefinition.parse_iso_duration(durations[0]), datetime(2026, 1, 1, tzinfo=timezone.utc))
    except Exception:  # SpiffWorkflow's parser raises bare Exception
        return [f"timer cycle {node.value!r} has a period that is not ISO 8601"]
    if period.total_seconds() < lim.min_timer_period:
        return [f"timer cycle {node.value!r} repeats every {period.total_seconds():g} s "
                f"(at least every {lim.min_timer_period:g} s)"]
    return []


def _expression_problems(source: str, kind: str) -> list[str]:
    """A loop's cardinality, maximum and conditions compile in the sandbox; a literal count stays
    under ``max_loop_iterations``."""
    problems = [f"{kind}: {m}" for m in check_source(source, "eval")]
    if not problems and kind in ("loopCardinality", "loopMaximum"):
        value = literal_value(source)
        cap = limits().max_loop_iterations
        if isinstance(value, int) and value > cap:
            problems.append(f"{kind} {value:,} is more than the {cap:,} instances a loop may have")
    return problems


def _duplicate_ids(name: str, root: etree._Element) -> list[Problem]:
    """Ids of BPMN and DMN elements are unique in a file: the parser keeps one of two elements of the
    same id, silently (form fields, enum values and properties of the Camunda extension are not ids)."""
    first: dict[str, etree._Element] = {}
    problems = []
    for el in root.iter():
        if not isinstance(el.tag, str) or el.get("id") is None or el.tag.startswith(CAMUNDA):
            continue
        other = first.setdefault(el.get("id"), el)
        if other is not el:
            problems.append(Problem(name, el.get("id"), el.sourceline,
                                    f"the id is used twice (also on line {other.sourceline}); ids must be unique"))
    return problems


def _set_problems(roots: dict[str, etree._Element]) -> list[Problem]:
    """Across the set: each process and decision defined once, a task shows (``shows``) only fields some
    form of the set fills, and no call activity calls back into a process it is part of (the case would
    call processes for ever)."""
    problems, defined = [], {}
    calls: dict[str, list[tuple[str, etree._Element]]] = {}
    for name, root in sorted(roots.items()):
        ns = "{%s}" % etree.QName(root).namespace
        for el in root.iter(BPMN + "process", ns + "decision"):
            key = el.get("id", "")
            if key in defined and defined[key] != name:
                problems.append(Problem(name, key, el.sourceline, f"{key!r} is also defined in {defined[key]}"))
            defined.setdefault(key, name)
        for process in root.iter(BPMN + "process"):
            calls[process.get("id", "")] = [(name, c) for c in process.iter(BPMN + "callActivity")
                                            if c.get("calledElement")]
    fields = {f.get("id") for root in roots.values() for f in root.iter(CAMUNDA + "formField")}
    for name, root in sorted(roots.items()):
        for task in root.iter(BPMN + "userTask"):
            shows = next((p.get("value") for p in task.iter(CAMUNDA + "property") if p.get("name") == "shows"), None)
            unknown = [f for f in (shows or "").replace(" ", "").split(",") if f and f not in fields]
            if shows is not None and (unknown or not shows.strip()):
                problems.append(Problem(name, task.get("id", ""), task.sourceline,
                                        f"shows: {', '.join(unknown) or '(empty)'} is not a form field of this model set"))
    reported = set()
    for start in sorted(calls):
        path = _call_cycle(start, calls)
        if path and frozenset(path) not in reported:
            reported.add(frozenset(path))
            name, activity = next((n, c) for n, c in calls[path[0]] if c.get("calledElement") == path[1 % len(path)]
                                  or (len(path) == 1 and c.get("calledElement") == path[0]))
            chain = " → ".join([*path, path[0]])
            problems.append(Problem(name, activity.get("id", ""), activity.sourceline,
                                    f"call activity calls {activity.get('calledElement')!r}, which calls back "
                                    f"({chain}): the case would call processes for ever"))
    return problems


def _call_cycle(start: str, calls: dict[str, list[tuple[str, etree._Element]]]) -> list[str] | None:
    """The processes of a cycle of calls through ``start`` (``[start, ...]``), or None."""
    stack, seen = [(start, [start])], set()
    while stack:
        process, path = stack.pop()
        for _, activity in calls.get(process, []):
            called = activity.get("calledElement")
            if called == start:
                return path
            if called not in seen and called in calls:
                seen.add(called)
                stack.append((called, [*path, called]))
    return None


def _is_iso_datetime(value: str) -> bool:
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _lint_dmn(name: str, root: etree._Element) -> list[Problem]:
    problems: list[Problem] = []
    ns = "{%s}" % etree.QName(root).namespace
    for table in root.iter(ns + "decisionTable"):
        decision = table.getparent()
        inputs = [(i.findtext(f"{ns}inputExpression/{ns}text") or "").strip() for i in table.findall(ns + "input")]
        for i, expr in enumerate(inputs):
            for message in check_source(expr, "eval") if expr else ["input expression is empty"]:
                problems.append(Problem(name, decision.get("id", ""), table.sourceline, f"input {i + 1}: {message}"))
        rules = table.findall(ns + "rule")
        for row, rule in enumerate(rules, start=1):
            where = f"{rule.get('id', '')} (row {row})"
            for col, entry in enumerate(rule.findall(ns + "inputEntry")):
                cell = (entry.findtext(ns + "text") or "").strip()
                message = _dmn_cell_problem(inputs[col] if col < len(inputs) else "x", cell)
                if message:
                    problems.append(Problem(name, where, entry.sourceline, f"input cell {col + 1}: {message}"))
            for col, entry in enumerate(rule.findall(ns + "outputEntry")):
                cell = (entry.findtext(ns + "text") or "").strip()
                for message in check_source(cell, "eval") if cell else []:
                    problems.append(Problem(name, where, entry.sourceline, f"output cell {col + 1}: {message}"))
        if not any(all(_is_blank((e.findtext(ns + "text") or "")) for e in r.findall(ns + "inputEntry"))
                   for r in rules):
            problems.append(Problem(name, decision.get("id", ""), table.sourceline,
                                    "decision table has no catch-all row (a last row with every input '-')"))
    return problems


def _is_blank(cell: str) -> bool:
    return cell.strip() in ("", "-")


def _dmn_cell_problem(input_expr: str, cell: str) -> str | None:
    """Compile the cell the way SpiffWorkflow's DMN engine will evaluate it (Python, not FEEL)."""
    if _is_blank(cell):
        return None
    if "?" in cell:  # SpiffWorkflow's double-ended test, e.g. "1 < ? < 5"
        errors = check_source(cell.replace("?", "dmninputexpr"), "eval")
        return f"{cell!r}: {errors[0]}" if errors else None
    try:
        node = ast.parse(cell, mode="eval").body
        if isinstance(node, ast.Tuple):
            return (f"{cell!r} is a FEEL list and would never match; write it as Python, "
                    f"e.g. in ({cell})")
        expr = f"({input_expr}) == ({cell})"
    except SyntaxError:
        expr = f"{input_expr} {cell}"
    errors = check_source(expr, "eval")
    if errors:
        return f"{cell!r} is not a Python test SpiffWorkflow can evaluate ({errors[0]}); FEEL such as [1..5] is not supported"
    return None
