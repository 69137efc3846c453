"""The annual statistics report for staff (年度统计): the live figures of a year with charts, CSV and
PDF, and where the year's approval stands, with the way to start or continue it. Who may read the
figures is the engine's rule (:func:`workflows.domain.access.check_read_report`)."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from workflows.core.errors import FormInvalid
from workflows.domain import access, annual_report
from workflows.engine import runtime

from .. import db
from ..access import staff
from ..i18n import localize
from ..reporting import charts, csv_response, pdf_response, tables
from . import bp


@bp.app_context_processor
def _report_nav() -> dict:
    """Whether the signed-in person may read the annual report (the supervision menu offers it)."""
    def may_read_report() -> bool:
        return bool(current_user.is_authenticated and access.may_read_report(current_user.user))
    return {"may_read_report": may_read_report}


@bp.get("/report")
def report_default():
    access.check_read_report(staff())
    return redirect(url_for(".report", year=annual_report.default_year(db.session())))


@bp.get("/report/<int:year>")
def report(year: int):
    user = staff()
    view = annual_report.for_staff(db.session(), user, year)
    this_year = runtime.today().year
    return render_template("monitor/report.html", view=view, report=view.report, state=view.approval,
                           may_monitor=access.may_monitor(user), tables=tables(view.report),
                           charts=charts(view.report), years=list(range(this_year, this_year - 6, -1)))


@bp.get("/report/<int:year>.csv")
def report_csv(year: int):
    return csv_response(annual_report.live(db.session(), staff(), year), f"annual-report-{year}-live.csv")


@bp.get("/report/<int:year>.pdf")
def report_pdf(year: int):
    return pdf_response(annual_report.live(db.session(), staff(), year), f"annual-report-{year}-live.pdf")


@bp.post("/report/<int:year>/approval")
def start_approval(year: int):
    user, session = staff(), db.session()
    access.check_read_report(user)
    try:
        started = annual_report.start_approval(session, db.settings(), user, year)
    except FormInvalid as exc:
        flash(" ".join(localize(m) for messages in exc.errors.values() for m in messages), "error")
        return redirect(url_for(".report", year=year))
    first = started.first_for(user)
    flash(_("已发起%(year)s年度统计报告审批（%(case_no)s）。", year=year, case_no=started.instance.case_no), "success")
    if first is not None:
        return redirect(url_for("tasks.show", task_id=first.task_id))
    return redirect(url_for(".report", year=year))
