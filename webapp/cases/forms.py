"""Starting a case: the matter from the catalogue and the party."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from workflows.core.models import Matter

from ..choices import matter_choices


class StartCaseForm(FlaskForm):
    matter_code = SelectField(_l("执法事项"), validators=[DataRequired(_l("请选择执法事项"))])
    party_name = StringField(_l("当事人"), validators=[DataRequired(_l("请填写当事人名称")), Length(max=200)],
                             description=_l("单位全称或个人姓名，与登记证书或身份证件一致。"))

    def offer(self, matters: list[Matter]) -> None:
        """Offer the active matters of the catalogue."""
        self.matter_code.choices = matter_choices(matters)
