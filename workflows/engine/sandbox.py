"""Restricted execution of diagram code: scripts, conditions, DMN cells and timer expressions.

A diagram is uploaded input, so its code is compiled with RestrictedPython (no imports, no
underscore names, guarded attribute and item access) and runs against a small set of builtins
and date/deadline helpers.

Its work is bounded too (:class:`workflows.core.settings.Limits`). The compiled tree routes the
operations that can make huge values out of small ones (``**``, ``*``, ``<<``, ``+``, ``%``,
f-string widths, ``str()`` of shared references, ``str.ljust`` and friends) through guards that
refuse a result past the size limits before computing it; when both operands are literals the
refusal comes at compile time, so the deploy lint reports it. Every loop iteration and every call
of a function defined in diagram code ticks a meter that stops the evaluation past
``script_steps`` ticks, past the unit of work's wall-clock deadline, or when the process grew by
``max_memory_mb`` during it. Past a limit, :class:`LimitExceeded` is raised (diagram code cannot
catch it: bare ``except:`` is refused and no exception class is in reach). A script may leave
behind only what a case can store (:func:`workflows.engine.serialization.unstorable`).
"""

from __future__ import annotations

import ast
import builtins
import math
import operator
import re
import time
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
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from workflows.core.deadlines import DEFAULT_DEADLINES, DeadlineRule, compute_deadline, due_date
from workflows.core.settings import Limits, limits
from workflows.core.workdays import TZ, WorkCalendar
from workflows.engine.serialization import unstorable

Mode = Literal["eval", "exec"]


class LimitExceeded(RuntimeError):
    """Diagram code or the engine went past one of the :class:`~workflows.core.settings.Limits`.

    ``element`` is the id of the element at fault when the raiser knows it."""

    def __init__(self, message: str, element: str | None = None) -> None:
        super().__init__(message)
        self.element = element


class Unstorable(ValueError):
    """A script left data behind that a case cannot store (its values are put back as they were)."""


class _Stop(BaseException):
    """Raised inside diagram code past a limit; not an ``Exception``, so nothing in the code can
    catch it. The environment turns it into :class:`LimitExceeded` once the code has unwound."""


# --- the size guards ---------------------------------------------------------------------------

_SEQUENCES = (str, bytes, list, tuple)
_NUMBERS = (int, float, Decimal)
_CHECK_EVERY = 64  # ticks between looks at the clock, the step budget and the process's memory
_DIGITS_PER_BIT = math.log10(2)


def _fmt(n: float) -> str:
    return f"{int(n):,}"


def _stop_size(what: str, size: float, limit: int, unit: str) -> None:
    raise _Stop(f"{what} would have {_fmt(size)} {unit} (the limit is {_fmt(limit)})")


def _int_bits(what: str, bits: float, lim: Limits) -> None:
    if bits > lim.max_int_bits:
        _stop_size(what, bits, lim.max_int_bits, "bits")


def _items(what: str, size: float, lim: Limits) -> None:
    if size > lim.max_value_size:
        _stop_size(what, size, lim.max_value_size, "characters or items")


def _repeat_size(seq: Any, times: int, lim: Limits) -> None:
    if times > 1:
        _items(f"repeating a {type(seq).__name__} of length {_fmt(len(seq))} {times:,} times", len(seq) * times, lim)


def _decimal_text(value: Decimal) -> int:
    """Characters of a Decimal written out in full (``f`` format, ``int()``)."""
    return abs(value.adjusted()) + 30 if value.is_finite() else 3


