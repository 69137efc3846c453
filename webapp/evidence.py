"""Evidence files on the web: the store, readable refusals, and streamed downloads."""
from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

from flask import Response, current_app
from flask_babel import format_decimal, gettext as _

from workflows.domain import records
from workflows.domain.evidence_store import (
    AV_TYPES, EvidenceError, EvidenceStore, EvidenceTooLarge, EvidenceTypeNotAllowed,
)
from workflows.core.models import Evidence

from .db import settings

UPLOAD_MARGIN = 1024 * 1024  # room for the other form fields next to a file of the largest size


def store() -> EvidenceStore:
    """The app's evidence store, built once."""
    if "sanxiang_store" not in current_app.extensions:
        current_app.extensions["sanxiang_store"] = records.evidence_store(settings())
    return current_app.extensions["sanxiang_store"]


def size_text(size: int) -> str:
    for unit, scale in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if size >= scale:
            return f"{format_decimal(size / scale, '#,##0.#')} {unit}"
    return f"{size} B"


def refusal_message(exc: EvidenceError) -> str:
    if isinstance(exc, EvidenceTooLarge):
        return _("文件过大：每个文件不能超过 %(size)s。", size=size_text(exc.limit))
    if isinstance(exc, EvidenceTypeNotAllowed) and exc.allowed == AV_TYPES:
        return _("音像记录只能是音频或视频文件（识别为 %(mime)s）：MP4、MOV、AVI、MP3、WAV、M4A、AAC 或 Ogg。",
                 mime=exc.mime)
    if isinstance(exc, EvidenceTypeNotAllowed):
        return _("不接受这种文件（识别为 %(mime)s）。可以上传照片（JPEG、PNG、GIF、WebP）、PDF、"
                 "音频、视频或纯文本文件。", mime=exc.mime)
    return _("证据文件无法读取，可能已被改动或丢失。请联系系统管理员。")


def download(evidence: Evidence, chunks: Iterator[bytes]) -> Response:
    """Stream a stored file as an attachment; it is never read whole into memory."""
    name = quote(evidence.filename, safe="")
    response = Response(chunks, mimetype=evidence.mime, direct_passthrough=True)
    response.headers["Content-Length"] = str(evidence.size)
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    response.headers["Cache-Control"] = "private, no-store"
    return response
