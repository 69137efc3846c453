"""A case's diagram as the page's script draws it (see ``static/js/diagram.js``)."""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from workflows.domain.casediagram import CaseDiagram

from ..i18n import show_datetime


def diagram_json(shown: CaseDiagram, names: dict[str, str]) -> dict:
    case = shown.instance
    tips = {}
    for element, steps in shown.steps.items():
        lines = []
        for step in steps:
            who = names.get(step.who, step.who) if step.who else _("待认领")
            if step.done:
                lines.append(_("%(who)s 于 %(when)s 办理", who=who, when=show_datetime(step.at)))
            else:
                due = _("，期限 %(due)s", due=show_datetime(step.due_at)) if step.due_at else ""
                lines.append(_("%(who)s 办理中%(due)s", who=who, due=due))
        tips[element] = "\n".join(lines)
    return {
        "completed": shown.completed, "current": shown.current, "overdue": shown.overdue, "error": shown.error,
        "flows": shown.flows, "tips": tips,
        "links": {element: url_for("cases.show", instance_id=case.id, process=called) + "#diagram"
                  for element, called in shown.calls.items()},
    }
