"""Typed user-task forms (``camunda:formData``), validated by the engine itself.

The web form mirrors these rules, but this module is the one rule set: values arrive as strings or
JSON values and leave as Python values (``date``, ``Decimal``, ``int``, ``bool``, lists for
``multiple``), or every problem is reported per field in Chinese.

Field properties (``camunda:property``) that add rules:

* ``format`` on a string field: ``id_number`` (18-digit resident ID, GB 11643-1999 check digit and a
  real birth date), ``credit_code`` (unified social credit code, GB 32100-2015 check character),
  ``party_id`` (either of the two: a party may be a person or an organisation), ``phone`` (mainland
  mobile ``1[3-9]`` + 9 digits, or landline ``0`` + area code, optional ``-``, 7-8 digits, optional
  ``-extension``). ID and code are kept upper-case. Unknown formats are refused at deploy.
* ``past="true"`` on a date field: the date records something that already happened, so it may not be
  after today (Asia/Shanghai, by the engine clock).
* ``short_label``: the name used in these messages when the label is long.
* ``required_if``: a sandboxed expression over the task's data with the submitted values applied;
  when it is true the field must be filled (``hearing_requested and hearing_eligible`` on the
  hearing-request date).
* ``validate`` with ``validate_message``: the field's value is refused with that message unless the
  expression is true (``hearing_date >= deadline_date('hearing_notice', hearing_notice_date)``).

* ``media="av"`` on a file field: an audio-visual record (音像记录), so only sound or video files, judged
  from their bytes, at upload and on the form.
* ``carry="false"``: the form of a task the case comes back to starts this field afresh instead of
  showing what the last round left (a second instalment is not the first one's amount and receipt).

``required_if`` and ``validate`` are checked at deploy like every other expression. A rule on the submitted values is a form
error, shown before anything completes: a case never goes round a gateway back to the same task
because of a value the form could have refused.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Protocol

from workflows.core.clock import now
from workflows.core.messages import Message
from workflows.core.workdays import TZ

FIELD_TYPES = ("string", "textarea", "long", "decimal", "boolean", "date", "enum", "user", "matter", "file")
SHA256 = re.compile(r"[0-9a-f]{64}\Z")
TRUE, FALSE = {"true", "1", "on", "yes", "是"}, {"false", "0", "off", "no", "否", ""}
FORMATS = ("id_number", "credit_code", "party_id", "phone")  # values of the ``format`` property
ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]\Z")
ID_WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))  # ISO 7064 MOD 11-2
ID_CHECK = "10X98765432"
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE = re.compile(f"[{CREDIT_ALPHABET}]{{18}}\\Z")
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
PHONE = re.compile(r"1[3-9][0-9]{9}\Z|0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?\Z")


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
    def evidence_is_av(self, sha256: str) -> bool: ...
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


Evaluate = Callable[[str, dict[str, Any]], Any]  # a sandboxed expression over data → its value


def validate_form(fields: list[FieldSpec], submitted: dict[str, Any], current: dict[str, Any],
                  lookups: Lookups, evaluate: Evaluate | None = None) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Return (clean values, errors by field id). Unknown fields and edits to readonly ones are refused;
    with ``evaluate`` (the case's sandbox), the ``required_if`` and ``validate`` rules are applied."""
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
                errors.setdefault(f.id, []).append(_missing(f))
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
            errors.setdefault(f.id, []).append(_missing(f))
        if f.id not in errors:
            clean[f.id] = converted if f.multiple else converted[0]
    if evaluate is not None and not errors:  # the rules read the other fields: once those are sound
        _apply_rules(fields, {**current, **clean}, clean, errors, evaluate)
    return clean, errors


def _missing(f: FieldSpec) -> Message:
    """请选择 a choice, 请确认 a box, 请上传 a file, 请填写 the rest; a long label gives way to ``short_label``."""
    label = f.properties.get("short_label") or f.label
    if f.type == "boolean":
        return Message("请确认%(label)s", label=label)
    if f.type == "file":
        return Message("请上传%(label)s", label=label)
    if f.type in ("enum", "user", "matter"):
        return Message("请选择%(label)s", label=label)
    return Message("请填写%(label)s", label=label)


