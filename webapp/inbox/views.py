"""The inbox: my tasks, my roles' unclaimed tasks, and what I completed."""
from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from workflows.domain import cases, inbox, lookups

from .. import db
from ..access import staff
from . import bp
from .forms import FilterForm

TABS = {
    "mine": (_l("我的待办"), inbox.my_tasks),
    "pool": (_l("待认领"), inbox.pool_tasks),
    "done": (_l("我已办理"), inbox.completed_by),
}


@bp.get("/")
def index():
    user, session = staff(), db.session()
    tab = request.args.get("tab") if request.args.get("tab") in TABS else "mine"
    form = FilterForm(request.args)
    processes = inbox.processes(session)
    form.process_id.choices = [SelectChoice("", _l("全部流程")), *(SelectChoice(k, v) for k, v in processes.items())]
    page = TABS[tab][1](session, user, page=request.args.get("page", 1, type=int),
                        per_page=current_app.config["INBOX_PER_PAGE"], filters=form.filters())
    return render_template(
        "inbox/index.html", tab=tab, tabs=TABS, page=page, form=form,
        matters=lookups.matter_names(session, {t.instance.matter_code for t in page.items}),
        may_start=cases.may_start(session, user, current_app.config["CASE_PROCESS"]))
