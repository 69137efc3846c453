"""Languages: Simplified Chinese by default, English on request, remembered per user and browser.

Message ids are the Chinese texts themselves, so Chinese needs no catalog; the English catalog
lives in ``translations/en``.
"""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask, request
from flask_babel import format_date, format_datetime, format_decimal, get_locale, gettext
from flask_login import current_user

from workflows.core.messages import Message
from workflows.core.models import HumanTask

from .extensions import babel

LANGUAGES = {"zh": "zh_Hans_CN", "en": "en"}
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}
COOKIE = "lang"
DATE_FORMATS = {"zh": ("yyyy年M月d日", "yyyy年M月d日 HH:mm"), "en": ("d MMM yyyy", "d MMM yyyy, HH:mm")}


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", LANGUAGES["zh"])
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters.update(day=show_date, moment=show_datetime, task_name=task_name, number=show_number,
                                 localize=localize)
    app.context_processor(lambda: {"language": language(), "language_names": LANGUAGE_NAMES})


def chosen_language() -> str | None:
    """The signed-in user's saved choice, else the browser's cookie."""
    saved = getattr(current_user, "language", None)
    choice = saved or request.cookies.get(COOKIE)
    return choice if choice in LANGUAGES else None


def select_locale() -> str:
    return LANGUAGES[chosen_language() or "zh"]


def language() -> str:
    return "en" if str(get_locale()).startswith("en") else "zh"


def show_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return format_date(value, DATE_FORMATS[language()][0])


def show_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return format_datetime(value, DATE_FORMATS[language()][1])


def localize(text: str) -> str:
    """An engine sentence in the interface language: its template is the catalog's msgid."""
    if isinstance(text, Message):
        return gettext(text.template, **{k: localize(v) if isinstance(v, str) else v for k, v in text.params.items()})
    return text


def task_name(row: HumanTask) -> str:
    """English names come from the diagram's ``name_en``; Chinese is the fallback."""
    return (row.name_en or row.name) if language() == "en" else row.name


def show_number(value) -> str:
    """A count as a whole number, an amount or a mean with up to two decimals, grouped by thousands."""
    if value is None:
        return ""
    return format_decimal(value, "#,##0" if float(value).is_integer() else "#,##0.##")