def _apply_rules(fields: list[FieldSpec], data: dict[str, Any], clean: dict[str, Any],
                 errors: dict[str, list[str]], evaluate: Evaluate) -> None:
    """The ``required_if`` and ``validate`` rules, over the task's data with the clean values applied.
    A rule that fails to evaluate refuses its field (the model must say what it means for every value)."""
    for f in fields:
        if f.readonly:
            continue
        filled = not (_empty(clean.get(f.id)) or clean.get(f.id) is False)
        for name in ("required_if", "validate"):
            rule = f.properties.get(name)
            if not rule or filled != (name == "validate"):
                continue
            try:
                holds = bool(evaluate(rule, data))
            except Exception as exc:  # a model's rule that cannot judge these values
                errors.setdefault(f.id, []).append(Message("无法按规则校验%(label)s：%(error)s", label=f.label,
                                                           error=" ".join(str(exc).split())[:200]))
                continue
            if name == "required_if" and holds:
                errors.setdefault(f.id, []).append(_missing(f))
            elif name == "validate" and not holds:
                errors.setdefault(f.id, []).append(
                    Message(f.properties.get("validate_message") or "%(label)s不符合要求", label=f.label))


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
    check = _FORMAT_CHECKS.get(f.properties.get("format", ""))
    return check(f, text) if check else (text, None)


def _short(f: FieldSpec) -> str:
    """The field's name in a message: its ``short_label`` if it has one (labels may be long)."""
    return f.properties.get("short_label") or f.label


def _id_number_problem(text: str, label: str) -> Message | None:
    """Why ``text`` is not a resident ID number (GB 11643-1999), or None."""
    if not ID_NUMBER.match(text):
        return Message("%(label)s应为18位公民身份号码", label=label)
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        born = None
    if born is None or born.year < 1900 or born > _today():
        return Message("%(label)s不是有效的公民身份号码（出生日期不符）", label=label)
    if ID_CHECK[sum(int(c) * w for c, w in zip(text, ID_WEIGHTS)) % 11] != text[17]:
        return Message("%(label)s不是有效的公民身份号码（校验位不符）", label=label)
    return None


def _credit_code_problem(text: str, label: str) -> Message | None:
    """Why ``text`` is not a unified social credit code (GB 32100-2015), or None."""
    if not CREDIT_CODE.match(text):
        return Message("%(label)s应为18位统一社会信用代码", label=label)
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(text, CREDIT_WEIGHTS))
    if CREDIT_ALPHABET[-total % 31] != text[17]:
        return Message("%(label)s不是有效的统一社会信用代码（校验位不符）", label=label)
    return None


def _id_number(f: FieldSpec, text: str):
    code = text.upper()
    problem = _id_number_problem(code, _short(f))
    return (None, problem) if problem else (code, None)


def _credit_code(f: FieldSpec, text: str):
    code = text.upper()
    problem = _credit_code_problem(code, _short(f))
    return (None, problem) if problem else (code, None)


def _party_id(f: FieldSpec, text: str):
    """A person's ID number or an organisation's credit code, whichever the value is."""
    code = text.upper()
    if _id_number_problem(code, "") is None or _credit_code_problem(code, "") is None:
        return code, None
    if not (ID_NUMBER.match(code) or CREDIT_CODE.match(code)):
        return None, Message("%(label)s应为18位公民身份号码或统一社会信用代码", label=_short(f))
    return None, Message("%(label)s不是有效的公民身份号码或统一社会信用代码", label=_short(f))


def _phone(f: FieldSpec, text: str):
    if not PHONE.match(text):
        return None, Message("%(label)s不是有效的电话号码（手机11位，座机如0991-1234567）", label=_short(f))
    return text, None


_FORMAT_CHECKS = {"id_number": _id_number, "credit_code": _credit_code, "party_id": _party_id, "phone": _phone}


def _today() -> date:
    """Today in Asia/Shanghai, by the engine clock."""
    return now().astimezone(TZ).date()


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
    if str(f.properties.get("past", "")).strip().lower() == "true" and day > _today():
        return None, Message("%(label)s不能晚于今天", label=_short(f))
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
    if f.properties.get("media") == "av" and not lookups.evidence_is_av(value):
        return None, Message("%(label)s只能是音频或视频文件", label=_short(f))
    return value, None


_CONVERTERS = {
    "string": _text, "textarea": _text, "long": _long, "decimal": _decimal, "boolean": _boolean,
    "date": _date, "enum": _enum, "user": _user, "matter": _matter, "file": _file,
}
