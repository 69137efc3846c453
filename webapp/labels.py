"""Display names of the engine's codes (case status, audit actions, roles) in the UI language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from workflows.core.roles import ROLE_BY_LANE

from .i18n import language

STATUS = {
    "running": _l("办理中"),
    "suspended": _l("已中止"),
    "completed": _l("已办结"),
    "terminated": _l("已终止"),
    "error": _l("流程出错"),
}

ACTIONS = {
    "case.create": _l("创建案件"),
    "case.start": _l("立案启动"),
    "case.view": _l("查看案卷"),
    "case.suspend": _l("中止案件"),
    "case.resume": _l("恢复案件"),
    "case.terminate": _l("终止案件"),
    "case.retry": _l("重试出错步骤"),
    "task.complete": _l("办理完成"),
    "task.claim": _l("认领任务"),
    "task.unclaim": _l("放回待认领"),
    "task.reassign": _l("改派任务"),
    "evidence.store": _l("上传证据"),
    "evidence.read": _l("调阅证据"),
    "engine.error": _l("流程出错"),
    "timer.fire": _l("期限到达"),
    "disclosure.write": _l("生成公示记录"),
    "case.supervise": _l("发出督办通知"),
    "case.supervise_ack": _l("确认督办通知"),
}


def status(code: str) -> str:
    return str(STATUS.get(code, code))


def action(code: str) -> str:
    return str(ACTIONS.get(code, code))


def role(role_id: str) -> str:
    found = ROLE_BY_LANE.get(role_id)
    if found is None:
        return role_id
    return found.label_en if language() == "en" else found.label_zh


def register(app) -> None:
    app.jinja_env.filters.update(status_label=status, action_label=action, role_label=role)
