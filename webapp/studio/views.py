"""Studio pages and the editor's JSON calls; each calls one operation of ``workflows.design``, which
checks that the actor designs."""
from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

from flask import Response, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from workflows.core.errors import Conflict, FormInvalid, InstanceNotActive, NotFound, ValidationFailed
from workflows.core.messages import Message
from workflows.core.models import HumanTask
from workflows.domain import access
from workflows.domain.tasks import TaskSheet
from workflows.design import migration, studio
from workflows.engine import specs

from .. import SECURITY_HEADERS, db
from ..access import staff
from ..i18n import localize
from ..tasks.forms import task_form
from ..params import bounded_int
from . import bp

# dmn-js sets two inline styles on its bpmn.io watermark, whose code its licence forbids changing;
# the decision-table editor's page allows exactly those two (by hash), nothing else inline.
DMN_CSP = (SECURITY_HEADERS["Content-Security-Policy"] + "; style-src 'self' 'unsafe-hashes' "
           "'sha256-r3vOsuepBDg6tz/cOusiNJ9Y4Lp9hGQTT7pzDks1Xxc=' 'sha256-CA/eh4+2R0J7cEQ14gBMtx834RIOjzMUqCM+evtrkp4='")


def _designer():
    user = staff()
    access.check_design(user)
    return user, db.session()


def _errors(exc: FormInvalid) -> dict[str, list[str]]:
    return {field: [localize(m) for m in messages] for field, messages in exc.errors.items()}


def _problems(problems) -> list[dict]:
    return [{"file": p.file, "element": p.element, "line": p.line, "message": localize(p.message)} for p in problems]


def _plain(value: Any) -> Any:
    """A result of the engine as JSON, its messages in the reader's language."""
    if isinstance(value, Message):
        return localize(value)
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _posted_xml() -> bytes:
    body = request.get_json(silent=True) or {}
    xml = body.get("xml")
    if not isinstance(xml, str):
        raise FormInvalid({"xml": [_("没有收到模型内容")]})
    return xml.encode("utf-8")


def _json_refusal(exc: Exception):
    """An engine refusal of an editor call, as JSON the page shows beside the diagram."""
    db.discard()
    if isinstance(exc, FormInvalid):
        return jsonify(errors=_errors(exc)), 422
    if isinstance(exc, ValidationFailed):
        return jsonify(problems=_problems(exc.problems)), 422
    return jsonify(errors={"": [localize(exc.args[0])]}), 409 if isinstance(exc, Conflict) else 404


# --- the index -----------------------------------------------------------------------------------

@bp.get("/")
def index():
    user, session = _designer()
    return render_template("studio/index.html", files=studio.catalogue(session, user),
                           drafts=studio.drafts_of(session))


@bp.post("/upload")
def upload():
    user, session = _designer()
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        flash(_("请选择要上传的 .bpmn 或 .dmn 文件。"), "danger")
        return redirect(url_for(".index"))
    data = sent.stream.read(studio.MAX_MODEL_BYTES + 1)
    try:
        saved = studio.upload(session, user, sent.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1], data)
    except FormInvalid as exc:
        db.discard()
        for messages in _errors(exc).values():
            for message in messages:
                flash(message, "danger")
        return redirect(url_for(".index"))
    flash(_("已上传为您的草稿：%(name)s。", name=saved.filename), "success")
    return redirect(url_for(".edit", filename=saved.filename))


@bp.post("/drafts/<int:draft_id>/discard")
def discard(draft_id: int):
    user, session = _designer()
    studio.discard_draft(session, user, draft_id)
    flash(_("草稿已放弃。"), "success")
    return redirect(url_for(".index"))


