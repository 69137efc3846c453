"""Start a case, read a case file, download a piece of evidence."""
from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for

from workflows.core.errors import CredentialRequired, NotFound
from workflows.domain import casefile, cases, lookups, records

from .. import db
from ..access import no_credential_message, staff
from ..evidence import download, store
from . import bp
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


@bp.get("/<int:instance_id>")
@db.writes
def show(instance_id: int):
    all_events = request.args.get("events") == "all"
    file = casefile.read(db.session(), staff(), instance_id, with_reads=all_events)
    db.commit()
    events = sorted([*file.events, *file.read_events], key=lambda e: e.created_at)
    return render_template("cases/case.html", file=file, all_events=all_events, events=events,
                           read_events=file.reads, may_act=file.actionable)


@bp.get("/<int:instance_id>/evidence/<sha256>")
@db.writes
def evidence(instance_id: int, sha256: str):
    found, chunks = records.read_evidence(db.session(), store(), staff(), instance_id, sha256)
    return download(found, chunks)
