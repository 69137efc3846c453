"""Units, users and their roles: created, changed and deactivated (never deleted: history names
them), every change in the system audit chain.

An ``actor`` is the administrator doing it, or the name of an operator at the server's command
line (a ``str``, as `sanxiang users …` and the demo data pass): see :func:`access.check_administer`.
Credentials are in :mod:`workflows.domain.credentials`.
"""
from __future__ import annotations

import functools
import re
from datetime import date

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.core.errors import FormInvalid, NotFound
from workflows.core.messages import Message
from workflows.core.models import HumanTask, Instance, Qualification, Role, Unit, User, UserRole, local_today
from workflows.core.roles import ROLES, role_def
from workflows.domain import access, audit, steps


_hasher = PasswordHasher()
USERNAME = re.compile(r"[A-Za-z0-9_.-]{2,60}")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    """Whether ``password`` is the user's. For no user the same work is done against a dummy hash,
    so the time taken does not tell whether a username exists."""
    try:
        return _hasher.verify(user.password_hash if user is not None else _dummy_hash(), password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("not a password anyone has")


def ensure_roles(session: Session) -> None:
    """Create or update the role table from :data:`ROLES` (idempotent)."""
    existing = {r.id: r for r in session.scalars(select(Role))}
    for d in ROLES:
        row = existing.get(d.id) or Role(id=d.id)
        row.label_zh, row.label_en = d.label_zh, d.label_en
        row.needs_credential, row.unit_scoped = d.needs_credential, d.unit_scoped
        session.add(row)
    session.flush()


def get_unit(session: Session, code: str) -> Unit:
    unit = session.scalars(select(Unit).where(Unit.code == code)).one_or_none()
    if unit is None:
        raise NotFound(f"unit {code!r} does not exist")
    return unit


def ensure_unit(session: Session, code: str, name: str) -> Unit:
    unit = session.scalars(select(Unit).where(Unit.code == code)).one_or_none()
    if unit is None:
        unit = Unit(code=code, name=name)
        session.add(unit)
        session.flush()
    return unit


def get_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username)).unique().one_or_none()
    if user is None or not user.active:
        raise NotFound(f"user {username!r} does not exist")
    return user


MIN_PASSWORD = 8


def actor_name(actor: User | str) -> str:
    return actor if isinstance(actor, str) else actor.username


def _problem(field: str, message: Message) -> FormInvalid:
    return FormInvalid({field: [message]})


def add_user(session: Session, actor: User | str, username: str, full_name: str, unit_code: str,
             password: str, roles: list[str], contact: str = "", must_change_password: bool = False,
             qualification: tuple[str, date] | None = None) -> User:
    """A new user of a unit with roles (open-ended); a legal reviewer with the number and date of
    their legal professional qualification."""
    access.check_administer(actor)
    username, full_name = (username or "").strip(), (full_name or "").strip()
    errors: dict[str, list[Message]] = {}
    unknown = set(roles) - {r.id for r in ROLES}
    if unknown:
        errors["roles"] = [Message("没有这些角色：%(roles)s", roles="、".join(sorted(unknown)))]
    elif "legal_reviewer" in roles and qualification is None:
        errors["roles"] = [Message("授予法制审核人员角色前，请先登记其法律职业资格证书")]
    if not USERNAME.fullmatch(username):
        errors["username"] = [Message("登录名须为2至60个字母、数字或 . _ -")]
    elif session.scalar(select(User.id).where(User.username == username)) is not None:
        errors["username"] = [Message("登录名%(username)s已被使用", username=username)]
    if not full_name:
        errors["full_name"] = [Message("请填写姓名")]
    if len(password or "") < MIN_PASSWORD:
        errors["password"] = [Message("密码至少需要%(n)s个字符", n=MIN_PASSWORD)]
    unit = get_unit(session, unit_code)
    if not unit.active:
        errors["unit"] = [Message("科室%(unit)s已撤销，不能再添加人员", unit=unit.name)]
    if errors:
        raise FormInvalid(errors)
    user = User(username=username, full_name=full_name, unit=unit, password_hash=hash_password(password),
                contact=(contact or "").strip(), must_change_password=must_change_password)
    user.grants = [UserRole(role_id=role) for role in sorted(set(roles))]
    session.add(user)
    session.flush()
    audit.record(session, actor_name(actor), "user.add", username=username, unit=unit_code, roles=sorted(roles))
    if qualification is not None:
        record_qualification(session, actor, username, *qualification)
    return user


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise _problem("password", Message("密码至少需要%(n)s个字符", n=MIN_PASSWORD))