@bp.post("/deploy")
def deploy():
    user, session = _designer()
    ids = [int(i) for i in request.form.getlist("draft") if i.isdigit() and len(i) < 10]
    try:
        result = studio.deploy_drafts(session, user, ids, request.form.get("note", ""))
    except (FormInvalid, ValidationFailed, Conflict) as exc:
        db.discard()
        if isinstance(exc, FormInvalid):
            for messages in _errors(exc).values():
                for message in messages:
                    flash(message, "danger")
        elif isinstance(exc, ValidationFailed):
            flash(_("校验未通过，没有部署：%(n)s个问题。请在编辑器中校验并修正。", n=len(exc.problems)), "danger")
            for problem in exc.problems[:10]:
                flash(str(problem), "danger")
        else:
            flash(localize(exc.args[0]), "danger")
        return redirect(url_for(".index"))
    flash(_("已部署为版本%(version)s：%(files)s。新立案件使用新版本；在办案件仍用原版本，可在“迁移”中迁移。",
            version=result.version, files="、".join(result.changed)), "success")
    return redirect(url_for(".index"))


# --- one file: editor, source, history ---------------------------------------------------------

@bp.get("/files/<filename>")
def edit(filename: str):
    """The editor: the user's own draft if they have one (or the draft asked for), else the deployed file."""
    user, session = _designer()
    chosen = request.args.get("draft", type=bounded_int)
    draft = studio.draft(session, user, chosen) if chosen else studio.own_draft(session, user, filename)
    if draft is not None and draft.filename != filename:
        raise NotFound("draft of another file")
    revisions = studio.history(session, user, filename) if draft is None else []
    parent_version = draft.parent_version if draft else revisions[0].version
    where = {"draft": draft.id} if draft else {"version": parent_version}
    page = make_response(render_template("studio/editor.html", filename=filename, draft=draft, parent_version=parent_version,
                           scenarios=studio.scenarios(user) if filename.endswith(".bpmn") else {},
                           source=url_for(".source", filename=filename, **where),
                           download=url_for(".source", filename=filename, download=1, **where),
                           kind="dmn" if filename.endswith(".dmn") else "bpmn"))
    if filename.endswith(".dmn"):
        page.headers["Content-Security-Policy"] = DMN_CSP
    return page


@bp.get("/files/<filename>/source")
def source(filename: str):
    """The file's XML: a draft's, a version's, or the current one; ``download=1`` to save it."""
    user, session = _designer()
    draft_id = request.args.get("draft", type=bounded_int)
    if draft_id:
        draft = studio.draft(session, user, draft_id)
        if draft.filename != filename:
            raise NotFound("draft of another file")
        data = draft.content
    else:
        data = studio.content(session, filename, request.args.get("version", type=bounded_int))
    headers = {"Cache-Control": "private, no-store"}
    if request.args.get("download"):
        version = request.args.get("version", "draft" if draft_id else "current")
        stem, _dot, suffix = filename.rpartition(".")
        headers["Content-Disposition"] = f'attachment; filename="{stem}.v{version}.{suffix}"'
    return Response(data, mimetype="application/xml", headers=headers)


@bp.get("/files/<filename>/history")
def history(filename: str):
    """The versions of a file; with ``a`` and ``b``, what changed between those two versions."""
    user, session = _designer()
    revisions = studio.history(session, user, filename)
    a, b = request.args.get("a", type=bounded_int), request.args.get("b", type=bounded_int)
    known = {r.version for r in revisions}
    compared = studio.compare(session, user, filename, a, b) if a in known and b in known else None
    return render_template("studio/history.html", filename=filename, revisions=revisions, compared=compared,
                           a=a, b=b)


# --- the editor's calls (JSON) -------------------------------------------------------------------

@bp.post("/files/<filename>/draft")
def save(filename: str):
    user, session = _designer()
    body = request.get_json(silent=True) or {}
    parent = body.get("parent_version")
    try:
        draft = studio.save_draft(session, user, filename, _posted_xml(),
                                  parent if isinstance(parent, int) and parent > 0 else None)
    except (FormInvalid, NotFound) as exc:
        return _json_refusal(exc)
    return jsonify(id=draft.id, sha256=draft.sha256, saved_at=draft.saved_at.isoformat(),
                   message=_("草稿已保存（SHA-256 %(sha)s…），运行中的案件不受影响。", sha=draft.sha256[:12]))


