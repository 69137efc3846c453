"""Administration: units and people, credentials, settings, the holiday calendar, the audit log."""
from flask import Blueprint

from ..access import require_sign_in

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_sign_in)

from . import views  # noqa: E402,F401 - registers the routes
