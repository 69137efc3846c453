"""Moving running cases to a newer model-set version (案件迁移).

A case runs on the version it started on. A designer who deploys a correction can move the cases
already running onto it, one case per unit of work, when nothing the case is waiting at changed in a
way the engine cannot follow:

- every element the case waits at (a ready task, a waiting timer or event, a running call activity,
  including inside the processes it calls) is still there under the same id, of the same type and in
  the same lane; a waiting task's boundary events and a waiting join's incoming flows are unchanged;
  a running call activity still calls the same process, and that process is still deployed.

SpiffWorkflow (``SpiffWorkflow.bpmn.util.diff``) aligns the old specs with the new ones and moves
the workflow (:func:`migrate_workflow` re-predicts what follows every ready or waiting task, so an
element added later in the flow is on the case's path). What SpiffWorkflow leaves to us:

- elements are matched by id only: its structural alignment of renamed elements is trusted for
  history, never for a task someone is waiting at;
- finished history whose element is gone is cut out of the tree (its ids stay in the case's trail,
  so its path stays whole); stale predictions are dropped and made again when the engine gets there;
- a waiting task keeps its task id, its data and, when its timer is unchanged, its due moment
  (SpiffWorkflow would re-evaluate the timer from now); inbox rows keep their assignee and drafts.

:func:`check` answers for one case, :func:`check_all` for every running or suspended case on an older
version (each version's changes are compared once; a case's state is read only when its version has
changes that could stop it); :func:`migrate` moves one case. All need the designer's or the
administrator's role (:func:`workflows.domain.access.check_design`).
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime
from threading import Lock
from typing import Any

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util.diff import SpecDiff, diff_dependencies, diff_workflow, migrate_workflow
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflows.core.errors import EngineError, InstanceNotActive, NotFound, case_changed
from workflows.core.messages import Message
from workflows.core.models import HumanTask, Instance, ModelSet, TaskDraft, User
from workflows.core.roles import lane_role
from workflows.domain import access, audit, steps
from workflows.domain.steps import CaseRun
from workflows.engine import history, runtime, serialization, specs

MOVABLE = ("running", "suspended")  # statuses of the cases that may move
BATCH = 500  # stored states read at a time by check_all
LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
PREDICTED = TaskState.PREDICTED_MASK | TaskState.FUTURE
REGISTRY = serialization.SERIALIZER.registry

PROCESS = Message("流程")
TYPE_LABELS = {  # SpiffWorkflow's spec classes, as the designer knows them
    "UserTask": Message("用户任务"), "ManualTask": Message("人工任务"), "ScriptTask": Message("脚本任务"),
    "ServiceTask": Message("服务任务"), "BusinessRuleTask": Message("业务规则任务"),
    "CallActivity": Message("调用活动"),
    "SubWorkflowTask": Message("子流程"), "TransactionSubprocess": Message("事务子流程"),
    "SimpleBpmnTask": Message("任务"), "NoneTask": Message("任务"), "SendTask": Message("发送任务"),
    "ReceiveTask": Message("接收任务"), "StartEvent": Message("开始事件"), "EndEvent": Message("结束事件"),
    "BoundaryEvent": Message("边界事件"), "IntermediateCatchEvent": Message("中间捕获事件"),
    "IntermediateThrowEvent": Message("中间抛出事件"), "ExclusiveGateway": Message("排他网关"),
    "ParallelGateway": Message("并行网关"), "InclusiveGateway": Message("包容网关"),
    "EventBasedGateway": Message("事件网关"),
}
ATTRIBUTE_LABELS = {  # the attributes SpiffWorkflow's serializer writes of a task spec
    "typename": Message("类型"), "bpmn_name": Message("名称"), "lane": Message("泳道"),
    "documentation": Message("办理说明"), "form": Message("表单"), "extensions": Message("扩展属性"),
    "inputs": Message("前序连接"), "outputs": Message("后续连接"), "script": Message("脚本"),
    "cond_task_specs": Message("分支条件"), "default_task_spec": Message("默认分支"),
    "event_definition": Message("事件定义"), "spec": Message("调用的流程"), "decision_ref": Message("决策表"),
    "cancel_activity": Message("是否中断活动"), "manual": Message("由人办理"), "io_specification": Message("输入输出"),
    "data_input_associations": Message("数据输入"), "data_output_associations": Message("数据输出"),
    "prescript": Message("前置脚本"), "postscript": Message("后置脚本"), "description": Message("类型说明"),
}
STATE_LABELS = {TaskState.READY: Message("待办理"), TaskState.WAITING: Message("正在等待"),
                TaskState.STARTED: Message("正在办理"), TaskState.ERROR: Message("出错")}


class CannotMigrate(EngineError):
    """The case cannot move to the version asked for; ``check`` says why, element by element."""

    def __init__(self, message: str, check: "MigrationCheck | None" = None):
        super().__init__(message)
        self.check = check


# --- what a page lists --------------------------------------------------------------------------

@dataclass(frozen=True)
class ElementChange:
    """An element added, removed or changed between two versions of a process (or a called process
    added or removed: ``element_id`` is then empty)."""

    process_id: str
    process_name: str
    element_id: str
    name: str
    kind: str  # added | removed | changed
    type: str  # the element's type, in Chinese
    attributes: tuple[str, ...] = ()  # what changed, as SpiffWorkflow's serializer names it

    @property
    def what(self) -> str:
        """The changed attributes in Chinese, e.g. ``名称、表单``."""
        return "、".join(ATTRIBUTE_LABELS.get(a, a) for a in self.attributes)

    @property
    def summary(self) -> Message:
        if not self.element_id:
            if self.kind == "added":
                return Message("新增流程“%(process)s”", process=self.process_name)
            return Message("删除流程“%(process)s”", process=self.process_name)
        params = dict(process=self.process_name, type=self.type, name=self.name, element=self.element_id)
        if self.kind == "added":
            return Message("%(process)s：新增%(type)s“%(name)s”（%(element)s）", **params)
        if self.kind == "removed":
            return Message("%(process)s：删除%(type)s“%(name)s”（%(element)s）", **params)
        return Message("%(process)s：修改%(type)s“%(name)s”（%(element)s）的%(what)s", what=self.what, **params)

    def as_dict(self) -> dict[str, Any]:
        return {"process": self.process_id, "element": self.element_id, "name": self.name, "kind": self.kind,
                "type": self.type, "attributes": list(self.attributes), "summary": str(self.summary)}


@dataclass(frozen=True)
class Blocker:
    """An element the case waits at that the new version cannot take over, and why (``reason``)."""

    process_id: str
    element_id: str
    name: str
    code: str  # removed | type | lane | boundary | join | called | process
    reason: Message

    def __str__(self) -> str:
        return str(self.reason)

    def as_dict(self) -> dict[str, Any]:
        return {"process": self.process_id, "element": self.element_id, "name": self.name, "code": self.code,
                "reason": str(self.reason)}


@dataclass(frozen=True)
class MigrationCheck:
    """Whether a case can move from its version to ``to_version``; ``case_version`` is the case row's
    version when checked: :func:`migrate` refuses if the case changed since."""

    instance_id: int
    case_no: str
    process_id: str
    status: str
    from_version: int
    to_version: int
    case_version: int
    updated_at: datetime
    blockers: tuple[Blocker, ...] = ()
    changes: tuple[ElementChange, ...] = ()  # from the case's version to ``to_version``, of its process

    @property
    def up_to_date(self) -> bool:
        return self.from_version == self.to_version

    @property
    def can_migrate(self) -> bool:
        return not self.up_to_date and not self.blockers and self.status in MOVABLE

    @property
    def reasons(self) -> list[Message]:
        """Why the case cannot move (empty when it can)."""
        if self.up_to_date:
            return [Message("案件%(case_no)s已在第%(version)s版上运行", case_no=self.case_no, version=self.to_version)]
        if self.status not in MOVABLE:
            return [Message("案件%(case_no)s不在办理中或中止状态，不能迁移", case_no=self.case_no)]
        return [b.reason for b in self.blockers]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.instance_id, "case_no": self.case_no, "process": self.process_id, "status": self.status,
                "from_version": self.from_version, "to_version": self.to_version, "case_version": self.case_version,
                "can_migrate": self.can_migrate, "reasons": [str(r) for r in self.reasons],
                "blockers": [b.as_dict() for b in self.blockers]}


# --- comparing two versions of a process ----------------------------------------------------------

def _type_label(spec) -> str:
    name = type(spec).__name__
    return TYPE_LABELS.get(name, name)


def _lane_label(lane: str | None) -> str:
    role = lane_role(lane)
    return f"“{role.label_zh}”" if role is not None else f"“{lane}”" if lane else Message("（无泳道）")


def _boundary_events(spec) -> frozenset[str]:
    """The ids of the boundary events attached to an activity."""
    return frozenset(out.name for split in spec.inputs if isinstance(split, BoundaryEventSplit)
                     for out in split.outputs if out is not spec)


def _element_problem(old, new_process, where: str = "", state: str = "",
                     version: int = 0) -> tuple[str, Message] | None:
    """What would stop a case waiting at ``old`` (a task spec of its process ``where``, in ``state``)
    from moving to ``new_process`` of ``version``: ``(code, reason)``, or None."""
    new = new_process.task_specs.get(old.name)
    at = dict(where=where, state=state, name=old.bpmn_name or old.bpmn_id or old.name,
              element=old.bpmn_id or old.name, version=version)
    if new is None:
        return "removed", Message("%(where)s中%(state)s的环节“%(name)s”（%(element)s）在第%(version)s版中已不存在",
                                  **at)
    if type(new).__name__ != type(old).__name__:
        return "type", Message("%(where)s中%(state)s的环节“%(name)s”（%(element)s）在第%(version)s版中类型已改变"
                               "（%(old)s→%(new)s）", old=_type_label(old), new=_type_label(new), **at)
    if getattr(old, "lane", None) != getattr(new, "lane", None):
        return "lane", Message("%(where)s中%(state)s的环节“%(name)s”（%(element)s）在第%(version)s版中改由%(new)s办理"
                               "（原为%(old)s）", old=_lane_label(old.lane), new=_lane_label(new.lane), **at)
    if _boundary_events(old) != _boundary_events(new):
        return "boundary", Message("%(where)s中%(state)s的环节“%(name)s”（%(element)s）在第%(version)s版中的边界事件"
                                   "已改变：已在等待的环节不能挂上或摘下边界事件", **at)
    if isinstance(old, Join) and old.bpmn_id and {s.name for s in old.inputs} != {s.name for s in new.inputs}:
        return "join", Message("%(where)s中%(state)s的网关“%(name)s”（%(element)s）在第%(version)s版中的汇入连接已改变",
                               **at)
    if isinstance(old, SubWorkflowTask) and old.spec != new.spec:
        return "called", Message("%(where)s中%(state)s的调用活动“%(name)s”（%(element)s）在第%(version)s版中改为调用"
                                 "“%(new)s”", new=new.spec, **at)
    return None


@dataclass(frozen=True)
class _VersionDiff:
    """One process's changes from one version to another, and whether any case could be stopped."""

    changes: tuple[ElementChange, ...]
    risky: bool  # some element, were a case waiting at it, could not move (else no case needs reading)
    missing: bool  # the process itself is not in the new version


