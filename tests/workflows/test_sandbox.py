from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.util.task import TaskState

from workflows.engine import sandbox
from workflows.core.deadlines import DEFAULT_DEADLINES, DeadlineRule
from workflows.engine.sandbox import HELPER_NAMES, SandboxEnvironment, ScriptRejected, check_source, make_script_engine
from workflows.core.workdays import TZ, WorkCalendar

BPMN_DIR = Path(__file__).parents[1] / "bpmn"
NOW = datetime(2026, 9, 30, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai


@pytest.fixture
def env() -> SandboxEnvironment:
    return SandboxEnvironment(WorkCalendar(), clock=lambda: NOW)


REFUSED_AT_COMPILE = [
    "import os",
    "from os import path",
    "__import__('os')",
    "().__class__.__mro__[1].__subclasses__()",
    "f'{x.__class__}'",
    "eval('1')",
    "exec('x=1')",
    "(i for i in [1]).gi_frame.f_globals",
    "print('x')",
    "class A:\n    pass",
    "len = 3",
    "while True:\n    pass",
    # names and attributes refused by name at compile time
    "open('/etc/passwd')",
    "getattr(x, '__class__')",
    "setattr(x, 'y', 1)",
    'type(x)',
    'vars()',
    'globals()',
    "compile('1', 'x', 'eval')",
    "'{0.__class__}'.format(1)",
    "'{0.__class__.__mro__}'.format_map({'0': 1})",
    "str.format('{0.__class__}', 1)",
    "str.format_map('{x.__class__}', {'x': 1})",
    "'{0.year}'.format(date(2026, 1, 1))",
    "sorted(['{0.__class__}'], key=str.format)",
]

REFUSED_AT_RUN = [
    ("today.nonexistent", AttributeError),
]


@pytest.mark.parametrize("source", REFUSED_AT_COMPILE)
def test_hostile_code_is_refused_before_it_runs(env, source):
    script = "ran = True\n" + source
    data: dict = {"x": 1}
    with pytest.raises(ScriptRejected) as refused:
        env.execute(script, data)
    assert refused.value.lineno == 2
    assert data == {"x": 1}
    assert check_source(script, "exec")


@pytest.mark.parametrize(("source", "error"), REFUSED_AT_RUN)
def test_hostile_calls_fail_without_reaching_anything(env, source, error):
    with pytest.raises(error):
        env.evaluate(source, {"x": 1})


def test_str_percent_formatting_is_the_allowed_alternative(env):
    assert env.evaluate("'%s-%d' % (name, n)", {"name": "案", "n": 7}) == "案-7"
    assert env.evaluate("f'{amount:.2f} 元'", {"amount": 12.5}) == "12.50 元"


def test_legitimate_scripts(env):
    data = {"daily_fine": "12.50", "days": 4, "fields": {"a": 1}}
    env.execute(
        "\n".join(
            [
                "fine = Decimal(daily_fine) * days",
                "counter = 0",
                "for key, value in fields.items():",
                "    counter += value",
                "counter += 1",
                "first, second = [1, 2]",
                "rows = [{'n': n, 'sq': n * n} for n in range(3)]",
                "rows[0]['n'] = 9",
                "ordered = sorted(rows, key=lambda r: -r['sq'])",
                "biggest = max(*[3, 8, 5])",
                "later = date(2026, 9, 30) + timedelta(days=3)",
                "gap = working_days_between(date(2026, 9, 30), later)",
                "due = deadline('publish_penalty', date(2026, 9, 30))",
                "due_day = deadline_date('service', '2026-09-30')",
                "helper = lambda: 1",
            ]
        ),
        data,
    )
    assert data["fine"] == Decimal("50.00")
    assert data["counter"] == 2
    assert (data["first"], data["second"]) == (1, 2)
    assert data["rows"][0] == {"n": 9, "sq": 0}
    assert data["ordered"][0]["sq"] == 4
    assert data["biggest"] == 8
    assert data["later"] == date(2026, 10, 3)
    assert data["gap"] == 0  # 1-7 October are holidays
    assert data["due"] == "2026-10-15T23:59:59+08:00"
    assert data["due_day"] == date(2026, 10, 15)
    assert "helper" not in data
    assert not HELPER_NAMES.intersection(data)


def test_clock_helpers(env):
    assert env.evaluate("now()", {}) == datetime(2026, 9, 30, 10, 0, tzinfo=TZ)
    assert env.evaluate("now()", {}).utcoffset() == timedelta(hours=8)
    assert env.evaluate("today()", {}) == date(2026, 9, 30)
    assert env.evaluate("deadline('publish_penalty')", {}) == "2026-10-15T23:59:59+08:00"
    assert env.evaluate("add_working_days(today(), 1)", {}) == date(2026, 10, 8)


def test_a_naive_clock_is_refused():
    env = SandboxEnvironment(WorkCalendar(), clock=lambda: datetime(2026, 9, 30, 2, 0))
    with pytest.raises(ValueError, match="naive"):
        env.evaluate("today()", {})


def test_deadline_is_a_valid_timer_date(env):
    expression = env.evaluate("deadline('service', '2026-09-30')", {})
    assert TimerEventDefinition.get_datetime(expression) == datetime(2026, 10, 15, 15, 59, 59, tzinfo=timezone.utc)


def test_deadlines_come_from_the_injected_settings():
    settings = {"service": DeadlineRule("service", 1, "working_days", "送达期限", "test")}
    env = SandboxEnvironment(WorkCalendar(), deadline_rule=settings.__getitem__, clock=lambda: NOW)
    assert env.evaluate("deadline_date('service', date(2026, 9, 30))", {}) == date(2026, 10, 8)
    with pytest.raises(ValueError, match="unknown deadline 'payment'"):
        env.evaluate("deadline('payment')", {})


def test_unknown_default_deadline(env):
    with pytest.raises(ValueError, match="unknown deadline 'nope'"):
        env.evaluate("deadline('nope')", {})
    assert "payment" in DEFAULT_DEADLINES


def test_task_data_may_not_shadow_helpers_or_builtins(env):
    for name in ("date", "deadline", "len", "_getattr_"):
        with pytest.raises(ValueError, match=name):
            env.execute("y = 1", {name: 1})


def test_task_data_cannot_replace_the_guards(env):
    assert env.evaluate("d.get('a')", {"d": {"a": 1}, "_getattr_": None, "__builtins__": {}}) == 1


def test_dmn_input_expression_name_passes(env):
    assert env.evaluate("0 <= dmninputexpr <= 1000", {}, external_context={"dmninputexpr": 5})
    with pytest.raises(ScriptRejected):
        env.evaluate("dmninputexpr.__class__", {}, external_context={"dmninputexpr": 5})


def test_check_source():
    assert check_source("amount > 1000 and level == 'fine'", "eval") == []
    assert check_source("x = 1\ny = x + 1", "exec") == []
    assert check_source("x =", "exec") == ["Line 1: SyntaxError: invalid syntax at statement: 'x ='"]
    assert check_source("a.__class__", "eval")
    with pytest.raises(ValueError, match="mode"):
        check_source("1", "single")  # type: ignore[arg-type]


def test_helper_names_cover_everything_a_script_sees(env):
    assert set(env.globals) <= HELPER_NAMES
    assert set(env._protected["__builtins__"]) <= HELPER_NAMES
    assert {"today", "now", "deadline", "deadline_date", "Decimal", "len", "isinstance"} <= HELPER_NAMES
    assert not {"open", "getattr", "eval", "exec", "type", "__import__"} & set(env._protected["__builtins__"])


def test_compiled_code_is_cached(env):
    sandbox._compile.cache_clear()
    for _ in range(3):
        env.evaluate("1 + 1", {})
    assert sandbox._compile.cache_info().hits == 2


def _workflow(script_engine: PythonScriptEngine, replace: tuple[str, str] | None = None) -> BpmnWorkflow:
    parser = CamundaParser()
    bpmn = (BPMN_DIR / "sandbox_script.bpmn").read_text(encoding="utf-8")
    if replace:
        bpmn = bpmn.replace(*replace)
    parser.add_bpmn_str(bpmn.encode())
    parser.add_dmn_file(str(BPMN_DIR / "sandbox_decision.dmn"))
    workflow = BpmnWorkflow(parser.get_spec("sandbox_script"), script_engine=script_engine)
    (start,) = workflow.get_tasks(state=TaskState.READY)
    start.set_data(daily_fine="50", days=3, decided_on="2026-09-30")
    return workflow


@pytest.mark.parametrize(("daily_fine", "level"), [("50", "warning"), ("500", "fine")])
def test_bpmn_script_dmn_and_gateway_run_in_the_sandbox(env, daily_fine, level):
    workflow = _workflow(make_script_engine(env))
    workflow.get_tasks(state=TaskState.READY)[0].set_data(daily_fine=daily_fine)
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert workflow.data["level"] == level
    assert workflow.data["outcome"] == level
    assert workflow.data["counted"] == 3
    assert workflow.data["publish_by"] == "2026-10-15T23:59:59+08:00"


def test_hostile_bpmn_script_fails_the_task(env):
    workflow = _workflow(make_script_engine(env), ("fine = str(", "import os\nfine = str("))
    with pytest.raises(WorkflowTaskException) as failed:
        workflow.do_engine_steps()
    assert failed.value.error_type == "ScriptRejected"
    assert failed.value.line_number == 1
    assert "imports are not allowed" in str(failed.value)
    assert "fine" not in failed.value.task.data


def test_ranges_are_bounded(env):
    assert env.evaluate("len(range(999))", {}) == 999
    with pytest.raises(ValueError):
        env.evaluate("list(range(10 ** 9))", {})
