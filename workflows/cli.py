"""The `sanxiang` command: everything a person runs, on the same operations as the web app.

Only `serve` imports the web app, and only when it runs. Errors the user can cause are printed as
one readable line (exit code 1); there is no traceback.
"""
from __future__ import annotations

import functools
import importlib
import getpass
import json
import sys
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from workflows.domain import casefile, cases, checkpoints, credentials, inbox, integrity, people, policy, records, tasks
from workflows.domain import holidays as holiday_admin
from workflows.design import deployment
from workflows.design import migration
from workflows.bootstrap import init_database
from workflows.core.db import session_scope
from workflows.demo import load_demo
from workflows.core.errors import Conflict, EngineError, FormInvalid, NotAllowed, NotFound, ValidationFailed
from workflows.design.layout import layout_file
from workflows.core.models import HumanTask, Instance
from workflows.domain.people import get_user
from workflows.core.settings import limits, load_settings
from workflows.engine.serialization import unstorable
from workflows.design.validation import validate
from workflows.worker import SweepReport, run_worker, start_sweeper_thread


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


EXIT_INVALID, EXIT_REFUSED, EXIT_NOT_FOUND, EXIT_CONFLICT = 1, 3, 4, 5  # 2 is click's usage error
EXIT_SWEEP_FAILED = 125  # `worker`: otherwise its exit status counts the cases parked in error


