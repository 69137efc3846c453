"""Sign in, sign out, choose the language."""
from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from workflows.domain import audit
from workflows.domain.auth import authenticate

from .. import db
from ..i18n import COOKIE, chosen_language, localize
from ..redirects import back, local_path
from . import bp
from .forms import LanguageForm, SignInForm
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
        audit.record(db.session(), current_user.user.username, "auth.logout", source=request.remote_addr or "")
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
