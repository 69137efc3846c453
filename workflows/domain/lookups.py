"""Names and pickers: who may be chosen for a role, which matters may be filed, what an id is called."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core.messages import Message
from workflows.core.models import Evidence, EvidenceLink, Matter, User, UserRole
from workflows.core.roles import role_def
from workflows.domain import catalogue
from workflows.domain import duties
from workflows.domain.evidence_store import AV_TYPES
from workflows.domain.forms import fields_of
from workflows.engine import specs
from workflows.engine.runtime import today


def eligible_users(session: Session, role_id: str) -> list[User]:
    """Active users holding ``role_id`` today (and a credential valid today when the role needs one)."""
    users = session.scalars(select(User).where(User.grants.any(UserRole.role_id == role_id), User.active.is_(True))
                            .order_by(User.unit_id, User.username)).unique()
    day, needs_credential = today(), role_def(role_id).needs_credential
    return [u for u in users if role_id in u.role_ids and (not needs_credential or u.valid_credential(day))]


def active_matters(session: Session) -> list[Matter]:
    """The matters a case may be filed against: the catalogue's entries in force."""
    return catalogue.in_force(session)


def matter_names(session: Session, codes: set[str | None]) -> dict[str, str]:
    codes = {c for c in codes if c}
    if not codes:
        return {}
    return dict(session.execute(select(Matter.code, Matter.name).where(Matter.code.in_(codes))).all())


def full_names(session: Session, usernames: set[str | None]) -> dict[str, str]:
    usernames = {u for u in usernames if u}
    if not usernames:
        return {}
    return dict(session.execute(select(User.username, User.full_name).where(User.username.in_(usernames))).all())


def evidence_by_hash(session: Session, hashes: set[str]) -> dict[str, Evidence]:
    hashes = {h for h in hashes if isinstance(h, str) and h}
    if not hashes:
        return {}
    return {e.sha256: e for e in session.scalars(select(Evidence).where(Evidence.sha256.in_(hashes)))}


class FormLookups:
    """Form validation's view of the world, as of today, for case ``instance_id`` of ``unit_id``."""

    def __init__(self, session: Session, unit_id: int, instance_id: int | None = None):
        self.session = session
        self.unit_id = unit_id
        self.instance_id = instance_id

    def user_problem(self, username: str, role: str) -> str | None:
        user = self.session.scalars(select(User).where(User.username == username, User.active.is_(True))).unique().first()
        if user is None:
            return Message("没有这个用户")
        if role not in user.role_ids:
            return Message("%(user)s不具有%(role)s角色", user=user.full_name, role=role_def(role).label_zh)
        if role_def(role).unit_scoped and user.unit_id != self.unit_id:
            return Message("%(user)s不属于本案承办科室", user=user.full_name)
        if role_def(role).needs_credential and user.valid_credential(today()) is None:
            return Message("%(user)s没有当日有效的行政执法证件", user=user.full_name)
        return None

    def matter_exists(self, code: str) -> bool:
        """Whether ``code`` is in force in the catalogue (an abolished matter takes no new filings)."""
        return catalogue.is_in_force(self.session, code)

    def duty_conflict(self, username: str, not_by: str) -> str | None:
        """Why ``username`` may not be chosen: a task of this case they did that ``not_by`` names."""
        done = duties.conflict(self.session, self.instance_id, username, not_by)
        return Message("按照职责分离，已办理本案“%(task)s”的人员不能担任", task=done.name) if done else None

    def evidence_exists(self, sha256: str) -> bool:
        """Only a file uploaded to this case: another case's evidence is not this case's to cite."""
        return self.session.scalars(select(EvidenceLink.id).where(
            EvidenceLink.sha256 == sha256, EvidenceLink.instance_id == self.instance_id)).first() is not None

    def evidence_is_av(self, sha256: str) -> bool:
        """Sound or video, as the stored file's bytes were judged at upload."""
        return self.session.scalar(select(Evidence.mime).where(Evidence.sha256 == sha256)) in AV_TYPES


def enum_labels(session: Session, field_id: str) -> dict[str, str]:
    """Value to label of a choice field of the current model set (e.g. ``penalty_type``), for lists and
    counts that show stored values; a value no form offers shows as itself."""
    version = specs.current_version(session)
    if version is None:
        return {}
    labels: dict[str, str] = {}
    for process_id in specs.process_names(session, version):
        for task_spec in specs.get(session, version, process_id).spec.task_specs.values():
            for f in fields_of(task_spec):
                if f.id == field_id:
                    labels.update({value: label for value, label in f.options if value not in labels})
    return labels