def handle_errors(fn):
    """Turn the engine's typed errors into one clear line and an exit status by kind: 1 invalid
    input, 3 not allowed, 4 not found, 5 changed by someone else meanwhile."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ValidationFailed as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            sys.exit(EXIT_INVALID)
        except FormInvalid as exc:
            for field, messages in exc.errors.items():
                click.echo(f"{field}: {' '.join(messages)}", err=True)
            sys.exit(EXIT_INVALID)
        except (EngineError, ValueError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_REFUSED if isinstance(exc, NotAllowed) else EXIT_NOT_FOUND if isinstance(exc, NotFound)
                     else EXIT_CONFLICT if isinstance(exc, Conflict) else EXIT_INVALID)
    return wrapper


def _json_data(text: str | None) -> dict:
    if not text:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--data is not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise ValueError("--data is nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError("--data must be a JSON object")
    problem = unstorable(data, limits())
    if problem:
        raise ValueError(f"--data cannot be stored with a case: {problem}")
    return data


@click.group()
def main():
    """Enforcement case system of the three systems (行政执法三项制度)."""


@main.command()
@click.option("--demo", is_flag=True, help="Add demo people, catalogue and deploy bpmn/.")
@handle_errors
def init(demo):
    """Create or upgrade the database."""
    settings = load_settings()
    with session_scope(settings) as session:
        init_database(settings, session)
        if demo:
            load_demo(session, settings)
    click.echo(f"database ready: {settings.database_url}")


@main.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@handle_errors
def validate_cmd(paths):
    """Check BPMN/DMN files; one line per problem."""
    problems = validate(deployment.read_model_files(list(paths)))
    if problems:
        raise ValidationFailed(problems)
    click.echo("ok: no problems found")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@handle_errors
def layout(files):
    """Lay out BPMN diagrams lane by lane, left to right (rewrites their diagram section)."""
    for file in files:
        layout_file(file)
        click.echo(f"laid out {file}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--note", "-m", default="", help="Why: kept with the version and in the audit chain.")
@handle_errors
def deploy(paths, note):
    """Validate and deploy BPMN/DMN files as the next model-set version."""
    settings = load_settings()
    with session_scope(settings) as session:
        result = deployment.deploy(session, deployment.read_model_files(list(paths)), _actor(), note)
    if result.is_new:
        click.echo(f"deployed model set version {result.version}: {', '.join(result.changed)}")
    else:
        click.echo(f"unchanged: model set version {result.version} already has these files")


@main.command()
@click.argument("process_id")
@click.option("--user", "username", required=True, help="The filing officer.")
@click.option("--data", help="Initial case data as a JSON object.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def start(process_id, username, data, as_json):
    """Start a case of PROCESS_ID. A case whose diagram code fails at once is kept, parked in error:
    the error is printed and the exit status is 1."""
    settings = load_settings()
    with session_scope(settings) as session:
        started = cases.start(session, settings, get_user(session, username), process_id, _json_data(data))
        instance = started.instance
        out = {"case_no": instance.case_no, "id": instance.id, "status": instance.status,
               "tasks": [_task_dict(r) for r in started.tasks]}
        if instance.status == "error":
            out["error"] = {"element": instance.error_task, "message": instance.error_message}
    _print(out, as_json, lambda o: f"started {o['case_no']} (id {o['id']}, {o['status']})\n" +
           "\n".join(_task_line(t) for t in o["tasks"]))
    if "error" in out:
        click.echo(f"error at {out['error']['element'] or '-'}: {out['error']['message']}", err=True)
        sys.exit(EXIT_INVALID)


def _task_dict(row: HumanTask) -> dict:
    return {"task_id": row.task_id, "name": row.name, "role": row.role_id, "assignee": row.assignee,
            "case_no": row.instance.case_no, "due": row.due_at.isoformat() if row.due_at else None}


def _task_line(t: dict) -> str:
    who = t["assignee"] or f"[{t['role']}]"
    due = f"  due {t['due'][:10]}" if t["due"] else ""
    case = f"{t['case_no']}  " if t.get("case_no") else ""
    return f"  {t['task_id']}  {case}{t['name']}  {who}{due}"


def _print(obj, as_json: bool, text) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2) if as_json else text(obj))


@main.command("tasks")
@click.option("--user", "username", help="Show this user's tasks and unclaimed tasks of their roles.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def tasks_cmd(username, as_json):
    """List ready tasks."""
    settings = load_settings()
    with session_scope(settings, write=False) as session:
        if username:
            user = get_user(session, username)
            rows = inbox.my_tasks(session, user, per_page=100).items + inbox.pool_tasks(session, user, per_page=100).items
        else:
            rows = list(session.scalars(select(HumanTask).options(joinedload(HumanTask.instance))
                                        .where(HumanTask.state == "ready").order_by(HumanTask.id)))
        out = [_task_dict(r) for r in rows]
    _print(out, as_json, lambda o: "\n".join(_task_line(t) for t in o) or "no ready tasks")


@main.command()
@click.argument("task_id")
@click.option("--user", "username", required=True)
@handle_errors
def claim(task_id, username):
    """Claim an unassigned task."""
    settings = load_settings()
    with session_scope(settings) as session:
        row = tasks.claim(session, get_user(session, username), task_id)
        click.echo(f"claimed {row.name} for {row.assignee}")


@main.command()
@click.argument("task_id")
@click.option("--user", "username", required=True)
@handle_errors
def release(task_id, username):
    """Put a claimed task back in its role's pool."""
    settings = load_settings()
    with session_scope(settings) as session:
        row = tasks.release(session, get_user(session, username), task_id)
        click.echo(f"released {row.name}")


