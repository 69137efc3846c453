"""事前公开 and the credential check (事中公示): what the public reads before enforcement.

The enforcing body, its personnel, duties and powers, the matter catalogue with legal basis,
penalty types and discretion standards, the procedure (the deployed case model as a flowchart and
as text), remedies, the random-inspection list and service guides; and for every credential a
public check page and a QR code pointing to it. No sign-in, no session, no form token: every
page is the same for all visitors of one language, so it is sent with ``Cache-Control`` and an
ETag (a conditional GET gets 304).
"""
from __future__ import annotations

import io
from urllib.parse import urlsplit

import segno
from flask import Response, abort, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from workflows.core.errors import NotFound
from workflows.domain import catalogue, public_info

from .. import db
from ..i18n import COOKIE, LANGUAGES
from . import bp

LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
MAX_AGE = 300  # seconds a browser or a shared cache may reuse a public page without asking

CATEGORIES = {
    "penalty": _l("行政处罚"), "coercion": _l("行政强制"), "inspection": _l("行政检查"),
    "licensing": _l("行政许可"), "other": _l("其他行政执法"),
}
CHECK_STATES = {
    "valid": _l("有效"), "expired": _l("已过期"), "not_yet": _l("尚未生效"), "suspended": _l("暂扣"),
    "revoked": _l("已吊销"), "invalid": _l("已失效"),
}
CHECK_EXPLAINED = {
    "valid": _l("持证人可以在执法区域内从事行政执法活动。"),
    "expired": _l("证件已超过有效期，持证人不能凭此证从事行政执法活动。"),
    "not_yet": _l("证件尚未生效，持证人不能凭此证从事行政执法活动。"),
    "suspended": _l("证件已被暂扣，持证人暂停从事行政执法活动。"),
    "revoked": _l("证件已被吊销，持证人不能从事行政执法活动。"),
    "invalid": _l("持证人已不在执法岗位，证件已失效。"),
}


@bp.context_processor
def _portal_layout() -> dict:
    """What ``portal/base.html`` needs: which portal pages exist (its navigation shows only those)."""
    return {"url_endpoints": current_app.view_functions.keys(), "category_label": _category}


def _category(code: str) -> str:
    return str(CATEGORIES.get(code, code))


# A credential's state must be current: its pages are revalidated (ETag) on every use.
ALWAYS_REVALIDATE = frozenset({"portal.credential", "portal.credential_qr", "portal.credential_card"})


@bp.after_request
def _cacheable(response: Response) -> Response:
    """Public GETs: cacheable for a few minutes by anyone (privately once the visitor has a session
    cookie), validated by an ETag of the body; a page that sets its own caching keeps it."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200 or response.is_streamed \
            or response.direct_passthrough or "Cache-Control" in response.headers:
        return response
    signed_in = current_app.config.get("SESSION_COOKIE_NAME", "session") in request.cookies
    if signed_in:
        response.cache_control.private = True
    else:
        response.cache_control.public = True
    if request.endpoint in ALWAYS_REVALIDATE:
        response.cache_control.no_cache = True
    else:
        response.cache_control.max_age = MAX_AGE
    response.vary.add("Cookie")  # the language
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/lang/<lang>")
def set_language(lang: str):
    """Switch the language by a plain link (no form, so public pages carry no session or token)."""
    target = request.args.get("next") or ""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        target = url_for(".home")
    response = make_response(redirect(target))
    if lang in LANGUAGES:
        response.set_cookie(COOKIE, lang, max_age=LANGUAGE_COOKIE_AGE, httponly=True, samesite="Lax")
    response.headers["Cache-Control"] = "no-store"
    return response


def _not_found(what: str):
    return render_template("portal/not_found.html", what=what), 404


# --- 事前公开 ----------------------------------------------------------------------------------------

@bp.get("/")
def home():
    """The portal's front page: the enforcing body and what is published about it."""
    session = db.session()
    return render_template("portal/home.html", portal_section="home", body=public_info.body(session),
                           matters=catalogue.entries(session), fields=catalogue.fields(session),
                           approval=catalogue.latest_approval(session),
                           personnel=public_info.personnel(session))


@bp.get("/matters")
def matters():
    """The catalogue of enforcement matters in force (and those abolished), searchable by name and field."""
    session = db.session()
    search = catalogue.Search(query=request.args.get("q", "")[:100], field=request.args.get("field", "")[:60],
                              with_abolished=True)
    found = catalogue.entries(session, search)
    return render_template("portal/matters.html", portal_section="matters", search=search,
                           in_force=[m for m in found if m.active], abolished=[m for m in found if not m.active],
                           fields=catalogue.fields(session), approval=catalogue.latest_approval(session))


