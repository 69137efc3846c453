"""One unit of work per request: a session opened on first use, committed before the response.

The commit runs as the response is finalised, so a failed commit becomes an error page rather
than a success page over lost work. The request's changes are rolled back instead when an error
page is shown (:func:`discard`) or the request raised. GET requests read on a deferred
transaction unless the view records something (:func:`writes`), so readers never queue behind
writers on SQLite.
"""
from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from sqlalchemy.orm import Session

from workflows.core.db import session_factory
from workflows.core.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def settings() -> Settings:
    return current_app.config["SANXIANG_SETTINGS"]


def writes(view):
    """Mark a GET view that writes (the audit of a read, for instance)."""
    view.writes = True
    return view


def session() -> Session:
    if "db_session" not in g:
        view = current_app.view_functions.get(request.endpoint or "")
        write = request.method not in SAFE_METHODS or getattr(view, "writes", False)
        g.db_session = session_factory(settings(), write=write)()
    return g.db_session


def commit() -> None:
    """Commit the request's work now, for a page that records a read and then only renders (on
    SQLite the write turn is handed on before the page is drawn)."""
    if "db_session" in g and not g.get("db_discarded"):
        g.db_session.commit()


def discard() -> None:
    """Throw away this request's changes now; the error page rendered next may still read."""
    g.db_discarded = True
    if "db_session" in g:
        g.db_session.rollback()


def init_app(app: Flask) -> None:
    app.after_request(_commit)
    app.teardown_request(_close)


def _commit(response: Response) -> Response:
    db = g.get("db_session")
    if db is not None and not g.get("db_discarded"):
        db.commit()
    return response


def _close(exc: BaseException | None) -> None:
    db = g.pop("db_session", None)
    if db is not None:
        db.rollback()  # a no-op after the commit; undoes everything when the request failed
        db.close()
