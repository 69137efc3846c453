"""Demo data for `sanxiang init --demo`: the bureau's sections, a person for every role, the
civil-affairs enforcement catalogue, the bpmn/ model set deployed, and cases at several stages."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.design import deployment
from workflows.demo.cases import create_demo_cases
from workflows.core.models import Matter, User
from workflows.domain import credentials
from workflows.domain.people import add_user, ensure_unit
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

MATTERS = [
    ("MZ-CF-0001", "社会组织涂改、出租、出借登记证书或印章", "社会组织",
     "《社会团体登记管理条例》第三十条", "警告；责令停止活动；撤销登记；没收违法所得", False),
    ("MZ-CF-0002", "社会团体超出章程规定的宗旨和业务范围进行活动", "社会组织",
     "《社会团体登记管理条例》第三十条", "警告；责令限期停止活动；撤销登记", False),
    ("MZ-CF-0003", "民办非企业单位拒不接受或不按规定接受监督检查", "社会组织",
     "《民办非企业单位登记管理暂行条例》第二十五条", "警告；责令改正；限期停止活动；撤销登记", False),
    ("MZ-CF-0011", "养老机构未与老年人或其代理人签订服务协议", "养老服务",
     "《养老机构管理办法》（民政部令第66号）第四十六条", "责令改正，给予警告；情节严重的，处以3万元以下罚款", True),
    ("MZ-CF-0012", "养老机构歧视、侮辱、虐待老年人", "养老服务",
     "《养老机构管理办法》（民政部令第66号）第四十六条", "责令改正，给予警告；情节严重的，处以3万元以下罚款", True),
    ("MZ-CF-0021", "未经批准擅自兴建殡葬设施", "殡葬管理",
     "《殡葬管理条例》第十八条", "责令停止违法行为，责令限期拆除；没收违法所得，可并处违法所得1倍以上3倍以下罚款", False),
    ("MZ-CF-0022", "制造、销售封建迷信殡葬用品", "殡葬管理",
     "《殡葬管理条例》第二十二条", "没收封建迷信殡葬用品及违法所得，可并处违法所得1倍以上3倍以下罚款", False),
    ("MZ-CF-0031", "擅自命名、更名地名", "地名管理",
     "《地名管理条例》第三十一条", "责令限期改正；逾期不改正的，处2000元以上1万元以下罚款", False),
]


def load_demo(session: Session, settings: Settings, *, with_cases: bool = True) -> None:
    """Add the demo people, catalogue, models and cases (each skipped when already there)."""
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
        for code, name, field, basis, penalty, serious in MATTERS:
            session.add(Matter(code=code, name=name, field=field, legal_basis=basis, penalty=penalty,
                               serious=serious))
        session.flush()
    deployment.deploy(session, deployment.read_model_files([MODELS]), "system")
    if with_cases:
        create_demo_cases(session, settings)
