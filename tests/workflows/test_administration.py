"""Administration in the engine: people, roles with validity, credentials through their life,
settings with their history, the holiday calendar, the audit browser; bad input refused whole."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.conftest import bpmn
from workflows.core.errors import CredentialRequired, FormInvalid, NotAllowed
from workflows.core.models import HumanTask, SettingChange
from workflows.design import deployment
from workflows.domain import access, audit, cases, credentials, holidays, people, policy, tasks
from workflows.domain.people import get_user


def test_only_administrators_administer(db):
    with pytest.raises(NotAllowed):
        people.create_unit(db, get_user(db, "wang"), "charity", "慈善科")
    people.create_unit(db, get_user(db, "admin"), "charity", "慈善科")  # an administrator
    people.rename_unit(db, "cli:root", "charity", "慈善事业科")  # an operator at the command line
    assert people.get_unit(db, "charity").name == "慈善事业科"


@pytest.mark.parametrize("field, change, message", [
    ("username", {"username": "zhang"}, "登录名zhang已被使用"),
    ("username", {"username": "a b"}, "登录名须为"),
    ("password", {"password": "short"}, "密码至少需要8个字符"),
    ("roles", {"roles": ["legal_reviewer"]}, "请先登记其法律职业资格证书"),
    ("full_name", {"full_name": " "}, "请填写姓名"),
])
def test_bad_new_users_are_refused_with_a_message_per_field(db, field, change, message):
    fields = {"username": "newbie", "full_name": "新人", "unit_code": "social", "password": "pass-1234",
              "roles": ["officer"]} | change
    with pytest.raises(FormInvalid) as refused:
        people.add_user(db, get_user(db, "admin"), **fields)
    assert message in refused.value.errors[field][0]
    assert db.scalar(select(HumanTask.id).limit(0)) is None  # nothing half-made: the session is clean
    assert "newbie" not in {u.username for u in people.users(db, "cli:root")}


def test_roles_have_validity_and_the_last_admin_stays(db, frozen_clock):
    admin = get_user(db, "admin")
    people.set_roles(db, admin, "li", {"officer": (None, date(2026, 11, 30))})
    assert "officer" in get_user(db, "li").role_ids
    frozen_clock.advance(days=30)  # 2 December
    assert get_user(db, "li").role_ids == set()
    with pytest.raises(FormInvalid, match="不能取消自己的系统管理员角色"):
        people.set_roles(db, admin, "admin", {"designer": (None, None)})
    with pytest.raises(FormInvalid, match="至少需要一名在职的系统管理员"):
        people.set_roles(db, "cli:root", "admin", {"designer": (None, None)})
    with pytest.raises(FormInvalid, match="结束早于开始"):
        people.set_roles(db, admin, "li", {"officer": (date(2027, 1, 2), date(2027, 1, 1))})


def test_deactivating_a_user_releases_their_claims(db, settings):
    deployment.deploy(db, {"approval.bpmn": bpmn("approval.bpmn")}, "designer")
    zhang = get_user(db, "zhang")
    started = cases.start(db, settings, zhang, "approval", {"party_name": "某协会"})
    row = cases.ready_tasks_of(db, started.instance.id)[0]
    tasks.claim(db, zhang, row.task_id)
    with pytest.raises(FormInvalid, match="请填写理由"):
        people.deactivate_user(db, get_user(db, "admin"), "zhang", "")
    assert people.deactivate_user(db, get_user(db, "admin"), "zhang", "调离") == 1
    assert db.get(HumanTask, row.id).assignee is None
    with pytest.raises(FormInvalid, match="不能停用自己的账户"):
        people.deactivate_user(db, get_user(db, "admin"), "admin", "误操作")


def test_a_revoked_credential_stops_its_holder_at_once(db, settings):
    deployment.deploy(db, {"approval.bpmn": bpmn("approval.bpmn")}, "designer")
    zhang = get_user(db, "zhang")
    started = cases.start(db, settings, zhang, "approval", {"party_name": "某协会"})
    row = cases.ready_tasks_of(db, started.instance.id)[0]
    tasks.claim(db, zhang, row.task_id)
    generation = zhang.session_generation
    number = zhang.credentials[0].number
    assert credentials.revoke(db, get_user(db, "admin"), number, "违规执法") == 1  # the claim went back
    assert db.get(HumanTask, row.id).assignee is None and zhang.session_generation == generation + 1
    with pytest.raises(CredentialRequired):
        access.check_credential(zhang, "officer")
    with pytest.raises(FormInvalid, match="只有暂扣的证件可以恢复"):
        credentials.reinstate(db, get_user(db, "admin"), number, "误吊销")


def test_renewal_links_the_new_credential_and_ends_the_reminder(db, frozen_clock):
    admin = get_user(db, "admin")
    old = get_user(db, "zhang").credentials[0]  # valid until 2 November 2027
    frozen_clock.advance(days=330)  # 29 September 2027: within the 60-day window
    holders = lambda: {e.credential.holder.username for e in credentials.expiring(db)}  # noqa: E731
    assert holders() == {"zhang", "li", "sun"}  # zhao's expired long ago: not a reminder, a lapse
    with pytest.raises(FormInvalid, match="证件编号JZ0002已存在"):
        credentials.renew(db, admin, old.number, "JZ0002", date(2027, 11, 2), date(2030, 11, 1))
    new = credentials.renew(db, admin, old.number, "JZ9001", date(2027, 11, 3), date(2030, 11, 2))
    assert new.replaces_id == old.id and holders() == {"li", "sun"}


def test_settings_change_with_their_basis_and_history(db):
    admin = get_user(db, "admin")
    with pytest.raises(FormInvalid) as refused:
        policy.change_deadline(db, admin, "payment", -1, "days", "", "")
    assert set(refused.value.errors) == {"amount", "basis", "note"}
    with pytest.raises(FormInvalid, match="期限须在0至3650之间"):
        policy.change_deadline(db, admin, "payment", 10000, "days", "行政处罚法第67条", "误录")
    policy.change_deadline(db, admin, "payment", 20, "days", "某省规定", "本省延长缴款期限")
    with pytest.raises(FormInvalid, match="编号格式必须包含"):
        policy.change_policy(db, admin, "case_number_pattern", "新民罚〔{year}〕号", "规则", "改格式")
    policy.change_policy(db, admin, "hearing_fine_person", "20000", "本省规定", "标准提高")
    [change] = policy.history(db, "deadline:payment")
    assert (change.old, change.new, change.changed_by) == ("15 days · 行政处罚法第67条", "20 days · 某省规定", "admin")
    assert db.scalar(select(SettingChange.id).where(SettingChange.name == "policy:hearing_fine_person"))
    actions = [e.action for e in audit.search(db, audit.Search(chain="system", action="setting."))[0]]
    assert actions == ["setting.change", "setting.change"]


def test_a_policy_setting_reaches_diagram_code(db):
    from workflows.engine.runtime import script_engine
    engine = script_engine(db)
    assert engine.environment.setting("surcharge_rate") == policy.Decimal("0.03")


def test_holidays_imported_cover_a_year_and_bad_files_change_nothing(db):
    admin = get_user(db, "admin")
    assert not holidays.year(db, 2027).covered
    with pytest.raises(FormInvalid, match="line 2"):
        holidays.import_csv(db, admin, "date,kind,name\n2027-13-01,holiday,x\n")
    assert not holidays.year(db, 2027).covered
    assert holidays.import_csv(db, admin, "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-06,workday,春节调休\n") == 2
    year = holidays.year(db, 2027)
    days = {d.day: d for d in year.days}
    assert year.covered and not days[date(2027, 1, 1)].working and days[date(2027, 2, 6)].working
    assert days[date(2027, 1, 1)].source == "override"
    assert days[date(2027, 1, 4)].working and days[date(2027, 1, 4)].source == "weekday"  # the rest: Monday to Friday
    with pytest.raises(FormInvalid, match="line 2"):
        holidays.import_csv(db, admin, "date,kind,name\n2027-05-01,party,劳动节\n")
    assert days == {d.day: d for d in holidays.year(db, 2027).days}
    with pytest.raises(FormInvalid, match="请选择"):
        holidays.set_day(db, admin, date(2027, 5, 1), "party", "")


@pytest.mark.parametrize("change, field, message", [
    ({"number": "JZ0002"}, "number", "证件编号JZ0002已存在"),
    ({"valid_to": date(2025, 12, 31)}, "valid_to", "有效期结束日期不能早于开始日期"),
    ({"area": " "}, "area", "请填写执法区域"),
])
def test_bad_credentials_are_refused_and_none_is_issued(db, change, field, message):
    fields = {"number": "JZ7001", "area": "新市区", "valid_from": date(2026, 1, 1), "valid_to": date(2028, 12, 31)} | change
    with pytest.raises(FormInvalid) as refused:
        credentials.issue(db, get_user(db, "admin"), "wang", **fields)
    assert message in refused.value.errors[field][0] and not get_user(db, "wang").credentials