def text_size(value: Any, limit: int) -> int:
    """About how many characters ``str(value)`` makes, counting shared references every time they
    are written; the count stops a little past ``limit`` (so measuring never costs more than that)."""
    size, stack = 0, [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bytes:
            size += len(item) + 2
        elif kind is int:
            size += int(item.bit_length() * _DIGITS_PER_BIT) + 2
        elif kind is Decimal:
            size += min(_decimal_text(item), len(str(item)) + 2)
        elif kind is dict:
            size += 2 + 2 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif kind in (list, tuple, set, frozenset):
            size += 2 + 2 * len(item)
            stack.extend(item)
        else:
            size += 32
        if size > limit:
            break
    return size


def _check_spec(spec: str, lim: Limits, what: str) -> None:
    """Widths and precisions in a format spec (``{x:>20.2f}``, ``%10d``) stay under the size limit."""
    if "*" in spec:
        raise _Stop(f"{what}: a width or precision given by '*' is not allowed; write the number")
    for number in re.findall(r"\d+", spec):
        if len(number) > 7 or int(number) > lim.max_value_size:
            _stop_size(f"{what} with width or precision {number}", int(number[:12]), lim.max_value_size, "characters")


_PERCENT = re.compile(r"%(?:\([^)]*\))?([-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?)[hlL]?[a-zA-Z%]")


def guarded_pow(a: Any, b: Any, lim: Limits) -> Any:
    if type(a) is int or type(a) is bool:
        if isinstance(b, int) and b > 1 and abs(a) > 1:
            _int_bits(f"{_short(a)} ** {b:,}", b * math.log2(abs(a)), lim)
    elif type(a) is Decimal and isinstance(b, int) and b > 1 and a.is_finite() and a != 0:
        pass  # Decimal arithmetic rounds to the context's 28 digits and overflows at 10**999999
    return a ** b


def guarded_mul(a: Any, b: Any, lim: Limits) -> Any:
    if isinstance(a, int):
        if isinstance(b, int):
            _int_bits(f"{_short(a)} * {_short(b)}", a.bit_length() + b.bit_length(), lim)
        elif isinstance(b, _SEQUENCES):
            _repeat_size(b, a, lim)
    elif isinstance(b, int) and isinstance(a, _SEQUENCES):
        _repeat_size(a, b, lim)
    return a * b


def guarded_add(a: Any, b: Any, lim: Limits) -> Any:
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        _items(f"joining a {type(a).__name__} of {_fmt(len(a))} and one of {_fmt(len(b))}", len(a) + len(b), lim)
    return a + b


def guarded_lshift(a: Any, b: Any, lim: Limits) -> Any:
    if isinstance(a, int) and isinstance(b, int) and a and b > 0:
        _int_bits(f"{_short(a)} << {b:,}", a.bit_length() + b, lim)
    return a << b


def guarded_mod(a: Any, b: Any, lim: Limits) -> Any:
    if isinstance(a, (str, bytes)):
        text = a.decode("latin-1") if isinstance(a, bytes) else a
        widths = 0
        for spec in _PERCENT.findall(text):
            _check_spec(spec, lim, "%-formatting")
            widths += sum(int(n) for n in re.findall(r"\d+", spec))
        args = b.values() if isinstance(b, dict) else b if isinstance(b, tuple) else (b,)
        size = len(a) + widths + sum(text_size(arg, lim.max_value_size) for arg in args)
        _items("%-formatting", size, lim)
    return a % b


def _short(n: int) -> str:
    return f"{n:,}" if abs(n).bit_length() < 64 else f"a {abs(n).bit_length():,}-bit integer"


_BINARY: dict[type, Callable[[Any, Any, Limits], Any]] = {
    ast.Pow: guarded_pow, ast.Mult: guarded_mul, ast.Add: guarded_add, ast.LShift: guarded_lshift,
    ast.Mod: guarded_mod,
}
_GUARD_NAMES = {ast.Pow: "_pow_", ast.Mult: "_mul_", ast.Add: "_add_", ast.LShift: "_lshift_", ast.Mod: "_mod_"}
_PLAIN = {
    ast.Sub: operator.sub, ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv,
    ast.RShift: operator.rshift, ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor,
}
_INPLACE = {"+=": ast.Add, "*=": ast.Mult, "**=": ast.Pow, "<<=": ast.LShift, "%=": ast.Mod}
_INPLACE_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "@=": operator.imatmul,
    "<<=": operator.ilshift, ">>=": operator.irshift, "&=": operator.iand, "^=": operator.ixor,
    "|=": operator.ior,
}


# --- the meter of one evaluation ---------------------------------------------------------------

