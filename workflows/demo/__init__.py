"""Demo data for `sanxiang init --demo`: the bureau's sections, a person for every role, the
civil-affairs enforcement catalogue, the bpmn/ model set deployed, and cases at several stages."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import clock
from workflows.design import deployment
from workflows.demo.cases import create_demo_cases, create_demo_report
from workflows.core.models import Matter, User
from workflows.domain import audit, cases, catalogue, credentials, policy, tasks
from workflows.domain.people import add_user, ensure_unit, get_user
from workflows.engine import specs
from workflows.engine.runtime import today
from workflows.core.settings import Settings

DEMO_PASSWORD = "demo1234"
MODELS = Path(__file__).resolve().parents[2] / "bpmn"

UNITS = [("social", "社会组织管理科"), ("elderly", "养老服务科"), ("affairs", "社会事务科"), ("law", "法制办公室"),
         ("office", "办公室")]

# username, name, unit, roles, credential: None = none, True = valid, False = expired
PEOPLE = [
    ("officer1", "张明", "social", ["officer"], True),
    ("officer2", "李华", "social", ["officer"], True),
    ("officer3", "赵强", "social", ["officer"], False),
    ("officer4", "孙丽", "elderly", ["officer"], True),
    ("officer5", "马骏", "elderly", ["officer"], True),
    ("head", "王芳", "social", ["unit_head"], None),
    ("head2", "何静", "elderly", ["unit_head"], None),
    ("reviewer", "周静", "law", ["legal_reviewer"], None),
    ("director", "吴刚", "law", ["agency_head"], None),
    ("office", "郑敏", "office", ["office"], None),
    ("designer", "陈晨", "law", ["designer"], None),
    ("manager", "冯伟", "office", ["manager"], None),
    ("admin", "管理员", "office", ["admin"], None),
]

# The civil-affairs enforcement catalogue, published through ``pre_disclosure`` like any other entry:
# code, name, field, legal basis, penalty types, discretion standard (裁量基准), serious (5-year
# limitation), on the random-inspection list, the unit that drafts it.
MATTERS = [
    ("MZ-CF-0001", "社会组织涂改、出租、出借登记证书或印章", "社会组织",
     "《社会团体登记管理条例》第三十条", "警告；责令停止活动；撤销登记；没收违法所得",
     "情节轻微并及时改正的，给予警告；出借一次、未获利的，责令限期停止活动；多次出租出借或者获利的，"
     "没收违法所得，责令限期停止活动；情节严重的，撤销登记。", False, True, "social"),
    ("MZ-CF-0002", "社会团体超出章程规定的宗旨和业务范围进行活动", "社会组织",
     "《社会团体登记管理条例》第三十条", "警告；责令限期停止活动；撤销登记",
     "首次发现、影响较小的，给予警告；经警告仍继续的，责令限期停止活动；造成恶劣社会影响的，撤销登记。",
     False, True, "social"),
    ("MZ-CF-0003", "民办非企业单位拒不接受或不按规定接受监督检查", "社会组织",
     "《民办非企业单位登记管理暂行条例》第二十五条", "警告；责令改正；限期停止活动；撤销登记",
     "逾期未参加年度检查、经催告后补报的，给予警告；拒不接受检查的，责令改正并限期停止活动；"
     "连续两年不接受检查的，撤销登记。", False, True, "social"),
    ("MZ-CF-0011", "养老机构未与老年人或其代理人签订服务协议", "养老服务",
     "《养老机构管理办法》（民政部令第66号）第四十六条", "责令改正，给予警告；情节严重的，处以3万元以下罚款",
     "未签订协议的老年人在5人以下且及时改正的，责令改正，给予警告；5人以上或者拒不改正的，处1万元以上"
     "2万元以下罚款；造成老年人合法权益受到损害的，处2万元以上3万元以下罚款。", True, True, "elderly"),
    ("MZ-CF-0012", "养老机构歧视、侮辱、虐待老年人", "养老服务",
     "《养老机构管理办法》（民政部令第66号）第四十六条", "责令改正，给予警告；情节严重的，处以3万元以下罚款",
     "歧视、侮辱老年人，未造成后果的，责令改正，给予警告；虐待老年人或者造成身体伤害的，处2万元以上"
     "3万元以下罚款；涉嫌犯罪的，移送司法机关。", True, True, "elderly"),
    ("MZ-CF-0021", "未经批准擅自兴建殡葬设施", "殡葬管理",
     "《殡葬管理条例》第十八条", "责令停止违法行为，责令限期拆除；没收违法所得，可并处违法所得1倍以上3倍以下罚款",
     "及时停止并自行拆除的，责令停止违法行为，没收违法所得；拒不拆除或者扩建的，并处违法所得1倍以上"
     "2倍以下罚款；造成恶劣影响的，并处违法所得2倍以上3倍以下罚款。", False, False, "social"),
    ("MZ-CF-0022", "制造、销售封建迷信殡葬用品", "殡葬管理",
     "《殡葬管理条例》第二十二条", "没收封建迷信殡葬用品及违法所得，可并处违法所得1倍以上3倍以下罚款",
     "首次发现、数量较少的，没收封建迷信殡葬用品及违法所得；再次发现的，并处违法所得1倍以上2倍以下罚款；"
     "屡教不改的，并处违法所得2倍以上3倍以下罚款。", False, False, "social"),
    ("MZ-CF-0031", "擅自命名、更名地名", "地名管理",
     "《地名管理条例》第三十一条", "责令限期改正；逾期不改正的，处2000元以上1万元以下罚款",
     "在限期内改正的，不予罚款；逾期不改正的，处2000元以上5000元以下罚款；逾期不改正且造成社会影响的，"
     "处5000元以上1万元以下罚款。", False, False, "social"),
]
DRAFTERS = {"social": "officer1", "elderly": "officer4"}
CATALOGUE_AGE = timedelta(days=120)  # published before the oldest demo case was filed


def load_demo(session: Session, settings: Settings, *, with_cases: bool = True) -> None:
    """Add the demo people, models, catalogue and cases (each skipped when already there)."""
    if session.scalars(select(User.id).where(User.username == "officer1")).first() is None:
        for code, name in UNITS:
            ensure_unit(session, code, name)
        day = today()
        for username, name, unit, roles, valid in PEOPLE:
            user = add_user(session, "system", username, name, unit, DEMO_PASSWORD, roles,
                            qualification=(f"A2019{username}", date(2019, 12, 1)) if "legal_reviewer" in roles else None)
            if valid is not None:
                start, end = (day - timedelta(days=400), day + timedelta(days=1000)) if valid else \
                    (day - timedelta(days=1500), day - timedelta(days=30))
                credentials.issue(session, "system", user.username, f"15010{user.id:05d}", "新市区", start, end)
        session.flush()
    deployment.deploy(session, deployment.read_model_files([MODELS]), "system")
    if session.scalars(select(Matter.code)).first() is None:
        publish_catalogue(session, settings)
    if with_cases:
        create_demo_cases(session, settings)
        create_demo_report(session, settings)


def catalogue_entry(session: Session, settings: Settings, row: tuple) -> dict[str, Any]:
    """The pre_disclosure draft of a demo matter: the form's data, as the drafting officer fills it."""
    code, name, field, basis, penalty, discretion, serious, random, unit = row
    agency = policy.agency_name(session, settings)
    return {
        "matter_code": code, "matter_name": name, "matter_category": "penalty", "matter_field": field,
        "matter_status": "active", "enforcement_subject": agency,
        "duties": f"对{field}领域违反民政法律、法规、规章的行为实施监督检查。",
        "powers": f"依据{basis}，对违法行为实施行政检查和行政处罚：{penalty}。",
        "legal_basis": basis, "penalty_types": penalty, "discretion": discretion,
        "procedure": "立案—调查取证—调查终结审查—事先告知（陈述申辩、听证）—重大执法决定法制审核—决定—送达—执行—结案归档。",
        "remedy_channels": f"对处罚决定不服的，可以自知道该决定之日起{policy.value(session, 'reconsideration_days')}日内向"
                           f"{policy.value(session, 'reconsideration_body')}申请行政复议，或者自知道该决定之日起"
                           f"{policy.value(session, 'litigation_months')}个月内向{policy.value(session, 'litigation_court')}"
                           "提起行政诉讼。",
        "receiving_body": dict(UNITS)[unit], "approving_body": agency,
        "guide_materials": "投诉举报的，提供被投诉单位名称、违法行为线索及相关证明材料。",
        "guide_time_limit": "自立案之日起九十日内作出处理决定（《行政处罚法》第六十条）",
        "guide_office_hours": policy.value(session, "agency_office_hours"),
        "guide_address": policy.value(session, "agency_address"), "guide_phone": policy.value(session, "agency_phone"),
        "random_inspection": random, "serious": serious, "change_note": "依据权责清单编制。",
    }