def _processes(model: specs.ProcessSpecs) -> dict[str, Any]:
    return {model.spec.name: model.spec, **model.subprocess_specs}


def _spec_changes(process_id: str, process_name: str, old, new) -> list[ElementChange]:
    """Changes of one process, by element id; SpiffWorkflow's comparisons say which attributes changed."""
    diff = SpecDiff(REGISTRY, old, new)
    out = []
    for spec in old.task_specs.values():
        if not spec.bpmn_id:
            continue  # the engine's own helper specs (joins of boundary events, the start, the end)
        candidate = new.task_specs.get(spec.name)
        if candidate is None:
            out.append(ElementChange(process_id, process_name, spec.bpmn_id, spec.bpmn_name or spec.bpmn_id,
                                     "removed", _type_label(spec)))
            continue
        if diff.alignment.get(spec) is candidate and spec in diff.comparisons:
            attributes = diff.comparisons[spec]
        else:  # not reached from the start event by SpiffWorkflow's walk
            before, after = REGISTRY.convert(spec), REGISTRY.convert(candidate)
            attributes = [k for k, v in before.items() if after.get(k) != v]
        if attributes:
            out.append(ElementChange(process_id, process_name, spec.bpmn_id, candidate.bpmn_name or spec.bpmn_id,
                                     "changed", _type_label(candidate), tuple(attributes)))
    for spec in new.task_specs.values():
        if spec.bpmn_id and spec.name not in old.task_specs:
            out.append(ElementChange(process_id, process_name, spec.bpmn_id, spec.bpmn_name or spec.bpmn_id,
                                     "added", _type_label(spec)))
    order = {"removed": 0, "changed": 1, "added": 2}
    return sorted(out, key=lambda c: (order[c.kind], c.element_id))


