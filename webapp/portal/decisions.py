"""事后公开 on the portal (``/gongshi/decisions``): the published decisions, searchable by party,
matter, type and decision date, each with a permalink; a withdrawn one says so and when, with no
content; one past its retention or taken down on credit repair is gone (410).

Every page answers a conditional GET from the engine's validator (an index lookup) before reading
or rendering anything: the list and the permalinks change only with a publication, correction,
withdrawal, take-down or an ended retention.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime

from flask import Response, current_app, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from workflows.domain import publication

from .. import db
from ..i18n import language
from ..params import bounded_int
from . import bp

MAX_AGE = 300

# The portal's names of the decision types (the ``decision_type`` column: a penalty's type, else the kind).
DECISION_TYPES = {
    "warning": _l("警告、通报批评"), "fine": _l("罚款"), "confiscation": _l("没收违法所得、没收非法财物"),
    "lower_qualification": _l("降低资质等级"), "suspend_activities": _l("责令停止活动、责令停产停业"),
    "restrict_practice": _l("限制开展生产经营活动、限制从业"), "revoke_licence": _l("吊销许可证件"),
    "revoke_registration": _l("撤销登记"), "no_penalty": _l("不予行政处罚决定"), "penalty": _l("行政处罚"),
    "other": _l("其他行政执法决定"),
}
# Why a record was withdrawn or corrected (the correction process's grounds).
GROUNDS = {
    "review_revoked": _l("原决定经行政复议被撤销"), "review_changed": _l("原决定经行政复议被变更"),
    "review_unlawful": _l("原决定经行政复议被确认违法或者无效"), "litigation_revoked": _l("原决定经行政诉讼被撤销"),
    "litigation_changed": _l("原决定经行政诉讼被变更"), "litigation_unlawful": _l("原决定经行政诉讼被确认违法或者无效"),
    "self_correction": _l("本机关自行纠正"), "content_error": _l("公开内容有误"), "credit_repair": _l("信用修复"),
}
PARTY_TYPES = {"natural_person": _l("自然人"), "organisation": _l("法人或其他组织")}


@bp.app_template_filter("decision_type")
def decision_type_label(code: str | None) -> str:
    return str(DECISION_TYPES.get(code or "", code or ""))


@bp.app_template_filter("disclosure_ground")
def ground_label(code: str | None) -> str:
    return str(GROUNDS.get(code or "", code or ""))


@bp.app_template_filter("party_type")
def party_type_label(code: str | None) -> str:
    return str(PARTY_TYPES.get(code or "", ""))


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, "").strip()[:10]) or None
    except ValueError:
        return None


def filters() -> publication.Filters:
    return publication.Filters(party=request.args.get("party", "").strip()[:publication.MAX_QUERY],
                               matter=request.args.get("matter", "").strip()[:40],
                               type=request.args.get("type", "").strip()[:40], since=_day("since"), until=_day("until"))


def cached(response: Response, tag: str, last_modified: datetime | None, max_age: int = MAX_AGE) -> Response:
    """Cache-Control, ETag and Last-Modified of a public page (private once the visitor is signed in:
    the language may then be their saved choice)."""
    signed_in = current_app.config.get("SESSION_COOKIE_NAME", "session") in request.cookies
    response.cache_control.public, response.cache_control.private = (None, True) if signed_in else (True, None)
    response.cache_control.max_age = max_age
    response.vary.add("Cookie")
    response.set_etag(tag)
    if last_modified is not None:
        response.last_modified = last_modified
    return response


def not_modified(tag: str, last_modified: datetime | None) -> Response | None:
    """A 304 when the visitor's copy is current (by ETag, else by date)."""
    if request.if_none_match:
        if not request.if_none_match.contains(tag):
            return None
    elif not (last_modified and request.if_modified_since and last_modified.replace(microsecond=0) <= request.if_modified_since):
        return None
    return cached(Response(status=304), tag, last_modified)


def tag_of(*parts) -> str:
    return "-".join(str(p) for p in (*parts, language()))


def query_key() -> str:
    return hashlib.sha256(request.query_string[:1000]).hexdigest()[:16]


class Rendered:
    """Pages and feeds already rendered, by what they depend on (the engine's validator token, the
    language, the query): many anonymous readers of the same page cost one rendering. Bounded, and
    kept a minute at most (the catalogue's matters in the search form change without an event)."""

    def __init__(self, size: int = 64, seconds: float = 60.0):
        self.size, self.seconds = size, seconds
        self._items: OrderedDict[tuple, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, build: Callable[[], object]) -> object:
        now = time.monotonic()
        with self._lock:
            found = self._items.get(key)
            if found is not None and now - found[0] < self.seconds:
                self._items.move_to_end(key)
                return found[1]
        value = build()
        with self._lock:
            self._items[key] = (now, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


PAGES = Rendered()


def _page_url(page: int) -> str:
    return url_for(".decisions", **{**request.args.to_dict(), "page": page})


@bp.get("/decisions")
def decisions():
    """The published decisions, newest first, a page at a time; searched by the query's filters."""
    session = db.session()
    seen = publication.validator(session)
    tag = tag_of("d", seen.token, query_key())
    unchanged = not_modified(tag, seen.last_modified)
    if unchanged is not None:
        return unchanged

    def render() -> str:
        wanted = filters()
        listing = publication.search(session, wanted, request.args.get("page", 1, type=bounded_int))
        return render_template("portal/decisions.html", portal_section="decisions", listing=listing, filters=wanted,
                               matters=publication.matters(session), types=DECISION_TYPES, page_url=_page_url)

    signed_in = current_app.config.get("SESSION_COOKIE_NAME", "session") in request.cookies
    page = render() if signed_in else PAGES.get(("decisions", tag, request.host_url, db.settings().database_url), render)
    return cached(Response(page), tag, seen.last_modified)


@bp.get("/decisions/<int:disclosure_id>")
def decision(disclosure_id: int):
    """A decision's permalink: its content while public; withdrawn: that it was, when and why; past
    its retention or taken down: gone (410)."""
    session = db.session()
    found = publication.record(session, disclosure_id)
    if found is None:
        return render_template("portal/not_found.html", what="decision"), 404
    tag = tag_of("r", found.id, found.state, found.updated_at.timestamp() if found.updated_at else 0)
    unchanged = not_modified(tag, found.updated_at)
    if unchanged is not None:
        return unchanged
    page = render_template("portal/decisions_record.html", portal_section="decisions", record=found)
    status = 410 if found.state in ("expired", "removed") else 200
    response = cached(Response(page, status=status), tag, found.updated_at)
    return response