@bp.post("/files/<filename>/validate")
def validate(filename: str):
    user, session = _designer()
    try:
        found = studio.problems(session, user, filename, _posted_xml())
    except FormInvalid as exc:
        return _json_refusal(exc)
    return jsonify(problems=_problems(found))


@bp.post("/files/<filename>/preview")
def preview(filename: str):
    """The selected user task's form exactly as staff will see it, from the editor's XML."""
    user, session = _designer()
    body = request.get_json(silent=True) or {}
    try:
        data = _posted_xml()
        studio.check_model_file(filename, data)
        shown = studio.preview(session, user, studio.with_changes(session, {filename: data}),
                               str(body.get("element", ""))[:200])
    except (FormInvalid, ValidationFailed) as exc:
        return _json_refusal(exc)
    sheet = TaskSheet(row=HumanTask(task_id="preview", name=shown.name, spec_id=shown.element, state="ready"),
                      fields=shown.fields, instructions=shown.instructions,
                      values={f.id: f.default for f in shown.fields}, draft=None, people=shown.people,
                      matter_choices=shown.matter_choices, evidence={}, names={}, matter_names={}, refusal=None)
    return jsonify(html=render_template("studio/_preview.html", sheet=sheet, form=task_form(sheet),
                                        max_bytes=db.settings().evidence_max_bytes))


@bp.post("/files/<filename>/diff")
def compare(filename: str):
    """What the editor's XML changes against the deployed file, element by element."""
    user, session = _designer()
    try:
        data = _posted_xml()
        studio.check_model_file(filename, data)
        found = studio.compare(session, user, filename, None, data)
    except (FormInvalid, NotFound) as exc:
        return _json_refusal(exc)
    return jsonify(_plain(found))


@bp.post("/files/<filename>/dryrun")
def dry_run(filename: str):
    """Run a scenario on the set with the editor's XML in it, in memory."""
    user, session = _designer()
    body = request.get_json(silent=True) or {}
    try:
        data = _posted_xml()
        studio.check_model_file(filename, data)
        result = studio.dry_run(session, user, studio.with_changes(session, {filename: data}),
                                str(body.get("process", ""))[:200], body.get("scenario"))
    except (FormInvalid, ValidationFailed, NotFound) as exc:
        return _json_refusal(exc)
    finally:
        db.discard()  # a dry run stores nothing, whatever it touched
    return jsonify(_plain(result))


# --- migrating running cases ---------------------------------------------------------------------

@bp.get("/migrations")
def migrations():
    """Every open case on an older version: whether it can move to the current one, and why not."""
    user, session = _designer()
    return render_template("studio/migrations.html", checks=migration.check_all(session, user),
                           version=specs.current_version(session))


@bp.post("/migrations")
def migrate():
    """Move the chosen cases, each on its own (a savepoint per case): one refused leaves the others moved."""
    user, session = _designer()
    moved, refused = [], []
    for choice in request.form.getlist("case")[:500]:
        case_id, _sep, seen = choice.partition(":")
        if not (case_id.isdigit() and seen.isdigit()) or len(case_id) > 9 or len(seen) > 9:
            continue
        try:
            with session.begin_nested():
                moved.append(migration.migrate(session, user, int(case_id), int(seen)).check.case_no)
        except (migration.CannotMigrate, Conflict, NotFound, InstanceNotActive) as exc:
            refused.append(localize(exc.args[0]))
    if moved:
        flash(_("已迁移%(n)s件案件：%(cases)s。", n=len(moved), cases="、".join(moved)), "success")
    for message in refused:
        flash(message, "danger")
    if not moved and not refused:
        flash(_("请选择要迁移的案件。"), "warning")
    return redirect(url_for(".migrations"))
