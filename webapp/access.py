"""Who may see and do what in the web app: the one place these rules live.

The engine checks acting on a task again (`cases.check_can_act`); the rules here decide what a
page shows and which requests are refused before any work is done.
"""
from __future__ import annotations

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session

from workflows import webqueries
from workflows.cases import check_can_act
from workflows.errors import CredentialRequired, NotAllowed
from workflows.models import HumanTask, Instance, User
from workflows.people import require_credential
from workflows.runtime import today

from .extensions import login_manager

START_CASE_ROLES = frozenset({"officer"})
ALL_CASES_ROLES = frozenset({"agency_head", "manager"})  # managers read; they hold no lane to act in


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


def may_start_cases(user: User) -> bool:
    return bool(user.role_ids & START_CASE_ROLES)


def start_refusal(user: User) -> str | None:
    """Why the user may not file a case today (no valid credential), or None."""
    try:
        require_credential(user, webqueries.FILING_ROLE, today())
    except CredentialRequired:
        return no_credential_message()
    return None


def no_credential_message() -> str:
    return _("您没有当日有效的行政执法证件。按照持证上岗的要求，不能立案或办理执法任务。"
             "请联系系统管理员核实证件信息。")


def may_see_task(user: User, row: HumanTask) -> bool:
    """A task of one's roles (in one's unit when the role is unit-scoped), or one's own."""
    if user.username in (row.assignee, row.completed_by):
        return True
    return row.role_id in user.role_ids and (row.unit_id is None or row.unit_id == user.unit_id)


def may_view_case(session: Session, user: User, instance: Instance) -> bool:
    """Agency heads and managers see every case; the case's unit sees it when a role of the user has
    a lane in it; anyone else only while or after working on one of its tasks."""
    if user.role_ids & ALL_CASES_ROLES:
        return True
    if user.unit_id == instance.unit_id and user.role_ids & webqueries.lane_roles(session, instance):
        return True
    return webqueries.works_on(session, user, instance.id)


def refusal(user: User, row: HumanTask) -> str | None:
    """Why the user cannot act on the ready task now (role, assignee or credential), or None."""
    try:
        check_can_act(user, row)
    except CredentialRequired:
        return no_credential_message()
    except NotAllowed:
        if row.assignee not in (None, user.username):
            return _("此任务已由他人认领，只有认领人可以办理。")
        return _("此任务不属于您的角色或科室，您只能查看。")
    return None
