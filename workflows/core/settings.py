"""Every setting of the product, read from environment variables prefixed ``SANXIANG_``.

This module is the one place that documents them; the README repeats the table.

| variable | default | meaning |
|---|---|---|
| ``SANXIANG_INSTANCE_PATH`` | ``./instance`` | folder for the SQLite file, the generated secret key and evidence files; created on first run |
| ``SANXIANG_DATABASE_URL`` | SQLite file ``sanxiang.db`` in the instance folder (WAL) | a ``postgresql+psycopg://`` URL when several processes or machines share the data |
| ``SANXIANG_SECRET_KEY`` | generated into ``instance/secret_key`` | signs web sessions |
| ``SANXIANG_CASE_NUMBER_PATTERN`` | ``新民罚〔{year}〕{seq:04d}号`` | case numbers; ``{year}`` and ``{seq}`` (unique per year) |
| ``SANXIANG_MATTER_NUMBER_PATTERN`` | ``新民公〔{year}〕{seq:04d}号`` | numbers of pre-disclosure (``pre_disclosure``) procedures |
| ``SANXIANG_AGENCY_NAME`` | ``新市区民政局`` | the enforcing body named on records and disclosures |
| ``SANXIANG_EVIDENCE_MAX_BYTES`` | ``209715200`` (200 MiB) | largest evidence file accepted |
| ``SANXIANG_SECURE_COOKIES`` | ``0`` | ``1`` behind HTTPS: session and remember-me cookies are sent over TLS only |
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "SANXIANG_"


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    case_number_pattern: str = "新民罚〔{year}〕{seq:04d}号"
    matter_number_pattern: str = "新民公〔{year}〕{seq:04d}号"
    agency_name: str = "新市区民政局"
    evidence_max_bytes: int = 200 * 1024 * 1024
    secure_cookies: bool = False
    secret_key: str = field(default="", repr=False)

    def number_pattern(self, series: str) -> str:
        """The pattern of a numbering series (:func:`workflows.core.contract.number_series`):
        catalogue procedures are numbered apart from enforcement cases."""
        return self.matter_number_pattern if series == "matter" else self.case_number_pattern

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def evidence_path(self) -> Path:
        return self.instance_path / "evidence"


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
        agency_name=env.get(PREFIX + "AGENCY_NAME", Settings.agency_name),
        evidence_max_bytes=int(env.get(PREFIX + "EVIDENCE_MAX_BYTES", Settings.evidence_max_bytes)),
        secure_cookies=env.get(PREFIX + "SECURE_COOKIES", "0").strip().lower() in ("1", "true", "yes"),
        secret_key=env.get(PREFIX + "SECRET_KEY") or _instance_secret(instance),
    )


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
