"""The annual statistics report as the staff page and the public page show it: its tables and its
charts in the reader's language. The figures, their Chinese labels and the CSV and PDF are the
engine's (:mod:`workflows.domain.annual_report`); this only translates and formats."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Response
from flask_babel import format_decimal

from workflows.core.messages import Message
from workflows.domain import annual_report
from workflows.domain.annual_report_pdf import render_pdf

from .i18n import localize


def charts(report: annual_report.Report) -> list[dict]:
    """The charts as JSON for ``js/report.js``; ``empty`` when there is nothing to draw."""
    out = []
    for chart in annual_report.charts(report):
        series = [{"label": localize(s.label), "values": [float(v or 0) for v in s.values]} for s in chart.series]
        out.append({"key": chart.key, "title": localize(chart.title), "kind": chart.kind,
                    "labels": [localize(label) for label in chart.labels], "series": series,
                    "empty": not chart.labels or not any(any(s["values"]) for s in series)})
    return out


def tables(report: annual_report.Report) -> list[dict]:
    """Every table of the report with its cells formatted (a chart's table is the one of its key)."""
    return [{"key": section.key, "title": localize(section.title), "note": localize(section.note) if section.note else "",
             "columns": [localize(c) for c in section.columns],
             "rows": [(localize(row.label), [cell(v) for v in row.values], row.label == "合计")
                      for row in section.rows]}
            for section in annual_report.sections(report)]


def cell(value: Any) -> str:
    """A figure as the table shows it: counts whole, amounts in yuan and fen, rates to a tenth."""
    if value is None:
        return "—"
    if isinstance(value, Message):
        return localize(value)
    if isinstance(value, Decimal):
        return format_decimal(value, "#,##0.00" if value.as_tuple().exponent <= -2 else "#,##0.0")
    if isinstance(value, (int, float)):
        return format_decimal(value, "#,##0")
    return str(value)


def csv_response(report: annual_report.Report, filename: str) -> Response:
    return Response(annual_report.to_csv(report), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


def pdf_response(report: annual_report.Report, filename: str,
                 published: annual_report.Published | None = None) -> Response:
    return Response(render_pdf(report, published), mimetype="application/pdf",
                    headers={"Content-Disposition": f"inline; filename={filename}"})