def _rss() -> int:
    """Resident memory of this process in bytes (0 where /proc is not there)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


try:
    import os as _os

    _PAGE = _os.sysconf("SC_PAGE_SIZE")
except (ImportError, ValueError, AttributeError, OSError):  # pragma: no cover - not Linux
    _PAGE = 4096


class _Meter:
    """Counts the loop iterations and calls of one evaluation and watches its clock and memory."""

    __slots__ = ("lim", "left", "spent", "stop_at", "rss0", "charged", "inplace")

    def __init__(self, lim: Limits, stop_at: float) -> None:
        self.lim, self.left, self.spent, self.stop_at, self.charged = lim, _CHECK_EVERY, 0, stop_at, 0
        self.rss0 = 0
        self.inplace: dict[str, Callable[[Any, Any], Any]] = {}

    def tick(self) -> None:
        self.left -= 1
        if self.left <= 0:
            self.check()

    def check(self) -> None:
        self.spent += _CHECK_EVERY - self.left
        self.left = _CHECK_EVERY
        if self.spent > self.lim.script_steps:
            raise _Stop(f"more than {_fmt(self.lim.script_steps)} loop iterations and calls")
        if time.monotonic() > self.stop_at:
            raise _Stop(f"past the {self.lim.unit_seconds:g} s budget of one unit of work")
        rss = _rss()
        if not self.rss0:
            self.rss0 = rss  # the first look: about what the process held when the code began
        elif rss - self.rss0 > self.lim.max_memory_mb * 2 ** 20:
            raise _Stop(f"the server's memory grew by {(rss - self.rss0) // 2 ** 20:,} MB "
                        f"(the limit is {self.lim.max_memory_mb:,} MB)")

    def charge(self, size: int) -> None:
        """Account for a large value made: every few megabytes made, look at the process's memory."""
        self.charged += size
        if self.charged > 4_000_000:
            self.charged = 0
            self.check()

    def getiter(self, obj: Any):
        return self._counted(iter(obj))

    def _counted(self, iterator):
        for item in iterator:
            self.left -= 1
            if self.left <= 0:
                self.check()
            yield item

    # the guarded operations, bound to this evaluation's meter

    def op(self, guard: Callable[[Any, Any, Limits], Any]) -> Callable[[Any, Any], Any]:
        lim = self.lim

        def guarded(a: Any, b: Any) -> Any:
            result = guard(a, b, lim)
            if type(result) in (str, bytes, list, tuple) and len(result) > 65536:
                self.charge(len(result))
            return result
        return guarded

    def inplacevar(self, op: str, target: Any, value: Any) -> Any:
        return self.inplace[op](target, value)

    def fmt(self, value: Any, spec: str, conversion: int) -> str:
        """An f-string field: ``{value!conversion:spec}``."""
        lim = self.lim
        if spec:
            _check_spec(spec, lim, "an f-string field")
        size = text_size(value, lim.max_value_size)
        if type(value) is Decimal and spec[-1:] in ("f", "F", "%", "n", ""):
            size = max(size, _decimal_text(value))
        _items("an f-string field", size + max(map(int, re.findall(r"\d+", spec) or [0])), lim)
        if conversion == ord("r"):
            value = repr(value)
        elif conversion == ord("a"):
            value = ascii(value)
        elif conversion == ord("s"):
            value = str(value)
        return format(value, spec)

    def getitem(self, container: Any, key: Any) -> Any:
        result = container[key]
        if type(key) is slice and type(result) in (str, bytes, list, tuple) and len(result) > 65536:
            self.charge(len(result))
        return result

    def getattr(self, obj: Any, name: str, *default: Any) -> Any:
        value = safer_getattr_raise(obj, name, *default)
        if name in _AMPLIFIERS and (isinstance(obj, _AMPLIFIER_TYPES)
                                    or (isinstance(obj, type) and issubclass(obj, _AMPLIFIER_TYPES))):
            return _GuardedMethod(self, obj, name, value)
        return value

    def guards(self) -> dict[str, Any]:
        ops = {kind: self.op(_BINARY[kind]) for kind in _GUARD_NAMES}
        self.inplace = {**_INPLACE_OPERATORS, **{op: ops[kind] for op, kind in _INPLACE.items()}}
        return {
            "_getiter_": self.getiter, "_tick_": self.tick, "_getitem_": self.getitem, "_getattr_": self.getattr,
            "_inplacevar_": self.inplacevar, "_fmt_": self.fmt,
            **{_GUARD_NAMES[kind]: guard for kind, guard in ops.items()},
        }


# Methods that make a value far larger than their arguments, and how large.
_AMPLIFIER_TYPES = (str, bytes, int, list)
_AMPLIFIERS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs", "replace", "join", "translate",
                         "to_bytes", "extend", "copy"})


