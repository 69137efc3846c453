"""Administration pages: each view calls one engine operation (which checks that the actor
administers) and shows the engine's messages when it refuses."""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from workflows.core.errors import FormInvalid
from workflows.core.roles import ROLES
from workflows.core.workdays import TZ
from workflows.domain import access, audit, credentials, holidays, integrity, people, policy

from .. import db
from ..access import staff
from ..evidence import store
from ..i18n import localize
from ..params import bounded_int
from . import bp

PER_PAGE = 50
A_WEEK = [date(2024, 1, 1) + timedelta(days=n) for n in range(7)]  # Monday to Sunday, for column heads


def _admin():
    user = staff()
    access.check_administer(user)
    return user, db.session()


def _date(name: str) -> date | None:
    raw = (request.form.get(name) or request.args.get(name) or "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _act(operation, done: str, back: str):
    """Run an operation; its refusal becomes messages on the page it came from, nothing changed."""
    try:
        result = operation()
    except FormInvalid as exc:
        db.discard()
        for messages in exc.errors.values():
            for message in messages:
                flash(localize(message), "danger")
        return redirect(back)
    flash(done(result) if callable(done) else done, "success")
    return redirect(back)


@bp.get("/")
def index():
    user, session = _admin()
    return render_template("admin/index.html", expiring=credentials.expiring(session),
                           uncovered=holidays.uncovered_years(session),
                           users=people.users(session, user), units=people.units(session))


# --- units ---------------------------------------------------------------------------------------

@bp.get("/units")
def units():
    _admin()
    return render_template("admin/units.html", units=people.units(db.session()))


@bp.post("/units")
def unit_create():
    user, session = _admin()
    return _act(lambda: people.create_unit(session, user, request.form.get("code", ""), request.form.get("name", "")),
                _("科室已新设。"), url_for(".units"))


@bp.post("/units/<code>/rename")
def unit_rename(code: str):
    user, session = _admin()
    return _act(lambda: people.rename_unit(session, user, code, request.form.get("name", "")), _("科室已更名。"),
                url_for(".units"))


@bp.post("/units/<code>/deactivate")
def unit_deactivate(code: str):
    user, session = _admin()
    return _act(lambda: people.deactivate_unit(session, user, code), _("科室已撤销。"), url_for(".units"))


# --- people --------------------------------------------------------------------------------------

@bp.get("/users")
def users():
    user, session = _admin()
    unit = request.args.get("unit", "")
    shown = people.users(session, user, unit_id=int(unit) if unit.isdigit() and len(unit) < 10 else None,
                         text=(request.args.get("q") or "").strip()[:60] or None)
    return render_template("admin/users.html", users=shown, units=people.units(session), roles=ROLES)


@bp.post("/users")
def user_create():
    user, session = _admin()
    form = request.form
    qualification = (form.get("qualification", "").strip(), _date("qualified_on")) \
        if form.get("qualification", "").strip() else None

    def create():
        created = people.add_user(session, user, form.get("username", ""), form.get("full_name", ""),
                                  form.get("unit", ""), form.get("password", ""), form.getlist("roles"),
                                  form.get("contact", ""), must_change_password=True, qualification=qualification)
        if form.get("credential_number", "").strip():
            credentials.issue(session, user, created.username, form["credential_number"], form.get("area", ""),
                              _date("valid_from"), _date("valid_to"))
        return created

    try:
        created = create()
    except FormInvalid as exc:
        db.discard()
        for messages in exc.errors.values():
            for message in messages:
                flash(localize(message), "danger")
        return redirect(url_for(".users", new=1))
    flash(_("已添加%(name)s。首次登录时须修改密码。", name=created.full_name), "success")
    return redirect(url_for(".user", username=created.username))


@bp.get("/users/<username>")
def user(username: str):
    actor, session = _admin()
    person = people.find_user(session, username)
    return render_template("admin/user.html", person=person, units=people.units(session), roles=ROLES,
                           qualifications=people.qualifications(session, username), today=date.today())


@bp.post("/users/<username>")
def user_update(username: str):
    actor, session = _admin()
    form = request.form
    return _act(lambda: people.update_user(session, actor, username, form.get("full_name", ""), form.get("unit", ""),
                                           form.get("contact", "")),
                lambda released: _("已保存。") + (_("原科室的%(n)s项已认领任务已放回待认领。", n=released) if released else ""),
                url_for(".user", username=username))


@bp.post("/users/<username>/roles")
def user_roles(username: str):
    actor, session = _admin()
    grants = {role.id: (_date(f"from_{role.id}"), _date(f"to_{role.id}")) for role in ROLES
              if request.form.get(f"role_{role.id}")}
    return _act(lambda: people.set_roles(session, actor, username, grants), _("角色已更新。"),
                url_for(".user", username=username))


@bp.post("/users/<username>/deactivate")
def user_deactivate(username: str):
    actor, session = _admin()
    return _act(lambda: people.deactivate_user(session, actor, username, request.form.get("reason", "")),
                lambda released: _("账户已停用。") + (_("其认领的%(n)s项任务已放回待认领。", n=released) if released else ""),
                url_for(".user", username=username))


@bp.post("/users/<username>/reactivate")
def user_reactivate(username: str):
    actor, session = _admin()
    return _act(lambda: people.reactivate_user(session, actor, username), _("账户已恢复。"),
                url_for(".user", username=username))


@bp.post("/users/<username>/password")
def user_password(username: str):
    actor, session = _admin()
    return _act(lambda: people.reset_password(session, actor, username, request.form.get("password", "")),
                _("密码已重置，该用户下次登录时须修改密码；其所有登录已退出。"), url_for(".user", username=username))


@bp.post("/users/<username>/unlock")
def user_unlock(username: str):
    actor, session = _admin()
    return _act(lambda: people.unlock(session, actor, username), _("账户已解除锁定。"), url_for(".user", username=username))


@bp.post("/users/<username>/qualifications")
def user_qualification(username: str):
    actor, session = _admin()
    return _act(lambda: people.record_qualification(session, actor, username, request.form.get("number", ""),
                                                    _date("issued_on")),
                _("法律职业资格已登记。"), url_for(".user", username=username))


@bp.post("/users/<username>/credentials")
def credential_issue(username: str):
    actor, session = _admin()
    form = request.form
    return _act(lambda: credentials.issue(session, actor, username, form.get("number", ""), form.get("area", ""),
                                          _date("valid_from"), _date("valid_to"), kind=form.get("kind", "行政执法证"),
                                          issuer=form.get("issuer", "")),
                _("执法证已发放。"), url_for(".user", username=username))


# --- credentials ---------------------------------------------------------------------------------

@bp.get("/credentials")
def credentials_page():
    _admin()
    return render_template("admin/credentials.html", expiring=credentials.expiring(db.session()))


@bp.post("/credentials/<number>/<action>")
def credential_action(number: str, action: str):
    actor, session = _admin()
    holder = credentials.get(session, number).holder.username
    reason = request.form.get("reason", "")
    operations = {
        "renew": lambda: credentials.renew(session, actor, number, request.form.get("new_number", ""),
                                           _date("valid_from"), _date("valid_to")),
        "suspend": lambda: credentials.suspend(session, actor, number, reason),
        "revoke": lambda: credentials.revoke(session, actor, number, reason),
        "reinstate": lambda: credentials.reinstate(session, actor, number, reason),
    }
    if action not in operations:
        return redirect(url_for(".user", username=holder))
    done = {"renew": _("已换发新证，旧证保留在记录中。"), "suspend": _("执法证已暂扣，持证人的执法任务已放回待认领。"),
            "revoke": _("执法证已吊销，持证人的执法任务已放回待认领。"), "reinstate": _("执法证已恢复。")}[action]
    return _act(operations[action], done, url_for(".user", username=holder))


# --- settings ------------------------------------------------------------------------------------

@bp.get("/settings")
def settings():
    _admin()
    session = db.session()
    key = request.args.get("history", "")
    name = key.partition(":")[2]
    return render_template("admin/settings.html", deadlines=policy.deadlines(session), policies=policy.policies(session),
                           key=key, history=policy.history(session, key) if key else [],
                           affected=policy.affected(session, name) if name else [])


@bp.post("/settings/deadlines/<name>")
def deadline_change(name: str):
    actor, session = _admin()
    form = request.form
    return _act(lambda: policy.change_deadline(session, actor, name, form.get("amount", ""), form.get("unit", ""),
                                               form.get("basis", ""), form.get("note", "")),
                _("期限已修改，自现在起的计算使用新值。"), url_for(".settings", history=f"deadline:{name}") + "#history")


@bp.post("/settings/policies/<name>")
def policy_change(name: str):
    actor, session = _admin()
    form = request.form
    return _act(lambda: policy.change_policy(session, actor, name, form.get("value", ""), form.get("basis", ""),
                                             form.get("note", "")),
                _("设置已修改，自现在起的计算使用新值。"), url_for(".settings", history=f"policy:{name}") + "#history")


# --- holidays ------------------------------------------------------------------------------------

@bp.get("/holidays")
def holidays_page():
    _admin()
    session = db.session()
    year = request.args.get("year", type=bounded_int) or date.today().year
    year = max(2000, min(year, 2100))
    return render_template("admin/holidays.html", calendar=holidays.year(session, year),
                           uncovered=holidays.uncovered_years(session), week=A_WEEK)


@bp.post("/holidays/import")
def holidays_import():
    actor, session = _admin()
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        flash(_("请选择CSV文件。"), "danger")
        return redirect(url_for(".holidays_page"))
    text = sent.stream.read(1024 * 1024).decode("utf-8-sig", errors="replace")
    return _act(lambda: holidays.import_csv(session, actor, text, sent.filename),
                lambda n: _("已导入%(n)s天。", n=n), url_for(".holidays_page", year=request.form.get("year", "")))


@bp.post("/holidays/day")
def holidays_day():
    actor, session = _admin()
    day = _date("day")
    return _act(lambda: holidays.set_day(session, actor, day, request.form.get("kind", ""), request.form.get("name", "")),
                _("已保存。"), url_for(".holidays_page", year=day.year if day else ""))


# --- the audit log -------------------------------------------------------------------------------

def _search() -> audit.Search:
    args = request.args
    case = args.get("case", "")
    since, until = _date("since"), _date("until")
    return audit.Search(
        chain=args.get("chain") if args.get("chain") in ("system", "case", "access") else None,
        actor=(args.get("actor") or "").strip()[:60] or None, action=(args.get("action") or "").strip()[:60] or None,
        instance_id=int(case) if case.isdigit() and len(case) < 10 else None,
        since=datetime.combine(since, time(), tzinfo=TZ) if since else None,
        until=datetime.combine(until + timedelta(days=1), time(), tzinfo=TZ) if until else None)


@bp.get("/audit")
def audit_page():
    _admin()
    page = max(1, min(request.args.get("page", 1, type=bounded_int), 10_000))
    events, more = audit.search(db.session(), _search(), page, PER_PAGE)
    return render_template("admin/audit.html", events=events, more=more, page=page)


@bp.get("/audit.json")
def audit_export():
    _admin()
    events, _more = audit.search(db.session(), _search(), 1, 10_000)
    body = [{"chain": e.chain, "seq": e.seq, "actor": e.actor, "action": e.action, "instance_id": e.instance_id,
             "task_id": e.task_id, "payload": json.loads(e.payload), "created_at": e.created_at.isoformat(),
             "prev_hash": e.prev_hash, "hash": e.hash} for e in events]
    return Response(json.dumps(body, ensure_ascii=False, indent=1), mimetype="application/json",
                    headers={"Content-Disposition": "attachment; filename=audit.json", "Cache-Control": "private, no-store"})


@bp.post("/audit/verify")
@db.writes
def audit_verify():
    actor, session = _admin()
    found = integrity.problems(session, store())
    audit.record(session, actor.username, "audit.verify", problems=len(found))
    return render_template("admin/verify.html", problems=found)
