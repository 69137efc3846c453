"""Where to go after a form: only ever a path on this site (no open redirects)."""
from __future__ import annotations

from flask import redirect, request, url_for
from werkzeug.wrappers import Response


def local_path(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 32 for c in target):
        return None
    return target


def back(fallback_endpoint: str = "inbox.index", **values) -> Response:
    """Redirect to the form's ``next`` path, else to ``fallback_endpoint``."""
    return redirect(local_path(request.form.get("next")) or url_for(fallback_endpoint, **values))
