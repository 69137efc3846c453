"""The web's side of access: sign-in guard, the refusal that becomes 403, and the page texts that
explain a refusal. The rules themselves are the engine's (:mod:`workflows.domain.access`)."""
from __future__ import annotations

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user

from workflows.core.errors import CredentialRequired, NotAllowed
from workflows.core.models import User

from .extensions import login_manager


def staff() -> User:
    """The signed-in domain user."""
    return current_user.user


def require_sign_in():
    """Blueprint guard: staff pages need a signed-in user."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def require(allowed: bool) -> None:
    if not allowed:
        abort(403)


def no_credential_message() -> str:
    return _("您没有当日有效的行政执法证件。按照持证上岗的要求，不能立案或办理执法任务。"
             "请联系系统管理员核实证件信息。")


def refusal_text(refusal: NotAllowed | None) -> str | None:
    """Why the user cannot act on a task, as the task page says it."""
    if refusal is None:
        return None
    if isinstance(refusal, CredentialRequired):
        return no_credential_message()
    if refusal.details.get("reason") == "claimed":
        return _("此任务已由他人认领，只有认领人可以办理。")
    return _("此任务不属于您的角色或科室，您只能查看。")
