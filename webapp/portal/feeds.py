"""Machine-readable 事后公开 for WeChat, Weibo and apps: an Atom feed (``/gongshi/feed.atom``, made
with feedgen) and a JSON Feed 1.1 (``/gongshi/feed.json``) of the latest publications, corrections,
withdrawals and ends of publication; and ``/gongshi/sitemap.xml`` of the portal's pages and the
permalinks of the published decisions.

A withdrawn or expired record's entry says so and carries none of its content; its earlier
publication leaves the feed. Feeds answer conditional GETs (ETag, Last-Modified) from the engine's
validator before building anything.

Other parts of the portal add their pages with parameters to the sitemap by registering a source:
``@sitemap_source`` on a function ``(session) -> [(url, last change or None), …]``.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from xml.sax.saxutils import escape

from feedgen.feed import FeedGenerator
from flask import Response, current_app, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from workflows.core import clock
from workflows.domain import publication

from .. import db
from ..i18n import language
from . import bp
from .decisions import PAGES, cached, decision_type_label, ground_label, not_modified, tag_of

FEED_MAX_AGE = 600
JSON_FEED = "https://jsonfeed.org/version/1.1"
# Portal pages that are no pages to list: the feeds and the sitemap themselves, switches and files.
NOT_PAGES = frozenset({"portal.feed_atom", "portal.feed_json", "portal.sitemap", "portal.set_language"})

SitemapSource = Callable[[Session], Iterable[tuple[str, datetime | None]]]
SITEMAP_SOURCES: list[SitemapSource] = []


def sitemap_source(source: SitemapSource) -> SitemapSource:
    SITEMAP_SOURCES.append(source)
    return source


def _agency() -> str:
    return current_app.config["SANXIANG_SETTINGS"].agency_name


def _title(item: publication.FeedItem) -> str:
    if item.entry is None:
        return {"withdrawn": _("撤回：执法决定公开信息（第%(id)s号）", id=item.disclosure_id),
                "removed": _("停止公示：执法决定公开信息（第%(id)s号）", id=item.disclosure_id),
                "expired": _("停止公示：执法决定公开信息（第%(id)s号）", id=item.disclosure_id)}.get(item.kind, "")
    content = item.entry.content
    what = " ".join(x for x in (content.get("party"), decision_type_label(item.entry.decision_type),
                                content.get("decision_doc_no")) if x)
    return _("更正：%(what)s", what=what) if item.kind == "corrected" else _("公开：%(what)s", what=what)


def _text(item: publication.FeedItem) -> str:
    """The entry as plain text (the JSON Feed's ``content_text``, the Atom summary)."""
    if item.kind == "withdrawn":
        return _("本机关已于%(day)s撤回该执法决定的公开信息。撤回理由：%(ground)s。%(note)s",
                 day=item.at.date().isoformat(), ground=ground_label(item.ground), note=item.note or "").strip()
    if item.kind == "removed":
        return _("当事人已完成信用修复，该执法决定信息已于%(day)s起提前停止公示。", day=item.at.date().isoformat())
    if item.kind == "expired":
        return _("该执法决定信息的公示期已满，已于%(day)s起停止公示。", day=item.at.date().isoformat())
    c = item.entry.content
    lines = [(_("当事人"), c.get("party")), (_("统一社会信用代码"), c.get("party_code")), (_("执法事项"), c.get("matter")),
             (_("主要违法事实"), c.get("facts")), (_("依据"), c.get("legal_basis")), (_("决定内容"), c.get("decision")),
             (_("决定书文号"), c.get("decision_doc_no")), (_("决定日期"), c.get("decision_date"))]
    text = "\n".join(f"{label}：{value}" for label, value in lines if value)
    if item.kind == "corrected":
        text = _("本信息已更正：%(note)s", note=item.note) + "\n" + text
    return text


def _html(item: publication.FeedItem) -> str:
    return render_template("portal/feed_entry.html", item=item)


def _link(item: publication.FeedItem) -> str:
    return url_for(".decision", disclosure_id=item.disclosure_id, _external=True)


def _entry_id(item: publication.FeedItem) -> str:
    """A tag URI (RFC 4151): the same event is the same entry in both feeds, on every fetch."""
    return f"tag:{request.host.split(':')[0]},2026:gongshi-decision-{item.key}"


def _feed(kind: str):
    session = db.session()
    seen = publication.validator(session)
    tag = tag_of(kind, seen.token)
    unchanged = not_modified(tag, seen.last_modified)
    if unchanged is not None:
        return unchanged

    def build() -> tuple:
        return (_atom if kind == "atom" else _json)(publication.feed(session), seen.last_modified or clock.now())

    body, mimetype = PAGES.get(("feed", tag, request.host_url, db.settings().database_url), build)
    return cached(Response(body, mimetype=mimetype), tag, seen.last_modified, FEED_MAX_AGE)


def _atom(items: list[publication.FeedItem], updated: datetime) -> tuple[bytes, str]:
    fg = FeedGenerator()
    fg.id(url_for(".feed_atom", _external=True))
    fg.title(_("%(agency)s执法决定公开", agency=_agency()))
    fg.subtitle(_("行政处罚决定和其他行政执法决定的公开、更正和撤回。"))
    fg.author({"name": _agency()})
    fg.link(href=url_for(".decisions", _external=True), rel="alternate", type="text/html")
    fg.link(href=url_for(".feed_atom", _external=True), rel="self", type="application/atom+xml")
    fg.language("en" if language() == "en" else "zh-CN")
    fg.updated(updated)
    fg.generator("sanxiang")
    for item in items:
        fe = fg.add_entry(order="append")
        fe.id(_entry_id(item))
        fe.title(_title(item))
        fe.link(href=_link(item), rel="alternate", type="text/html")
        fe.published(item.at)
        fe.updated(item.at)
        fe.author({"name": _agency()})
        fe.category(term=item.kind)
        fe.summary(_text(item))
        fe.content(_html(item), type="html")
    return fg.atom_str(pretty=True), "application/atom+xml"


def _json(items: list[publication.FeedItem], updated: datetime) -> tuple[str, str]:
    feed = {
        "version": JSON_FEED,
        "title": _("%(agency)s执法决定公开", agency=_agency()),
        "home_page_url": url_for(".decisions", _external=True),
        "feed_url": url_for(".feed_json", _external=True),
        "description": _("行政处罚决定和其他行政执法决定的公开、更正和撤回。"),
        "language": "en" if language() == "en" else "zh-CN",
        "authors": [{"name": _agency()}],
        "items": [_json_item(item) for item in items],
    }
    return json.dumps(feed, ensure_ascii=False, indent=1), "application/feed+json"


def _json_item(item: publication.FeedItem) -> dict:
    found = {
        "id": _entry_id(item), "url": _link(item), "title": _title(item),
        "content_html": _html(item), "content_text": _text(item),
        "date_published": item.at.isoformat(), "tags": [item.kind],
        "_gongshi": {"kind": item.kind, "record": item.disclosure_id},
    }
    if item.entry is not None:
        c = item.entry.content
        found["_gongshi"] |= {"decision_type": item.entry.decision_type, "decision_date": c.get("decision_date"),
                              "party": c.get("party"), "party_code": c.get("party_code"), "matter": c.get("matter"),
                              "decision_doc_no": c.get("decision_doc_no"), "enforcing_body": c.get("enforcing_body")}
    elif item.ground:
        found["_gongshi"]["ground"] = item.ground
    return found


@bp.get("/feed.atom")
def feed_atom():
    """The latest publications, corrections, withdrawals and ends of publication, as Atom."""
    return _feed("atom")


@bp.get("/feed.json")
def feed_json():
    """The same, as JSON Feed 1.1 (with the decision's fields under ``_gongshi`` for apps)."""
    return _feed("json")


@sitemap_source
def _decisions(session: Session) -> Iterable[tuple[str, datetime | None]]:
    for disclosure_id, updated_at in publication.sitemap(session):
        yield url_for(".decision", disclosure_id=disclosure_id, _external=True), updated_at


@bp.get("/sitemap.xml")
def sitemap():
    """The portal's pages, then the permalinks of the published decisions (and what other parts add)."""
    session = db.session()
    rules = sorted({rule.endpoint for rule in current_app.url_map.iter_rules()
                    if rule.endpoint.startswith("portal.") and not rule.arguments and "GET" in rule.methods
                    and rule.endpoint not in NOT_PAGES})
    urls: list[tuple[str, datetime | None]] = [(url_for(endpoint, _external=True), None) for endpoint in rules]
    for source in SITEMAP_SOURCES:
        urls.extend(source(session))
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for url, changed in urls[:50_000]:
        lastmod = f"<lastmod>{changed.date().isoformat()}</lastmod>" if changed else ""
        lines.append(f"<url><loc>{escape(url)}</loc>{lastmod}</url>")
    lines.append("</urlset>")
    return Response("\n".join(lines) + "\n", mimetype="application/xml")
