"""Start a case, read a case file, download a piece of evidence."""
from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for

from workflows import records, webqueries
from workflows.cases import may_act

from .. import db
from ..access import may_start_cases, may_view_case, require, start_refusal, staff
from ..evidence import download, store
from ..labels import READ_ACTIONS
from . import bp
from .forms import StartCaseForm


@bp.route("/new", methods=["GET", "POST"])
def start():
    user, session = staff(), db.session()
    require(may_start_cases(user))
    process_id = current_app.config["CASE_PROCESS"]
    refused, deployed = start_refusal(user), webqueries.is_startable(session, process_id)
    form = StartCaseForm()
    form.offer(webqueries.active_matters(session))
    if refused or not deployed or not form.validate_on_submit():
        status = 403 if refused else 503 if not deployed else 422 if form.is_submitted() else 200
        return render_template("cases/start.html", form=form, refusal=refused, deployed=deployed,
                               process_id=process_id), status
    started = webqueries.start_case(session, db.settings(), user, process_id, form.matter_code.data,
                                    form.party_name.data.strip())
    if started.first_task is not None:
        return redirect(url_for("tasks.show", task_id=started.first_task.task_id))
    return redirect(url_for(".show", instance_id=started.instance.id))


@bp.get("/<int:instance_id>")
@db.writes
def show(instance_id: int):
    user, session = staff(), db.session()
    instance = webqueries.case(session, instance_id)
    require(may_view_case(session, user, instance))
    file = webqueries.case_file(session, user, instance)
    all_events = request.args.get("events") == "all"
    return render_template(
        "cases/case.html", file=file, all_events=all_events,
        events=[e for e in file.events if all_events or e.action not in READ_ACTIONS],
        read_events=sum(e.action in READ_ACTIONS for e in file.events),
        may_act={t.task_id for t in file.tasks if may_act(user, t)},
    )


@bp.get("/<int:instance_id>/evidence/<sha256>")
@db.writes
def evidence(instance_id: int, sha256: str):
    user, session = staff(), db.session()
    instance = webqueries.case(session, instance_id)
    require(may_view_case(session, user, instance))
    found, chunks = records.read_evidence(session, store(), user.username, instance, sha256)
    return download(found, chunks)
