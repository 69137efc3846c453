"""People, roles and credentials; settings; the layering contract."""
from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from workflows.domain import access, auth, credentials, people
from workflows.core.errors import CredentialRequired, FormInvalid, NotFound
from workflows.core.models import Role
from workflows.core.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_roles_are_those_of_the_domain(db):
    rows = {r.id: r for r in db.query(Role)}
    assert rows["officer"].label_zh == "执法人员" and rows["officer"].needs_credential
    assert rows["officer"].unit_scoped and rows["unit_head"].unit_scoped
    assert not rows["legal_reviewer"].needs_credential
    assert set(rows) == {"officer", "unit_head", "legal_reviewer", "agency_head", "office", "designer", "manager", "admin"}


def test_passwords_are_hashed_and_checked(db):
    user = people.get_user(db, "zhang")
    assert user.password_hash.startswith("$argon2") and "secret-pass" not in user.password_hash
    assert people.check_password(user, "secret-pass") and not people.check_password(user, "wrong")


def test_credentials_are_valid_only_within_their_dates(db):
    zhang, zhao = people.get_user(db, "zhang"), people.get_user(db, "zhao")
    assert zhang.valid_credential(date(2026, 11, 2)) is not None
    assert zhang.valid_credential(date(2030, 1, 1)) is None
    with pytest.raises(CredentialRequired):
        access.check_credential(zhao, "officer")
    access.check_credential(zhao, "unit_head")  # no credential needed there


def test_user_input_errors(db):
    with pytest.raises(FormInvalid, match="没有这些角色"):
        people.add_user(db, "admin", "x1", "某", "law", "pass-1234", ["king"])
    with pytest.raises(NotFound):
        people.add_user(db, "admin", "x2", "某", "nowhere", "pass-1234", ["officer"])
    with pytest.raises(FormInvalid, match="有效期结束日期不能早于开始日期"):
        credentials.issue(db, "admin", "zhang", "N1", "区", date(2026, 2, 1), date(2026, 1, 1))


def test_settings_defaults_and_overrides(tmp_path):
    s = load_settings({"SANXIANG_INSTANCE_PATH": str(tmp_path / "inst")})
    assert s.instance_path.is_dir() and s.database_url == f"sqlite:///{tmp_path / 'inst' / 'sanxiang.db'}"
    assert len(s.secret_key) == 64 and (tmp_path / "inst" / "secret_key").stat().st_mode & 0o077 == 0
    assert load_settings({"SANXIANG_INSTANCE_PATH": str(tmp_path / "inst")}).secret_key == s.secret_key
    pg = load_settings({"SANXIANG_INSTANCE_PATH": str(tmp_path), "SANXIANG_DATABASE_URL": "postgresql://u@h/db",
                        "SANXIANG_CASE_NUMBER_PATTERN": "X{year}-{seq}"})
    assert pg.database_url == "postgresql+psycopg://u@h/db" and pg.case_number_pattern == "X{year}-{seq}"
    assert not s.secure_cookies
    assert load_settings({"SANXIANG_INSTANCE_PATH": str(tmp_path), "SANXIANG_SECURE_COOKIES": "1"}).secure_cookies


def test_workflows_imports_no_web_package():
    code = ("import sys, pkgutil, importlib, workflows\n"
            "for m in pkgutil.walk_packages(workflows.__path__, 'workflows.'):\n"
            "    if '.migrations' not in m.name: importlib.import_module(m.name)\n"
            "bad = sorted(n for n in sys.modules if n.split('.')[0] in {'flask', 'flask_login', 'flask_wtf', 'flask_babel', 'wtforms', 'webapp'})\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == ""
    lint = subprocess.run([str(Path(sys.executable).parent / "lint-imports")], capture_output=True, text=True, cwd=ROOT)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_an_unknown_username_costs_the_same_password_check(db, monkeypatch):
    calls, real = [], people._hasher

    class Counting:
        def verify(self, digest, password):
            calls.append(digest)
            return real.verify(digest, password)

        def hash(self, password):
            return real.hash(password)

    monkeypatch.setattr(people, "_hasher", Counting())
    assert auth.authenticate(db, "nobody-here", "secret-pass").user is None
    assert auth.authenticate(db, "zhang", "wrong-pass").user is None
    assert len(calls) == 2 and calls[0] != calls[1]  # a dummy hash for the unknown name, the real one for zhang
