"""Dry runs: a draft model set run in memory against the real engine, sandbox and form rules.

:func:`run` parses a set ``{filename: content}`` with the engine's own parser, starts the process in
memory and plays a *scenario* on it: the start data, then user tasks completed one by one with the
values a person would submit. Each submission is checked with the form rules staff face
(:func:`workflows.domain.forms.validate_form`, with the database's people, matters and credentials as
of today), then the engine runs what needs no person (scripts, gateways, decision tables, called
processes) in the same sandbox as a live case, with the deadline and policy settings and the working
calendar read from the database. Nothing is written: no case, no inbox row, no audit event, no
disclosure record; the database is only read.

A scenario is JSON::

    {"process": "enforcement_case",          # informational; run() takes the process id
     "title": "立案：登记、审核、审批",         # optional, for lists
     "unit": "social",                       # optional: the case's unit (code); else the starter's
     "starter": "zhang",                     # optional: who starts the case; else someone who may
     "data": {...},                          # the start data
     "steps": [{"task": "file_case", "data": {...}, "as": "officer", "user": "zhang"}, ...]}

``as`` (a role id or a lane's Chinese label) says in which role the step is done: a task in another
role's lane fails the step. ``user`` picks the person (they must hold the task's role, in the case's
unit where the role is unit-scoped, with a credential valid today where it needs one); without it the
task's assignee is taken, else the starter when they hold the role, else the first eligible person.
That person is the step's ``last_actor``, as for a live case.

Placeholders keep a scenario valid in any database and on any day: ``"@today"``, ``"@today+7"``,
``"@today-20"`` (in any value: the ISO date that many days from today, engine clock); ``"@file"`` in a
file field (a simulated upload; a file field also takes any SHA-256 digest, nothing is stored);
``"@role:officer"`` in a user field (the first person eligible for the role, in the case's unit where
the role is unit-scoped, other than the one doing the step).

Not simulated: timers never fire (they are evaluated, so a broken timer expression still fails, and
listed with their due time in ``waiting_events``); message and signal events are not sent or caught;
the disclosure hook writes no record (the step says it would); case numbers are not drawn.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from hashlib import sha256
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.core import contract
from workflows.core.messages import Message
from workflows.core.models import PolicySetting, Unit, User
from workflows.core.roles import lane_role, role_def
from workflows.core.workdays import TZ
from workflows.domain import access, lookups
from workflows.domain.forms import fields_of, validate_form
from workflows.engine import history, runtime, xmlsafe
from workflows.engine.parsing import BPMN, build_parser, is_dmn

SCENARIOS = Path(__file__).resolve().parents[2] / "bpmn" / "scenarios"
LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
RELATIVE_DAY = re.compile(r"@today(?:([+-])(\d{1,5}))?\Z")
NOBODY = "dryrun"  # the actor's name when nobody in the database may do a task
MAX_ENGINE_STEPS = 500  # elements run between two steps of a person before the run is stopped as a runaway loop

NOT_SIMULATED = [
    Message("计时器不会触发：试运行只计算到期时间（见等待中的事件），不会沿计时器分支继续"),
    Message("消息和信号事件不会发送或接收"),
    Message("不写入数据库：不生成案件、待办、审计记录和公开记录，也不占用案件编号"),
]


# --- results -----------------------------------------------------------------------------------

@dataclass
class Failure:
    """Where and why the run stopped. ``kind``: ``form`` (a value the form refuses: ``fields``),
    ``not_ready`` (the step names a task that is not ready: ``ready`` lists those that are),
    ``role`` / ``access`` (the step's role or person may not do the task), ``engine`` (diagram code,
    a gateway, a timer expression or the engine failed at ``element``), ``model`` (the set does not
    parse, or the process is not in it), ``scenario`` (the scenario itself is malformed)."""

    kind: str
    message: str
    element: str | None = None
    process: str | None = None
    step: int | None = None  # index into the scenario's steps; None: at the start
    fields: dict[str, list[str]] = field(default_factory=dict)
    ready: list[str] = field(default_factory=list)


@dataclass
class ReadyTask:
    """A user task ready after a step: who would get it, and by when."""

    task: str
    name: str
    process: str
    lane: str | None
    role: str | None
    assignee: str | None
    due: str | None  # ISO 8601


@dataclass
class WaitingEvent:
    """A catching event the case waits on (never fired in a dry run)."""

    element: str
    name: str
    process: str
    kind: str  # timer, message, signal, …
    due: str | None  # ISO 8601, timers only


@dataclass
class Step:
    """One scenario step (``kind`` ``task``), or the start (``kind`` ``start``, ``task`` the start event).

    ``passed`` and ``flows`` are the elements completed and the sequence flows taken since the previous
    step, per process id, in order; ``data`` is the case data after the step."""

    index: int | None
    kind: str
    task: str
    name: str
    process: str
    lane: str | None
    role: str | None
    user: str | None
    values: dict[str, Any]
    data: dict[str, Any]
    passed: dict[str, list[str]]
    flows: dict[str, list[str]]
    ready: list[ReadyTask]
    notes: list[str] = field(default_factory=list)


@dataclass
class ProcessPath:
    """What a diagram marks: elements done, flows taken, where the case is now, where it failed."""

    done: list[str] = field(default_factory=list)
    flows: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    failed: str | None = None


@dataclass
class DryRun:
    process: str
    status: str  # completed, waiting, failed
    waiting: list[str]  # the ready user tasks at the end (their element ids)
    steps: list[Step]
    paths: dict[str, ProcessPath]  # per process id (the process and those it called)
    data: dict[str, Any]
    error: Failure | None
    waiting_events: list[WaitingEvent]
    notes: list[str]  # what a dry run does not simulate

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- scenarios ---------------------------------------------------------------------------------

def list_scenarios(folder: Path = SCENARIOS) -> dict[str, dict[str, Any]]:
    """The example scenarios ``bpmn/scenarios/*.json``, by file name without ``.json``."""
    out = {}
    for path in sorted(folder.glob("*.json")):
        try:
            out[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ValueError(f"{path.name}: {exc}") from None
    return out


# --- running -----------------------------------------------------------------------------------

def run(session: Session, files: dict[str, bytes], process_id: str, scenario: dict[str, Any]) -> DryRun:
    """Run ``scenario`` on ``process_id`` of the model set ``files`` in memory; the database is only read."""
    with session.no_autoflush:
        return _Run(session, process_id).play(files, scenario)


class _Stop(Exception):
    def __init__(self, failure: Failure):
        super().__init__(failure.message)
        self.failure = failure


class _Runaway(RuntimeError):
    """The engine ran more elements in one go than any model needs."""


class _Run:
    def __init__(self, session: Session, process_id: str):
        self.session, self.process_id = session, process_id
        self.steps: list[Step] = []
        self.workflow: BpmnWorkflow | None = None
        self.flows: dict[str, dict[str, tuple[str, str]]] = {}  # process id: flow id: (source, target)
        self.owner: dict[str, str] = {}  # an embedded sub-process id: the process holding it
        self.taken: dict[str, list[str]] = {}
        self.failed: tuple[str, str] | None = None  # (process, element)
        self.unit: Unit | None = None
        self.starter: User | None = None

    # the whole run

    def play(self, files: dict[str, bytes], scenario: dict[str, Any]) -> DryRun:
        error = None
        try:
            steps = _check_scenario(scenario)
            self._start(files, scenario)
            for index, item in enumerate(steps):
                self._step(index, item)
        except _Stop as stop:
            error = stop.failure
        return self._result(error)

    def _result(self, error: Failure | None) -> DryRun:
        workflow = self.workflow
        if workflow is None:
            return DryRun(self.process_id, "failed", [], self.steps, {}, {}, error, [], list(NOT_SIMULATED))
        ready = [t.task_spec.bpmn_id for t in _ready_user_tasks(workflow)]
        status = "failed" if error else "completed" if workflow.completed else "waiting"
        return DryRun(self.process_id, status, [] if error else ready, self.steps, self._paths(),
                      plain(runtime.current_data(workflow)), error, self._waiting_events(),
                      list(NOT_SIMULATED))

    # parsing and starting

    def _start(self, files: dict[str, bytes], scenario: dict[str, Any]) -> None:
        spec, subprocess_specs = self._parse(files)
        for each in (spec, *subprocess_specs.values()):
            _hold_timers(each)
        self.unit, self.starter = self._case_unit_and_starter(scenario, spec)
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=runtime.script_engine(self.session))
        self.workflow = workflow
        first = workflow.get_next_task(state=TaskState.READY)
        data = relative_days(dict(scenario.get("data") or {}))
        first.data.update(data, **{
            contract.CASE_NO_KEY: str(Message("（试运行）")),
            contract.FILER_KEY: self.starter.username if self.starter else NOBODY,
            contract.UNIT_KEY: self.unit.code if self.unit else "",
            contract.AGENCY_KEY: self._agency_name()})
        start_event = next((t for t in spec.start.outputs if getattr(t, "bpmn_id", None)), None)
        before = self._snapshot()
        notes = [] if self.starter else [Message("数据库中没有可以发起该流程的人员，以“%(user)s”代替", user=NOBODY)]
        try:
            self._advance(None)
        finally:
            self._record(None, "start", start_event.bpmn_id if start_event else spec.name,
                         (start_event.bpmn_name if start_event else None) or spec.description or spec.name,
                         spec.name, getattr(start_event, "lane", None), self.starter.username if self.starter else None,
                         data, before, notes)

    def _parse(self, files: dict[str, bytes]):
        roots = {}
        for name, content in sorted(files.items()):
            try:
                roots[name] = xmlsafe.parse(content)
            except xmlsafe.UnsafeXml as exc:
                raise _Stop(Failure("model", Message("%(file)s：%(reason)s", file=name, reason=str(exc)))) from None
        for root in roots.values():
            if not is_dmn(root):
                self._read_flows(root)
        try:
            parser = build_parser(roots)
            if self.process_id not in parser.get_process_ids():
                raise _Stop(Failure("model", Message("模型中没有流程%(process)s", process=self.process_id)))
            return parser.get_spec(self.process_id), parser.get_subprocess_specs(self.process_id)
        except _Stop:
            raise
        except Exception as exc:  # the parser raises many kinds; none may escape as a traceback
            raise _Stop(Failure("model", _error_text(exc), element=getattr(exc, "id", None) or None)) from None

    def _read_flows(self, root: etree._Element) -> None:
        for process in root.iter(BPMN + "process"):
            pid = process.get("id")
            for flow in process.iter(BPMN + "sequenceFlow"):
                self.flows.setdefault(pid, {})[flow.get("id")] = (flow.get("sourceRef"), flow.get("targetRef"))
            for sub in process.iter(BPMN + "subProcess", BPMN + "transaction", BPMN + "adHocSubProcess"):
                self.owner[sub.get("id")] = pid

    def _case_unit_and_starter(self, scenario: dict[str, Any], spec) -> tuple[Unit | None, User | None]:
        unit = None
        if scenario.get("unit"):
            unit = self.session.scalars(select(Unit).where(Unit.code == str(scenario["unit"]))).one_or_none()
            if unit is None:
                raise _Stop(Failure("scenario", Message("没有科室%(unit)s", unit=scenario["unit"])))
        if scenario.get("starter"):
            starter = self._user(str(scenario["starter"]))
            if starter is None:
                raise _Stop(Failure("scenario", Message("没有这个用户：%(user)s", user=scenario["starter"])))
            return unit or starter.unit, starter
        roles = set()
        for task_spec in spec.start.outputs:
            role = lane_role(getattr(task_spec, "lane", None))
            if role is not None:
                roles.add(role.id)
        for role in sorted(roles):
            for user in lookups.eligible_users(self.session, role):
                if unit is None or user.unit_id == unit.id:
                    return unit or user.unit, user
        return unit, None

    def _agency_name(self) -> str:
        found = self.session.get(PolicySetting, "agency_name")
        return found.value if found is not None else str(Message("（试运行）"))

    # one step

    def _step(self, index: int, item: dict[str, Any]) -> None:
        workflow = self.workflow
        ready = _ready_user_tasks(workflow)
        task = next((t for t in ready if t.task_spec.bpmn_id == item["task"]), None)
        if task is None:
            ids = [t.task_spec.bpmn_id for t in ready]
            raise _Stop(Failure("not_ready", Message("任务%(task)s未就绪；当前可办理的任务：%(ready)s", task=item["task"],
                                                     ready="、".join(ids) or Message("（无）")),
                                element=item["task"], step=index, ready=ids))
        spec = task.task_spec
        process = self._process_of(task.workflow.spec.name)
        role = lane_role(spec.lane)
        where = {"element": spec.bpmn_id, "process": process, "step": index}
        if role is None:
            raise _Stop(Failure("role", Message("任务“%(task)s”不在以角色命名的泳道中", task=_name(spec)), **where))
        if item.get("as"):
            wanted = lane_role(str(item["as"]))
            if wanted is None:
                raise _Stop(Failure("scenario", Message("没有角色%(role)s", role=item["as"]), **where))
            if wanted.id != role.id:
                raise _Stop(Failure("role", Message("任务“%(task)s”由%(role)s办理，不能以%(other)s身份办理",
                                                    task=_name(spec), role=role.label_zh, other=wanted.label_zh),
                                    **where))
        actor = self._actor(task, role.id, item.get("user"), where)
        fields = fields_of(spec)
        submitted = self._placeholders(fields, relative_days(dict(item.get("data") or {})), spec.bpmn_id, actor)
        clean, errors = validate_form(fields, submitted, task.data,
                                      _DryRunLookups(self.session, self.unit.id if self.unit else None),
                                      runtime.evaluator(task))
        if errors:
            raise _Stop(Failure("form", Message("任务“%(task)s”的表单有错误", task=_name(spec)),
                                fields={k: list(v) for k, v in errors.items()}, **where))
        before = self._snapshot()
        notes = [] if actor else [Message("数据库中没有可以办理该任务的人员，以“%(user)s”代替", user=NOBODY)]
        try:
            task.data.update(clean, last_actor=actor or NOBODY)
            try:
                task.run()
            except Exception as exc:
                self._fail(task, exc, index)
            self._advance(index)
        finally:
            self._record(index, "task", spec.bpmn_id, _name(spec), process, spec.lane, actor, clean, before, notes)

    def _actor(self, task, role_id: str, username: Any, where: dict[str, Any]) -> str | None:
        """The person who does the step: the one named, else the assignee, the starter, anyone eligible."""
        unit_id = self.unit.id if self.unit else None
        scoped = role_def(role_id).unit_scoped
        if username:
            user = self._user(str(username))
            if user is None:
                raise _Stop(Failure("scenario", Message("没有这个用户：%(user)s", user=username), **where))
            if role_id not in user.role_ids or (scoped and user.unit_id != unit_id):
                raise _Stop(Failure("access", Message("%(user)s不能办理任务“%(task)s”：不属于其角色或科室",
                                                      user=user.full_name, task=_name(task.task_spec)), **where))
            if not access.has_credential(user, role_id):
                raise _Stop(Failure("access", Message("%(user)s（%(username)s）没有当日有效的行政执法证件，不得从事执法活动",
                                                      user=user.full_name, username=user.username), **where))
            assignee = self._assignee(task)
            if assignee and assignee != user.username:
                raise _Stop(Failure("access", Message("任务“%(task)s”指定由%(assignee)s办理",
                                                      task=_name(task.task_spec), assignee=assignee), **where))
            return user.username
        assignee = self._assignee(task)
        if assignee:
            return assignee
        eligible = [u for u in lookups.eligible_users(self.session, role_id) if not scoped or u.unit_id == unit_id]
        if self.starter is not None and any(u.id == self.starter.id for u in eligible):
            return self.starter.username
        return eligible[0].username if eligible else None

    def _placeholders(self, fields, values: dict[str, Any], task_id: str, actor: str | None) -> dict[str, Any]:
        """``"@file"`` in a file field: a simulated upload; ``"@role:<role>"`` in a user field: the first
        person eligible for the role (in the case's unit where it is unit-scoped) other than the actor."""
        kinds = {f.id: f.type for f in fields}

        def resolve(field_id: str, value: Any) -> Any:
            if isinstance(value, list):
                return [resolve(field_id, v) for v in value]
            if not isinstance(value, str):
                return value
            if kinds.get(field_id) == "file" and value.strip() == "@file":
                return sha256(f"dryrun:{task_id}:{field_id}".encode()).hexdigest()
            if kinds.get(field_id) == "user" and value.strip().startswith("@role:"):
                role = lane_role(value.strip()[len("@role:"):])
                if role is None:
                    return value
                unit_id = self.unit.id if self.unit else None
                found = next((u.username for u in lookups.eligible_users(self.session, role.id)
                              if u.username != actor and (not role.unit_scoped or u.unit_id == unit_id)), None)
                return found or value
            return value

        return {k: resolve(k, v) for k, v in values.items()}

    def _assignee(self, task) -> str | None:
        expression = (getattr(task.task_spec, "extensions", {}) or {}).get("assignee")
        if not expression:
            return None
        try:
            username = runtime.evaluate(task, expression)
        except Exception:  # the engine leaves such a task to the role's pool
            return None
        if not isinstance(username, str) or self._user(username) is None:
            return None
        return username

    def _user(self, username: str) -> User | None:
        query = select(User).where(User.username == username, User.active.is_(True))
        return self.session.scalars(query).unique().first()

    # the engine

    def _advance(self, index: int | None) -> None:
        """Run what needs no person, as :meth:`CaseRun.advance` does (timers held)."""
        workflow, running = self.workflow, []

        def will_run(task) -> None:
            running.append(task)
            if len(running) > MAX_ENGINE_STEPS:  # a loop with no person in it would never stop
                raise _Runaway(Message("引擎连续运行了%(n)s个环节仍未停在人工任务上：流程中可能有不经过人工任务的循环",
                                       n=MAX_ENGINE_STEPS))

        try:
            workflow.refresh_timers()
            workflow.do_engine_steps(will_complete_task=will_run)
            while workflow.get_next_task(state=TaskState.READY, manual=False) is not None:
                workflow.do_engine_steps(will_complete_task=will_run)
            runtime.check_not_stalled(workflow)
        except Exception as exc:  # any failure of diagram code or of the engine
            self._fail(running[-1] if running else None, exc, index)

    def _fail(self, task, exc: Exception, index: int | None) -> None:
        failing = getattr(exc, "task", None) or task
        spec = getattr(failing, "task_spec", None)
        element = getattr(spec, "bpmn_id", None) or getattr(exc, "id", None) or None
        process = failing.workflow.spec.name if failing is not None else None
        if element and process:
            self.failed = (self._process_of(process), element)
        message = exc.args[0] if isinstance(exc, _Runaway) else _error_text(exc)
        raise _Stop(Failure("engine", message, element=element,
                            process=self._process_of(process) if process else None, step=index))

    # recording

    def _snapshot(self) -> tuple[set, set]:
        """The tasks completed so far, and those reached so far (completed, live, failed or a join's)."""
        tasks = list(runtime.all_tasks(self.workflow))
        return ({t.id for t in tasks if t.state == TaskState.COMPLETED},
                {t.id for t in tasks if _reached(t)})

    def _record(self, index, kind, task_id, name, process, lane, user, values, before: tuple[set, set],
                notes: list) -> None:
        workflow = self.workflow
        completed_before, reached_before = before
        tasks = [t for t in runtime.all_tasks(workflow) if t.task_spec.bpmn_id]
        arrived = [t for t in tasks if t.id not in reached_before and _reached(t)]
        passed: dict[str, list[str]] = {}
        for t in sorted((t for t in tasks if t.state == TaskState.COMPLETED and t.id not in completed_before),
                        key=lambda t: t.last_state_change):
            passed.setdefault(self._process_of(t.workflow.spec.name), []).append(t.task_spec.bpmn_id)
            if t.task_spec.bpmn_id == contract.DISCLOSURE_HOOK:
                notes.append(Message("此处将写入一条公开记录（试运行不写入）"))
        flows: dict[str, list[str]] = {}
        for t in sorted(arrived, key=lambda t: t.last_state_change):
            process_id = self._process_of(t.workflow.spec.name)
            for flow in self._flows_into(t, process_id):
                if flow not in flows.get(process_id, []):
                    flows.setdefault(process_id, []).append(flow)
                if flow not in self.taken.setdefault(process_id, []):
                    self.taken[process_id].append(flow)
        role = lane_role(lane)
        self.steps.append(Step(
            index=index, kind=kind, task=task_id, name=name, process=self._process_of(process), lane=lane,
            role=role.id if role else None, user=user, values=plain(values),
            data=plain(runtime.current_data(workflow)), passed=passed, flows=flows,
            ready=[self._ready(t) for t in _ready_user_tasks(workflow)], notes=notes))

    def _flows_into(self, task, process_id: str) -> list[str]:
        """The sequence flows by which ``task`` was reached: from the nearest element before it in the tree."""
        source = task.parent
        while source is not None and not source.task_spec.bpmn_id:
            source = source.parent
        if source is None or source.state != TaskState.COMPLETED:
            return []
        pair = (source.task_spec.bpmn_id, task.task_spec.bpmn_id)
        return [fid for fid, ends in self.flows.get(process_id, {}).items() if ends == pair]

    def _ready(self, task) -> ReadyTask:
        spec = task.task_spec
        role = lane_role(spec.lane)
        due = None
        expression = (getattr(spec, "extensions", {}) or {}).get("due")
        if expression:
            try:
                moment = runtime.as_aware(runtime.evaluate(task, expression))
                due = moment.astimezone(TZ).isoformat() if moment else None
            except Exception:  # the engine logs it and leaves the task without a due time
                due = None
        return ReadyTask(spec.bpmn_id, _name(spec), self._process_of(task.workflow.spec.name), spec.lane,
                         role.id if role else None, self._assignee(task), due)

    def _paths(self) -> dict[str, ProcessPath]:
        workflow = self.workflow
        paths: dict[str, ProcessPath] = {}
        by_process: dict[str, list] = {}
        for t in runtime.all_tasks(workflow):
            if t.task_spec.bpmn_id:
                by_process.setdefault(self._process_of(t.workflow.spec.name), []).append(t)
        for process_id, tasks in by_process.items():
            completed = [t for t in tasks if t.state == TaskState.COMPLETED]
            paths[process_id] = ProcessPath(
                done=list(dict.fromkeys(history.path(workflow, completed))),
                flows=list(self.taken.get(process_id, [])),
                current=list(dict.fromkeys(t.task_spec.bpmn_id for t in tasks if t.state & LIVE)),
            )
        if self.failed:
            process_id, element = self.failed
            paths.setdefault(process_id, ProcessPath()).failed = element
            paths[process_id].current = [e for e in paths[process_id].current if e != element]
        return paths

    def _waiting_events(self) -> list[WaitingEvent]:
        out = []
        for t in runtime.all_tasks(self.workflow):
            definition = getattr(t.task_spec, "event_definition", None)
            if t.state != TaskState.WAITING or definition is None or not t.task_spec.bpmn_id:
                continue
            kind = "timer" if isinstance(definition, TimerEventDefinition) else \
                type(definition).__name__.replace("EventDefinition", "").lower() or "event"
            due = None
            if kind == "timer":
                due = _due_of(definition.details(t).value)
            out.append(WaitingEvent(t.task_spec.bpmn_id, _name(t.task_spec), self._process_of(t.workflow.spec.name),
                                    kind, due))
        return out

    def _process_of(self, spec_name: str) -> str:
        while spec_name in self.owner:
            spec_name = self.owner[spec_name]
        return spec_name


class _DryRunLookups(lookups.FormLookups):
    """The world of a live case's form, except that a file is any SHA-256 digest (a simulated upload)."""

    def evidence_exists(self, digest: str) -> bool:
        return True

    def evidence_is_av(self, digest: str) -> bool:
        return True


# --- helpers -----------------------------------------------------------------------------------

def _check_scenario(scenario: Any) -> list[dict[str, Any]]:
    if not isinstance(scenario, dict):
        raise _Stop(Failure("scenario", Message("试运行场景必须是一个JSON对象")))
    if not isinstance(scenario.get("data", {}) or {}, dict):
        raise _Stop(Failure("scenario", Message("场景的data必须是一个对象")))
    steps = scenario.get("steps", []) or []
    if not isinstance(steps, list):
        raise _Stop(Failure("scenario", Message("场景的steps必须是一个列表")))
    for index, item in enumerate(steps):
        if not isinstance(item, dict) or not isinstance(item.get("task"), str) or not item["task"]:
            raise _Stop(Failure("scenario", Message("第%(n)s步没有指明任务（task）", n=index + 1), step=index))
        if not isinstance(item.get("data", {}) or {}, dict):
            raise _Stop(Failure("scenario", Message("第%(n)s步的data必须是一个对象", n=index + 1), step=index))
    return steps


class _HeldTimer:
    """A timer that is evaluated (its due time is known and a bad expression fails) but never fires."""

    def has_fired(self, my_task):
        super().has_fired(my_task)
        my_task._set_internal_data(event_fired=False)
        return False


class _HeldCycle:
    def cycle_complete(self, my_task):
        if my_task._get_internal_data("event_value") is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            cycles, start, duration = TimerEventDefinition.parse_iso_recurring_interval(expression)
            my_task._set_internal_data(event_value={"cycles": cycles, "next": start.isoformat(),
                                                    "duration": duration.total_seconds()})
        return False


_held_classes: dict[type, type] = {}


def _hold_timers(process_spec) -> None:
    """Make the timers of a freshly parsed (so private) process spec never fire."""
    for task_spec in process_spec.task_specs.values():
        definition = getattr(task_spec, "event_definition", None)
        for each in getattr(definition, "event_definitions", []) if isinstance(definition, MultipleEventDefinition) \
                else [definition]:
            if isinstance(each, TimerEventDefinition) and type(each) not in _held_classes.values():
                cls = type(each)
                if cls not in _held_classes:
                    mixin = _HeldCycle if issubclass(cls, CycleTimerEventDefinition) else _HeldTimer
                    _held_classes[cls] = type(f"Held{cls.__name__}", (mixin, cls), {})
                each.__class__ = _held_classes[cls]


def _ready_user_tasks(workflow: BpmnWorkflow) -> list:
    return [t for t in runtime.all_tasks(workflow) if t.state == TaskState.READY and t.task_spec.manual]


def _reached(task) -> bool:
    return bool(task.state & (TaskState.COMPLETED | LIVE | TaskState.ERROR)) or _reached_join(task)


def _reached_join(task) -> bool:
    """A parallel or inclusive join's task for a branch that arrived (cancelled when the next one came)."""
    if task.state != TaskState.CANCELLED or not isinstance(task.task_spec, UnstructuredJoin):
        return False
    parent = task.parent
    while parent is not None and not parent.task_spec.bpmn_id:
        parent = parent.parent
    return parent is not None and parent.state == TaskState.COMPLETED


def _name(spec) -> str:
    return getattr(spec, "bpmn_name", None) or spec.bpmn_id or spec.name


def _due_of(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("next")
    if not isinstance(value, str):
        return None
    try:
        moment = TimerEventDefinition.parse_time_or_duration(value)
    except Exception:
        return value
    return moment.astimezone(TZ).isoformat() if isinstance(moment, datetime) else value


def _error_text(exc: Exception) -> str:
    """The exception in one line, with its cause, as a live case's error is recorded."""
    notes = "; ".join(getattr(exc, "__notes__", []) or [])
    cause = exc.__cause__ or exc.__context__
    out = _one_line(exc) + (f" ({notes})" if notes else "")
    return out + (f" ← {_one_line(cause)}" if cause is not None else "")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def relative_days(values: Any) -> Any:
    """``"@today"``, ``"@today+N"``, ``"@today-N"`` → the ISO date, N days from today (engine clock)."""
    if isinstance(values, dict):
        return {k: relative_days(v) for k, v in values.items()}
    if isinstance(values, list):
        return [relative_days(v) for v in values]
    if isinstance(values, str):
        match = RELATIVE_DAY.match(values.strip())
        if match:
            sign, days = match.groups()
            delta = timedelta(days=int(days or 0)) * (-1 if sign == "-" else 1)
            return (runtime.today() + delta).isoformat()
    return values


def plain(value: Any) -> Any:
    """A JSON-friendly copy: dates as ISO strings, decimals as strings, tuples and sets as lists."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