@main.command()
@click.argument("task_id")
@click.option("--user", "username", required=True)
@click.option("--data", help="Form values as a JSON object.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def complete(task_id, username, data, as_json):
    """Complete a task with form data."""
    settings = load_settings()
    with session_scope(settings) as session:
        outcome = tasks.complete_or_raise(session, get_user(session, username), task_id, _json_data(data))
        out = {"case_no": outcome.instance.case_no, "status": outcome.instance.status,
               "error": outcome.instance.error_message, "tasks": [_task_dict(r) for r in outcome.next_tasks]}
    _print(out, as_json, lambda o: f"{o['case_no']}: {o['status']}" + (f" ({o['error']})" if o["error"] else "")
           + "".join("\n" + _task_line(t) for t in o["tasks"]))


@main.command()
@click.argument("case_no")
@click.option("--user", "username", required=True, help="Who reads the case file (the read is recorded).")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def show(case_no, username, as_json):
    """Show a case file: status, open tasks, completed forms (reading it is recorded)."""
    settings = load_settings()
    with session_scope(settings) as session:
        instance_id = session.scalar(select(Instance.id).where(Instance.case_no == case_no))
        if instance_id is None:
            raise NotFound(f"case {case_no} does not exist")
        file = casefile.read(session, get_user(session, username), instance_id)
        out = {"case_no": file.instance.case_no, "status": file.instance.status, "unit": file.unit.name,
               "party": file.instance.party_name, "matter": file.instance.matter_code,
               "tasks": [_task_dict(r) for r in file.tasks],
               "completed": [{"task": f.name, "by": f.actor, "at": f.at.isoformat()} for f in file.forms]}
    _print(out, as_json, lambda o: f"{o['case_no']}  {o['status']}  {o['unit']}  {o['party'] or ''}\n"
           + "".join(f"  done {f['at'][:16]}  {f['task']}  {f['by']}\n" for f in o["completed"])
           + "\n".join(_task_line(t) for t in o["tasks"]))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON, for monitoring (same exit status).")
@click.option("--checkpoint", is_flag=True,
              help="When everything verifies, append a signed checkpoint of every chain to the checkpoint file "
                   "and print it.")
@handle_errors
def verify(as_json, checkpoint):
    """Verify the audit chains (and against the latest checkpoint), cases, model sets and evidence; name each problem.

    Exit status 1 when anything is wrong."""
    settings = load_settings()
    with session_scope(settings, write=False) as session:
        found = integrity.report(session, records.evidence_store(settings))
        written, refused = None, []
        if checkpoint and found.ok:
            try:
                written = checkpoints.write(session, settings)
            except checkpoints.CheckpointRefused as exc:
                refused = exc.problems
    if as_json:
        out = found.as_dict() | {"written_checkpoint": written.statement() if written else None}
        if refused:
            out["ok"] = False
            out["problems"] += [{"kind": "checkpoint", "subject": "checkpoint refused", "message": p} for p in refused]
        click.echo(json.dumps(out, ensure_ascii=False, indent=1))
        sys.exit(1 if not out["ok"] else 0)
    for problem in found.problems:
        click.echo(f"BROKEN {problem}", err=True)
    for problem in refused:
        click.echo(f"BROKEN checkpoint refused: {problem}", err=True)
    if found.problems or refused:
        sys.exit(1)
    against = f", and the log extends {found.checkpoint.name}" if found.checkpoint else ""
    click.echo(f"ok: every audit chain verifies{against}; every case, model set and evidence file is as recorded")
    if written:
        click.echo(f"wrote to {settings.checkpoint_path}:\n{written.text()}")


@main.command()
@click.option("--once", is_flag=True, help="Fire what is due now, then exit (for cron and tests).")
@click.option("--interval", default=30.0, show_default=True, help="Seconds to rest when nothing is due.")
@click.option("--batch", default=50, show_default=True, help="Cases per transaction.")
@handle_errors
def worker(once, interval, batch):
    """Fire due timers. On PostgreSQL, run as many workers as you like.

    A case whose timers fail is parked in error (audited, in the monitor's error list) and the others
    go on. Exit status: the number of cases parked in error (at most 100), 0 when none was; 125 when
    a sweep failed as a whole (the database could not be reached)."""
    report = SweepReport()
    try:
        fired = run_worker(load_settings(), once=once, interval=interval, batch=batch, report=report)
    except SQLAlchemyError as exc:
        click.echo(f"error: the timer sweep failed: {' '.join(str(exc).split())[:300]}", err=True)
        sys.exit(EXIT_SWEEP_FAILED)
    click.echo(f"fired the timers of {fired} case(s)")
    for case_id, message in report.failed:
        click.echo(f"case {case_id} parked in error: {message}", err=True)
    if report.failed:
        click.echo(f"{len(report.failed)} case(s) failed", err=True)
        sys.exit(min(len(report.failed), 100))


@contextmanager
def _unit_of_work():
    settings = load_settings()
    with session_scope(settings) as session:
        yield session


@main.group()
def users():
    """People: add, change roles, deactivate, reset passwords, unlock."""


@users.command("add")
@click.argument("username")
@click.option("--name", "full_name", required=True)
@click.option("--unit", required=True, help="Unit code.")
@click.option("--role", "roles", multiple=True, required=True)
@click.option("--contact", default="")
@click.option("--qualification", help="Legal professional qualification number (for legal_reviewer).")
@click.option("--qualified-on", type=click.DateTime(["%Y-%m-%d"]), help="Its date.")
@click.password_option()
@handle_errors
def users_add(username, full_name, unit, roles, contact, qualification, qualified_on, password):
    """Add a user."""
    with _unit_of_work() as session:
        people.add_user(session, _actor(), username, full_name, unit, password, list(roles), contact,
                        qualification=(qualification, qualified_on.date() if qualified_on else None)
                        if qualification else None)
    click.echo(f"added {username}")


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def users_list(as_json):
    """Every user with unit, roles and state."""
    with _unit_of_work() as session:
        out = [{"username": u.username, "name": u.full_name, "unit": u.unit.code, "roles": sorted(u.role_ids),
                "active": u.active} for u in people.users(session, _actor())]
    _print(out, as_json, lambda o: "\n".join(
        f"{u['username']:<12} {u['name']:<8} {u['unit']:<10} {','.join(u['roles'])}{'' if u['active'] else ' (inactive)'}"
        for u in o))


def _iso_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)", param_hint="--role") from None


