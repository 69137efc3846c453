"""What the disclosure portal publishes before enforcement (事前公开) and the public credential check.

Read models only, and only what the law makes public: the enforcing body (settings), the
enforcement personnel with a credential valid today (name, unit, credential number, area,
validity: nothing else about them), the remedies (settings), the procedure (the deployed case
model, as a diagram and as a text outline), and the state of one credential. Each part says when
it was last approved or changed and in which role (:class:`Provenance`), never by whom by name.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import date, datetime
from threading import Lock

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core.errors import NotFound
from workflows.core.models import AuditEvent, Credential, ModelSet, PolicySetting, SettingChange, User
from workflows.domain import audit
from workflows.domain.process_stats import file_of
from workflows.engine import specs, xmlsafe
from workflows.engine.parsing import BPMN, CAMUNDA
from workflows.engine.runtime import today

SYSTEM_ACTORS = frozenset({"system", ""})


@dataclass(frozen=True)
class Provenance:
    """When a published part was last approved or changed, and the role that did it (None: set up
    with the system, or the actor holds no role any more)."""
    at: datetime | None
    role: str | None


def _role_of(session: Session, username: str | None, prefer: tuple[str, ...] = ()) -> str | None:
    if not username or username in SYSTEM_ACTORS:
        return None
    user = session.scalars(select(User).where(User.username == username)).unique().first()
    if user is None:
        return None
    roles = user.role_ids
    return next((r for r in prefer if r in roles), next(iter(sorted(roles)), None))


def _settings_provenance(session: Session, names: tuple[str, ...]) -> Provenance:
    keys = [f"policy:{n}" for n in names]
    row = session.execute(select(SettingChange.changed_at, SettingChange.changed_by)
                          .where(SettingChange.name.in_(keys))
                          .order_by(SettingChange.changed_at.desc(), SettingChange.id.desc()).limit(1)).first()
    return Provenance(row[0], _role_of(session, row[1], ("admin",))) if row else Provenance(None, None)


def _values(session: Session, names: tuple[str, ...]) -> dict[str, str]:
    found = dict(session.execute(select(PolicySetting.name, PolicySetting.value)
                                 .where(PolicySetting.name.in_(names))).all())
    return {name: found.get(name, "") for name in names}


# --- the enforcing body and the remedies ---------------------------------------------------------

BODY_SETTINGS = ("agency_name", "agency_address", "agency_phone", "agency_office_hours", "agency_duties")
REMEDY_SETTINGS = ("reconsideration_body", "reconsideration_address", "reconsideration_days",
                   "litigation_court", "litigation_address", "litigation_months")


@dataclass(frozen=True)
class Body:
    name: str
    address: str
    phone: str
    office_hours: str
    duties: str
    provenance: Provenance


def body(session: Session) -> Body:
    v = _values(session, BODY_SETTINGS)
    return Body(v["agency_name"], v["agency_address"], v["agency_phone"], v["agency_office_hours"],
                v["agency_duties"], _settings_provenance(session, BODY_SETTINGS))


@dataclass(frozen=True)
class Remedies:
    reconsideration_body: str
    reconsideration_address: str
    reconsideration_days: str
    litigation_court: str
    litigation_address: str
    litigation_months: str
    provenance: Provenance


def remedies(session: Session) -> Remedies:
    v = _values(session, REMEDY_SETTINGS)
    return Remedies(**v, provenance=_settings_provenance(session, REMEDY_SETTINGS))


# --- enforcement personnel and the credential check ----------------------------------------------

@dataclass(frozen=True)
class Officer:
    """An enforcement officer as the public sees them (执法人员公示)."""
    name: str
    unit: str
    number: str
    area: str
    valid_from: date
    valid_to: date


def personnel(session: Session) -> list[Officer]:
    """Active holders of a credential valid today, one row per such credential, by unit and name."""
    day = today()
    rows = session.scalars(select(Credential).join(Credential.holder)
                           .where(User.active.is_(True), Credential.status == "valid",
                                  Credential.valid_from <= day, Credential.valid_to >= day))
    found = [Officer(c.holder.full_name, c.holder.unit.name, c.number, c.area, c.valid_from, c.valid_to)
             for c in rows.unique()]
    return sorted(found, key=lambda o: (o.unit, o.name, o.number))


def personnel_provenance(session: Session) -> Provenance:
    """The last change to any credential (issued, renewed, suspended, revoked, reinstated)."""
    row = session.execute(select(AuditEvent.created_at, AuditEvent.actor)
                          .where(AuditEvent.chain == audit.SYSTEM, AuditEvent.action.like("credential.%"))
                          .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(1)).first()
    return Provenance(row[0], _role_of(session, row[1], ("admin",))) if row else Provenance(None, None)


CHECK_STATES = ("valid", "expired", "not_yet", "suspended", "revoked", "invalid")


@dataclass(frozen=True)
class CredentialCheck:
    """The public answer for one credential number: its state today, holder's name and unit, area."""
    number: str
    state: str  # one of CHECK_STATES; ``invalid``: the holder no longer works here
    name: str
    unit: str
    area: str
    checked_on: date


def check_credential(session: Session, number: str) -> CredentialCheck:
    number = (number or "").strip()
    credential = session.scalars(select(Credential).where(Credential.number == number)).one_or_none() \
        if number and len(number) <= 40 else None
    if credential is None:
        raise NotFound(f"credential {number!r} does not exist")
    day = today()
    state = credential.state_on(day)
    if state == "valid" and not credential.holder.active:
        state = "invalid"
    return CredentialCheck(credential.number, state, credential.holder.full_name, credential.holder.unit.name,
                           credential.area, day)


