"""The designer's studio (流程设计): model files of the deployed set, drafts edited in the browser,
problems on the diagram, form previews, dry runs, deployments and the migration of running cases."""
from flask import Blueprint

from ..access import require_sign_in

bp = Blueprint("studio", __name__, url_prefix="/studio")
bp.before_request(require_sign_in)

from . import views  # noqa: E402,F401 - registers the routes
