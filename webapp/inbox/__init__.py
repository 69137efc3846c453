"""The task inbox: the staff's home page."""
from flask import Blueprint

from ..access import require_sign_in

bp = Blueprint("inbox", __name__)
bp.before_request(require_sign_in)

from . import views  # noqa: E402,F401 - registers the routes
