"""The engine's one rule set for typed form fields."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from workflows.domain.forms import FieldSpec, validate_form

SHA = "a" * 64


class World:
    users = {"zhang": None, "zhao": "赵六没有当日有效的行政执法证件"}

    def user_problem(self, username, role):
        return self.users.get(username, "没有这个用户")

    def matter_exists(self, code):
        return code == "MZ-CF-0001"

    def evidence_exists(self, sha256):
        return sha256 == SHA


def check(field: FieldSpec, value, current=None):
    return validate_form([field], {field.id: value}, current or {}, World())


@pytest.mark.parametrize("field, raw, expected", [
    (FieldSpec("n", "string", "名称"), "  某协会 ", "某协会"),
    (FieldSpec("t", "textarea", "说明"), "第一行\n第二行", "第一行\n第二行"),
    (FieldSpec("c", "long", "人数", min="1", max="10"), "7", 7),
    (FieldSpec("c", "long", "人数"), 3, 3),
    (FieldSpec("m", "decimal", "金额"), "1,000.10", Decimal("1000.10")),
    (FieldSpec("m", "decimal", "金额"), "0.1", Decimal("0.1")),
    (FieldSpec("b", "boolean", "已出示"), "on", True),
    (FieldSpec("b", "boolean", "已出示"), False, False),
    (FieldSpec("d", "date", "日期", min="2026-01-01"), "2026-10-08", date(2026, 10, 8)),
    (FieldSpec("e", "enum", "种类", options=(("warning", "警告"), ("fine", "罚款"))), "fine", "fine"),
    (FieldSpec("u", "user", "协办人", properties={"role": "officer"}), "zhang", "zhang"),
    (FieldSpec("k", "matter", "事项"), "MZ-CF-0001", "MZ-CF-0001"),
    (FieldSpec("f", "file", "照片"), SHA, SHA),
    (FieldSpec("f", "file", "照片", multiple=True), [SHA, SHA], [SHA, SHA]),
    (FieldSpec("s", "string", "备注", multiple=True), ["甲", "", "乙"], ["甲", "乙"]),
    (FieldSpec("o", "string", "可选"), "", None),
])
def test_values_are_converted_to_python_types(field, raw, expected):
    clean, errors = check(field, raw)
    assert errors == {}
    assert clean[field.id] == expected and type(clean[field.id]) is type(expected)


@pytest.mark.parametrize("field, raw, message", [
    (FieldSpec("n", "string", "当事人", required=True), "  ", "请填写当事人"),
    (FieldSpec("n", "string", "当事人", minlength=2), "甲", "当事人至少需要2个字"),
    (FieldSpec("n", "string", "当事人", maxlength=3), "某某协会", "当事人最多3个字"),
    (FieldSpec("c", "long", "人数", min="1"), "0", "人数不能小于1"),
    (FieldSpec("c", "long", "人数"), "1.5", "人数的格式不正确"),
    (FieldSpec("c", "long", "人数"), True, "人数的格式不正确"),
    (FieldSpec("m", "decimal", "罚款", max="30000"), "30000.01", "罚款不能大于30000"),
    (FieldSpec("m", "decimal", "罚款"), 0.1, "罚款的格式不正确"),  # floats are never money
    (FieldSpec("m", "decimal", "罚款"), "NaN", "罚款的格式不正确"),
    (FieldSpec("m", "decimal", "罚款"), "十元", "罚款的格式不正确"),
    (FieldSpec("b", "boolean", "已出示执法证件", required=True), "false", "必须确认：已出示执法证件"),
    (FieldSpec("b", "boolean", "已出示"), "maybe", "已出示的格式不正确"),
    (FieldSpec("d", "date", "日期"), "2026-13-01", "日期的格式不正确"),
    (FieldSpec("d", "date", "日期", max="2026-11-02"), "2026-12-01", "日期不能大于2026-11-02"),
    (FieldSpec("e", "enum", "种类", options=(("warning", "警告"),)), "death", "种类的选项无效"),
    (FieldSpec("u", "user", "协办人", properties={"role": "officer"}), "zhao", "协办人：赵六没有当日有效的行政执法证件"),
    (FieldSpec("u", "user", "协办人", properties={"role": "officer"}), "ghost", "协办人：没有这个用户"),
    (FieldSpec("k", "matter", "事项"), "MZ-XX", "事项：执法事项目录中没有该事项"),
    (FieldSpec("f", "file", "照片"), "b" * 64, "照片：证据文件不存在，请重新上传"),
    (FieldSpec("f", "file", "照片"), "../../etc/passwd", "照片：证据文件不存在，请重新上传"),
    (FieldSpec("s", "string", "名称"), ["甲", "乙"], "名称只能填写一个值"),
])
def test_invalid_values_get_a_chinese_message(field, raw, message):
    clean, errors = check(field, raw)
    assert errors == {field.id: [message]}
    assert field.id not in clean


def test_unknown_fields_are_refused():
    _, errors = validate_form([FieldSpec("a", "string", "甲")], {"a": "x", "is_admin": "1"}, {}, World())
    assert errors == {"is_admin": ["表单中没有这个字段"]}


def test_readonly_fields_cannot_be_changed_but_may_be_echoed():
    field = FieldSpec("case_no", "string", "案号", readonly=True)
    assert validate_form([field], {"case_no": "X1"}, {"case_no": "X1"}, World()) == ({}, {})
    _, errors = validate_form([field], {"case_no": "X2"}, {"case_no": "X1"}, World())
    assert errors == {"case_no": ["案号为只读字段，不能修改"]}


def test_missing_optional_fields_become_empty_values():
    fields = [FieldSpec("a", "string", "甲"), FieldSpec("b", "boolean", "乙"), FieldSpec("c", "file", "丙", multiple=True)]
    assert validate_form(fields, {}, {}, World()) == ({"a": None, "b": False, "c": []}, {})
