"""The case list as CSV and XLSX: exactly the rows of the filtered list, written as they are read."""
from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator

from flask import Response, stream_with_context
from flask_babel import gettext as _
from openpyxl import Workbook

from workflows.core import clock
from workflows.core.workdays import TZ
from workflows.domain.caselist import CaseRow

from ..i18n import task_name
from ..labels import status

CARDS = {"red": "红牌", "yellow": "黄牌"}


def _header() -> list[str]:
    return [_("案号"), _("执法事项"), _("当事人"), _("承办科室"), _("当前环节"), _("状态"), _("登记日期"),
            _("立案日期"), _("办案期限"), _("已用天数"), _("剩余天数"), _("预警"), _("最近到期任务"), _("任务期限")]


def _cells(row: CaseRow) -> list:
    case, task = row.instance, row.next_task
    return [case.case_no, row.matter, case.party_name or "", row.unit, "、".join(task_name(t) for t in row.tasks),
            status(case.status), case.created_at.astimezone(TZ).date().isoformat(),
            case.filed_on.isoformat() if case.filed_on else "",
            case.decision_due.isoformat() if case.decision_due else "",
            "" if row.days_used is None else row.days_used, "" if row.days_left is None else row.days_left,
            _(CARDS[row.card]) if row.card else "", task_name(task) if task else "",
            task.due_at.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if task and task.due_at else ""]


def _filename(suffix: str) -> str:
    return f"cases-{clock.now().astimezone(TZ):%Y%m%d-%H%M}.{suffix}"


def csv_response(rows: Iterable[CaseRow]) -> Response:
    """Streamed while the rows are read (the request's unit of work stays open until the end)."""
    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")  # so spreadsheet programs read it as UTF-8
        writer.writerow(_header())
        for row in rows:
            writer.writerow(_cells(row))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    return Response(stream_with_context(lines()), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename={_filename('csv')}", "Cache-Control": "private, no-store"})


def xlsx_response(rows: Iterable[CaseRow]) -> Response:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("案件"))
    sheet.append(_header())
    for row in rows:
        sheet.append(_cells(row))
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    book.save(spool)
    size = spool.tell()
    spool.seek(0)
    return Response(_chunks(spool), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename={_filename('xlsx')}",
                             "Content-Length": str(size), "Cache-Control": "private, no-store"})


def _chunks(spool) -> Iterator[bytes]:
    with spool:
        while chunk := spool.read(64 * 1024):
            yield chunk
