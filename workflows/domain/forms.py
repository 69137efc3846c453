"""Typed user-task forms (``camunda:formData``), validated by the engine itself.

The web form mirrors these rules, but this module is the one rule set: values arrive as strings or
JSON values and leave as Python values (``date``, ``Decimal``, ``int``, ``bool``, lists for
``multiple``), or every problem is reported per field in Chinese.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from workflows.core.messages import Message

FIELD_TYPES = ("string", "textarea", "long", "decimal", "boolean", "date", "enum", "user", "matter", "file")
SHA256 = re.compile(r"[0-9a-f]{64}\Z")
TRUE, FALSE = {"true", "1", "on", "yes", "是"}, {"false", "0", "off", "no", "否", ""}


@dataclass(frozen=True)
class FieldSpec:
    id: str
    type: str
    label: str
    required: bool = False
    readonly: bool = False
    multiple: bool = False
    min: str | None = None
    max: str | None = None
    minlength: int | None = None
    maxlength: int | None = None
    options: tuple[tuple[str, str], ...] = ()
    properties: dict[str, str] = field(default_factory=dict)
    default: str | None = None


class Lookups(Protocol):
    """What validation needs to know about the world (the database, on the day of acting)."""

    def user_problem(self, username: str, role: str) -> str | None: ...
    def matter_exists(self, code: str) -> bool: ...
    def evidence_exists(self, sha256: str) -> bool: ...
    def duty_conflict(self, username: str, not_by: str) -> str | None: ...


def fields_of(task_spec: Any) -> list[FieldSpec]:
    """The form fields of a SpiffWorkflow camunda user-task spec."""
    form = getattr(task_spec, "form", None)
    if form is None:
        return []
    out = []
    for f in form.fields:
        props = {p.id: p.value for p in f.properties}
        checks = {v.name: v.config for v in f.validation}
        out.append(FieldSpec(
            id=f.id, type=f.type, label=f.label or f.id,
            required=_flag(checks.get("required")), readonly=_flag(checks.get("readonly")),
            multiple=_flag(props.get("multiple")),
            min=checks.get("min"), max=checks.get("max"),
            minlength=int(checks["minlength"]) if checks.get("minlength") else None,
            maxlength=int(checks["maxlength"]) if checks.get("maxlength") else None,
            options=tuple((o.id, o.name) for o in getattr(f, "options", [])),
            properties=props, default=f.default_value,
        ))
    return out


def _flag(value: str | None) -> bool:
    return str(value).strip().lower() == "true"


def validate_form(fields: list[FieldSpec], submitted: dict[str, Any], current: dict[str, Any],
                  lookups: Lookups) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Return (clean values, errors by field id). Unknown fields and edits to readonly ones are refused."""
    known = {f.id: f for f in fields}
    errors: dict[str, list[str]] = {k: [Message("表单中没有这个字段")] for k in submitted if k not in known}
    clean: dict[str, Any] = {}
    for f in fields:
        if f.readonly:
            if f.id in submitted and submitted[f.id] != current.get(f.id):
                errors.setdefault(f.id, []).append(Message("%(label)s为只读字段，不能修改", label=f.label))
            continue
        raw = submitted.get(f.id)
        values = raw if isinstance(raw, list) else ([] if _empty(raw) else [raw])
        values = [v for v in values if not _empty(v)]
        if not f.multiple and len(values) > 1:
            errors.setdefault(f.id, []).append(Message("%(label)s只能填写一个值", label=f.label))
            continue
        if not values:
            if f.type == "boolean" and not f.required:
                clean[f.id] = [] if f.multiple else False
            elif f.required:
                errors.setdefault(f.id, []).append(Message("请填写%(label)s", label=f.label))
            else:
                clean[f.id] = [] if f.multiple else None
            continue
        converted = []
        for v in values:
            value, message = _convert(f, v, lookups)
            if message:
                errors.setdefault(f.id, []).append(message)
            else:
                converted.append(value)
        if f.type == "boolean" and f.required and converted and not all(converted):
            errors.setdefault(f.id, []).append(Message("必须确认：%(label)s", label=f.label))
        if f.id not in errors:
            clean[f.id] = converted if f.multiple else converted[0]
    return clean, errors


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _convert(f: FieldSpec, value: Any, lookups: Lookups) -> tuple[Any, str | None]:
    try:
        return _CONVERTERS[f.type](f, value, lookups)
    except (ValueError, TypeError, InvalidOperation):
        return None, Message("%(label)s的格式不正确", label=f.label)


def _text(f: FieldSpec, value: Any, _: Lookups):
    if not isinstance(value, str):
        raise TypeError
    text = value.strip()
    if f.minlength is not None and len(text) < f.minlength:
        return None, Message("%(label)s至少需要%(n)s个字", label=f.label, n=f.minlength)
    if f.maxlength is not None and len(text) > f.maxlength:
        return None, Message("%(label)s最多%(n)s个字", label=f.label, n=f.maxlength)
    return text, None


def _ranged(f: FieldSpec, value, parse):
    if f.min is not None and value < parse(f.min):
        return None, Message("%(label)s不能小于%(limit)s", label=f.label, limit=f.min)
    if f.max is not None and value > parse(f.max):
        return None, Message("%(label)s不能大于%(limit)s", label=f.label, limit=f.max)
    return value, None


def _long(f: FieldSpec, value: Any, _: Lookups):
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError
    number = value if isinstance(value, int) else int(str(value).strip())
    return _ranged(f, number, int)


def _decimal(f: FieldSpec, value: Any, _: Lookups):
    if isinstance(value, (bool, float)):
        raise TypeError  # floats are never money
    number = Decimal(str(value).strip().replace(",", ""))
    if not number.is_finite():
        raise ValueError
    return _ranged(f, number, Decimal)


def _boolean(f: FieldSpec, value: Any, _: Lookups):
    if isinstance(value, bool):
        return value, None
    text = str(value).strip().lower()
    if text in TRUE:
        return True, None
    if text in FALSE:
        return False, None
    raise ValueError


def _date(f: FieldSpec, value: Any, _: Lookups):
    day = value if isinstance(value, date) else date.fromisoformat(str(value).strip())
    return _ranged(f, day, date.fromisoformat)


def _enum(f: FieldSpec, value: Any, _: Lookups):
    if value not in {k for k, _ in f.options}:
        return None, Message("%(label)s的选项无效", label=f.label)
    return value, None


def _user(f: FieldSpec, value: Any, lookups: Lookups):
    if not isinstance(value, str):
        raise TypeError
    username = value.strip()
    problem = lookups.user_problem(username, f.properties.get("role", ""))
    if problem is None and f.properties.get("not_by"):
        problem = lookups.duty_conflict(username, f.properties["not_by"])
    return (None, Message("%(label)s：%(problem)s", label=f.label, problem=problem)) if problem else (username, None)


def _matter(f: FieldSpec, value: Any, lookups: Lookups):
    if not isinstance(value, str) or not lookups.matter_exists(value.strip()):
        return None, Message("%(label)s：执法事项目录中没有该事项", label=f.label)
    return value.strip(), None


def _file(f: FieldSpec, value: Any, lookups: Lookups):
    if not isinstance(value, str) or not SHA256.match(value) or not lookups.evidence_exists(value):
        return None, Message("%(label)s：证据文件不存在，请重新上传", label=f.label)
    return value, None


_CONVERTERS = {
    "string": _text, "textarea": _text, "long": _long, "decimal": _decimal, "boolean": _boolean,
    "date": _date, "enum": _enum, "user": _user, "matter": _matter, "file": _file,
}