class _GuardedMethod:
    """A bound (or, on the type, unbound) amplifying method whose result size is checked first."""

    __slots__ = ("meter", "obj", "name", "method")

    def __init__(self, meter: _Meter, obj: Any, name: str, method: Callable[..., Any]) -> None:
        self.meter, self.obj, self.name, self.method = meter, obj, name, method

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if isinstance(self.obj, type):  # str.join(sep, parts): the first argument is the object
            if not args:
                return self.method(*args, **kwargs)
            return _GuardedMethod(self.meter, args[0], self.name, getattr(args[0], self.name))(*args[1:], **kwargs)
        lim, obj, name = self.meter.lim, self.obj, self.name
        what = f"{type(obj).__name__}.{name}()"
        if name == "join":
            parts = list(args[0]) if args else []
            size = sum(len(p) for p in parts if isinstance(p, (str, bytes))) + len(obj) * max(len(parts) - 1, 0)
            _items(what, size, lim)
            args = (parts, *args[1:])
        elif name in ("ljust", "rjust", "center", "zfill", "to_bytes"):
            width = args[0] if args else kwargs.get("width", kwargs.get("length", 0))
            if isinstance(width, int):
                _items(what, width, lim)
        elif name == "expandtabs":
            tab = args[0] if args else kwargs.get("tabsize", 8)
            if isinstance(tab, int):
                _items(what, len(obj) + obj.count("\t" if isinstance(obj, str) else b"\t") * tab, lim)
        elif name == "replace" and len(args) >= 2 and isinstance(args[0], (str, bytes)) \
                and isinstance(args[1], (str, bytes)):
            old, new = args[0], args[1]
            times = obj.count(old) if old else len(obj) + 1
            if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
                times = min(times, args[2])
            _items(what, len(obj) + times * max(len(new) - len(old), 0), lim)
        elif name == "translate" and args and isinstance(args[0], dict):
            longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
            _items(what, len(obj) * max(longest, 1), lim)
        elif name == "extend" and args and hasattr(args[0], "__len__"):
            _items(what, len(obj) + len(args[0]), lim)
        result = self.method(*args, **kwargs)
        if hasattr(result, "__len__") and not isinstance(result, dict) and len(result) > 65536:
            self.meter.charge(len(result))
        return result


# --- guarded builtins --------------------------------------------------------------------------

class _BuiltinType(type):
    """``isinstance(x, str)`` and ``issubclass`` still work on the guarded ``str`` and ``int``."""

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, cls.__mro__[1])

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, cls.__mro__[1])


class _SafeStr(str, metaclass=_BuiltinType):
    """``str()`` that refuses to write out more than the size limit (a list holding one long string
    many times is small to hold and huge to write)."""

    def __new__(cls, obj: Any = "", *args: Any) -> str:  # type: ignore[misc]
        if not args:
            _items("str()", text_size(obj, limits().max_value_size), limits())
        return str(obj, *args)


class _SafeInt(int, metaclass=_BuiltinType):
    """``int()`` that refuses a Decimal with more digits than the integer limit."""

    def __new__(cls, x: Any = 0, *args: Any) -> int:  # type: ignore[misc]
        if type(x) is Decimal and x.is_finite() and x.adjusted() > 0:
            _int_bits("int() of a Decimal", x.adjusted() / _DIGITS_PER_BIT, limits())
        return int(x, *args)


def _safe_round(number: Any, ndigits: int | None = None) -> Any:
    if ndigits is None:
        if type(number) is Decimal and number.is_finite() and number.adjusted() > 0:
            _int_bits("round() of a Decimal", number.adjusted() / _DIGITS_PER_BIT, limits())
        return round(number)
    if isinstance(ndigits, int) and abs(ndigits) > 4300:
        raise _Stop(f"round() to {ndigits:,} digits (at most 4,300)")
    return round(number, ndigits)


def _safe_sum(iterable: Any, start: Any = 0) -> Any:
    if not isinstance(start, (*_NUMBERS, timedelta)):
        raise _Stop("sum() adds numbers; build lists with a comprehension")
    return sum(iterable, start)