_diffs: dict[tuple, _VersionDiff] = {}
_diffs_lock = Lock()


def _version_diff(session: Session, from_version: int, to_version: int, process_id: str) -> _VersionDiff:
    """The changes of a process (and of the processes it calls) between two versions, compared once:
    stored versions never change."""
    key = (str(session.get_bind().url), from_version, to_version, process_id)
    with _diffs_lock:
        if key in _diffs:
            return _diffs[key]
    old = specs.get(session, from_version, process_id)
    new = _specs_or_none(session, to_version, process_id)
    old_names, new_names = specs.process_names(session, from_version), specs.process_names(session, to_version)
    if new is None:
        result = _VersionDiff((ElementChange(process_id, old_names.get(process_id, process_id), "", "", "removed",
                                             PROCESS),), True, True)
    else:
        changes = _spec_changes(process_id, new_names.get(process_id, process_id), old.spec, new.spec)
        dependencies, added = diff_dependencies(REGISTRY, old.subprocess_specs, new.subprocess_specs)
        for name, dependency in sorted(dependencies.items()):
            if dependency is None:
                changes.append(ElementChange(name, old_names.get(name, name), "", "", "removed", PROCESS))
            else:
                changes += _spec_changes(name, new_names.get(name, name), old.subprocess_specs[name],
                                         new.subprocess_specs[name])
        changes += [ElementChange(name, new_names.get(name, name), "", "", "added", PROCESS)
                    for name in sorted(added)]
        new_processes = _processes(new)
        risky = any(name not in new_processes or any(_element_problem(spec, new_processes[name])
                                                     for spec in process.task_specs.values())
                    for name, process in _processes(old).items())
        result = _VersionDiff(tuple(changes), risky, False)
    with _diffs_lock:
        if len(_diffs) > 256:
            _diffs.clear()
        _diffs[key] = result
    return result


