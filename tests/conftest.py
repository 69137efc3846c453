"""Shared fixtures: a fresh database per test, on SQLite by default or on the PostgreSQL named by
``SANXIANG_TEST_DATABASE_URL`` (each test in its own schema, so xdist workers never collide)."""
from __future__ import annotations

import os
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from argon2 import PasswordHasher

from workflows.core import clock
from workflows.domain import people
from workflows.bootstrap import init_database
from workflows.core.db import session_scope
from workflows.core.models import Matter
from workflows.domain import credentials
from workflows.domain.people import add_user, ensure_unit
from workflows.core.settings import load_settings

BPMN_DIR = Path(__file__).parent / "bpmn"
PG_URL = os.environ.get("SANXIANG_TEST_DATABASE_URL", "")
NOON = datetime(2026, 11, 2, 4, 0, tzinfo=timezone.utc)  # Monday 12:00 in Shanghai


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing():
    """Production argon2 costs ~90 ms a hash; seeding a dozen users per test would dominate."""
    people._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def database_url(tmp_path):
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def settings(tmp_path, database_url):
    return load_settings({"SANXIANG_INSTANCE_PATH": str(tmp_path / "instance"),
                          "SANXIANG_DATABASE_URL": database_url})


@pytest.fixture
def frozen_clock():
    with clock.frozen(NOON) as frozen:
        yield frozen


@pytest.fixture
def db(settings, frozen_clock):
    """A session on a fresh, initialised database with two units, people and a matter."""
    with session_scope(settings) as session:
        init_database(settings, session)
        seed_people(session)
    with session_scope(settings) as session:
        yield session


def seed_people(session):
    ensure_unit(session, "law", "法制科")
    ensure_unit(session, "social", "社会组织管理科")
    ensure_unit(session, "elderly", "养老服务科")
    today = date(2026, 11, 2)
    people = [
        ("zhang", "张三", "social", ["officer"], True),
        ("li", "李四", "social", ["officer"], True),
        ("zhao", "赵六", "social", ["officer"], False),  # credential expired
        ("sun", "孙七", "elderly", ["officer"], True),
        ("wang", "王五", "social", ["unit_head"], None),
        ("qian", "钱八", "elderly", ["unit_head"], None),
        ("zhou", "周九", "law", ["legal_reviewer"], None),
        ("wu", "吴十", "law", ["agency_head"], None),
        ("admin", "管理员", "law", ["admin"], None),
        ("designer", "设计员", "law", ["designer"], None),
        ("feng", "冯七", "law", ["manager"], None),
    ]
    for username, name, unit, roles, valid in people:
        user = add_user(session, "system", username, name, unit, "secret-pass", roles,
                        qualification=(f"A{username}", date(2020, 1, 1)) if "legal_reviewer" in roles else None)
        if valid is not None:
            start, end = (today - timedelta(days=365), today + timedelta(days=365)) if valid else \
                (today - timedelta(days=800), today - timedelta(days=1))
            credentials.issue(session, "system", user.username, f"JZ{user.id:04d}", "新市区", start, end)
    session.add(Matter(code="MZ-CF-0001", name="社会组织涂改、出租、出借登记证书", field="社会组织",
                       legal_basis="《社会团体登记管理条例》第三十条", penalty="警告；责令停止活动；撤销登记"))
    session.flush()


def bpmn(name: str) -> bytes:
    return (BPMN_DIR / name).read_bytes()