@bp.get("/matters/<code>")
def matter(code: str):
    """One matter: basis, penalty types, discretion standard, procedure, remedies, service guide."""
    session = db.session()
    try:
        entry = catalogue.get(session, code)
    except NotFound:
        return _not_found("matter")
    return render_template("portal/matter.html", portal_section="matters", matter=entry,
                           remedies=public_info.remedies(session))


@bp.get("/duties")
def duties():
    """Duties and powers (权责清单): the body's duties and each matter's powers and basis."""
    session = db.session()
    return render_template("portal/duties.html", portal_section="duties", body=public_info.body(session),
                           matters=catalogue.entries(session), approval=catalogue.latest_approval(session))


@bp.get("/personnel")
def personnel():
    """Enforcement personnel holding a credential valid today (name, unit, number, area, validity)."""
    session = db.session()
    return render_template("portal/personnel.html", portal_section="personnel",
                           personnel=public_info.personnel(session),
                           provenance=public_info.personnel_provenance(session))


def _procedure(process_id: str | None):
    session = db.session()
    root = current_app.config.get("CASE_PROCESS", "enforcement_case")
    try:
        shown = public_info.procedure(session, process_id or root, root)
    except NotFound:
        return _not_found("procedure")
    return render_template("portal/procedure.html", portal_section="procedure", procedure=shown,
                           root=public_info.procedure(session, root) if shown.process_id != root else shown)


@bp.get("/procedure")
def procedure():
    """The enforcement procedure: the deployed case model as a flowchart, and as a text outline."""
    return _procedure(None)


@bp.get("/procedure/<process_id>")
def procedure_stage(process_id: str):
    """One stage of the procedure (a process the case model calls)."""
    return _procedure(process_id)


@bp.get("/procedure/<process_id>.bpmn")
def procedure_diagram(process_id: str):
    """The BPMN file of a process of the published procedure, for the diagram viewer."""
    try:
        content = public_info.diagram(db.session(), process_id, current_app.config.get("CASE_PROCESS", "enforcement_case"))
    except NotFound:
        abort(404)
    return Response(content, mimetype="application/xml")


@bp.get("/remedies")
def remedies():
    """Remedies: administrative reconsideration (复议) and litigation (诉讼), where and how long."""
    session = db.session()
    return render_template("portal/remedies.html", portal_section="remedies", remedies=public_info.remedies(session),
                           body=public_info.body(session))


@bp.get("/inspections")
def inspections():
    """The random-inspection list (随机抽查事项清单)."""
    session = db.session()
    return render_template("portal/inspections.html", portal_section="inspections",
                           matters=catalogue.entries(session, catalogue.Search(random_only=True)),
                           approval=catalogue.latest_approval(session, random_only=True))


@bp.get("/guides")
def guides():
    """Service guides (服务指南) of the matters in force."""
    session = db.session()
    return render_template("portal/guides.html", portal_section="guides", matters=catalogue.entries(session),
                           body=public_info.body(session), approval=catalogue.latest_approval(session))


# --- 事中公示: the credential check -----------------------------------------------------------------

@bp.get("/zheng")
def check_form():
    """The credential check's search box: go to the number's page (or show the box)."""
    number = request.args.get("number", "").strip()
    if number:
        return redirect(url_for(".credential", number=number[:40]))
    return render_template("portal/check.html", portal_section="check", check=None)


@bp.get("/zheng/<number>")
def credential(number: str):
    """Is this enforcement credential valid today? State, holder's name and unit, area; nothing else."""
    try:
        check = public_info.check_credential(db.session(), number)
    except NotFound:
        return render_template("portal/check.html", portal_section="check", check=None, unknown=number[:40]), 404
    return render_template("portal/check.html", portal_section="check", check=check,
                           state_label=CHECK_STATES[check.state], explained=CHECK_EXPLAINED[check.state])


@bp.get("/zheng/<number>/card")
def credential_card(number: str):
    """A printable card of the credential's QR code, for the administrator to put on the card."""
    try:
        check = public_info.check_credential(db.session(), number)
    except NotFound:
        return _not_found("credential")
    return render_template("portal/card.html", check=check,
                           url=url_for(".credential", number=check.number, _external=True))


@bp.get("/zheng/<number>.svg")
def credential_qr(number: str):
    """The QR code of the credential's check page, as SVG."""
    try:
        check = public_info.check_credential(db.session(), number)
    except NotFound:
        abort(404)
    qr = segno.make(url_for(".credential", number=check.number, _external=True), error="m")
    svg = io.BytesIO()
    qr.save(svg, kind="svg", scale=4, border=2, dark="#000", light="#fff", xmldecl=False,
            title=str(_l("执法证件查验二维码")))
    return Response(svg.getvalue(), mimetype="image/svg+xml")
