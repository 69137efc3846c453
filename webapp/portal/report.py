"""The annual statistics report on the portal (年度统计报告, ``/gongshi/report``): only what was
approved and published through the ``annual_report`` process, as frozen then, as HTML with charts
and their tables, as CSV and as PDF. A year not (yet) published is not found."""
from __future__ import annotations

import threading
from collections import OrderedDict

from flask import Response, render_template

from workflows.domain import annual_report
from workflows.domain.annual_report_pdf import render_pdf

from .. import db
from ..reporting import charts, csv_response, tables
from . import bp

APPROVERS = ("legal_reviewer", "agency_head")  # who reviewed and approved it, named by role on the page
_PDFS: OrderedDict[tuple, bytes] = OrderedDict()  # a publication never changes: its PDF is made once
_PDFS_KEPT = 8
_PDFS_LOCK = threading.Lock()


@bp.get("/report")
def report_index():
    return render_template("portal/report_index.html", years=annual_report.published_years(db.session()))


def _published(year: int) -> annual_report.Published | None:
    return annual_report.published(db.session(), year)


def _missing(year: int):
    return render_template("portal/report_missing.html", year=year), 404


@bp.get("/report/<int:year>")
def report(year: int):
    published = _published(year)
    if published is None:
        return _missing(year)
    return render_template("portal/report.html", published=published, report=published.report,
                           tables=tables(published.report), charts=charts(published.report), approvers=APPROVERS)


@bp.get("/report/<int:year>.csv")
def report_csv(year: int):
    published = _published(year)
    if published is None:
        return _missing(year)
    return csv_response(published.report, f"annual-report-{year}.csv")


@bp.get("/report/<int:year>.pdf")
def report_pdf(year: int):
    published = _published(year)
    if published is None:
        return _missing(year)
    key = (year, published.revision, published.published_at)
    with _PDFS_LOCK:
        pdf = _PDFS.get(key)
    if pdf is None:
        pdf = render_pdf(published.report, published)
        with _PDFS_LOCK:
            _PDFS[key] = pdf
            while len(_PDFS) > _PDFS_KEPT:
                _PDFS.popitem(last=False)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename=annual-report-{year}.pdf"})
