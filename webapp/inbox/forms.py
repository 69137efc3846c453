"""The inbox filter (a GET form: it changes nothing, so it carries no CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length

from workflows.domain.inbox import Filters


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    process_id = SelectField(_l("流程"), choices=[], validate_choice=False)
    case_no = StringField(_l("案号"), validators=[Length(max=60)])
    party = StringField(_l("当事人"), validators=[Length(max=100)])
    name = StringField(_l("任务"), validators=[Length(max=100)])

    def filters(self) -> Filters:
        def clean(field) -> str | None:
            return (field.data or "").strip()[:100] or None
        return Filters(process_id=clean(self.process_id), name=clean(self.name), case_no=clean(self.case_no),
                       party=clean(self.party))

    @property
    def active(self) -> bool:
        return self.filters() != Filters()
