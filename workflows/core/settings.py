"""Every setting of the product, read from environment variables prefixed ``SANXIANG_``.

This module is the one place that documents them; the README repeats the table.

| variable | default | meaning |
|---|---|---|
| ``SANXIANG_INSTANCE_PATH`` | ``./instance`` | folder for the SQLite file, the generated secret key and evidence files; created on first run |
| ``SANXIANG_DATABASE_URL`` | SQLite file ``sanxiang.db`` in the instance folder (WAL) | a ``postgresql+psycopg://`` URL when several processes or machines share the data |
| ``SANXIANG_SECRET_KEY`` | generated into ``instance/secret_key`` | signs web sessions |
| ``SANXIANG_CASE_NUMBER_PATTERN`` | ``新民罚〔{year}〕{seq:04d}号`` | case numbers; ``{year}`` and ``{seq}`` (unique per year) |
| ``SANXIANG_MATTER_NUMBER_PATTERN`` | ``新民公〔{year}〕{seq:04d}号`` | numbers of pre-disclosure (``pre_disclosure``) procedures |
| ``SANXIANG_REPORT_NUMBER_PATTERN`` | ``新民统〔{year}〕{seq:04d}号`` | numbers of annual-report approvals (``annual_report``) |
| ``SANXIANG_AGENCY_NAME`` | ``新市区民政局`` | the enforcing body named on records and disclosures |
| ``SANXIANG_EVIDENCE_MAX_BYTES`` | ``209715200`` (200 MiB) | largest evidence file accepted |
| ``SANXIANG_SECURE_COOKIES`` | ``0`` | ``1`` behind HTTPS: session and remember-me cookies are sent over TLS only |

Limits of diagram code and of the engine, read once per process (:func:`limits`). A diagram is
input, and input can be hostile: past a limit, the case is parked in ``error`` naming the element.

| variable | default | meaning |
|---|---|---|
| ``SANXIANG_UNIT_SECONDS`` | ``10`` | wall-clock budget of the engine's run in one unit of work (a completion, a start, a timer firing) |
| ``SANXIANG_MAX_ENGINE_STEPS`` | ``1000`` | elements the engine may run in one unit of work |
| ``SANXIANG_MAX_LOOP_ITERATIONS`` | ``1000`` | instances of one multi-instance or loop activity (and the largest literal ``loopCardinality`` deployed) |
| ``SANXIANG_MAX_TIMER_CYCLES`` | ``1000`` | repetitions of a cycle timer (``R<n>/…``; a cycle without ``<n>`` is refused at deploy) |
| ``SANXIANG_MIN_TIMER_PERIOD`` | ``3600`` | seconds: the shortest period of a cycle timer |
| ``SANXIANG_SCRIPT_STEPS`` | ``1000000`` | loop iterations and function calls of one script or expression |
| ``SANXIANG_MAX_VALUE_SIZE`` | ``1000000`` | characters of a string, items of a list one operation of diagram code may make |
| ``SANXIANG_MAX_INT_BITS`` | ``65536`` | bits of an integer diagram code may compute (about 19,700 decimal digits) |
| ``SANXIANG_MAX_DATA_SIZE`` | ``5000000`` | characters and items of the data a case keeps after one element |
| ``SANXIANG_MAX_DATA_DEPTH`` | ``64`` | nesting of lists and dicts in the data a case keeps |
| ``SANXIANG_MAX_MEMORY_MB`` | ``512`` | growth of the process's memory while diagram code runs, past which it is stopped |
| ``SANXIANG_AUDIT_KEY_FILE`` | generated into ``instance/audit_key`` | the audit log's key (HMAC links, Ed25519 checkpoint signatures); keep it out of the database and back it up apart from it |
| ``SANXIANG_CHECKPOINT_FILE`` | ``instance/audit_checkpoints.jsonl`` | the append-only file of signed audit checkpoints (every chain's length and head) |
| ``SANXIANG_CHECKPOINT_INTERVAL`` | ``3600`` | seconds between the timer worker's checkpoints; ``0`` writes them only at ``sanxiang verify --checkpoint`` |
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

PREFIX = "SANXIANG_"


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    case_number_pattern: str = "新民罚〔{year}〕{seq:04d}号"
    matter_number_pattern: str = "新民公〔{year}〕{seq:04d}号"
    report_number_pattern: str = "新民统〔{year}〕{seq:04d}号"
    agency_name: str = "新市区民政局"
    evidence_max_bytes: int = 200 * 1024 * 1024
    secure_cookies: bool = False
    secret_key: str = field(default="", repr=False)
    audit_key_file: Path | None = None  # None: instance/audit_key
    checkpoint_file: Path | None = None  # None: instance/audit_checkpoints.jsonl
    checkpoint_interval: int = 3600

    def number_pattern(self, series: str) -> str:
        """The pattern of a numbering series (:func:`workflows.core.contract.number_series`):
        catalogue procedures are numbered apart from enforcement cases."""
        if series == "report":
            return self.report_number_pattern
        return self.matter_number_pattern if series == "matter" else self.case_number_pattern

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def evidence_path(self) -> Path:
        return self.instance_path / "evidence"

    @property
    def audit_key_path(self) -> Path:
        return self.audit_key_file or self.instance_path / "audit_key"

    @property
    def checkpoint_path(self) -> Path:
        return self.checkpoint_file or self.instance_path / "audit_checkpoints.jsonl"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read settings from the environment, creating the instance folder on first use."""
    env = dict(os.environ if env is None else env)
    instance = Path(env.get(PREFIX + "INSTANCE_PATH", "instance")).resolve()
    instance.mkdir(parents=True, exist_ok=True)
    url = env.get(PREFIX + "DATABASE_URL") or f"sqlite:///{instance / 'sanxiang.db'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return Settings(
        instance_path=instance,
        database_url=url,
        case_number_pattern=env.get(PREFIX + "CASE_NUMBER_PATTERN", Settings.case_number_pattern),
        matter_number_pattern=env.get(PREFIX + "MATTER_NUMBER_PATTERN", Settings.matter_number_pattern),
        report_number_pattern=env.get(PREFIX + "REPORT_NUMBER_PATTERN", Settings.report_number_pattern),
        agency_name=env.get(PREFIX + "AGENCY_NAME", Settings.agency_name),
        evidence_max_bytes=int(env.get(PREFIX + "EVIDENCE_MAX_BYTES", Settings.evidence_max_bytes)),
        secure_cookies=env.get(PREFIX + "SECURE_COOKIES", "0").strip().lower() in ("1", "true", "yes"),
        secret_key=env.get(PREFIX + "SECRET_KEY") or _instance_secret(instance),
        audit_key_file=_path(env.get(PREFIX + "AUDIT_KEY_FILE")),
        checkpoint_file=_path(env.get(PREFIX + "CHECKPOINT_FILE")),
        checkpoint_interval=int(env.get(PREFIX + "CHECKPOINT_INTERVAL", Settings.checkpoint_interval)),
    )