def _check_qualified(session: Session, user: User, roles) -> None:
    """A legal reviewer holds a recorded legal professional qualification (法律职业资格)."""
    if "legal_reviewer" in roles and (user.id is None or session.scalar(
            select(Qualification.id).where(Qualification.user_id == user.id)) is None):
        raise _problem("roles", Message("授予法制审核人员角色前，请先登记其法律职业资格证书"))


def update_user(session: Session, actor: User | str, username: str, full_name: str, unit_code: str,
                contact: str) -> User:
    access.check_administer(actor)
    user = find_user(session, username)
    if not (full_name or "").strip():
        raise _problem("full_name", Message("请填写姓名"))
    unit = get_unit(session, unit_code)
    moved = unit.id != user.unit_id
    if moved and not unit.active:
        raise _problem("unit", Message("科室%(unit)s已撤销，不能调入人员", unit=unit.name))
    user.full_name, user.unit, user.contact = full_name.strip(), unit, (contact or "").strip()
    released = _release_claims(session, actor, user, Message("调离原科室")) if moved else 0
    session.flush()
    audit.record(session, actor_name(actor), "user.update", username=username, unit=unit_code, released=released)
    return user


def set_roles(session: Session, actor: User | str, username: str, grants: dict[str, tuple[date | None, date | None]]) -> User:
    """Replace the user's roles: ``{role: (valid_from, valid_to)}`` (None: open)."""
    access.check_administer(actor)
    user = find_user(session, username)
    unknown = set(grants) - {r.id for r in ROLES}
    if unknown:
        raise _problem("roles", Message("没有这些角色：%(roles)s", roles="、".join(sorted(unknown))))
    for role, (start, end) in grants.items():
        if start and end and end < start:
            raise _problem("roles", Message("%(role)s的有效期结束早于开始", role=role_def(role).label_zh))
    if not isinstance(actor, str) and actor.id == user.id and "admin" not in grants:
        raise _problem("roles", Message("不能取消自己的系统管理员角色"))
    if "admin" not in grants:
        _keep_an_admin(session, user)
    _check_qualified(session, user, grants)
    user.grants = [UserRole(role_id=role, valid_from=start, valid_to=end) for role, (start, end) in sorted(grants.items())]
    session.flush()
    audit.record(session, actor_name(actor), "user.roles", username=username,
                 roles={role: [str(start or ""), str(end or "")] for role, (start, end) in sorted(grants.items())})
    return user


def deactivate_user(session: Session, actor: User | str, username: str, reason: str) -> int:
    """Deactivate a user (history keeps naming them); their claimed tasks go back to the pools.
    Returns how many tasks were released."""
    access.check_administer(actor)
    user = find_user(session, username)
    if not (reason or "").strip():
        raise _problem("reason", Message("请填写理由"))
    if not isinstance(actor, str) and actor.id == user.id:
        raise _problem("username", Message("不能停用自己的账户"))
    if "admin" in user.role_ids:
        _keep_an_admin(session, user)
    user.active = False
    user.session_generation += 1
    released = _release_claims(session, actor, user, Message("账户停用"))
    session.flush()
    audit.record(session, actor_name(actor), "user.deactivate", username=username, reason=reason.strip(),
                 released=released)
    return released


def reactivate_user(session: Session, actor: User | str, username: str) -> User:
    access.check_administer(actor)
    user = find_user(session, username)
    user.active = True
    session.flush()
    audit.record(session, actor_name(actor), "user.reactivate", username=username)
    return user


def reset_password(session: Session, actor: User | str, username: str, password: str) -> User:
    """A new password the user must change at the next sign-in; every session of theirs ends."""
    access.check_administer(actor)
    user = find_user(session, username)
    _check_password(password)
    user.password_hash, user.must_change_password = hash_password(password), True
    user.session_generation += 1
    user.failed_logins, user.locked_until = 0, None
    session.flush()
    audit.record(session, actor_name(actor), "user.reset_password", username=username)
    return user


def unlock(session: Session, actor: User | str, username: str) -> User:
    access.check_administer(actor)
    user = find_user(session, username)
    user.failed_logins, user.locked_until = 0, None
    session.flush()
    audit.record(session, actor_name(actor), "user.unlock", username=username)
    return user


def change_own_password(session: Session, user: User, current: str, new: str) -> User:
    """The user's own change: the current password is checked, the others sessions end."""
    if not check_password(user, current or ""):
        raise _problem("current", Message("当前密码不正确"))
    _check_password(new)
    if check_password(user, new):
        raise _problem("password", Message("新密码不能与当前密码相同"))
    user.password_hash, user.must_change_password = hash_password(new), False
    user.session_generation += 1
    session.flush()
    audit.record(session, user.username, "user.change_password", username=user.username)
    return user


