"""Migration 0012: a database seeded with the old 60-day public-notice default gets 30 days (民事诉讼法
Art. 95 as revised in 2021); an administrator's own value is left alone."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from workflows.core.db import get_engine
from workflows.core.schema import alembic_config

OLD_BASIS = "行政处罚法第61条、民事诉讼法"
NEW_BASIS = "行政处罚法第61条、民事诉讼法第95条"


def _at_0011_with(settings, amount: int, basis: str):
    engine = get_engine(settings.database_url)
    cfg = alembic_config(engine)
    connection = engine.connect()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "0011")
    connection.execute(text("INSERT INTO deadline_setting (name, amount, unit, label_zh, basis) "
                            "VALUES ('public_notice_service', :amount, 'days', '公告送达视为送达期限', :basis)"),
                       {"amount": amount, "basis": basis})
    connection.commit()
    return cfg, connection


def _row(connection):
    return tuple(connection.execute(text("SELECT amount, unit, basis FROM deadline_setting "
                                         "WHERE name = 'public_notice_service'")).one())


def _changes(connection):
    return [tuple(r) for r in connection.execute(text(
        "SELECT name, old, new, changed_by FROM setting_change ORDER BY id"))]


def test_the_old_default_becomes_30_days_and_the_change_is_kept(settings):
    cfg, connection = _at_0011_with(settings, 60, OLD_BASIS)
    try:
        command.upgrade(cfg, "head")
        connection.commit()
        assert _row(connection) == (30, "days", NEW_BASIS)
        assert _changes(connection) == [("deadline:public_notice_service", f"60 days · {OLD_BASIS}",
                                         f"30 days · {NEW_BASIS}", "system")]
        command.downgrade(cfg, "0011")
        connection.commit()
        assert _row(connection) == (60, "days", OLD_BASIS)
    finally:
        connection.close()


@pytest.mark.parametrize("amount, basis", [(45, OLD_BASIS), (60, "本机关另行规定")])
def test_an_administrators_value_is_left_alone(settings, amount, basis):
    cfg, connection = _at_0011_with(settings, amount, basis)
    try:
        command.upgrade(cfg, "head")
        connection.commit()
        assert _row(connection) == (amount, "days", basis) and _changes(connection) == []
    finally:
        connection.close()