# --- the procedure --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProcedureStep:
    """A step of the procedure outline: a user task (with its role), or a stage that calls a process."""
    element: str
    name: str
    name_en: str
    role: str | None  # the lane's name (a role id or its Chinese label)
    calls: str | None  # the process a stage calls
    steps: tuple["ProcedureStep", ...] = ()


@dataclass(frozen=True)
class Procedure:
    process_id: str
    name: str
    version: int
    steps: tuple[ProcedureStep, ...]
    processes: frozenset[str]  # the process and every process it calls, at any depth
    provenance: Provenance


_OUTLINES: dict[tuple[str, int, str], Procedure] = {}  # a deployed version never changes
_OUTLINES_LOCK = Lock()


def procedure(session: Session, process_id: str, root: str | None = None) -> Procedure:
    """The outline of ``process_id`` in the current model set; with ``root``, only a process that
    ``root`` calls (directly or not) is public."""
    version = specs.current_version(session)
    if version is None:
        raise NotFound("no model set is deployed")
    if root and root != process_id:
        if process_id not in procedure(session, root).processes:
            raise NotFound(f"process {process_id!r} is not part of the published procedure")
    key = (str(session.get_bind().url), version, process_id)
    found = _OUTLINES.get(key)
    if found is None:
        names = specs.process_names(session, version)
        if process_id not in names:
            raise NotFound(f"process {process_id!r} is not deployed")
        steps, reached = _outline(session, version, process_id, frozenset())
        model = session.get(ModelSet, version)
        provenance = Provenance(model.deployed_at, _role_of(session, model.deployed_by, ("designer", "admin")))
        found = Procedure(process_id, names[process_id], version, steps, reached | {process_id}, provenance)
        with _OUTLINES_LOCK:
            _OUTLINES[key] = found
            while len(_OUTLINES) > 64:
                _OUTLINES.pop(next(iter(_OUTLINES)))
    return found


def diagram(session: Session, process_id: str, root: str) -> bytes:
    """The BPMN file holding a process of the published procedure (for the diagram viewer)."""
    found = procedure(session, process_id, root)
    return file_of(session, process_id, found.version)


def _flow_order(nodes: dict, outgoing: dict[str, list[str]]) -> list[str]:
    """Elements in the order a case meets them: loops (flows back to an element already on the way)
    are cut, then each element comes after everything that can precede it (longest path from a start
    event), ties in document order. Elements no start event reaches are left out."""
    position = {element: i for i, element in enumerate(nodes)}
    starts = [i for i, el in nodes.items() if el.tag == BPMN + "startEvent"]
    forward: dict[str, list[str]] = {}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in starts:  # iterative depth-first search: a flow to an element on the path is a loop
        stack = [(start, iter(outgoing.get(start, [])))]
        state[start] = 1
        while stack:
            element, targets = stack[-1]
            target = next((t for t in targets if t in nodes), None)
            if target is None:
                state[element] = 2
                stack.pop()
            elif state.get(target) == 1:
                continue
            else:
                forward.setdefault(element, []).append(target)
                if target not in state:
                    state[target] = 1
                    stack.append((target, iter(outgoing.get(target, []))))
    depth = {start: 0 for start in starts}
    incoming: dict[str, int] = {}
    for targets in forward.values():
        for target in targets:
            incoming[target] = incoming.get(target, 0) + 1
    ready = deque(starts)
    while ready:  # longest path over the loop-free graph (Kahn's order)
        element = ready.popleft()
        for target in forward.get(element, []):
            depth[target] = max(depth.get(target, 0), depth[element] + 1)
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    return sorted(depth, key=lambda element: (depth[element], position[element]))


def _outline(session: Session, version: int, process_id: str, seen: frozenset[str]):
    """The user tasks and stages of a process in flow order (:func:`_flow_order`), each stage with
    the outline of the process it calls; and every process reached."""
    if process_id in seen or len(seen) > 8:
        return (), frozenset()
    try:
        content = file_of(session, process_id, version)
    except NotFound:
        return (), frozenset()
    root = xmlsafe.parse(content)
    process = next(p for p in root.iter(BPMN + "process") if p.get("id") == process_id)
    lanes = {ref.text.strip(): lane.get("name", "") for lane in process.iter(BPMN + "lane")
             for ref in lane.iter(BPMN + "flowNodeRef") if ref.text}
    nodes = {el.get("id"): el for el in process if isinstance(el.tag, str) and el.get("id")}
    outgoing: dict[str, list[str]] = {}
    for flow in process.iter(BPMN + "sequenceFlow"):
        outgoing.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    for el in process.iter(BPMN + "boundaryEvent"):  # what a timer or an error on a task leads to
        outgoing.setdefault(el.get("attachedToRef"), []).append(el.get("id"))
    order = _flow_order(nodes, outgoing)
    steps, reached = [], set()
    for element_id in order:
        el = nodes[element_id]
        kind = el.tag.removeprefix(BPMN)
        if kind not in ("userTask", "callActivity"):
            continue
        name_en = next((p.get("value", "") for p in el.iter(CAMUNDA + "property") if p.get("name") == "name_en"), "")
        called = el.get("calledElement") if kind == "callActivity" else None
        inner: tuple[ProcedureStep, ...] = ()
        if called:
            inner, below = _outline(session, version, called, seen | {process_id})
            reached |= below | {called}
        steps.append(ProcedureStep(element_id, el.get("name") or element_id, name_en,
                                   lanes.get(element_id) if kind == "userTask" else None, called, inner))
    return tuple(steps), frozenset(reached)