def find_user(session: Session, username: str) -> User:
    """A user, active or not (administration also reaches the deactivated)."""
    user = session.scalars(select(User).where(User.username == (username or "").strip())).unique().one_or_none()
    if user is None:
        raise NotFound(f"user {username!r} does not exist")
    return user


def _keep_an_admin(session: Session, leaving: User) -> None:
    admins = [u for u in session.scalars(select(User).where(User.active.is_(True))).unique()
              if "admin" in u.role_ids and u.id != leaving.id]
    if not admins:
        raise _problem("roles", Message("系统至少需要一名在职的系统管理员"))


def _release_claims(session: Session, actor: User | str, user: User, why: Message) -> int:
    """Put the user's claimed tasks back in their pools, each release audited on its case."""
    rows = list(session.scalars(select(HumanTask).where(HumanTask.assignee == user.username,
                                                        HumanTask.state == "ready")))
    for row in rows:
        row.assignee = None
        session.flush()
        steps.record(session, row.instance, actor_name(actor), "task.unclaim", task_id=row.task_id, name=row.name,
                     reason=str(why))
    return len(rows)


# --- units -------------------------------------------------------------------------------------

def create_unit(session: Session, actor: User | str, code: str, name: str) -> Unit:
    access.check_administer(actor)
    code, name = (code or "").strip(), (name or "").strip()
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,39}", code):
        raise _problem("code", Message("科室代码须为2至40个小写字母、数字或下划线，以字母开头"))
    if not name:
        raise _problem("name", Message("请填写科室名称"))
    if session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        raise _problem("code", Message("科室代码%(code)s已被使用", code=code))
    unit = Unit(code=code, name=name, active=True)
    session.add(unit)
    session.flush()
    audit.record(session, actor_name(actor), "unit.add", code=code, name=name)
    return unit


def rename_unit(session: Session, actor: User | str, code: str, name: str) -> Unit:
    access.check_administer(actor)
    unit = get_unit(session, code)
    if not (name or "").strip():
        raise _problem("name", Message("请填写科室名称"))
    old, unit.name = unit.name, name.strip()
    session.flush()
    audit.record(session, actor_name(actor), "unit.rename", code=code, old=old, name=unit.name)
    return unit


def deactivate_unit(session: Session, actor: User | str, code: str) -> Unit:
    """Close a unit that has no active staff and no open cases left."""
    access.check_administer(actor)
    unit = get_unit(session, code)
    staff = session.scalar(select(func.count()).select_from(User).where(User.unit_id == unit.id, User.active.is_(True)))
    open_cases = session.scalar(select(func.count()).select_from(Instance).where(
        Instance.unit_id == unit.id, Instance.status.in_(("running", "suspended", "error"))))
    if staff or open_cases:
        raise _problem("code", Message("科室仍有%(staff)s名在职人员、%(cases)s件未办结案件，请先调离人员、办结案件",
                                       staff=staff, cases=open_cases))
    unit.active = False
    session.flush()
    audit.record(session, actor_name(actor), "unit.deactivate", code=code)
    return unit


def units(session: Session) -> list[Unit]:
    return list(session.scalars(select(Unit).order_by(Unit.active.desc(), Unit.id)))


def users(session: Session, actor: User | str, *, unit_id: int | None = None, text: str | None = None,
          active: bool | None = None) -> list[User]:
    access.check_administer(actor)
    query = select(User).order_by(User.unit_id, User.username)
    if unit_id is not None:
        query = query.where(User.unit_id == unit_id)
    if text:
        query = query.where(User.username.contains(text.strip()) | User.full_name.contains(text.strip()))
    if active is not None:
        query = query.where(User.active.is_(active))
    return list(session.scalars(query).unique())


# --- legal reviewers' qualifications -----------------------------------------------------------

def record_qualification(session: Session, actor: User | str, username: str, number: str, issued_on: date) -> Qualification:
    """A legal professional qualification certificate (法律职业资格), for the legal reviewer role."""
    access.check_administer(actor)
    user = find_user(session, username)
    number = (number or "").strip()
    if not number:
        raise _problem("number", Message("请填写证书编号"))
    if session.scalar(select(Qualification.id).where(Qualification.number == number)) is not None:
        raise _problem("number", Message("证书编号%(number)s已存在", number=number))
    if issued_on is None or issued_on > local_today():
        raise _problem("issued_on", Message("请填写不晚于今天的授予日期"))
    qualification = Qualification(user_id=user.id, number=number, issued_on=issued_on)
    session.add(qualification)
    session.flush()
    audit.record(session, actor_name(actor), "qualification.add", username=username, number=number)
    return qualification


def qualifications(session: Session, username: str) -> list[Qualification]:
    user = find_user(session, username)
    return list(session.scalars(select(Qualification).where(Qualification.user_id == user.id)))