_SAFE_BUILTIN_NAMES = (
    "len", "min", "max", "sum", "abs", "round", "sorted", "any", "all",
    "int", "float", "str", "bool", "list", "dict", "set", "tuple",
    "range", "enumerate", "zip", "isinstance",
)
SAFE_BUILTINS: Mapping[str, Any] = {name: getattr(builtins, name) for name in _SAFE_BUILTIN_NAMES} | {
    "range": limited_range,  # RestrictedPython's: refuses ranges of 1,000 items or more
    "str": _SafeStr, "int": _SafeInt, "round": _safe_round, "sum": _safe_sum,
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
# The meter of each evaluation replaces the iterator, item, attribute and in-place guards with its
# counting and size-checking ones (:meth:`_Meter.guards`).
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
_METERED = ("_tick_", "_fmt_", *_GUARD_NAMES.values())

_HELPER_FUNCTIONS = ("today", "now", "add_working_days", "working_days_between", "deadline", "deadline_date",
                     "setting")
_HELPER_VALUES: Mapping[str, Any] = {"Decimal": Decimal, "date": date, "timedelta": timedelta}

HELPER_NAMES: frozenset[str] = frozenset(
    (*_SAFE_BUILTIN_NAMES, *_GUARDS, *_METERED, *_HELPER_FUNCTIONS, *_HELPER_VALUES, "__builtins__")
)
MAX_HELPER_DAYS = 36_600  # a hundred years: the span working-day helpers walk day by day


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

_NOT_LITERAL = object()


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(name, ast.Load()), args=list(args), keywords=[])


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's rules, plus compile-time refusals of imports, classes, print and
    assignments to helpers, which would otherwise fail later with obscure names like `_print_`;
    and the bounds: size guards around the operators that can blow up, a tick in every function
    body, literal operations computed (with the same guards) so a bomb in literals is refused here."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._literals: dict[int, Any] = {}  # id(node) → its value, for nodes made of literals only
        self._limits = limits()

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

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        if node.type is None:
            self.error(node, "a bare except is not allowed")
            return node
        return super().visit_ExceptHandler(node)

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

    # --- bounds ---

    def _value(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        return self._literals.get(id(node), _NOT_LITERAL)

    def _remember(self, node: ast.AST, compute: Callable[[], Any]) -> ast.AST:
        """Record the value of a node made of literals; a literal past a limit is refused here."""
        try:
            self._literals[id(node)] = compute()
        except _Stop as stop:
            self.error(node, str(stop))
        except Exception:  # 1 / 0 and the like fail when they run, as before
            pass
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        left, right, kind = self._value(node.left), self._value(node.right), type(node.op)
        if left is not _NOT_LITERAL and right is not _NOT_LITERAL:
            if kind in _BINARY:
                return self._remember(node, lambda: _BINARY[kind](left, right, self._limits))
            if kind in _PLAIN:
                return self._remember(node, lambda: _PLAIN[kind](left, right))
            return node
        if kind not in _GUARD_NAMES:
            return node
        if kind is ast.Add and isinstance(left if left is not _NOT_LITERAL else right, _NUMBERS):
            return node  # adding a number grows nothing
        if kind is ast.Mod and isinstance(left, _NUMBERS):
            return node  # arithmetic, not formatting
        call = _call(_GUARD_NAMES[kind], node.left, node.right)
        ast.copy_location(call, node)
        return ast.fix_missing_locations(call)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        node = super().visit_UnaryOp(node)
        operand = self._value(node.operand)
        unary = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert,
                 ast.Not: operator.not_}.get(type(node.op))
        if operand is not _NOT_LITERAL and unary is not None:
            return self._remember(node, lambda: unary(operand))
        return node

    def _sequence(self, node: ast.List | ast.Tuple | ast.Set, kind: type) -> ast.AST:
        values = [self._value(e) for e in node.elts]
        if all(v is not _NOT_LITERAL for v in values):
            return self._remember(node, lambda: kind(values))
        return node

    def visit_List(self, node: ast.List) -> ast.AST:
        return self._sequence(super().visit_List(node), list)

    def visit_Tuple(self, node: ast.Tuple) -> ast.AST:
        return self._sequence(super().visit_Tuple(node), tuple)

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        node = super().visit_Lambda(node)
        node.body = ast.BoolOp(op=ast.Or(), values=[_call("_tick_"), node.body])
        ast.fix_missing_locations(ast.copy_location(node.body, node))
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node = super().visit_FunctionDef(node)
        tick = ast.Expr(_call("_tick_"))
        ast.fix_missing_locations(ast.copy_location(tick, node))
        node.body.insert(0, tick)
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        node = super().visit_FormattedValue(node)
        spec: ast.expr = ast.Constant("")
        if node.format_spec is not None:
            literal = [v.value for v in node.format_spec.values if isinstance(v, ast.Constant)]
            if len(literal) == len(node.format_spec.values):
                spec = ast.Constant("".join(literal))
                try:
                    _check_spec(spec.value, self._limits, "an f-string field")
                except _Stop as stop:
                    self.error(node, str(stop))
            else:
                spec = node.format_spec
        call = _call("_fmt_", node.value, spec, ast.Constant(node.conversion))
        formatted = ast.FormattedValue(value=call, conversion=-1, format_spec=None)
        ast.copy_location(formatted, node)
        return ast.fix_missing_locations(formatted)