@users.command("roles")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              help="ROLE, or ROLE:FROM:TO with dates (either may be empty); replaces all roles.")
@handle_errors
def users_roles(username, roles):
    """Set a user's roles, each with its validity."""
    grants = {}
    for spec in roles:
        role, _, window = spec.partition(":")
        start, _, end = window.partition(":")
        grants[role] = (_iso_date(start), _iso_date(end))
    with _unit_of_work() as session:
        people.set_roles(session, _actor(), username, grants)
    click.echo(f"roles of {username}: {', '.join(sorted(grants))}")


@users.command("deactivate")
@click.argument("username")
@click.option("--reason", required=True)
@handle_errors
def users_deactivate(username, reason):
    """Deactivate a user; their claimed tasks go back to the pools."""
    with _unit_of_work() as session:
        released = people.deactivate_user(session, _actor(), username, reason)
    click.echo(f"deactivated {username}" + (f"; {released} claimed task(s) back in their pools" if released else ""))


@users.command("reset-password")
@click.argument("username")
@click.password_option()
@handle_errors
def users_reset_password(username, password):
    """Set a password the user must change at the next sign-in."""
    with _unit_of_work() as session:
        people.reset_password(session, _actor(), username, password)
    click.echo(f"password of {username} reset; it must be changed at the next sign-in")


@users.command("unlock")
@click.argument("username")
@handle_errors
def users_unlock(username):
    """Unlock an account locked after failed sign-ins."""
    with _unit_of_work() as session:
        people.unlock(session, _actor(), username)
    click.echo(f"unlocked {username}")


@main.group("credentials")
def credentials_cmd():
    """Enforcement credentials (执法证): issue, renew, suspend, revoke, reinstate, expiring."""


