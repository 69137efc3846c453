"""A task: read its instructions, fill its form, save a draft, upload evidence, complete it."""
from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from workflows import cases, inbox, webqueries
from workflows.errors import Conflict, InstanceNotActive
from workflows.evidence import EvidenceError

from .. import db
from ..access import may_see_task, refusal, require, staff
from ..evidence import refusal_message, size_text, store
from ..i18n import task_name
from ..redirects import back
from . import bp
from .forms import show_errors, submitted_values, task_form, uploads


@bp.get("/<task_id>")
def show(task_id: str):
    user, session = staff(), db.session()
    row = webqueries.task_row(session, task_id)
    require(may_see_task(user, row))
    return _page(row)


@bp.post("/<task_id>")
def submit(task_id: str):
    user, session = staff(), db.session()
    row = webqueries.task_row(session, task_id)
    require(may_see_task(user, row))
    fields = cases.form_of(session, row)
    data, files = submitted_values(fields, request.form), uploads(fields, request.files)
    saving_draft = request.form.get("_action") == "draft"
    try:
        if saving_draft:
            result = webqueries.save_draft(session, store(), user, task_id, data, files)
        else:
            result = webqueries.submit_task(session, store(), user, task_id, data, files)
    except (Conflict, InstanceNotActive):
        session.refresh(row)
        return _page(row, submitted=data, overtaken=True, status=409)
    if result.outcome is not None:
        return redirect(url_for(".done", task_id=task_id))
    if saving_draft and not result.refused:
        flash(_("草稿已保存。任务尚未提交，可以稍后继续填写。"), "success")
        return redirect(url_for(".show", task_id=task_id))
    return _page(row, submitted=result.data, errors=result.errors, refused=result.refused, status=422)


def _page(row, *, submitted=None, errors=None, refused=None, overtaken=False, status=200):
    user, session = staff(), db.session()
    sheet = webqueries.task_sheet(session, user, row, submitted)
    form = task_form(sheet)
    messages = dict(errors or {})
    for field_id, problems in (refused or {}).items():
        messages.setdefault(field_id, []).extend(refusal_message(p) for p in problems)
    general = show_errors(form, messages)
    return render_template(
        "tasks/task.html", sheet=sheet, form=form, general_errors=general, overtaken=overtaken,
        refusal=refusal(user, row) if row.state == "ready" and not overtaken else None,
        names=webqueries.full_names(session, {row.assignee, row.completed_by}),
        matters=webqueries.matter_names(session, {row.instance.matter_code}),
        max_bytes=db.settings().evidence_max_bytes,
    ), status


@bp.get("/<task_id>/done")
def done(task_id: str):
    user, session = staff(), db.session()
    row = webqueries.task_row(session, task_id)
    require(may_see_task(user, row))
    if row.state == "ready":
        return redirect(url_for(".show", task_id=task_id))
    following = inbox.case_tasks(session, row.instance_id)
    return render_template("tasks/done.html", row=row, following=following,
                           names=webqueries.full_names(session, {t.assignee for t in following} | {row.completed_by}),
                           may_act={t.task_id for t in following if cases.may_act(user, t)})


@bp.post("/<task_id>/claim")
def claim(task_id: str):
    try:
        row = cases.claim(db.session(), staff(), task_id)
    except Conflict:
        db.discard()
        flash(_("这项任务刚被他人认领或已办理完成，请刷新列表。"), "warning")
        return back()
    flash(_("已认领任务“%(name)s”，现在可以办理。", name=task_name(row)), "success")
    return redirect(url_for(".show", task_id=task_id))


@bp.post("/<task_id>/unclaim")
def unclaim(task_id: str):
    try:
        row = cases.unclaim(db.session(), staff(), task_id)
    except Conflict:
        db.discard()
        flash(_("这项任务已办理完成，不能退回。"), "warning")
        return back()
    flash(_("已退回任务“%(name)s”，它回到了待认领列表。", name=task_name(row)), "info")
    return back()


@bp.post("/<task_id>/evidence")
def upload(task_id: str):
    """One file for a file field, sent by the page's uploader; answers with the stored file's hash."""
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        db.discard()
        return jsonify(error=_("没有收到文件。")), 400
    try:
        evidence = webqueries.upload_evidence(db.session(), store(), staff(), task_id,
                                              request.form.get("field", ""), sent.stream, sent.filename)
    except EvidenceError as exc:
        db.discard()
        return jsonify(error=refusal_message(exc)), 422
    return jsonify(sha256=evidence.sha256, filename=evidence.filename, size=evidence.size,
                   size_text=size_text(evidence.size), mime=evidence.mime)
