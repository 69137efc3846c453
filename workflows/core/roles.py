"""The roles of DOMAIN.md. BPMN lanes (and user fields' ``role`` property) name them by id or
Chinese label; the rules of what each role may do live in :mod:`workflows.domain.access`."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoleDef:
    id: str
    label_zh: str
    label_en: str
    needs_credential: bool = False  # acting in this role needs an enforcement credential valid that day
    unit_scoped: bool = False  # tasks of this role go to users of the case's unit only


ROLES: tuple[RoleDef, ...] = (
    RoleDef("officer", "执法人员", "Enforcement officer", needs_credential=True, unit_scoped=True),
    RoleDef("unit_head", "承办机构负责人", "Head of handling unit", unit_scoped=True),
    RoleDef("legal_reviewer", "法制审核人员", "Legal reviewer"),
    RoleDef("agency_head", "机关负责人", "Agency head"),
    RoleDef("office", "办公室", "Government office"),
    RoleDef("designer", "流程设计人员", "Process designer"),
    RoleDef("manager", "管理/监督人员", "Manager / supervisor"),
    RoleDef("admin", "系统管理员", "Administrator"),
)
ROLE_BY_LANE: dict[str, RoleDef] = {r.id: r for r in ROLES} | {r.label_zh: r for r in ROLES}


def role_def(role_id: str) -> RoleDef:
    return ROLE_BY_LANE[role_id]


def lane_role(lane: str | None) -> RoleDef | None:
    """The role a lane is named after, or None."""
    return ROLE_BY_LANE.get(lane or "")