@credentials_cmd.command("issue")
@click.argument("username")
@click.argument("number")
@click.option("--area", required=True)
@click.option("--from", "valid_from", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "valid_to", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--kind", default="行政执法证")
@click.option("--issuer", default="")
@handle_errors
def credentials_issue(username, number, area, valid_from, valid_to, kind, issuer):
    """Issue a credential to USERNAME."""
    with _unit_of_work() as session:
        credentials.issue(session, _actor(), username, number, area, valid_from.date(), valid_to.date(),
                          kind=kind, issuer=issuer)
    click.echo(f"issued {number} to {username}")


@credentials_cmd.command("renew")
@click.argument("number")
@click.argument("new_number")
@click.option("--from", "valid_from", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "valid_to", required=True, type=click.DateTime(["%Y-%m-%d"]))
@handle_errors
def credentials_renew(number, new_number, valid_from, valid_to):
    """Renew NUMBER as NEW_NUMBER (a new credential linked to the old one)."""
    with _unit_of_work() as session:
        credentials.renew(session, _actor(), number, new_number, valid_from.date(), valid_to.date())
    click.echo(f"renewed {number} as {new_number}")


def _stopper(name: str, operation):
    @credentials_cmd.command(name, help=f"{name.capitalize()} credential NUMBER, giving the reason.")
    @click.argument("number")
    @click.option("--reason", required=True)
    @handle_errors
    def command(number, reason):
        with _unit_of_work() as session:
            done = operation(session, _actor(), number, reason)
        released = f"; {done} claimed task(s) back in their pools" if isinstance(done, int) and done else ""
        click.echo(f"{name}: {number}{released}")
    return command


_stopper("suspend", credentials.suspend)
_stopper("revoke", credentials.revoke)
_stopper("reinstate", credentials.reinstate)


@credentials_cmd.command("expiring")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def credentials_expiring(as_json):
    """Credentials ending within the warning window, with no renewal yet."""
    with _unit_of_work() as session:
        out = [{"number": e.credential.number, "holder": e.credential.holder.username,
                "valid_to": e.credential.valid_to.isoformat(), "days_left": e.days_left}
               for e in credentials.expiring(session)]
    _print(out, as_json, lambda o: "\n".join(f"{e['number']}  {e['holder']}  {e['valid_to']}  {e['days_left']} days"
                                             for e in o) or "none expiring")


@main.group("settings")
def settings_cmd():
    """Deadlines and policy settings, with their history."""


@settings_cmd.command("list")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def settings_list(as_json):
    """Every deadline and policy setting with its value and basis."""
    with _unit_of_work() as session:
        out = {"deadlines": {d.name: [d.amount, d.unit, d.basis] for d in policy.deadlines(session)},
               "settings": {p.name: [p.value, p.basis] for p in policy.policies(session)}}
    _print(out, as_json, lambda o: "\n".join([f"deadline {k}: {v[0]} {v[1]} ({v[2]})" for k, v in o["deadlines"].items()]
                                              + [f"setting {k}: {v[0]} ({v[1]})" for k, v in o["settings"].items()]))


@settings_cmd.command("deadline")
@click.argument("name")
@click.argument("amount")
@click.argument("unit", type=click.Choice(["working_days", "days", "years"]))
@click.option("--basis", required=True)
@click.option("--note", required=True, help="Why it changes.")
@handle_errors
def settings_deadline(name, amount, unit, basis, note):
    """Change a deadline setting."""
    with _unit_of_work() as session:
        policy.change_deadline(session, _actor(), name, amount, unit, basis, note)
    click.echo(f"deadline {name}: {amount} {unit}")


@settings_cmd.command("set")
@click.argument("name")
@click.argument("value")
@click.option("--basis", required=True)
@click.option("--note", required=True, help="Why it changes.")
@handle_errors
def settings_set(name, value, basis, note):
    """Change a policy setting."""
    with _unit_of_work() as session:
        policy.change_policy(session, _actor(), name, value, basis, note)
    click.echo(f"setting {name}: {value}")


@main.group()
def holidays():
    """The working-day calendar: years the holiday package does not cover."""


@holidays.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@handle_errors
def holidays_import(file):
    """Import a CSV `date,kind,name` (kind: holiday or workday)."""
    with _unit_of_work() as session:
        count = holiday_admin.import_csv(session, _actor(), file.read_text(encoding="utf-8-sig"), file.name)
    click.echo(f"imported {count} days")


@holidays.command("set")
@click.argument("day", type=click.DateTime(["%Y-%m-%d"]))
@click.argument("kind", type=click.Choice(["holiday", "workday"]))
@click.option("--name", default="")
@handle_errors
def holidays_set(day, kind, name):
    """Enter one day of an arrangement by hand."""
    with _unit_of_work() as session:
        holiday_admin.set_day(session, _actor(), day.date(), kind, name)
    click.echo(f"{day.date()}: {kind}")


@holidays.command("uncovered")
@handle_errors
def holidays_uncovered():
    """Years an open case has a deadline in that no calendar covers (exit 1 if any)."""
    with _unit_of_work() as session:
        years = holiday_admin.uncovered_years(session)
    if years:
        click.echo(f"not covered: {', '.join(map(str, years))}; import their holiday arrangements", err=True)
        sys.exit(EXIT_INVALID)
    click.echo("ok: every year with a deadline is covered")


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--threads", default=8, show_default=True, help="Threads per process.")
@click.option("--workers", default=1, show_default=True,
              help="Processes; more than one (for PostgreSQL) runs the app under gunicorn.")
def serve(host, port, threads, workers):
    """Serve the web app on HOST:PORT; on SQLite the timer sweeper runs in this process too."""
    settings = load_settings()
    # The web layer sits above this package: loaded by name, and only by the command that serves it.
    create_app = importlib.import_module("webapp").create_app
    click.echo(f"serving on http://{host}:{port} ({workers} process(es) × {threads} threads)")
    if workers > 1:
        _gunicorn_app(create_app, {"bind": f"{host}:{port}", "workers": workers, "threads": threads,
                                   "worker_class": "gthread", "accesslog": None,
                                   "control_socket_disable": True}).run()
        return
    import waitress

    if settings.is_sqlite:
        start_sweeper_thread(settings)
    waitress.serve(create_app(), host=host, port=port, threads=threads)


def _gunicorn_app(create_app, options: dict):
    """gunicorn running ``create_app()`` in each of its worker processes."""
    from gunicorn.app.base import BaseApplication

    class Application(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return create_app()

    return Application()


def _case_id(session, ref: str) -> int:
    """A case named by its number or its id."""
    found = session.scalar(select(Instance.id).where(Instance.case_no == ref))
    if found is None and ref.isdigit():
        found = session.scalar(select(Instance.id).where(Instance.id == int(ref)))
    if found is None:
        raise NotFound(f"case {ref} does not exist")
    return found


def _changes_of(checks) -> list[dict]:
    """What changed, once per (process, from version, to version) among the checked cases."""
    seen = {}
    for c in checks:
        seen.setdefault((c.process_id, c.from_version, c.to_version), c.changes)
    return [{"process": process, "from_version": old, "to_version": new, "elements": [e.as_dict() for e in changes]}
            for (process, old, new), changes in seen.items() if old != new]


def _changes_text(changes: list[dict]) -> str:
    return "".join(f"version {g['from_version']} → {g['to_version']} of {g['process']}:\n"
                   + "".join(f"  {e['summary']}\n" for e in g["elements"]) for g in changes)


@main.command("migrate")
@click.option("--check", "only_check", is_flag=True, help="Only say which cases can move, and why the others cannot.")
@click.option("--case", "case_refs", multiple=True,
              help="Case number or id (repeatable); default: every running or suspended case on an older version.")
@click.option("--to", "to_version", type=int, help="Model-set version to move to (default: the current one).")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def migrate_cmd(only_check, case_refs, to_version, as_json):
    """Move running cases to a newer model-set version, each in its own transaction (exit 1 if one
    cannot move, 5 if one changed meanwhile)."""
    actor = _actor()
    with _unit_of_work() as session:
        if case_refs:
            checks = [migration.check(session, actor, _case_id(session, ref), to_version) for ref in case_refs]
        else:
            checks = migration.check_all(session, actor, to_version)
    results = []
    for check in checks:
        outcome, reasons = ("movable" if check.can_migrate else "refused"), [str(r) for r in check.reasons]
        if not only_check and check.can_migrate:
            try:
                with _unit_of_work() as session:
                    migration.migrate(session, actor, check.instance_id, check.case_version, check.to_version)
                outcome = "migrated"
            except Conflict as exc:
                outcome, reasons = "conflict", [str(exc)]
            except EngineError as exc:
                outcome = "refused"
                reasons = [str(r) for r in exc.check.reasons] if getattr(exc, "check", None) else [str(exc)]
        results.append(check.as_dict() | {"result": outcome, "reasons": reasons})
    changes = _changes_of(checks)
    if as_json:
        click.echo(json.dumps({"cases": results, "changes": changes}, ensure_ascii=False, indent=2))
    else:
        if only_check and changes:
            click.echo(_changes_text(changes), nl=False)
        words = {"movable": "can move", "migrated": "migrated", "refused": "cannot move" if only_check else "refused",
                 "conflict": "changed meanwhile"}
        for r in results:
            line = (f"{words[r['result']]} {r['case_no']} (id {r['id']}): "
                    f"version {r['from_version']} → {r['to_version']}")
            problem = r["result"] in ("refused", "conflict")
            click.echo(line + "".join(f"\n    {reason}" for reason in r["reasons"] if problem), err=problem)
        if not results:
            click.echo("no case to migrate: every running or suspended case is on the version asked for")
    outcomes = {r["result"] for r in results}
    if "conflict" in outcomes:
        sys.exit(EXIT_CONFLICT)
    if "refused" in outcomes:
        sys.exit(EXIT_INVALID)


@main.group("report")
def report_cmd():
    """Reports: the annual statistics report (年度统计)."""


@report_cmd.command("annual")
@click.argument("year", type=int)
@click.option("--published", "as_published", is_flag=True,
              help="The approved report as published, not the live figures (exit 4 if not published).")
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write the report's tables as CSV to this file.")
@click.option("--pdf", "pdf_file", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also write the report as PDF to this file.")
@handle_errors
def report_annual(year, as_published, as_json, csv_file, pdf_file):
    """The annual statistics report of YEAR: penalties, decisions, reviews, disclosure, staff."""
    from workflows.domain import annual_report  # the PDF module brings WeasyPrint only when asked
    from workflows.domain.annual_report_pdf import render_pdf

    with _unit_of_work() as session:
        published = annual_report.published(session, year) if as_published else None
        if as_published and published is None:
            raise NotFound(f"the {year} annual report has not been published")
        report = published.report if published else annual_report.build(session, year)
        tables = annual_report.sections(report)
    if csv_file:
        csv_file.write_text(annual_report.to_csv(report), encoding="utf-8")
    if pdf_file:
        pdf_file.write_bytes(render_pdf(report, published))
    out = json.loads(annual_report.to_json(report)) | {
        "rates": {"credential_rate": _str(report.staffing.credential_rate),
                  "reviewer_share": _str(report.staffing.reviewer_share),
                  "reviewer_goal_met": report.staffing.meets_goal,
                  "disclosure_timely_rate": _str(report.disclosures.timely_rate)},
        "published": {"case_no": published.case_no, "published_at": published.published_at.isoformat(),
                      "revision": published.revision} if published else None}
    _print(out, as_json, lambda o: f"{year}年度行政执法统计（{o['start']}至{o['end']}"
           + ("，已公开" if published else "，实时数据") + "）\n"
           + "".join(f"{t.title}\n" + "".join(
               f"  {row.label}：" + ("；".join(f"{col} {v}" for col, v in zip(t.columns, row.values) if v is not None)
               or "—") + "\n" for row in t.rows)
               for t in tables)
           + (f"CSV: {csv_file}\n" if csv_file else "") + (f"PDF: {pdf_file}\n" if pdf_file else ""))


def _str(value) -> str | None:
    return None if value is None else str(value)
