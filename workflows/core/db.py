"""Database engine and units of work.

Services below this layer only ``flush()``; :func:`session_scope` (CLI, worker) or the web request
teardown commits, or rolls back on any exception.

SQLite lets one writer in at a time, and makes the others poll with growing sleeps (up to 100 ms
each), so under load a write waits far longer than the writes ahead of it take. Within a process,
writers therefore queue on a lock instead (:class:`_WriterQueue`): taken when a write transaction
begins, handed on the moment its connection goes back to the pool after commit or rollback.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import threading
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from workflows.core.settings import Settings


WRITE_WAIT = 30.0  # seconds a writer waits for its turn, as SQLite's own busy timeout


class _WriterQueue:
    """The turn to write to one SQLite database, among this process's threads."""

    def __init__(self):
        self._lock = threading.Lock()

    def enter(self, record_info: dict) -> None:
        if not self._lock.acquire(timeout=WRITE_WAIT):
            raise OperationalError("BEGIN IMMEDIATE", None, TimeoutError("database is locked by a long write"))
        record_info["writer_turn"] = True

    def leave(self, record_info: dict) -> None:
        if record_info.pop("writer_turn", False):
            self._lock.release()


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """One engine per URL; SQLite gets WAL, foreign keys, explicit transaction control and a writer queue."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": WRITE_WAIT, "check_same_thread": False})
    writers = _WriterQueue()

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
        if conn.get_execution_options().get("write"):
            if not conn.info.get("writer_turn"):
                writers.enter(conn.info)
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN DEFERRED")

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn, record):
        writers.leave(record.info)

    return engine


@lru_cache(maxsize=16)
def session_factory(settings: Settings, *, write: bool = True) -> sessionmaker[Session]:
    engine = get_engine(settings.database_url)
    if write:
        engine = engine.execution_options(write=True)
    return sessionmaker(bind=engine, expire_on_commit=False, info={"settings": settings})  # the audit key's path


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