@dataclass(frozen=True)
class Limits:
    """What one unit of engine work and one piece of diagram code may do (see the table above)."""

    unit_seconds: float = 10.0
    max_engine_steps: int = 1000
    max_loop_iterations: int = 1000
    max_timer_cycles: int = 1000
    min_timer_period: float = 3600.0
    script_steps: int = 1_000_000
    max_value_size: int = 1_000_000
    max_int_bits: int = 65_536
    max_data_size: int = 5_000_000
    max_data_depth: int = 64
    max_memory_mb: int = 512


def load_limits(env: dict[str, str] | None = None) -> Limits:
    """Read the limits from the environment (``SANXIANG_UNIT_SECONDS``, ``SANXIANG_MAX_…``)."""
    env = dict(os.environ if env is None else env)
    values = {}
    for name, spec in Limits.__dataclass_fields__.items():
        variable = PREFIX + name.upper()
        raw = env.get(variable)
        if raw is None or not raw.strip():
            continue
        value = type(spec.default)(raw.strip())
        if value <= 0:
            raise ValueError(f"{variable} must be positive, got {raw!r}")
        values[name] = value
    return Limits(**values)


_limits: Limits | None = None


def limits() -> Limits:
    """The process's limits, read from the environment on first use."""
    global _limits
    if _limits is None:
        _limits = load_limits()
    return _limits


@contextmanager
def use_limits(**changes) -> Iterator[Limits]:
    """Run the block under other limits (tests, benchmarks); the previous ones come back after."""
    global _limits
    previous = limits()
    _limits = replace(previous, **changes)
    try:
        yield _limits
    finally:
        _limits = previous

def _path(value: str | None) -> Path | None:
    return Path(value).resolve() if value else None


def _instance_secret(instance: Path) -> str:
    """Generate the secret key once and keep it in the instance folder, readable by the owner only."""
    path = instance / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32))
    return path.read_text().strip()
