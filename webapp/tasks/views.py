"""A task: read its instructions, fill its form, save a draft, upload evidence, complete it."""
from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from workflows.core.errors import Conflict, InstanceNotActive
from workflows.domain import tasks
from workflows.domain.evidence_store import EvidenceError

from .. import db
from ..access import refusal_text, staff
from ..evidence import refusal_message, size_text, store
from ..i18n import task_name
from ..redirects import back
from . import bp
from .forms import show_errors, submitted_uploads, submitted_values, task_form


@bp.get("/<task_id>")
def show(task_id: str):
    return _page(task_id)


@bp.post("/<task_id>")
def submit(task_id: str):
    user, session = staff(), db.session()
    values, files = submitted_values(request.form), submitted_uploads(request.files)
    saving_draft = request.form.get("_action") == "draft"
    operation = tasks.save_draft if saving_draft else tasks.complete
    try:
        result = operation(session, store(), user, task_id, values, files)
    except (Conflict, InstanceNotActive):
        db.discard()
        return _page(task_id, submitted=values, overtaken=True, status=409)
    if result.completed:
        return redirect(url_for(".done", task_id=task_id))
    if saving_draft and not result.refused:
        flash(_("草稿已保存。任务尚未提交，可以稍后继续填写。"), "success")
        return redirect(url_for(".show", task_id=task_id))
    return _page(task_id, submitted=result.data, errors=result.errors, refused=result.refused, status=422)


def _page(task_id: str, *, submitted=None, errors=None, refused=None, overtaken=False, status=200):
    sheet = tasks.sheet(db.session(), staff(), task_id, submitted)
    form = task_form(sheet)
    messages = dict(errors or {})
    for field_id, problems in (refused or {}).items():
        messages.setdefault(field_id, []).extend(refusal_message(p) for p in problems)
    general = show_errors(form, messages)
    return render_template(
        "tasks/task.html", sheet=sheet, form=form, general_errors=general, overtaken=overtaken,
        refusal=None if overtaken else refusal_text(sheet.refusal), max_bytes=db.settings().evidence_max_bytes,
    ), status


@bp.get("/<task_id>/done")
def done(task_id: str):
    after = tasks.following(db.session(), staff(), task_id)
    if after.row.state == "ready":
        return redirect(url_for(".show", task_id=task_id))
    return render_template("tasks/done.html", after=after, row=after.row)


@bp.post("/<task_id>/claim")
def claim(task_id: str):
    try:
        row = tasks.claim(db.session(), staff(), task_id)
    except Conflict:
        db.discard()
        flash(_("这项任务刚被他人认领或已办理完成，请刷新列表。"), "warning")
        return back()
    flash(_("已认领任务“%(name)s”，现在可以办理。", name=task_name(row)), "success")
    return redirect(url_for(".show", task_id=task_id))


@bp.post("/<task_id>/unclaim")
def unclaim(task_id: str):
    try:
        row = tasks.release(db.session(), staff(), task_id)
    except Conflict:
        db.discard()
        flash(_("这项任务已办理完成，不能放回。"), "warning")
        return back()
    flash(_("已将任务“%(name)s”放回待认领列表。", name=task_name(row)), "info")
    return back()


@bp.post("/<task_id>/evidence")
def upload(task_id: str):
    """One file for a file field, sent by the page's uploader; answers with the stored file's hash."""
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        db.discard()
        return jsonify(error=_("没有收到文件。")), 400
    try:
        evidence = tasks.upload(db.session(), store(), staff(), task_id,
                                request.form.get("field", ""), sent.stream, sent.filename)
    except EvidenceError as exc:
        db.discard()
        return jsonify(error=refusal_message(exc)), 422
    return jsonify(sha256=evidence.sha256, filename=evidence.filename, size=evidence.size,
                   size_text=size_text(evidence.size), mime=evidence.mime)


@bp.post("/<task_id>/reassign")
def reassign(task_id: str):
    row = tasks.reassign(db.session(), staff(), task_id, request.form.get("to", ""))
    flash(_("已将任务“%(name)s”改派给%(user)s。", name=task_name(row), user=row.assignee), "success")
    return redirect(url_for("cases.show", instance_id=row.instance_id) + "#operations")
