"""Web app fixtures (flaskr style): ``app``, ``client``, ``auth``, plus a started case.

Every test gets its own copy of a database that holds the demo people and catalogue and the
test diagram ``web_case``. The original is built once per xdist worker: migrating, seeding and
deploying for every test would make the suite slow.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import NOON
from webapp import create_app
from workflows.domain import cases, tasks
from workflows.core import clock
from workflows.core.db import get_engine, session_scope
from workflows.domain.people import get_user
from workflows.core.settings import Settings

from .support import (
    PASSWORD, PROCESS, TEMPLATE_CACHE, app_config, build_demo_database, compile_translations, copy_database,
)

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory) -> Path:
    with clock.frozen(NOON):
        return build_demo_database(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="session")
def translations(tmp_path_factory) -> Path:
    return compile_translations(tmp_path_factory.mktemp("translations"))


@pytest.fixture
def app_settings(tmp_path, demo_database) -> Settings:
    return copy_database(demo_database, tmp_path / "instance")


@pytest.fixture
def app(app_settings, translations, frozen_clock):
    app = create_app(app_config(app_settings, translations, TESTING=True))
    app.jinja_env.bytecode_cache = TEMPLATE_CACHE
    yield app
    get_engine(app_settings.database_url).dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the client's session, as a page carries it."""
    page = client.get(path)
    found = CSRF.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path} ({page.status_code})"
    return found.group(1)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str = PASSWORD, remember: bool = False, **kw):
        data = {"username": username, "password": password, "_csrf_token": csrf_token(self.client)}
        if remember:
            data["remember"] = "y"
        return self.client.post("/login", data=data, **kw)

    def logout(self):
        return self.client.post("/logout", data={"_csrf_token": csrf_token(self.client, "/")})


@pytest.fixture
def auth(client):
    return Auth(client)


def post(client, path: str, data: dict | None = None, **kw):
    """POST with the session's CSRF token, as the page's form would."""
    return client.post(path, data={**(data or {}), "_csrf_token": csrf_token(client, "/")}, **kw)


@dataclass
class StartedCase:
    instance_id: int
    task_id: str  # the filing task, assigned to officer1


def start_case(settings: Settings, username: str = "officer1", party: str = "新市区某某养老协会",
               matter: str = "MZ-CF-0001") -> StartedCase:
    with session_scope(settings) as session:
        user = get_user(session, username)
        started = cases.start(session, settings, user, PROCESS, {"matter_code": matter, "party_name": party})
        return StartedCase(started.instance.id, started.first_for(user).task_id)


FILING = {"party_name": "新市区某某养老协会", "matter_code": "MZ-CF-0001", "facts": "未按规定签订服务协议。",
          "second_officer": "officer2", "kind": "inspection"}


def complete(settings: Settings, username: str, task_id: str, data: dict) -> list[str]:
    """Complete a task through the engine; the ids of the tasks that follow."""
    with session_scope(settings) as session:
        outcome = tasks.complete_or_raise(session, get_user(session, username), task_id, data)
        return [t.task_id for t in outcome.next_tasks]


@pytest.fixture
def case(app, app_settings) -> StartedCase:
    return start_case(app_settings)