def _specs_or_none(session: Session, version: int, process_id: str) -> specs.ProcessSpecs | None:
    try:
        return specs.get(session, version, process_id)
    except NotFound:
        if session.get(ModelSet, version) is None:
            raise
        return None


# --- what a case waits at, read off its stored state --------------------------------------------

@dataclass(frozen=True)
class _Flow:
    """The case's workflow or one of its subprocesses, as stored: what it waits at."""

    process_id: str
    finished: bool
    live: tuple[tuple[str, int], ...]  # (task spec name, state) of its ready, waiting and running tasks


def _flows(state: str) -> list[_Flow]:
    """The flows of a stored case, read from its JSON (no workflow is built)."""
    dct = json.loads(state)
    serialization.SERIALIZER.migrate(dct)

    def flow(process_id: str, stored: dict) -> _Flow:
        live = tuple((t["task_spec"], t["state"]) for t in stored["tasks"].values() if t["state"] & LIVE)
        return _Flow(process_id, bool(stored.get("completed")), live)

    return [flow(dct["spec_name"], dct), *(flow(sp["spec"], sp) for sp in dct.get("subprocesses", {}).values())]


def _blockers(flows: list[_Flow], old: specs.ProcessSpecs, new: specs.ProcessSpecs | None, to_version: int,
              names: dict[str, str]) -> list[Blocker]:
    if new is None:
        return [Blocker(old.spec.name, "", names.get(old.spec.name, old.spec.name), "process",
                        Message("流程“%(process)s”在第%(version)s版中已不存在",
                                process=names.get(old.spec.name, old.spec.name), version=to_version))]
    old_processes, new_processes = _processes(old), _processes(new)
    found: list[Blocker] = []
    for flow in flows:
        if flow.finished:
            continue  # finished subprocesses are history: dropped if the new version cannot take them
        where = names.get(flow.process_id, flow.process_id)
        if flow.process_id not in new_processes:
            found.append(Blocker(flow.process_id, "", where, "process",
                                 Message("正在办理的流程“%(process)s”在第%(version)s版中已不存在",
                                         process=where, version=to_version)))
            continue
        old_process, new_process = old_processes[flow.process_id], new_processes[flow.process_id]
        for spec_name, state in flow.live:
            spec = old_process.task_specs[spec_name]
            problem = _element_problem(spec, new_process, where, STATE_LABELS.get(state, ""), to_version)
            if problem is not None:
                element = spec.bpmn_id or spec.name
                found.append(Blocker(flow.process_id, element, spec.bpmn_name or element, *problem))
    unique = {(b.process_id, b.element_id, b.code): b for b in found}
    return list(unique.values())


