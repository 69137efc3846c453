"""Supervision pages: each view calls one engine read (which checks who may supervise what) and renders."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import Response, render_template, request

from workflows.core.workdays import TZ
from workflows.domain import alerts, caselist, dashboard, lookups, process_stats
from workflows.engine import runtime

from .. import db
from ..access import staff
from ..params import bounded_int
from . import bp, charts
from .export import csv_response, xlsx_response
from .forms import CaseFilterForm, RangeForm

PER_PAGE = 25


@bp.get("/")
def index():
    form = RangeForm(request.args)
    user, session = staff(), db.session()
    start, end = form.period(runtime.today())
    board = dashboard.build(session, user, start, end, form.unit_id())
    form.unit.choices = [("", "—"), *((str(k), v) for k, v in caselist.units_of(session, user).items())]
    form.start.data, form.end.data = start, end
    values = lookups.enum_labels(session, "penalty_type")
    return render_template("monitor/dashboard.html", board=board, form=form,
                           charts=[charts.shown(chart, values) for chart in board.charts])


def _case_form() -> tuple[CaseFilterForm, str]:
    form = CaseFilterForm(request.args)
    session, user = db.session(), staff()
    form.offer(caselist.units_of(session, user), {m.code: m.name for m in lookups.active_matters(session)},
               {p.process_id: p.name for p in process_stats.versions(session, user)})
    return form, request.args.get("sort") if request.args.get("sort") in caselist.SORTS else "newest"


@bp.get("/cases")
def cases():
    form, sort = _case_form()
    listing = caselist.page(db.session(), staff(), form.filters(), sort, request.args.get("page", 1, type=bounded_int),
                            PER_PAGE)
    return render_template("monitor/cases.html", listing=listing, form=form, sort=sort)


@bp.get("/cases.csv")
def cases_csv():
    form, sort = _case_form()
    return csv_response(caselist.export(db.session(), staff(), form.filters(), sort))


@bp.get("/cases.xlsx")
def cases_xlsx():
    form, sort = _case_form()
    return xlsx_response(caselist.export(db.session(), staff(), form.filters(), sort))


@bp.get("/warnings")
def warnings():
    user, session = staff(), db.session()
    return render_template("monitor/warnings.html", warnings=caselist.warnings(session, user, PER_PAGE),
                           due=alerts.disclosures_due(session, user, PER_PAGE))


@bp.get("/errors")
def errors():
    listing = caselist.page(db.session(), staff(), caselist.CaseFilters(status="error"), "updated",
                            request.args.get("page", 1, type=bounded_int), PER_PAGE)
    return render_template("monitor/errors.html", listing=listing)


@bp.get("/processes")
def processes():
    return render_template("monitor/processes.html", versions=process_stats.versions(db.session(), staff()))


@bp.get("/processes/<process_id>/<int:version>")
def process(process_id: str, version: int):
    form = RangeForm(request.args)
    start, end = form.period(runtime.today())
    form.start.data, form.end.data = start, end
    view = process_stats.view(db.session(), staff(), process_id, version, _moment(start),
                              _moment(end + timedelta(days=1)))
    mode = "heat" if request.args.get("mode") == "heat" else "counts"
    return render_template("monitor/process.html", view=view, mode=mode, form=form)


@bp.get("/processes/<process_id>/<int:version>/diagram.bpmn")
def process_diagram(process_id: str, version: int):
    content = process_stats.diagram(db.session(), staff(), process_id, version)
    return Response(content, mimetype="application/xml", headers={"Cache-Control": "private, max-age=3600"})


def _moment(day):
    return datetime.combine(day, time(), tzinfo=TZ)
