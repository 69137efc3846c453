"""Restricted execution of diagram code: scripts, conditions, DMN cells and timer expressions.

A diagram is uploaded input, so its code is compiled with RestrictedPython (no imports, no
underscore names, guarded attribute and item access) and runs against a small set of builtins
and date/deadline helpers.
"""

from __future__ import annotations

import ast
import builtins
import operator
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from types import CodeType
from typing import Any, Literal

from RestrictedPython.Limits import limited_range
from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr_raise,
)
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from workflows.core.deadlines import DEFAULT_DEADLINES, DeadlineRule, compute_deadline, due_date
from workflows.core.workdays import TZ, WorkCalendar

Mode = Literal["eval", "exec"]

_SAFE_BUILTIN_NAMES = (
    "len", "min", "max", "sum", "abs", "round", "sorted", "any", "all",
    "int", "float", "str", "bool", "list", "dict", "set", "tuple",
    "range", "enumerate", "zip", "isinstance",
)
SAFE_BUILTINS: Mapping[str, Any] = {name: getattr(builtins, name) for name in _SAFE_BUILTIN_NAMES} | {
    "range": limited_range,  # RestrictedPython's: refuses ranges of 1,000 items or more
}

_INPLACE_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "@=": operator.imatmul,
    "<<=": operator.ilshift, ">>=": operator.irshift, "&=": operator.iand, "^=": operator.ixor,
    "|=": operator.ior,
}


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    return _INPLACE_OPERATORS[op](target, value)


def _getitem(container: Any, key: Any) -> Any:
    return container[key]


def _apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


# Names the RestrictedPython-transformed code calls. `safer_getattr_raise` refuses underscore and
# frame/code attributes and str.format/format_map and string.Formatter, whose "{0.__class__}"
# fields would walk dunders; plain `safer_getattr` would turn a missing attribute into None.
_GUARDS: Mapping[str, Any] = {
    "_getattr_": safer_getattr_raise,
    "_getitem_": _getitem,
    "_getiter_": iter,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_apply_": _apply,
}

_HELPER_FUNCTIONS = ("today", "now", "add_working_days", "working_days_between", "deadline", "deadline_date",
                     "setting")
_HELPER_VALUES: Mapping[str, Any] = {"Decimal": Decimal, "date": date, "timedelta": timedelta}

HELPER_NAMES: frozenset[str] = frozenset(
    (*_SAFE_BUILTIN_NAMES, *_GUARDS, *_HELPER_FUNCTIONS, *_HELPER_VALUES, "__builtins__")
)


class ScriptRejected(SyntaxError):
    """Raised when diagram code does not compile under the sandbox rules; nothing was run."""

    def __init__(self, errors: tuple[str, ...]) -> None:
        super().__init__("; ".join(errors))
        first_line = re.match(r"Line (\d+):", errors[0])
        self.lineno = int(first_line.group(1)) if first_line else 0
        self.errors = errors


