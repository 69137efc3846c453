"""The public disclosure portal (行政执法公示, ``/gongshi``): no sign-in. What is published before
enforcement (the body, personnel, matters, procedure, remedies), the public check of a credential,
decisions after enforcement with their withdrawals and corrections, feeds, and the annual report."""
from flask import Blueprint

bp = Blueprint("portal", __name__, url_prefix="/gongshi")

from . import before, decisions, feeds, report  # noqa: E402,F401 - registers the routes
