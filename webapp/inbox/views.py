"""The inbox: my tasks, my roles' unclaimed tasks, and what I completed."""
from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from workflows.domain import inbox

from .. import db
from ..access import staff
from ..params import bounded_int
from . import bp
from .forms import FilterForm

TABS = {"mine": _l("我的待办"), "pool": _l("待认领"), "done": _l("我已办理")}


@bp.get("/")
def index():
    form = FilterForm(request.args)
    view = inbox.inbox_of(db.session(), staff(), request.args.get("tab", ""),
                          request.args.get("page", 1, type=bounded_int), current_app.config["INBOX_PER_PAGE"], form.filters())
    form.process_id.choices = [SelectChoice("", _l("全部流程")),
                               *(SelectChoice(k, v) for k, v in view.processes.items())]
    return render_template("inbox/index.html", tab=view.tab, tabs=TABS, page=view.page, form=form,
                           matters=view.matters, notices=view.notices)
