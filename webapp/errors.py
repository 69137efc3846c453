"""Error pages: every failure a person can meet gets a plain page (or JSON for the uploader)."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from workflows.core.errors import Conflict, CredentialRequired, EngineError, InstanceNotActive, NotAllowed, NotFound

from . import db
from .access import no_credential_message
from .i18n import localize

log = logging.getLogger(__name__)

PAGES = {
    400: (_l("请求无效"), _l("页面提交的内容不完整或已过期。请返回上一页，刷新后重试。")),
    403: (_l("无权访问"), _l("您的角色不能查看或办理这项内容。如需办理，请联系承办机构负责人。")),
    404: (_l("页面不存在"), _l("您要找的页面、案件或任务不存在，可能链接有误。")),
    405: (_l("请求无效"), _l("页面提交的内容不完整或已过期。请返回上一页，刷新后重试。")),
    409: (_l("案件已有变化"), _l("您提交之前，案件已被他人处理。请打开案件页查看最新情况。")),
    413: (_l("文件过大"), _l("上传的文件超过了系统允许的大小。请压缩或分批上传。")),
    422: (_l("无法办理"), _l("提交的内容未通过检查。")),
    500: (_l("系统出错"), _l("系统处理您的请求时出错，您的操作没有保存。请稍后重试；如果问题持续，请联系系统管理员。")),
}
CSRF_MESSAGE = _l("页面已过期或缺少安全校验信息，操作没有执行。请刷新页面后重试。")


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, lambda exc: error_page(400, str(CSRF_MESSAGE)))
    app.register_error_handler(HTTPException, lambda exc: error_page(exc.code or 500))
    app.register_error_handler(InternalServerError, _server_error)
    app.register_error_handler(EngineError, _engine_error)


def error_page(code: int, detail: str | None = None):
    """Render the page for ``code`` (JSON for requests that asked for it); the work is discarded."""
    db.discard()
    title, message = PAGES.get(code, PAGES[500 if code >= 500 else 400])
    if request.accept_mimetypes.best == "application/json":
        return jsonify(error=str(title), message=detail or str(message)), code
    return render_template("errors/error.html", code=code, title=title, message=message, detail=detail,
                           bare=code >= 500), code


def _server_error(exc: InternalServerError):
    log.error("unhandled error on %s %s", request.method, request.path,
              exc_info=exc.original_exception or exc)
    return error_page(500)


def _engine_error(exc: EngineError):
    """An engine refusal that no view turned into a page of its own."""
    if isinstance(exc, CredentialRequired):
        return error_page(403, no_credential_message())
    if isinstance(exc, NotAllowed):
        return error_page(403)
    if isinstance(exc, NotFound):
        return error_page(404)
    if isinstance(exc, (Conflict, InstanceNotActive)):
        return error_page(409, localize(exc.args[0]))
    return error_page(422, localize(exc.args[0]))
