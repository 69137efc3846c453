"""Task pages: instructions, the diagram's form, evidence upload, claim and unclaim."""
from flask import Blueprint

from ..access import require_sign_in

bp = Blueprint("tasks", __name__, url_prefix="/tasks")
bp.before_request(require_sign_in)

from . import views  # noqa: E402,F401 - registers the routes
