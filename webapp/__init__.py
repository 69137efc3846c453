"""The web UI: a thin Flask layer over ``workflows``."""
from __future__ import annotations

import json
from datetime import timedelta

from flask import Flask, current_app, g, jsonify, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from workflows.core import clock
from workflows.engine.runtime import today
from workflows.domain import alerts, credentials
from workflows.domain.access import may_administer, may_design, may_monitor, works_cases
from workflows.domain.cases import may_start
from workflows.domain.inbox import open_count as count_open_tasks
from workflows.core.settings import load_settings

from . import db, errors, i18n, labels, markdown
from .evidence import UPLOAD_MARGIN, size_text
from .extensions import csrf, login_manager
from .params import IdConverter

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def create_app(config: dict | None = None) -> Flask:
    """Build the app; ``config`` overrides settings (tests pass their own)."""
    settings = (config or {}).get("SANXIANG_SETTINGS") or load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.url_map.converters["int"] = IdConverter
    app.config.update(
        SECRET_KEY=settings.secret_key, SANXIANG_SETTINGS=settings,
        CASE_PROCESS="enforcement_case", INBOX_PER_PAGE=20,
        MAX_CONTENT_LENGTH=settings.evidence_max_bytes + UPLOAD_MARGIN,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax", REMEMBER_COOKIE_DURATION=timedelta(days=14),
        WTF_CSRF_FIELD_NAME="_csrf_token", WTF_CSRF_TIME_LIMIT=None,
    )
    app.config.update(config or {})

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("请先登录。")
    login_manager.login_message_category = "info"
    i18n.init_app(app)
    labels.register(app)
    errors.init_app(app)
    _register_blueprints(app)
    app.context_processor(_layout)
    app.before_request(_password_first)
    app.jinja_env.globals.update(now=clock.now, today=today, task_card=_task_card)
    app.jinja_env.filters.update(markdown=markdown.render, filesize=size_text, fromjson=json.loads)
    app.after_request(_security_headers)

    @app.get("/health")
    def health():
        return jsonify(status="ok")

    return app


def _register_blueprints(app: Flask) -> None:
    from .admin import bp as admin
    from .auth import bp as auth
    from .cases import bp as cases
    from .inbox import bp as inbox
    from .monitor import bp as monitor
    from .portal import bp as portal
    from .studio import bp as studio
    from .tasks import bp as tasks

    for blueprint in (auth, inbox, tasks, cases, monitor, admin, studio, portal):
        app.register_blueprint(blueprint)


def _layout() -> dict:
    """What the base layout needs: the navigation the user may use and their open task count."""
    if not current_user.is_authenticated:
        return {}
    user = current_user.user

    def open_count() -> int:
        if "open_count" not in g:
            g.open_count = count_open_tasks(db.session(), user)
        return g.open_count

    def nav_start_case() -> bool:
        if "may_start" not in g:
            g.may_start = may_start(db.session(), user, current_app.config["CASE_PROCESS"])
        return g.may_start

    def expiring() -> list:
        """The credentials ending soon that this user is reminded of: their own; a unit head's unit's."""
        if "expiring" not in g:
            session, unit = db.session(), user.unit_id if "unit_head" in user.role_ids else None
            g.expiring = credentials.expiring(session, unit_id=unit) if unit else \
                credentials.expiring(session, holder=user.username) if user.credentials else []
        return g.expiring

    return {"me": user, "open_count": open_count, "nav_start_case": nav_start_case,
            "nav_monitor": may_monitor(user), "nav_admin": may_administer(user), "nav_my_cases": works_cases(user),
            "nav_studio": may_design(user), "expiring_credentials": expiring}


PASSWORD_FREE = frozenset({"auth.me", "auth.logout", "auth.set_language", "static", "health"})


def _password_first():
    """A user whose password an administrator reset sets a new one before anything else."""
    if current_user.is_authenticated and current_user.user.must_change_password \
            and request.endpoint not in PASSWORD_FREE:
        return redirect(url_for("auth.me"))
    return None


def _task_card(row) -> str | None:
    """The yellow or red card of a ready task (the engine's rule; thresholds read once per request)."""
    if row.state != "ready":
        return None
    if "alert_windows" not in g:
        g.alert_windows = alerts.windows(db.session())
    return g.alert_windows.task(row.due_at)


def _security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
