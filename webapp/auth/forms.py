"""The sign-in and language forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, EqualTo, Length

from ..i18n import LANGUAGES


class SignInForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请填写用户名")), Length(max=60)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请填写密码")), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField(_l("在这台电脑上保持登录（14天）"))
    next = HiddenField()


class LanguageForm(FlaskForm):
    lang = HiddenField(validators=[AnyOf(list(LANGUAGES))])
    next = HiddenField()


class PasswordForm(FlaskForm):
    """The user's own password change; the rules are the engine's."""

    current = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请填写当前密码")), Length(max=200)],
                            render_kw={"autocomplete": "current-password"})
    password = PasswordField(_l("新密码"), validators=[DataRequired(_l("请填写新密码")), Length(max=200)],
                             render_kw={"autocomplete": "new-password"})
    repeat = PasswordField(_l("再次输入新密码"), validators=[DataRequired(_l("请再次输入新密码")),
                                                      EqualTo("password", _l("两次输入的新密码不一致"))],
                           render_kw={"autocomplete": "new-password"})