FORBIDDEN_NAMES = frozenset({
    "open", "getattr", "setattr", "delattr", "hasattr", "type", "vars", "globals", "locals", "dir",
    "compile", "input", "breakpoint", "help", "memoryview", "object", "super", "exit", "quit",
})


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's rules, plus compile-time refusals of imports, classes, print and
    assignments to helpers, which would otherwise fail later with obscure names like `_print_`."""

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> ast.AST:
        self.error(node, "imports are not allowed")
        return node

    visit_ImportFrom = visit_Import

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if node.attr in ("format", "format_map"):
            self.error(node, "str.format can walk attributes; use an f-string instead")
            return node
        return super().visit_Attribute(node)

    def visit_While(self, node: ast.While) -> ast.AST:
        self.error(node, "while loops are not allowed (a diagram script must always finish); use for")
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self.error(node, "class definitions are not allowed")
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in FORBIDDEN_NAMES:
            self.error(node, f'"{node.id}" is not available in diagram code')
            return node
        if node.id in ("print", "printed"):
            self.error(node, "print is not available; assign the value to a variable instead")
            return node
        if not isinstance(node.ctx, ast.Load) and node.id in HELPER_NAMES:
            self.error(node, f'"{node.id}" is a predefined name and cannot be assigned')
            return node
        return super().visit_Name(node)


@lru_cache(maxsize=2048)
def _compile(source: str, mode: Mode) -> tuple[CodeType | None, tuple[str, ...]]:
    compiler = {"eval": compile_restricted_eval, "exec": compile_restricted_exec}[mode]
    result = compiler(source, policy=_Policy)
    return result.code, tuple(result.errors)


def _compiled(source: str, mode: Mode) -> CodeType:
    code, errors = _compile(source, mode)
    if code is None:
        raise ScriptRejected(errors)
    return code


def check_source(source: str, mode: Mode) -> list[str]:
    """Return the reasons `source` would be refused (empty when it compiles), for the deploy lint."""
    if mode not in ("eval", "exec"):
        raise ValueError(f"mode must be 'eval' or 'exec', got {mode!r}")
    return list(_compile(source, mode)[1])


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class SandboxEnvironment(TaskDataEnvironment):
    """SpiffWorkflow's task-data environment, running restricted code with the case helpers.

    Task data is the namespace, as in `TaskDataEnvironment`; the builtins and guards are put in
    last so task data can never replace them.
    """

    def __init__(
        self,
        calendar: WorkCalendar,
        deadline_rule: Callable[[str], DeadlineRule] = DEFAULT_DEADLINES.__getitem__,
        clock: Callable[[], datetime] = _utc_now,
        policy: Callable[[str], Any] | None = None,
    ) -> None:
        self.calendar = calendar
        self._deadline_rule = deadline_rule
        self._clock = clock
        self._policy = policy
        helpers = {name: getattr(self, name) for name in _HELPER_FUNCTIONS}
        super().__init__({**helpers, **_HELPER_VALUES})
        self._protected = {"__builtins__": dict(SAFE_BUILTINS), **_GUARDS}

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        code = _compiled(expression, "eval")
        my_globals = dict(self.globals)
        self._prepare_context(context)
        my_globals.update(external_context or {})
        my_globals.update(context)
        my_globals.update(self._protected)
        return eval(code, my_globals)

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        code = _compiled(script, "exec")
        self.check_for_overwrite(context, external_context or {})
        my_globals = dict(self.globals)
        self._prepare_context(context)
        my_globals.update(external_context or {})
        my_globals.update(self._protected)
        context.update(my_globals)
        try:
            exec(code, context)
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True

    def check_for_overwrite(self, context: dict[str, Any], external_context: dict[str, Any]) -> None:
        """Refuse task data that would hide a helper or builtin, as the parent does for its globals."""
        shadowed = HELPER_NAMES.union(external_context).intersection(context)
        if shadowed:
            raise ValueError(
                "task data overwrites predefined names; rename these fields: " + ", ".join(sorted(shadowed))
            )

    def now(self) -> datetime:
        """Return the current time in Asia/Shanghai from the injected clock."""
        current = self._clock()
        if current.tzinfo is None or current.utcoffset() is None:
            raise ValueError("the clock returned a naive datetime")
        return current.astimezone(TZ)

    def today(self) -> date:
        """Return today's date in Asia/Shanghai."""
        return self.now().date()

    def add_working_days(self, d: date, n: int) -> date:
        """Return the n-th working day after d."""
        return self.calendar.add_working_days(d, n)

    def working_days_between(self, a: date, b: date) -> int:
        """Count working days in (a, b]."""
        return self.calendar.working_days_between(a, b)

    def deadline(self, name: str, start: date | datetime | str | None = None) -> str:
        """Return the end of the due day as ISO 8601 with offset, the form timeDate timers take."""
        return compute_deadline(self._rule(name), self.now() if start is None else start, self.calendar).isoformat()

    def deadline_date(self, name: str, start: date | datetime | str | None = None) -> date:
        """Return the due day of a named deadline."""
        return due_date(self._rule(name), self.now() if start is None else start, self.calendar)

    def setting(self, name: str) -> Any:
        """Return a policy setting: an amount or rate as ``Decimal``, anything else as text."""
        if self._policy is None:
            raise ValueError(f"unknown setting {name!r}")
        return self._policy(name)

    def _rule(self, name: str) -> DeadlineRule:
        try:
            return self._deadline_rule(name)
        except KeyError:
            raise ValueError(f"unknown deadline {name!r}") from None


def make_script_engine(environment: SandboxEnvironment) -> PythonScriptEngine:
    """Return a SpiffWorkflow script engine that runs everything through `environment`."""
    return PythonScriptEngine(environment=environment)
