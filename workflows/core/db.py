"""Database engine and units of work.

Services below this layer only ``flush()``; :func:`session_scope` (CLI, worker) or the web request
teardown commits, or rolls back on any exception.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from workflows.core.settings import Settings


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """One engine per URL; SQLite gets WAL, foreign keys and explicit transaction control."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # Writers take the write lock up front: a deferred transaction that reads and then writes
        # fails at once when another writer got there first, instead of waiting its turn.
        mode = "IMMEDIATE" if conn.get_execution_options().get("write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


@lru_cache(maxsize=16)
def session_factory(settings: Settings, *, write: bool = True) -> sessionmaker[Session]:
    engine = get_engine(settings.database_url)
    if write:
        engine = engine.execution_options(write=True)
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def statements(url: str) -> Iterator[list[str]]:
    """Collect the SQL statements run on the engine of ``url`` during the block (transaction control
    aside): what benchmarks and tests count."""
    seen: list[str] = []

    def collect(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            seen.append(statement)

    engine = get_engine(url)
    event.listen(engine, "before_cursor_execute", collect)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", collect)


@contextmanager
def session_scope(settings: Settings, *, write: bool = True) -> Iterator[Session]:
    """One unit of work: commit at the end, roll back on any exception."""
    session = session_factory(settings, write=write)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
