"""The annual statistics report as a printable PDF (WeasyPrint; Chinese set in Noto CJK, from the
Debian package ``fonts-noto-cjk``). The charts are drawn as SVG bars (a PDF runs no scripts), each
followed by its table; the same tables as the CSV and the web page (:func:`annual_report.sections`)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from html import escape
from typing import Any

from workflows.core.messages import Message
from workflows.core.workdays import TZ
from workflows.domain.annual_report import Chart, Published, Report, charts, sections

FONTS = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif'
SERIF = '"Noto Serif CJK SC", "Noto Serif SC", "Source Han Serif SC", serif'
COLOURS = ["#1a56a8", "#2e8b57", "#c0392b", "#e0a800", "#7d5ba6", "#5c6678", "#d35400", "#16a085"]
CHART_OF = {"decisions": "decisions", "penalties": "penalties", "reviews": "reviews", "disclosure": "disclosure",
            "staffing": "staffing"}  # section key → the chart drawn above its table

CSS = f"""
@page {{ size: A4; margin: 18mm 16mm 20mm;
  @bottom-center {{ content: "第 " counter(page) " 页，共 " counter(pages) " 页"; font: 8pt {FONTS}; color: #5c6678; }} }}
html {{ font-family: {FONTS}; font-size: 10pt; color: #1d2330; line-height: 1.5; }}
h1 {{ font-family: {SERIF}; font-size: 19pt; text-align: center; margin: 4mm 0 1mm; letter-spacing: 0.5pt; }}
.agency {{ text-align: center; font-size: 11pt; margin: 0; color: #8b1a1a; font-weight: bold; }}
.period {{ text-align: center; color: #5c6678; margin: 0 0 5mm; }}
.approval {{ border: 0.6pt solid #c8ced8; background: #f5f7fa; padding: 2.5mm 4mm; margin-bottom: 4mm; font-size: 9pt; }}
.summary p {{ text-indent: 2em; margin: 0 0 2mm; }}
h2 {{ font-size: 12pt; border-left: 3pt solid #8b1a1a; padding-left: 2.5mm; margin: 6mm 0 2mm;
      page-break-after: avoid; }}
section {{ page-break-inside: avoid; }}
table {{ width: 100%; border-collapse: collapse; margin: 1mm 0 1.5mm; font-size: 9.5pt; }}
th, td {{ border: 0.5pt solid #b9c0cc; padding: 1.2mm 2mm; }}
thead th {{ background: #eef1f6; font-weight: bold; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
td.text {{ text-align: right; color: #5c6678; }}
tr.total th, tr.total td {{ font-weight: bold; background: #fafbfc; }}
.note {{ font-size: 8.5pt; color: #5c6678; margin: 0; }}
svg {{ display: block; width: 100%; height: auto; margin: 1mm 0 2mm; }}
.footer {{ margin-top: 6mm; font-size: 8.5pt; color: #5c6678; }}
"""


def render_pdf(report: Report, published: Published | None = None) -> bytes:
    """The report as PDF bytes (``published``: the approved publication it comes from, if any)."""
    from weasyprint import HTML  # loaded only when a PDF is made: it brings Pango along

    return HTML(string=render_html(report, published)).write_pdf()


def render_html(report: Report, published: Published | None = None) -> str:
    """The print document WeasyPrint lays out (also useful on its own: no scripts, no links out)."""
    drawn = {chart.key: chart for chart in charts(report)}
    parts = [f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{report.year}年度行政执法统计报告'
             f"</title><style>{CSS}</style></head><body>",
             f'<p class="agency">{_e(report.agency)}</p>',
             f"<h1>{report.year}年度行政执法统计报告</h1>",
             f'<p class="period">统计期间：{_day(report.start)}至{_day(report.end)}'
             + ("" if report.complete else "（年度未结束，为截至该日的数据）") + "</p>"]
    if published is not None:
        parts.append(f'<div class="approval">本报告经法制审核、机关负责人审批后公开。审批编号：{_e(published.case_no)}；'
                     f"公开日期：{_day(published.published_at)}"
                     + (f"；第{published.revision}次更正" if published.revision > 1 else "") + "。</div>")
        if published.summary.strip():
            parts.append('<div class="summary"><h2>报告说明</h2>'
                         + "".join(f"<p>{_e(line)}</p>" for line in published.summary.splitlines() if line.strip())
                         + "</div>")
    else:
        parts.append('<div class="approval">内部统计数据，未经审批，不得对外公开。</div>')
    for section in sections(report):
        chart = drawn.get(CHART_OF.get(section.key, ""))
        parts.append(f'<section><h2>{_e(section.title)}</h2>')
        if chart is not None and chart.labels:
            parts.append(_bars(chart))
        head = "".join(f'<th scope="col">{_e(c)}</th>' for c in section.columns)
        parts.append(f'<table><thead><tr><th scope="col">项目</th>{head}</tr></thead><tbody>')
        for row in section.rows:
            total = ' class="total"' if row.label == "合计" else ""
            cells = "".join(f'<td class="{"text" if isinstance(v, str) else "num"}">{_value(v)}</td>' for v in row.values)
            parts.append(f'<tr{total}><th scope="row" style="text-align:left;font-weight:normal">{_e(row.label)}</th>'
                         f"{cells}</tr>")
        parts.append("</tbody></table>")
        if section.note:
            parts.append(f'<p class="note">{_e(section.note)}</p>')
        parts.append("</section>")
    parts.append(f'<p class="footer">{_e(report.agency)} · 依据《国务院办公厅关于全面推行行政执法公示制度执法全过程记录制度'
                 "重大执法决定法制审核制度的指导意见》（国办发〔2018〕118号）公开。</p></body></html>")
    return "".join(parts)


def _bars(chart: Chart) -> str:
    """A horizontal bar chart of the chart's first series (the counts), labelled with the values."""
    series = chart.series[0]
    values = [float(v or 0) for v in series.values]
    top = max(values, default=0) or 1
    label_w, bar_w, row_h, width = 230, 360, 22, 660
    height = row_h * len(values) + 4
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
           f'role="img" aria-label="{_e(chart.title)}">']
    for i, (label, value) in enumerate(zip(chart.labels, values)):
        y = 2 + i * row_h
        w = bar_w * value / top
        colour = COLOURS[i % len(COLOURS)] if chart.kind == "doughnut" else COLOURS[0]
        out.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" font-size="12" fill="#1d2330" '
                   f'font-family={_attr(FONTS)}>{_e(label)}</text>'
                   f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 7}" fill="{colour}"/>'
                   f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="12" fill="#1d2330" '
                   f'font-family={_attr(FONTS)}>{_value(series.values[i])}</text>')
    out.append("</svg>")
    return "".join(out)


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, Message):
        return _e(value)
    if isinstance(value, Decimal):
        return f"{value:,}"  # as counted: amounts with fen, rates with one decimal
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return _e(value)


def _day(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(TZ).date()
    return f"{value.year}年{value.month}月{value.day}日"


def _e(text: Any) -> str:
    return escape(str(text))


def _attr(text: str) -> str:
    return "'" + text.replace("'", "").replace('"', "&quot;") + "'"