@lru_cache(maxsize=2048)
def _compile(source: str, mode: Mode) -> tuple[CodeType | None, tuple[str, ...]]:
    compiler = {"eval": compile_restricted_eval, "exec": compile_restricted_exec}[mode]
    try:
        result = compiler(source, policy=_Policy)
    except (RecursionError, MemoryError):
        return None, ("Line 1: the code is nested too deeply",)
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


def literal_value(source: str) -> Any:
    """The value of an expression made of literals only (``10 ** 7``), computed under the size
    guards; None when it is not one (or past a limit: :func:`check_source` reports that)."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    policy = _Policy(errors=[], warnings=[], used_names={})
    try:
        node = policy.visit(tree).body
    except (RecursionError, MemoryError):
        return None
    value = policy._value(node)
    return None if value is _NOT_LITERAL else value


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class SandboxEnvironment(TaskDataEnvironment):
    """SpiffWorkflow's task-data environment, running restricted code with the case helpers.

    Task data is the namespace, as in `TaskDataEnvironment`; the builtins and guards are put in
    last so task data can never replace them. ``stop_at`` is the unit of work's deadline
    (``time.monotonic()``), set by :class:`workflows.engine.runtime.UnitBudget`; without one, each
    evaluation gets the unit's budget of its own.
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
        self.stop_at: float | None = None
        self.rss0 = 0  # the process's memory when the unit of work began (0: measured on first look)
        helpers = {name: getattr(self, name) for name in _HELPER_FUNCTIONS}
        super().__init__({**helpers, **_HELPER_VALUES})
        self._protected = {"__builtins__": dict(SAFE_BUILTINS), **_GUARDS}

    def _meter(self) -> _Meter:
        lim = limits()
        own = time.monotonic() + lim.unit_seconds
        meter = _Meter(lim, own if self.stop_at is None else min(self.stop_at, own))
        meter.rss0 = self.rss0
        return meter

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        code = _compiled(expression, "eval")
        meter = self._meter()
        my_globals = dict(self.globals)
        self._prepare_context(context)
        my_globals.update(external_context or {})
        my_globals.update(context)
        my_globals.update(self._protected)
        my_globals.update(meter.guards())
        try:
            return eval(code, my_globals)
        except _Stop as stop:
            raise LimitExceeded(str(stop)) from None

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        code = _compiled(script, "exec")
        self.check_for_overwrite(context, external_context or {})
        before = dict(context)
        meter = self._meter()
        my_globals = dict(self.globals)
        self._prepare_context(context)
        my_globals.update(external_context or {})
        my_globals.update(self._protected)
        my_globals.update(meter.guards())
        context.update(my_globals)
        try:
            exec(code, context)
        except _Stop as stop:
            raise LimitExceeded(str(stop)) from None
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        problem = unstorable(context, limits())
        if problem:
            context.clear()
            context.update(before)  # values changed in place stay changed; the engine's net scrubs them
            raise Unstorable(f"the script leaves data a case cannot store: {problem}")
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
        if isinstance(n, int) and abs(n) > MAX_HELPER_DAYS:
            raise LimitExceeded(f"add_working_days() of {n:,} days (at most {MAX_HELPER_DAYS:,})")
        return self.calendar.add_working_days(d, n)

    def working_days_between(self, a: date, b: date) -> int:
        """Count working days in (a, b]."""
        if isinstance(a, date) and isinstance(b, date) and abs((b - a).days) > MAX_HELPER_DAYS:
            raise LimitExceeded(f"working_days_between() over {abs((b - a).days):,} days "
                                f"(at most {MAX_HELPER_DAYS:,})")
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


class SandboxScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine over a :class:`SandboxEnvironment`, which also refuses a loop
    cardinality past ``max_loop_iterations`` before the engine makes a child for each."""

    def evaluate(self, task, expression, external_context=None):
        value = super().evaluate(task, expression, external_context)
        if isinstance(value, int) and expression == getattr(task.task_spec, "cardinality", None):
            cap = limits().max_loop_iterations
            if value > cap:
                element = task.task_spec.bpmn_id
                fault = LimitExceeded(f"{element}: loop cardinality {value:,} is past the limit of {cap:,} instances",
                                      element)
                raise WorkflowTaskException(str(fault), task=task, exception=fault) from fault
        return value


def make_script_engine(environment: SandboxEnvironment) -> PythonScriptEngine:
    """Return a SpiffWorkflow script engine that runs everything through `environment`."""
    return SandboxScriptEngine(environment=environment)
