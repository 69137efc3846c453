"""The task form, built at run time from the diagram's form fields.

The form renders and carries raw values; the rules are the engine's alone. On submit the raw
values go to the engine, whose messages (by field) are put back on the fields.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import BooleanField, Field, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from workflows.domain.forms import TRUE, FieldSpec
from workflows.domain.tasks import TaskSheet, Upload
from workflows.engine import runtime

from ..i18n import localize

from ..choices import matter_choices

RADIO_LIMIT = 4  # up to this many options show as radio buttons, more as a list
INPUT_TYPES = {"long": "number", "date": "date"}
INPUT_MODES = {"long": "numeric", "decimal": "decimal"}
CODE_FORMATS = ("id_number", "credit_code", "party_id")  # 18 characters, digits and capitals


class ValuesField(Field):
    """Several values of one kind under one name (repeated inputs, or stored files' hashes)."""

    def process_data(self, value):
        self.data = [v for v in (value if isinstance(value, list) else [value]) if v not in (None, "")]


def task_form(sheet: TaskSheet) -> FlaskForm:
    """A form for the sheet's fields, filled with its values; ``form.entries`` pairs spec and field."""
    attrs = {_attr(spec): _field(spec, sheet) for spec in sheet.fields}
    form_class = type("TaskForm", (FlaskForm,), attrs)
    form = form_class(formdata=None, data={_attr(s): _initial(s, sheet.values.get(s.id)) for s in sheet.fields})
    form.entries = [(spec, form[_attr(spec)]) for spec in sheet.fields]
    return form


def show_errors(form: FlaskForm, errors: dict[str, list[str]]) -> list[str]:
    """Put the engine's messages on their fields; return those of no field on this form."""
    fields = {spec.id: field for spec, field in form.entries}
    for field_id, messages in errors.items():
        if field_id in fields:
            fields[field_id].errors = [localize(m) for m in messages]
    return [localize(m) for field_id, messages in errors.items() if field_id not in fields for m in messages]


def submitted_values(formdata: MultiDict) -> dict[str, Any]:
    """The raw values as the engine takes them: one value, or a list where a name was sent repeatedly.

    Names starting with ``_`` belong to the page (CSRF token, which button), not to the form."""
    return {name: values if len(values) > 1 else values[0]
            for name, values in formdata.lists() if not name.startswith("_")}


def submitted_uploads(files: MultiDict) -> list[Upload]:
    """Files sent with the form itself (the path without JavaScript)."""
    chosen: list[tuple[str, FileStorage]] = [(name, f) for name, f in files.items(multi=True) if f.filename]
    return [Upload(name, f.stream, f.filename) for name, f in chosen]


def _attr(spec: FieldSpec) -> str:
    return f"field_{spec.id}"  # never shadows a form attribute; the HTML name stays the field id


def _field(spec: FieldSpec, sheet: TaskSheet) -> Field:
    kw: dict[str, Any] = {"label": spec.label, "name": spec.id, "render_kw": _attributes(spec)}
    if spec.type == "file" or (spec.multiple and spec.type in ("string", "textarea", "long", "decimal", "date")):
        return ValuesField(**kw)
    if spec.type == "textarea":
        return TextAreaField(**kw)
    if spec.type == "boolean":
        return BooleanField(**kw)
    choices = _choices(spec, sheet)
    if choices is not None:
        if spec.multiple:
            return SelectMultipleField(choices=choices, validate_choice=False, **kw)
        if spec.type == "enum" and len(spec.options) <= RADIO_LIMIT:
            return RadioField(choices=choices, validate_choice=False, **kw)
        return SelectField(choices=choices, validate_choice=False, **kw)
    return StringField(**kw)


def _choices(spec: FieldSpec, sheet: TaskSheet) -> list[SelectChoice] | None:
    if spec.type == "enum":
        return [SelectChoice(value, label) for value, label in spec.options]
    if spec.type == "user":
        people = sorted(sheet.people.get(spec.properties.get("role", ""), []), key=lambda u: (u.unit.name, u.username))
        return [SelectChoice(u.username, f"{u.full_name}（{u.username}）", optgroup=u.unit.name) for u in people]
    if spec.type == "matter":
        return matter_choices(sheet.matter_choices)
    return None


def _attributes(spec: FieldSpec) -> dict[str, Any]:
    """HTML hints for browsers and phones; the form is ``novalidate``, the engine decides."""
    attrs: dict[str, Any] = {}
    if spec.required:
        attrs.update({"required": True, "aria-required": "true"})
    if spec.type in INPUT_TYPES:
        attrs["type"] = INPUT_TYPES[spec.type]
    if spec.type in INPUT_MODES:
        attrs["inputmode"] = INPUT_MODES[spec.type]
    if spec.type in ("long", "decimal", "date"):
        attrs.update({k: v for k, v in (("min", spec.min), ("max", spec.max)) if v is not None})
    if spec.type in ("string", "textarea"):
        attrs.update({k: v for k, v in (("minlength", spec.minlength), ("maxlength", spec.maxlength)) if v})
    if spec.type == "long":
        attrs["step"] = "1"
    if spec.type == "date" and spec.properties.get("past") == "true":
        attrs["max"] = min(spec.max or "9999-12-31", runtime.today().isoformat())
    if spec.type == "string" and spec.properties.get("format") == "phone":
        attrs.update({"type": "tel", "inputmode": "tel"})
    if spec.type == "string" and spec.properties.get("format") in CODE_FORMATS:
        attrs.update({"maxlength": 18, "autocapitalize": "characters", "spellcheck": "false"})
    return attrs


def _initial(spec: FieldSpec, value: Any) -> Any:
    """A stored value (date, Decimal, bool, list...) as the raw text a form field holds."""
    if isinstance(value, list):
        return [_initial(spec, v) for v in value]
    if spec.type == "boolean":
        return value is True or str(value).strip().lower() in TRUE
    if isinstance(value, (date, Decimal, int)) and not isinstance(value, bool):
        return value.isoformat() if isinstance(value, date) else str(value)
    return value