# --- checking ------------------------------------------------------------------------------------

def _target(session: Session, to_version: int | None) -> int:
    version = to_version if to_version is not None else specs.current_version(session)
    if version is None or session.get(ModelSet, version) is None:
        raise NotFound(Message("模型版本%(version)s不存在", version=version if version is not None else "—"))
    return version


def _check(session: Session, instance: Instance, to_version: int, state: str | None) -> MigrationCheck:
    """The check of one case; ``state`` is read only when its version's changes could stop it."""
    base = dict(instance_id=instance.id, case_no=instance.case_no, process_id=instance.process_id,
                status=instance.status, from_version=instance.model_version, to_version=to_version,
                case_version=instance.lock_version, updated_at=instance.updated_at)
    if instance.model_version == to_version:
        return MigrationCheck(**base)
    diff = _version_diff(session, instance.model_version, to_version, instance.process_id)
    if not diff.risky:
        return MigrationCheck(**base, changes=diff.changes)
    old = specs.get(session, instance.model_version, instance.process_id)
    new = None if diff.missing else specs.get(session, to_version, instance.process_id)
    names = specs.process_names(session, instance.model_version) | specs.process_names(session, to_version)
    found = _blockers(_flows(state if state is not None else instance.state), old, new, to_version, names)
    return MigrationCheck(**base, blockers=tuple(found), changes=diff.changes)


def _instance(session: Session, instance_id: int) -> Instance:
    instance = session.get(Instance, instance_id)
    if instance is None:
        raise NotFound(f"case {instance_id} does not exist")
    return instance


def check(session: Session, actor: User | str, instance_id: int, to_version: int | None = None) -> MigrationCheck:
    """Can the case move to ``to_version`` (default: the current version)? If not, which elements
    stop it and why; and what changed between its version and that one."""
    access.check_design(actor)
    target = _target(session, to_version)
    return _check(session, _instance(session, instance_id), target, None)


