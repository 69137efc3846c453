"""Flask-Login over the domain users.

The session remembers the user's id together with a fragment of the password hash, so changing a
password ends every session and "remember me" cookie made with the old one.
"""
from __future__ import annotations

from flask_login import UserMixin

from workflows.core.models import User

from .. import db
from ..extensions import login_manager


class Staff(UserMixin):
    """A signed-in member of staff; ``user`` is the domain user of this request's session."""

    def __init__(self, user: User):
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.password_hash[-12:]}"

    @property
    def is_active(self) -> bool:
        return self.user.active

    @property
    def language(self) -> str | None:
        return self.user.language


@login_manager.user_loader
def load_staff(session_id: str) -> Staff | None:
    user_id, _, fingerprint = session_id.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session().get(User, int(user_id))
    if user is None or not user.active or user.password_hash[-12:] != fingerprint:
        return None
    return Staff(user)
