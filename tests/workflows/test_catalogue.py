"""One catalogue: the matters officers file against are the entries pre_disclosure publishes; the public
read models of 事前公开 show only what the law makes public."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from alembic import command
from sqlalchemy import select, text

from workflows import demo
from workflows.core.db import get_engine, session_scope
from workflows.core.errors import NotFound
from workflows.core.models import Instance, Matter
from workflows.core.schema import alembic_config
from workflows.design import deployment
from workflows.domain import catalogue, credentials, lookups, people, policy, public_info
from workflows.domain.forms import FieldSpec, validate_form
from workflows.domain.people import get_user

ENTRY = {
    "matter_code": "MZ-CF-0099", "matter_name": "慈善组织不按规定公开信息", "matter_category": "penalty",
    "matter_field": "慈善事业", "matter_status": "active", "enforcement_subject": "新市区民政局",
    "duties": "监督慈善组织信息公开。", "powers": "警告；责令限期改正。", "legal_basis": "《慈善法》第九十九条",
    "penalty_types": "警告；责令限期停止活动", "discretion": "首次未公开的，责令限期改正；逾期不改正的，给予警告。",
    "procedure": "立案—调查—告知—决定—送达", "remedy_channels": "复议或诉讼", "random_inspection": True,
    "serious": False, "guide_phone": "0991-3880000",
}


def test_publishing_adds_an_entry_in_force_with_its_approval(db):
    matter = catalogue.publish(db, ENTRY, approved_by="zheng", approved_role="office")
    assert (matter.code, matter.name, matter.field, matter.penalty, matter.discretion, matter.category) == (
        "MZ-CF-0099", "慈善组织不按规定公开信息", "慈善事业", "警告；责令限期停止活动", ENTRY["discretion"], "penalty")
    assert (matter.active, matter.revision, matter.approved_by, matter.approved_role) == (True, 1, "zheng", "office")
    assert matter.random_inspection is True and matter.approved_at is not None
    assert catalogue.is_in_force(db, "MZ-CF-0099")
    assert [m.code for m in lookups.active_matters(db)] == ["MZ-CF-0001", "MZ-CF-0099"]


def test_abolishing_keeps_the_entry_but_takes_it_out_of_force(db):
    catalogue.publish(db, ENTRY, approved_by="zheng", approved_role="office")
    matter = catalogue.publish(db, ENTRY | {"matter_status": "abolished"}, approved_by="zheng", approved_role="office")
    assert (matter.active, matter.revision) == (False, 2) and matter.abolished_at is not None
    assert not catalogue.is_in_force(db, "MZ-CF-0099")
    assert lookups.FormLookups(db, 1).matter_exists("MZ-CF-0099") is False
    field = FieldSpec(id="matter_code", label="执法事项", type="matter")
    _, errors = validate_form([field], {"matter_code": "MZ-CF-0099"}, {}, lookups.FormLookups(db, 1))
    assert [str(m) for m in errors["matter_code"]] == ["执法事项：执法事项目录中没有该事项"]
    everything = catalogue.entries(db, catalogue.Search(with_abolished=True))
    assert [m.code for m in everything] == ["MZ-CF-0001", "MZ-CF-0099"]  # in force first
    assert [m.code for m in catalogue.entries(db)] == ["MZ-CF-0001"]


def test_an_unknown_category_is_other_and_a_missing_one_a_penalty(db):
    assert catalogue.publish(db, ENTRY | {"matter_category": "odd"}, approved_by="x", approved_role=None).category == "other"
    assert catalogue.publish(db, ENTRY | {"matter_category": None}, approved_by="x", approved_role=None).category == "penalty"
    with pytest.raises(ValueError):
        catalogue.publish(db, ENTRY | {"matter_code": " "}, approved_by="x", approved_role=None)


def test_search_by_words_field_and_random_inspection(db):
    catalogue.publish(db, ENTRY, approved_by="zheng", approved_role="office")
    assert [m.code for m in catalogue.entries(db, catalogue.Search(query="慈善"))] == ["MZ-CF-0099"]
    assert [m.code for m in catalogue.entries(db, catalogue.Search(query="第三十条"))] == ["MZ-CF-0001"]
    assert [m.code for m in catalogue.entries(db, catalogue.Search(query="%_"))] == ["MZ-CF-0001", "MZ-CF-0099"]
    assert [m.code for m in catalogue.entries(db, catalogue.Search(field="社会组织"))] == ["MZ-CF-0001"]
    assert [m.code for m in catalogue.entries(db, catalogue.Search(random_only=True))] == ["MZ-CF-0099"]
    assert catalogue.fields(db) == sorted(["社会组织", "慈善事业"])
    latest = catalogue.latest_approval(db)
    assert (latest.role, latest.count) == ("office", 2)
    with pytest.raises(NotFound):
        catalogue.get(db, "MZ-CF-9999")


def test_the_demo_catalogue_is_published_through_pre_disclosure(settings, frozen_clock):
    with session_scope(settings) as session:
        from workflows.bootstrap import init_database
        init_database(settings, session)
        demo.load_demo(session, settings, with_cases=False)
    with session_scope(settings) as session:
        matters = list(session.scalars(select(Matter).order_by(Matter.code)))
        assert [m.code for m in matters] == [row[0] for row in sorted(demo.MATTERS)]
        assert all(m.active and m.approved_role == "office" and m.approved_by == "office" and m.revision == 1
                   and m.discretion and m.penalty for m in matters)
        sources = {m.source_case_id for m in matters}
        cases_ = list(session.scalars(select(Instance).where(Instance.id.in_(sources))))
        assert {c.process_id for c in cases_} == {"pre_disclosure"} and len(cases_) == len(matters)
        assert all(c.status == "running" and c.next_timer_at is not None for c in cases_)  # annual review
        assert all(m.approved_at.date() < date(2026, 8, 1) + timedelta(days=10) for m in matters)  # 120 days back


def test_migration_keeps_the_earlier_catalogue_in_force(settings):
    engine = get_engine(settings.database_url)
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0007")
        connection.execute(text("INSERT INTO policy_setting (name, value, kind, label_zh, basis) "
                                "VALUES ('agency_name', '新市区民政局', 'text', '执法主体名称', '')"))
        connection.execute(text("INSERT INTO matter (code, name, field, legal_basis, penalty, serious, active) "
                                "VALUES ('MZ-CF-0001', '出借登记证书', '社会组织', '条例第三十条', '警告', false, true)"))
        command.upgrade(cfg, "0008")
        row = connection.execute(text("SELECT active, category, enforcement_subject, revision, approved_at, discretion "
                                      "FROM matter")).one()
        assert tuple(row) == (True, "penalty", "新市区民政局", 0, None, "")
        command.downgrade(cfg, "0007")
        assert connection.execute(text("SELECT code, penalty FROM matter")).all() == [("MZ-CF-0001", "警告")]


# --- 事前公开 read models ---------------------------------------------------------------------------

def test_personnel_lists_only_credentials_valid_today_of_active_holders(db):
    listed = public_info.personnel(db)
    names = [o.name for o in listed]
    assert "赵六" not in names  # expired
    assert {"张三", "李四", "孙七"} <= set(names)
    zhang = next(o for o in listed if o.name == "张三")
    assert (zhang.unit, zhang.area) == ("社会组织管理科", "新市区") and zhang.valid_from <= date(2026, 11, 2)
    credentials.suspend(db, "admin", zhang.number, "调查中")
    people.deactivate_user(db, "admin", "li", "调离")
    names = [o.name for o in public_info.personnel(db)]
    assert "张三" not in names and "李四" not in names
    assert public_info.personnel_provenance(db).role == "admin"


def test_credential_check_says_the_state_and_nothing_more(db):
    number = get_user(db, "zhang").credentials[0].number
    check = public_info.check_credential(db, number)
    assert (check.state, check.name, check.unit, check.area) == ("valid", "张三", "社会组织管理科", "新市区")
    assert set(vars(check)) == {"number", "state", "name", "unit", "area", "checked_on"}
    expired = get_user(db, "zhao").credentials[0].number
    assert public_info.check_credential(db, expired).state == "expired"
    credentials.suspend(db, "admin", number, "调查中")
    assert public_info.check_credential(db, number).state == "suspended"
    credentials.revoke(db, "admin", number, "违规执法")
    assert public_info.check_credential(db, number).state == "revoked"
    li = get_user(db, "li").credentials[0].number
    people.deactivate_user(db, "admin", "li", "调离")
    assert public_info.check_credential(db, li).state == "invalid"
    for unknown in ("NOPE", "", "x" * 200):
        with pytest.raises(NotFound):
            public_info.check_credential(db, unknown)


def test_body_and_remedies_come_from_settings_with_who_changed_them(db, settings):
    body = public_info.body(db)
    assert body.name == settings.agency_name and body.phone and body.office_hours and body.duties
    assert body.provenance == public_info.Provenance(None, None)
    policy.change_policy(db, "admin", "agency_phone", "0991-3889999", "政务公开目录", "电话变更")
    body = public_info.body(db)
    assert body.phone == "0991-3889999" and body.provenance.role == "admin" and body.provenance.at is not None
    remedies = public_info.remedies(db)
    assert (remedies.reconsideration_days, remedies.litigation_months) == ("60", "6")
    assert remedies.reconsideration_body and remedies.litigation_court


def test_procedure_outline_follows_the_case_through_its_stages(db):
    deployment.deploy(db, deployment.read_model_files([demo.MODELS]), "designer")
    outline = public_info.procedure(db, "enforcement_case")
    stages = [s.calls for s in outline.steps]
    assert stages[0] == "case_filing" and stages[-1] == "case_closure"
    assert stages.index("case_decision") < stages.index("case_service") < stages.index("case_execution")
    filing = outline.steps[0]
    assert filing.steps[0].element == "file_case" and filing.steps[0].role
    assert {"case_filing", "legal_review", "hearing"} <= outline.processes
    assert outline.provenance.role == "designer"
    assert public_info.procedure(db, "legal_review", "enforcement_case").process_id == "legal_review"
    with pytest.raises(NotFound):  # not part of the case procedure
        public_info.procedure(db, "pre_disclosure", "enforcement_case")
    assert b"case_filing" in public_info.diagram(db, "case_filing", "enforcement_case")
