"""Filters of the supervision pages (GET forms: they change nothing, so they carry no CSRF token)."""
from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from workflows.domain.caselist import SORTS, STATUSES, CaseFilters

from ..labels import status


class CaseFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("案号或当事人"), validators=[Optional(), Length(max=100)])
    unit = SelectField(_l("承办科室"), choices=[], validate_choice=False)
    matter = SelectField(_l("执法事项"), choices=[], validate_choice=False)
    process_id = SelectField(_l("流程"), choices=[], validate_choice=False)
    stage = StringField(_l("环节"), validators=[Optional(), Length(max=100)])
    status = SelectField(_l("状态"), choices=[], validate_choice=False)
    overdue = BooleanField(_l("只看红牌（逾期）"))
    created_from = DateField(_l("登记日期自"), validators=[Optional()])
    created_to = DateField(_l("至"), validators=[Optional()])
    sort = SelectField(_l("排序"), choices=[], validate_choice=False)

    def offer(self, units: dict[int, str], matters: dict[str, str], processes: dict[str, str]) -> None:
        self.unit.choices = [("", _l("全部科室")), *((str(k), v) for k, v in units.items())]
        self.matter.choices = [("", _l("全部事项")), *matters.items()]
        self.process_id.choices = [("", _l("全部流程")), *processes.items()]
        self.status.choices = [("", _l("全部状态")), *((s, status(s)) for s in STATUSES)]
        self.sort.choices = [(key, label) for key, label in SORT_LABELS.items() if key in SORTS]

    def filters(self) -> CaseFilters:
        unit = self.unit.data or ""
        return CaseFilters(
            unit_id=int(unit) if unit.isdigit() and len(unit) < 10 else None,
            matter_code=self.matter.data or None, process_id=self.process_id.data or None,
            stage=(self.stage.data or "").strip() or None,
            status=self.status.data if self.status.data in STATUSES else None, overdue=bool(self.overdue.data),
            created_from=self.created_from.data if not self.created_from.errors else None,
            created_to=self.created_to.data if not self.created_to.errors else None,
            text=(self.q.data or "").strip()[:100] or None)

    @property
    def active(self) -> bool:
        return self.filters() != CaseFilters()


SORT_LABELS = {"newest": _l("登记时间（新→旧）"), "oldest": _l("登记时间（旧→新）"),
               "limit": _l("办案期限（近→远）"), "updated": _l("最近变化")}


class RangeForm(FlaskForm):
    """The dashboard's date range and unit."""

    class Meta:
        csrf = False

    start = DateField(_l("自"), validators=[Optional()])
    end = DateField(_l("至"), validators=[Optional()])
    unit = SelectField(_l("承办科室"), choices=[], validate_choice=False)

    DEFAULT_DAYS = 90
    MAX_DAYS = 3 * 366

    def period(self, today: date) -> tuple[date, date]:
        end = self.end.data if self.end.data and not self.end.errors else today
        start = self.start.data if self.start.data and not self.start.errors else end - timedelta(days=self.DEFAULT_DAYS)
        start = max(min(start, end), end - timedelta(days=self.MAX_DAYS))
        return start, end

    def unit_id(self) -> int | None:
        unit = self.unit.data or ""
        return int(unit) if unit.isdigit() and len(unit) < 10 else None
