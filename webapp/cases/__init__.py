"""Cases: start one, read its file, download its evidence."""
from flask import Blueprint

from ..access import require_sign_in

bp = Blueprint("cases", __name__, url_prefix="/cases")
bp.before_request(require_sign_in)

from . import views  # noqa: E402,F401 - registers the routes
