"""Start a case, read a case file, download a piece of evidence."""
from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from workflows.core.errors import CredentialRequired, FormInvalid, NotFound
from workflows.domain import casediagram, casefile, caselist, cases, lookups, records, supervision

from .. import db
from ..access import no_credential_message, staff
from ..evidence import download, store
from ..i18n import localize
from ..params import bounded_int
from . import bp
from .diagram import diagram_json
from .forms import StartCaseForm


@bp.route("/new", methods=["GET", "POST"])
def start():
    user, session = staff(), db.session()
    process_id = current_app.config["CASE_PROCESS"]
    try:
        cases.check_start(session, user, process_id)
        refusal, deployed = None, True
    except CredentialRequired:
        refusal, deployed = no_credential_message(), True
    except NotFound:
        refusal, deployed = None, False
    form = StartCaseForm()
    form.offer(lookups.active_matters(session))
    if refusal or not deployed or not form.validate_on_submit():
        status = 403 if refusal else 503 if not deployed else 422 if form.is_submitted() else 200
        return render_template("cases/start.html", form=form, refusal=refusal, deployed=deployed,
                               process_id=process_id), status
    started = cases.start(session, db.settings(), user, process_id,
                          {"matter_code": form.matter_code.data, "party_name": form.party_name.data.strip()})
    first = started.first_for(user)
    if first is not None:
        return redirect(url_for("tasks.show", task_id=first.task_id))
    return redirect(url_for(".show", instance_id=started.instance.id))


@bp.get("/mine")
def mine():
    """我的案件: the cases the signed-in person works on, searchable by case number, party and matter."""
    user, session = staff(), db.session()
    text = (request.args.get("q") or "").strip()[:100]
    matter = (request.args.get("matter") or "").strip()[:40]
    listing = caselist.mine(session, user, text, matter, request.args.get("page", 1, type=bounded_int))
    return render_template("cases/mine.html", listing=listing, q=text, matter=matter,
                           matters=lookups.active_matters(session))


@bp.get("/<int:instance_id>")
@db.writes
def show(instance_id: int):
    all_events = request.args.get("events") == "all"
    user, session = staff(), db.session()
    file = casefile.read(session, user, instance_id, with_reads=all_events)
    shown = casediagram.of_case(session, user, instance_id, request.args.get("process") or None)
    db.commit()
    events = sorted([*file.events, *file.read_events], key=lambda e: e.created_at)
    return render_template("cases/case.html", file=file, all_events=all_events, events=events,
                           read_events=file.reads, may_act=file.actionable, diagram=shown,
                           diagram_data=diagram_json(shown, file.names), grounds=cases.SUSPENSION_GROUNDS)


@bp.get("/<int:instance_id>/evidence/<sha256>")
@db.writes
def evidence(instance_id: int, sha256: str):
    found, chunks = records.read_evidence(db.session(), store(), staff(), instance_id, sha256)
    return download(found, chunks)


@bp.get("/<int:instance_id>/diagram.bpmn")
@bp.get("/<int:instance_id>/diagram/<process_id>.bpmn")
def diagram(instance_id: int, process_id: str | None = None):
    content = casediagram.diagram(db.session(), staff(), instance_id, process_id)
    return Response(content, mimetype="application/xml", headers={"Cache-Control": "private, max-age=3600"})


# --- supervision and operations: each an engine operation that checks who may do it ----------------

def _done(instance_id: int, message: str):
    flash(message, "success")
    return redirect(url_for(".show", instance_id=instance_id) + "#operations")


def _refused(instance_id: int, exc: FormInvalid):
    db.discard()
    for messages in exc.errors.values():
        for message in messages:
            flash(localize(message), "danger")
    return redirect(url_for(".show", instance_id=instance_id) + "#operations")


@bp.post("/<int:instance_id>/suspend")
def suspend(instance_id: int):
    try:
        cases.suspend(db.session(), staff(), instance_id, request.form.get("reason", ""), request.form.get("ground", ""))
    except FormInvalid as exc:
        return _refused(instance_id, exc)
    return _done(instance_id, _("案件已中止，办案期限和待办任务暂停。"))


@bp.post("/<int:instance_id>/resume")
def resume(instance_id: int):
    try:
        cases.resume(db.session(), staff(), instance_id, request.form.get("reason", ""))
    except FormInvalid as exc:
        return _refused(instance_id, exc)
    return _done(instance_id, _("案件已恢复办理。"))


@bp.post("/<int:instance_id>/terminate")
def terminate(instance_id: int):
    try:
        cases.terminate(db.session(), staff(), instance_id, request.form.get("reason", ""))
    except FormInvalid as exc:
        return _refused(instance_id, exc)
    return _done(instance_id, _("案件已终止。"))


@bp.post("/<int:instance_id>/retry")
def retry(instance_id: int):
    instance = cases.retry(db.session(), staff(), instance_id)
    if instance.status == "error":
        flash(_("重试后仍然出错：%(message)s", message=instance.error_message), "danger")
        return redirect(url_for(".show", instance_id=instance_id) + "#operations")
    return _done(instance_id, _("已重新执行出错的环节，案件继续办理。"))


@bp.post("/<int:instance_id>/supervise")
def supervise(instance_id: int):
    try:
        supervision.send(db.session(), staff(), instance_id, request.form.get("message", ""))
    except FormInvalid as exc:
        return _refused(instance_id, exc)
    return _done(instance_id, _("督办通知已发出，将提示该案件待办任务的办理人员。"))


@bp.post("/notices/<int:notice_id>/ack")
def acknowledge(notice_id: int):
    notice = supervision.acknowledge(db.session(), staff(), notice_id)
    flash(_("已确认收到督办通知。"), "success")
    return redirect(url_for(".show", instance_id=notice.instance_id))