def check_all(session: Session, actor: User | str, to_version: int | None = None) -> list[MigrationCheck]:
    """The check of every running or suspended case on a version older than ``to_version`` (default:
    the current one), by case id. Each (version, process) is compared once, and the stored states of
    its cases are read only when its changes could stop one of them."""
    access.check_design(actor)
    target = _target(session, to_version)
    columns = (Instance.id, Instance.case_no, Instance.process_id, Instance.status, Instance.model_version,
               Instance.lock_version, Instance.updated_at)
    rows = session.execute(select(*columns).where(Instance.status.in_(MOVABLE), Instance.model_version < target)
                           .order_by(Instance.model_version, Instance.process_id, Instance.id)).all()
    groups: dict[tuple[int, str], list] = defaultdict(list)
    for row in rows:
        groups[(row.model_version, row.process_id)].append(row)
    out: list[MigrationCheck] = []
    for (version, process_id), members in groups.items():
        diff = _version_diff(session, version, target, process_id)
        for start in range(0, len(members), BATCH):
            batch = members[start:start + BATCH]
            states = _states(session, [m.id for m in batch]) if diff.risky else {}
            out += [_check(session, _Row(member), target, states.get(member.id, "")) for member in batch]
    return sorted(out, key=lambda c: c.instance_id)


def _states(session: Session, ids: list[int]) -> dict[int, str]:
    rows = session.execute(select(Instance.id, Instance.state).where(Instance.id.in_(ids)))
    return {case_id: state for case_id, state in rows}


class _Row:
    """An instance's list columns, read without its state (what :func:`_check` reads of a case)."""

    def __init__(self, row):
        self.id, self.case_no, self.process_id, self.status = row.id, row.case_no, row.process_id, row.status
        self.model_version, self.lock_version, self.updated_at = row.model_version, row.lock_version, row.updated_at


# --- migrating -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Migration:
    """A case moved: its check, and the inbox rows of its ready tasks afterwards."""

    check: MigrationCheck
    tasks: list[HumanTask]
    renamed_tasks: dict[str, str] = field(default_factory=dict)  # old task id -> new, where a task got a new id


def migrate(session: Session, actor: User | str, instance_id: int, expected_version: int,
            to_version: int | None = None) -> Migration:
    """Move a case to ``to_version`` (default: the current version), in this unit of work.

    ``expected_version`` is the case row's version the caller saw (:attr:`MigrationCheck.case_version`):
    if the case changed since (a task done, a timer fired, another migration), nothing happens and
    :class:`~workflows.core.errors.Conflict` is raised. A case the new version cannot take raises
    :class:`CannotMigrate` with the reasons; the caller rolls back."""
    access.check_design(actor)
    username = actor if isinstance(actor, str) else actor.username
    target = _target(session, to_version)
    instance = _instance(session, instance_id)
    if instance.lock_version != expected_version:
        raise case_changed()
    if instance.status not in MOVABLE:
        raise InstanceNotActive(Message("案件%(case_no)s不在办理中或中止状态，不能迁移", case_no=instance.case_no))
    result = _check(session, instance, target, None)
    if not result.can_migrate:
        raise CannotMigrate(Message("案件%(case_no)s不能迁移到第%(version)s版：%(reasons)s", case_no=instance.case_no,
                                    version=target, reasons="；".join(result.reasons)), result)
    from_version = instance.model_version
    before = {row.task_id: row for row in session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "ready"))}
    run = CaseRun.load(session, instance)
    new = specs.get(session, target, instance.process_id)
    try:
        moved = _move(run.workflow, new)
    except Exception as exc:  # SpiffWorkflow's own errors, or diagram code run while re-predicting
        reason = str(exc) if isinstance(exc, CannotMigrate) else f"{type(exc).__name__}: {exc}"
        raise CannotMigrate(Message("案件%(case_no)s不能迁移到第%(version)s版：%(reason)s", case_no=instance.case_no,
                                    version=target, reason=reason), result) from exc
    run.workflow = moved
    steps.write_case(session, instance, {"model_version": target})
    renamed = _renamed_tasks(before, moved)
    run.log(username, "case.migrate", from_version=from_version, to_version=target,
            **({"renamed_tasks": renamed} if renamed else {}))
    if instance.status == "running":
        run.advance(username)
    else:  # a suspended case's clock and tasks stay stopped
        run.save(username)
    if instance.status == "error":  # the new version's code failed right away: keep the case where it was
        raise CannotMigrate(Message("案件%(case_no)s迁移到第%(version)s版后运行出错：%(error)s",
                                    case_no=instance.case_no, version=target, error=instance.error_message or ""),
                            result)
    rows = _rebuild_rows(session, instance, moved, before, renamed)
    run.reseal(rows)  # the case chain's seal covers the rows as rebuilt
    audit.record(session, username, "case.migrate", instance_id=instance.id, case_no=instance.case_no,
                 process=instance.process_id, from_version=from_version, to_version=target)
    return Migration(result, rows, renamed)


