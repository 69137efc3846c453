"""Sign in, sign out, choose the language."""
from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from workflows.core.errors import FormInvalid
from workflows.domain.auth import authenticate, sign_out
from workflows.domain.people import change_own_password, qualifications
from workflows.engine.runtime import today

from .. import db
from ..i18n import COOKIE, chosen_language, localize
from ..redirects import back, local_path
from . import bp
from ..extensions import login_manager
from .forms import LanguageForm, PasswordForm, SignInForm
from .users import Staff

LANGUAGE_COOKIE_AGE = 365 * 24 * 3600


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("inbox.index"))
    form = SignInForm()
    if not form.is_submitted():
        form.next.data = local_path(request.args.get("next"))
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 422 if form.is_submitted() else 200
    signed_in = authenticate(db.session(), form.username.data, form.password.data, source=request.remote_addr or "")
    if signed_in.user is None:
        # the failure count and its audit event are committed with this response
        form.password.errors = [localize(signed_in.error)]
        return render_template("auth/login.html", form=form), 422
    language = chosen_language()
    session.clear()  # a fresh session (and CSRF token) for the signed-in user
    if signed_in.user.language is None and language:
        signed_in.user.language = language
    login_user(Staff(signed_in.user), remember=form.remember.data)
    response = redirect(local_path(form.next.data) or url_for("inbox.index"))
    if signed_in.user.language:
        response.set_cookie(COOKIE, signed_in.user.language, max_age=LANGUAGE_COOKIE_AGE, httponly=True, samesite="Lax")
    return response


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        sign_out(db.session(), current_user.user, source=request.remote_addr or "")
    logout_user()
    session.clear()
    flash(_("您已安全退出。"), "info")
    return redirect(url_for("auth.login"))


@bp.post("/language")
def set_language():
    form = LanguageForm()
    if not form.validate():
        return back()
    if current_user.is_authenticated:
        current_user.user.language = form.lang.data
    response = make_response(back())
    response.set_cookie(COOKIE, form.lang.data, max_age=LANGUAGE_COOKIE_AGE, httponly=True, samesite="Lax")
    return response


@bp.route("/me", methods=["GET", "POST"])
def me():
    """The signed-in user's own page: unit, roles, credentials, qualifications; their password."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    user, session = current_user.user, db.session()
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            change_own_password(session, user, form.current.data, form.password.data)
        except FormInvalid as exc:
            for field, messages in exc.errors.items():
                getattr(form, field if field in ("current", "password") else "password").errors = [localize(m) for m in messages]
            status = 422
        else:
            login_user(Staff(user))  # this session carries on; every other one has ended
            flash(_("密码已修改。其他设备上的登录已全部退出。"), "success")
            return redirect(url_for(".me"))
    elif form.is_submitted():
        status = 422
    return render_template("auth/me.html", form=form, today=today(),
                           qualifications=qualifications(session, user.username)), status
