"""The register of decision disclosures (公开台账) for supervisors: every decision's public record,
whether it was published on time, where it stands, what is due; a unit head asks from here to
withdraw or correct one (the request is a ``disclosure_correction`` case, filled in as its first
task), and a unit head, agency head or administrator takes one down early on credit repair."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from workflows.core.errors import FormInvalid
from workflows.domain import access, alerts, disclosure_register
from workflows.engine.runtime import today

from .. import db
from ..access import staff
from ..i18n import localize
from ..params import bounded_int
from . import bp

PER_PAGE = 25


@bp.get("/disclosures")
def disclosures():
    user, session = staff(), db.session()
    register = disclosure_register.register(session, user, request.args.get("page", 1, type=bounded_int), PER_PAGE,
                                            request.args.get("state", ""))
    return render_template("monitor/disclosures.html", register=register,
                           due=alerts.disclosures_due(session, user, PER_PAGE), states=STATES, today=today(),
                           may_supervise=lambda case: access.may_supervise(user, case),
                           may_request=lambda case: "unit_head" in user.role_ids and user.unit_id == case.unit_id)


STATES = disclosure_register.STATE_LABELS


@bp.post("/disclosures/<int:disclosure_id>/change")
def request_change(disclosure_id: int):
    """Start a request to withdraw or correct the record, and open its form."""
    user = staff()
    started = disclosure_register.request_change(db.session(), db.settings(), user, disclosure_id)
    first = started.first_for(user)
    flash(_("已创建撤回或更正申请%(case_no)s，请填写申请内容。", case_no=started.instance.case_no), "success")
    return redirect(url_for("tasks.show", task_id=first.task_id) if first else
                    url_for("cases.show", instance_id=started.instance.id))


@bp.post("/disclosures/<int:disclosure_id>/remove")
def remove(disclosure_id: int):
    """Take a published record down early on the party's credit repair (信用修复)."""
    try:
        disclosure_register.remove_on_repair(db.session(), staff(), disclosure_id, request.form.get("applied_on", ""),
                                             request.form.get("reason", ""), request.form.get("obligations_met") == "y")
    except FormInvalid as exc:
        db.discard()
        for messages in exc.errors.values():
            for message in messages:
                flash(localize(message), "danger")
        return redirect(url_for(".disclosures") + f"#record-{disclosure_id}")
    flash(_("该决定信息已因信用修复提前停止公示，记录仍在系统中保存。"), "success")
    return redirect(url_for(".disclosures") + f"#record-{disclosure_id}")
