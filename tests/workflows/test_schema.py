"""The schema is Alembic's: migrations build exactly the models, and keep data on the way."""
from __future__ import annotations

from alembic import command
from sqlalchemy import text

from workflows.core.db import get_engine
from workflows.core.schema import alembic_config, upgrade


def test_migrations_build_exactly_what_the_models_describe(settings):
    engine = get_engine(settings.database_url)
    upgrade(engine)
    upgrade(engine)  # idempotent
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.check(cfg)  # raises if the models and the migrated schema differ


def test_case_counters_survive_the_move_to_numbering_series(settings, monkeypatch):
    monkeypatch.setenv("SANXIANG_CASE_NUMBER_PATTERN", "X{year}-{seq}")
    engine = get_engine(settings.database_url)
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0002")
        connection.execute(text("INSERT INTO case_counter (year, last) VALUES (2026, 41)"))
        command.upgrade(cfg, "head")
        assert connection.execute(text("SELECT series, year, last FROM case_counter")).all() == [("X{year}-{seq}", 2026, 41)]
