"""The engine's one rule set for typed form fields."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from workflows.core import clock
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

    def evidence_is_av(self, sha256):
        return False  # the test file is a photo


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
    (FieldSpec("b", "boolean", "已出示执法证件", required=True), "false", "请确认已出示执法证件"),
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


def _coded(kind: str, label: str = "证件号码", **props: str) -> FieldSpec:
    return FieldSpec("x", "string", label, properties={"format": kind, **props})


@pytest.mark.parametrize("kind, raw, expected", [
    ("id_number", "11010519491231002X", "11010519491231002X"),  # GB 11643-1999's own example
    ("id_number", " 11010519491231002x ", "11010519491231002X"),
    ("id_number", "110105199003071239", "110105199003071239"),
    ("credit_code", "91350100M000100Y43", "91350100M000100Y43"),
    ("credit_code", "91350100m000100y43", "91350100M000100Y43"),
    ("credit_code", "51650100MJ0000000D", "51650100MJ0000000D"),
    ("party_id", "11010519491231002X", "11010519491231002X"),
    ("party_id", "91350100M000100Y43", "91350100M000100Y43"),
    ("phone", "13912345678", "13912345678"),
    ("phone", "0991-4567890", "0991-4567890"),
    ("phone", "01062345678", "01062345678"),
    ("phone", "010-62345678-801", "010-62345678-801"),
])
def test_identifiers_with_a_valid_check_character_are_accepted(kind, raw, expected):
    with clock.frozen(datetime(2026, 10, 15, 2, tzinfo=timezone.utc)):
        clean, errors = check(_coded(kind), raw)
    assert errors == {} and clean["x"] == expected


@pytest.mark.parametrize("kind, raw, message", [
    ("id_number", "110105199003071234", "证件号码不是有效的公民身份号码（校验位不符）"),
    ("id_number", "11010519491231002Y", "证件号码应为18位公民身份号码"),
    ("id_number", "1101051949123100", "证件号码应为18位公民身份号码"),
    ("id_number", "110105199002301233", "证件号码不是有效的公民身份号码（出生日期不符）"),  # 30 February
    ("id_number", "110105202701010019", "证件号码不是有效的公民身份号码（出生日期不符）"),  # born tomorrow's year
    ("id_number", "１１０１０５１９４９１２３１００２Ｘ", "证件号码应为18位公民身份号码"),  # full-width digits
    ("credit_code", "91350100M000100Y44", "证件号码不是有效的统一社会信用代码（校验位不符）"),
    ("credit_code", "91350100M000100I43", "证件号码应为18位统一社会信用代码"),  # I is not in the alphabet
    ("credit_code", "91350100M000100Y4", "证件号码应为18位统一社会信用代码"),
    ("party_id", "110105199003071234", "证件号码不是有效的公民身份号码或统一社会信用代码"),
    ("party_id", "91350100M000100Y44", "证件号码不是有效的公民身份号码或统一社会信用代码"),
    ("party_id", "身份证丢失", "证件号码应为18位公民身份号码或统一社会信用代码"),
    ("phone", "12912345678", "证件号码不是有效的电话号码（手机11位，座机如0991-1234567）"),
    ("phone", "1391234567", "证件号码不是有效的电话号码（手机11位，座机如0991-1234567）"),
    ("phone", "0991-45678", "证件号码不是有效的电话号码（手机11位，座机如0991-1234567）"),
    ("phone", "+86 13912345678", "证件号码不是有效的电话号码（手机11位，座机如0991-1234567）"),
])
def test_identifiers_with_a_wrong_check_character_are_refused(kind, raw, message):
    with clock.frozen(datetime(2026, 10, 15, 2, tzinfo=timezone.utc)):
        clean, errors = check(_coded(kind), raw)
    assert errors == {"x": [message]} and "x" not in clean


def test_a_long_label_gives_way_to_its_short_label():
    field = _coded("party_id", "身份证号码或统一社会信用代码", short_label="证件号码")
    _, errors = check(field, "110105199003071234")
    assert errors == {"x": ["证件号码不是有效的公民身份号码或统一社会信用代码"]}


def test_a_past_date_may_be_today_in_shanghai_but_not_tomorrow():
    field = FieldSpec("d", "date", "检查日期", properties={"past": "true"})
    with clock.frozen(datetime(2026, 10, 14, 17, tzinfo=timezone.utc)):  # 01:00 on 15 October in Shanghai
        assert check(field, "2026-10-15") == ({"d": date(2026, 10, 15)}, {})
        assert check(field, "2026-10-01") == ({"d": date(2026, 10, 1)}, {})
        assert check(field, "2026-10-16") == ({}, {"d": ["检查日期不能晚于今天"]})
        assert check(FieldSpec("d", "date", "听证日期"), "2026-10-16") == ({"d": date(2026, 10, 16)}, {})


# --- rules on the submitted values (required_if, validate) ---------------------------------------

SERVICE = [
    FieldSpec("method", "enum", "送达方式", required=True, options=(("direct", "直接送达"), ("post", "邮寄送达"),
                                                                  ("notice", "公告送达"))),
    FieldSpec("receipt", "file", "送达回证或邮寄回执（直接送达、邮寄送达必填）",
              properties={"required_if": "method in ('direct', 'post')", "short_label": "送达回证"}),
    FieldSpec("hearing_date", "date", "听证日期",
              properties={"validate": "hearing_date >= deadline_date('hearing_notice', notified_on)",
                          "validate_message": "听证日期须在通知送达七日之后"}),
]


def rules(submitted, current=None):
    from workflows.core.workdays import WorkCalendar
    from workflows.engine.sandbox import SandboxEnvironment
    environment = SandboxEnvironment(WorkCalendar(), clock=lambda: datetime(2026, 11, 2, 4, 0, tzinfo=timezone.utc))
    environment.globals["deadline_date"] = lambda name, start: start.fromordinal(start.toordinal() + 7)
    current = {"notified_on": date(2026, 11, 2)} if current is None else current
    return validate_form(SERVICE, submitted, current, World(),
                         lambda expression, data: environment.evaluate(expression, dict(data)))


def test_required_if_asks_for_what_the_chosen_way_needs_before_anything_completes():
    assert rules({"method": "direct"})[1] == {"receipt": ["请上传送达回证"]}
    assert rules({"method": "notice"})[1] == {}
    assert rules({"method": "post", "receipt": SHA})[1] == {}


def test_validate_refuses_a_value_with_the_models_message():
    assert rules({"method": "notice", "hearing_date": "2026-11-05"})[1] == {"hearing_date": ["听证日期须在通知送达七日之后"]}
    clean, errors = rules({"method": "notice", "hearing_date": "2026-11-09"})
    assert errors == {} and clean["hearing_date"] == date(2026, 11, 9)


def test_rules_wait_until_the_fields_they_read_are_sound():
    assert rules({"receipt": SHA})[1] == {"method": ["请选择送达方式"]}


def test_a_rule_that_cannot_judge_the_values_refuses_the_field_rather_than_pass_it():
    _, errors = rules({"method": "notice", "hearing_date": "2026-11-09"}, current={})  # notified_on unknown
    assert errors["hearing_date"][0].startswith("无法按规则校验听证日期")


def test_without_the_case_sandbox_the_rules_are_not_applied_and_nothing_is_guessed():
    assert validate_form(SERVICE, {"method": "direct"}, {}, World())[1] == {}


def test_an_audio_visual_record_must_be_sound_or_video():
    field = FieldSpec("av", "file", "调查取证音像记录", properties={"media": "av", "short_label": "音像记录"})
    assert check(field, SHA)[1] == {"av": ["音像记录只能是音频或视频文件"]}