def _move(workflow, new: specs.ProcessSpecs):
    """The workflow moved onto the new specs (and stored and read back, so it surely loads)."""
    kept = {task.id: (task.state, deepcopy(task.data), dict(task.internal_data), task.last_state_change,
                      task.task_spec) for task in runtime.all_tasks(workflow) if task.state & LIVE}
    try:
        top_diff, sub_diffs = diff_workflow(REGISTRY, workflow, new.spec, new.subprocess_specs)
    except KeyError as exc:  # a task whose spec SpiffWorkflow's alignment never reached
        raise CannotMigrate(Message("流程比对未能对应环节%(element)s", element=str(exc))) from None
    trail = history.trail(workflow)
    for sp_id, sub in list(workflow.subprocesses.items()):
        if sp_id not in workflow.subprocesses:
            continue  # deleted with its parent
        call = workflow.get_task_from_id(sp_id)
        target = new.subprocess_specs.get(sub.spec.name)
        caller_spec = new.spec if call.workflow is workflow else new.subprocess_specs.get(call.workflow.spec.name)
        new_call = caller_spec.task_specs.get(call.task_spec.name) if caller_spec is not None else None
        if target is not None and (new_call is None or getattr(new_call, "spec", None) == sub.spec.name):
            continue
        if not (sub.completed or call.has_state(TaskState.FINISHED_MASK)):
            raise CannotMigrate(Message("正在办理的流程“%(process)s”在新版本中无法对应", process=sub.spec.name))
        _to_trail(trail, workflow.delete_subprocess(call))
    workflow.subprocess_specs = new.subprocess_specs
    migrate_workflow(top_diff, workflow, new.spec)
    for sp_id, sub in workflow.subprocesses.items():
        migrate_workflow(sub_diffs[sp_id], sub, new.subprocess_specs[sub.spec.name])
    for flow in (workflow, *workflow.subprocesses.values()):
        for task in [t for t in flow.tasks.values() if t.state == TaskState.STARTED]:
            # a running call activity: SpiffWorkflow resets only ready and waiting tasks, and would
            # go on along the old version's prediction when the called process ends
            task._drop_children()
            task.task_spec._predict(task, mask=TaskState.STARTED | PREDICTED)
    for flow in (workflow, *workflow.subprocesses.values()):
        _drop_stale(workflow, flow, trail)
    for task in runtime.all_tasks(workflow):
        if task.id not in kept or not task.state & LIVE:
            continue
        state, data, internal, changed_at, old_spec = kept[task.id]
        task.data, task.last_state_change = data, changed_at
        if state == TaskState.WAITING and isinstance(task.task_spec, CatchingEvent):
            # SpiffWorkflow evaluated the reset timer again, from now; an unchanged one keeps the due
            # moment it had, and a timer found due stays waiting: the engine fires it when the case
            # runs (a suspended case's timers wait for its resumption)
            if REGISTRY.convert(old_spec.event_definition) == REGISTRY.convert(task.task_spec.event_definition):
                task.internal_data = internal
            if task.state == TaskState.READY:
                task._set_state(TaskState.WAITING)
    moved = serialization.loads(serialization.dumps(workflow), new.spec, new.subprocess_specs)
    moved.script_engine = workflow.script_engine
    return moved