def publish_catalogue(session: Session, settings: Settings) -> None:
    """Publish the demo catalogue as the bureau would: each matter through the ``pre_disclosure``
    process (drafted by an officer of its unit, checked by the legal reviewer, approved by the
    office), some months back. Where the deployed models have no ``pre_disclosure`` (a test's own
    model set), the same catalogue function its hook calls publishes the entries."""
    version = specs.current_version(session)
    if version is None or "pre_disclosure" not in specs.process_names(session, version):
        for row in MATTERS:
            catalogue.publish(session, catalogue_entry(session, settings, row), approved_by="office",
                              approved_role="office")
            audit.record(session, "office", "catalogue.publish", matter=row[0], in_force=True)
        return
    with clock.frozen(clock.now() - CATALOGUE_AGE):
        for row in MATTERS:
            drafter = get_user(session, DRAFTERS[row[-1]])
            started = cases.start(session, settings, drafter, "pre_disclosure")
            for spec_id, username, data in (
                    ("draft_matter", drafter.username, catalogue_entry(session, settings, row)),
                    ("legal_check_matter", "reviewer", {"legal_check_result": "pass",
                                                        "legal_check_opinion": "主体适格，依据现行有效，裁量基准适当。"}),
                    ("approve_matter", "office", {"office_result": "approve", "office_opinion": "同意公示。"})):
                [row_] = [r for r in cases.ready_tasks_of(session, started.instance.id) if r.spec_id == spec_id]
                tasks.complete_or_raise(session, get_user(session, username), row_.task_id, data)
