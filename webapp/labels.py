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
    "task.returned": _l("退回或返回本环节"),
    "timer.fire": _l("期限到达"),
    "disclosure.write": _l("生成公示记录"),
    "annual_report.publish": _l("发布年度统计报告"),
    "disclosure.withdraw": _l("撤回公开信息"),
    "disclosure.correct": _l("更正公开信息"),
    "disclosure.remove": _l("信用修复提前停止公示"),
    "disclosure.change_skipped": _l("公开信息未变更（已不在公示）"),
    "catalogue.publish": _l("更新执法事项目录"),
    "case.supervise": _l("发出督办通知"),
    "case.supervise_ack": _l("确认督办通知"),
    "auth.login": _l("登录"),
    "auth.logout": _l("退出登录"),
    "auth.fail": _l("登录失败"),
    "auth.locked": _l("账户锁定中登录"),
    "user.add": _l("添加人员"),
    "user.update": _l("修改人员信息"),
    "user.roles": _l("调整角色"),
    "user.deactivate": _l("停用账户"),
    "user.reactivate": _l("恢复账户"),
    "user.reset_password": _l("重置密码"),
    "user.unlock": _l("解除锁定"),
    "user.change_password": _l("修改本人密码"),
    "unit.add": _l("新设科室"),
    "unit.rename": _l("科室更名"),
    "unit.deactivate": _l("撤销科室"),
    "credential.add": _l("发放执法证"),
    "credential.renew": _l("换发执法证"),
    "credential.suspend": _l("暂扣执法证"),
    "credential.revoke": _l("吊销执法证"),
    "credential.reinstate": _l("恢复执法证"),
    "qualification.add": _l("登记法律职业资格"),
    "setting.change": _l("修改设置"),
    "holidays.import": _l("导入节假日安排"),
    "holidays.set": _l("设置节假日"),
    "holidays.remove": _l("删除节假日设置"),
    "model.deploy": _l("部署流程模型"),
}


CREDENTIAL_STATES = {
    "valid": _l("有效"), "suspended": _l("暂扣"), "revoked": _l("已吊销"), "expired": _l("已过期"),
    "not_yet": _l("尚未生效"),
}


def credential_state(code: str) -> str:
    return str(CREDENTIAL_STATES.get(code, code))


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
    app.jinja_env.filters.update(status_label=status, action_label=action, role_label=role,
                                 credential_state=credential_state)
