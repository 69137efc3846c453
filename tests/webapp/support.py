"""Helpers shared by the web app tests and the browser tests."""
from __future__ import annotations

import shutil
import sqlite3
import struct
import zlib
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from jinja2 import BytecodeCache
from babel.messages.pofile import read_po

from workflows import demo
from workflows.bootstrap import init_database
from workflows.core.db import get_engine, session_scope
from workflows.core.settings import Settings, load_settings

WEB_BPMN = Path(__file__).parent / "bpmn"
TRANSLATIONS = Path(__file__).resolve().parents[2] / "webapp" / "translations"
PASSWORD = demo.DEMO_PASSWORD
PROCESS = "web_case"


def build_demo_database(folder: Path) -> Path:
    """The demo people and catalogue with ``web_case`` deployed, in a SQLite file under ``folder``."""
    settings = load_settings({"SANXIANG_INSTANCE_PATH": str(folder)})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo, "MODELS", WEB_BPMN)
        with session_scope(settings) as session:
            init_database(settings, session)
            demo.load_demo(session, settings, with_cases=False)
    get_engine(settings.database_url).dispose()
    return folder / "sanxiang.db"


def copy_database(source: Path, folder: Path) -> Settings:
    folder.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(folder / "sanxiang.db") as dst:
        src.backup(dst)
    src.close()
    dst.close()
    if (source.parent / "audit_key").exists():  # the audit chains are keyed: the key goes with its database
        shutil.copy2(source.parent / "audit_key", folder / "audit_key")
    return load_settings({"SANXIANG_INSTANCE_PATH": str(folder)})


def compile_translations(target: Path) -> Path:
    """Compile the catalogs into ``target``, so tests never depend on a build step."""
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        out = target / po.parent.relative_to(TRANSLATIONS)
        out.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as fh:
            catalog = read_po(fh)
        with (out / "messages.mo").open("wb") as fh:
            write_mo(fh, catalog)
    return target


def app_config(settings: Settings, translations: Path, **extra) -> dict:
    return {"SANXIANG_SETTINGS": settings, "CASE_PROCESS": PROCESS,
            "BABEL_TRANSLATION_DIRECTORIES": str(translations), **extra}


class SharedTemplateCache(BytecodeCache):
    """Compiled templates shared by the many apps a test run builds (compiling dominates otherwise)."""

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket):
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = SharedTemplateCache()


def tiny_png(seed: int = 0) -> bytes:
    """A valid 2×2 PNG whose bytes differ by ``seed``."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    pixels = b"".join(b"\x00" + bytes([seed % 256, 80, 160]) * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b""))
