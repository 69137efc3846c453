"""The dashboard's charts as the page draws them: titles and labels in the reader's language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from workflows.domain.dashboard import Chart

TITLES = {
    "open_by_unit": _l("在办案件（按承办科室）"), "open_by_stage": _l("在办案件所处环节"),
    "weekly": _l("每周登记与办结"), "overdue_tasks": _l("逾期任务（按科室与角色）"),
    "time_per_stage": _l("各环节平均办理时长（天）"), "reviews": _l("法制审核结果"),
    "disclosure": _l("事后公开及时性"), "penalties": _l("处罚种类与金额"),
}
SERIES = {
    "open": _l("在办"), "red": _l("红牌"), "yellow": _l("黄牌"), "filed": _l("登记"), "closed": _l("办结"),
    "mean_days": _l("平均天数"), "count": _l("件数"), "fine": _l("罚款（元）"), "confiscation": _l("没收（元）"),
}
VALUES = {
    "agree": _l("审核通过"), "agree_after_coordination": _l("协调后通过"), "rejected": _l("未通过"),
    "returned": _l("退回补正"), "on_time": _l("按时公开"), "late": _l("逾期公开"), "withheld": _l("依法不予公开"),
}
KINDS = {"weekly": "line", "time_per_stage": "bar-horizontal", "open_by_stage": "bar-horizontal",
         "reviews": "doughnut", "disclosure": "doughnut"}


def shown(chart: Chart, value_labels: dict[str, str]) -> dict:
    """A chart as JSON for the page's script and rows for its table view."""
    labels = [str(VALUES.get(label) or value_labels.get(label) or label) for label in chart.labels]
    series = [{"label": str(SERIES.get(s.label, s.label)), "values": s.values} for s in chart.series]
    return {"key": chart.key, "title": str(TITLES[chart.key]), "kind": KINDS.get(chart.key, "bar"),
            "labels": labels, "series": series,
            "rows": [(label, [s.values[i] for s in chart.series]) for i, label in enumerate(labels)]}
