"""Supervision (执法监督): the dashboard, every case at a glance, processes with where cases stand,
red and yellow cards, errored cases."""
from flask import Blueprint

from ..access import require_sign_in

bp = Blueprint("monitor", __name__, url_prefix="/monitor")
bp.before_request(require_sign_in)

from . import disclosures, report, views  # noqa: E402,F401 - registers the routes