def _drop_stale(top, flow, trail: list) -> None:
    """Tasks left on specs the new version does not have: predictions are dropped (the engine predicts
    again when it gets there), finished history is cut out of the tree (its ids go to the trail)."""
    def stale():
        return [t for t in flow.tasks.values() if flow.spec.task_specs.get(t.task_spec.name) is not t.task_spec]

    for task in stale():
        if task.id in flow.tasks and task.has_state(PREDICTED) and task.parent is not None:
            flow._remove_task(task.id)
    for task in stale():
        if not task.has_state(TaskState.FINISHED_MASK) or task.parent is None:
            raise CannotMigrate(Message("环节%(element)s在新版本中无法对应", element=task.task_spec.name))
        if task.id in top.subprocesses:
            _to_trail(trail, top.delete_subprocess(task))
        parent = task.parent
        position = parent._children.index(task.id)
        parent._children[position:position + 1] = task._children
        for child in task.children:
            child._parent = parent.id
        del flow.tasks[task.id]
        top.event_manager.remove_task(task)
        _to_trail(trail, [task])
        if flow.last_task is task:
            flow.last_task = None


def _to_trail(trail: list, tasks: Iterable) -> None:
    trail.extend([t.last_state_change, t.task_spec.bpmn_id] for t in tasks
                 if t.state == TaskState.COMPLETED and t.task_spec.bpmn_id)


def _ready_user_tasks(workflow) -> dict[str, Any]:
    return {str(t.id): t for t in runtime.all_tasks(workflow) if t.state == TaskState.READY and t.task_spec.manual}


def _renamed_tasks(before: dict[str, HumanTask], workflow) -> dict[str, str]:
    """Ready tasks that got a new task id: the old id to the new, paired by process and element."""
    ready = _ready_user_tasks(workflow)
    return pair_tasks({tid: (row.process_id, row.spec_id) for tid, row in before.items()},
                      {tid: (t.workflow.spec.name, t.task_spec.name) for tid, t in ready.items()})


def pair_tasks(before: dict[str, tuple[str, str]], after: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Pair the task ids that vanished with the ids that appeared for the same (process, element), in order."""
    appeared: dict[tuple[str, str], list[str]] = defaultdict(list)
    for task_id, element in after.items():
        if task_id not in before:
            appeared[element].append(task_id)
    pairs = {}
    for task_id, element in before.items():
        if task_id not in after and appeared.get(element):
            pairs[task_id] = appeared[element].pop(0)
    return pairs


def _rebuild_rows(session: Session, instance: Instance, workflow, before: dict[str, HumanTask],
                  renamed: dict[str, str]) -> list[HumanTask]:
    """The case's inbox rows after the step wrote them: each says what the new version calls its task
    (name, lane); a task that got a new id keeps its assignee, wait, due time and drafts."""
    rows = {row.task_id: row for row in session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "ready")
        .order_by(HumanTask.id).execution_options(populate_existing=True))}
    earlier = {new_id: before_id for before_id, new_id in renamed.items()}
    snapshot = {tid: (r.assignee, r.has_draft, r.created_at, r.due_at) for tid, r in before.items()}
    ready = _ready_user_tasks(workflow)
    for task_id, row in rows.items():
        task = ready.get(task_id)
        if task is None:
            continue
        spec = task.task_spec
        role = lane_role(spec.lane)
        ext = getattr(spec, "extensions", {}) or {}
        row.name, row.name_en = spec.bpmn_name or spec.bpmn_id, ext.get("name_en", "")
        row.spec_id, row.process_id = spec.name, task.workflow.spec.name
        if role is not None:
            row.lane, row.role_id = spec.lane, role.id
            row.unit_id = instance.unit_id if role.unit_scoped else None
        if task_id in earlier:
            assignee, has_draft, created_at, due_at = snapshot[earlier[task_id]]
            row.assignee = assignee or row.assignee
            row.has_draft, row.created_at, row.due_at = has_draft, created_at, due_at or row.due_at
    for old_id, new_id in renamed.items():
        session.execute(update(TaskDraft).where(TaskDraft.task_id == old_id).values(task_id=new_id)
                        .execution_options(synchronize_session=False))
    session.flush()
    return list(rows.values())
