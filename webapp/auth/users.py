"""Flask-Login over the domain users.

The session remembers the user's id with their session generation and a fragment of the password
hash: signing out, a password change or reset, deactivation and a suspended or revoked credential
bump the generation (or change the hash), which ends every session and "remember me" cookie made
before, wherever it was copied to.
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
        return f"{self.user.id}:{self.user.session_generation}:{self.user.password_hash[-12:]}"

    @property
    def is_active(self) -> bool:
        return self.user.active

    @property
    def language(self) -> str | None:
        return self.user.language


@login_manager.user_loader
def load_staff(session_id: str) -> Staff | None:
    user_id, generation, fingerprint = (session_id.split(":") + ["", ""])[:3]
    if not user_id.isdigit() or len(user_id) > 12:
        return None
    user = db.session().get(User, int(user_id))
    if user is None or not user.active or str(user.session_generation) != generation \
            or user.password_hash[-12:] != fingerprint:
        return None
    return Staff(user)
