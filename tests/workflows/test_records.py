"""Evidence linked to cases: stored by hash, audited, referenced by file fields, verified."""
from __future__ import annotations

import io
import os
import struct
import zlib

import pytest
from click.testing import CliRunner

from tests.conftest import bpmn
from workflows.cli import main
from workflows.domain import audit, cases, records, tasks
from workflows.design import deployment
from workflows.core.errors import FormInvalid, InstanceNotActive
from workflows.domain.evidence_store import EvidenceTypeNotAllowed
from workflows.domain.people import get_user


def png() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"\x00\xff\x00\x00"
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@pytest.fixture
def case(db, settings):
    deployment.deploy(db, {"approval.bpmn": bpmn("approval.bpmn")}, "designer")
    return cases.start(db, settings, get_user(db, "zhang"), "approval", {"party_name": "某协会"}).instance


def test_stored_evidence_is_linked_audited_and_usable_in_file_fields(db, settings, case):
    store = records.evidence_store(settings)
    [row] = cases.ready_tasks_of(db, case.id)
    photo = records.store_evidence(db, store, io.BytesIO(png()), "现场照片.png", "zhang", case, row.task_id, "photos")
    assert photo.mime == "image/png" and photo.size == len(png())
    again = records.store_evidence(db, store, io.BytesIO(png()), "copy.png", "zhang", case, row.task_id, "photos")
    assert again.sha256 == photo.sha256 and len(records.evidence_of(db, case.id)) == 1
    events = [e for e in audit.events_of(db, case.id) if e.action == "evidence.store"]
    assert photo.sha256 in events[0].payload and '"filename":"现场照片.png"' in events[0].payload
    with pytest.raises(FormInvalid) as missing:
        tasks.complete_or_raise(db, get_user(db, "zhang"), row.task_id,
                            {"party_name": "某协会", "second_officer": "li", "photos": ["0" * 64]})
    assert missing.value.errors == {"photos": ["现场照片：证据文件不存在，请重新上传"]}
    tasks.complete_or_raise(db, get_user(db, "zhang"), row.task_id,
                        {"party_name": "某协会", "second_officer": "li", "photos": [photo.sha256]})
    evidence, chunks = records.read_evidence(db, store, get_user(db, "wang"), case.id, photo.sha256)
    assert b"".join(chunks) == png()
    assert [(e.actor, e.action) for e in audit.latest_reads(db, case.id, 5)] == [("wang", "evidence.read")]


def test_refused_types_store_nothing(db, settings, case):
    store = records.evidence_store(settings)
    with pytest.raises(EvidenceTypeNotAllowed):
        records.store_evidence(db, store, io.BytesIO(b"MZ\x90\x00" + os.urandom(100)), "tool.exe", "zhang", case)
    assert records.evidence_of(db, case.id) == []


def test_verify_names_changed_and_vanished_evidence(db, settings, case, monkeypatch):
    store = records.evidence_store(settings)
    photo = records.store_evidence(db, store, io.BytesIO(png()), "a.png", "zhang", case)
    text = records.store_evidence(db, store, io.BytesIO("笔录：当事人陈述……".encode()), "b.txt", "zhang", case)
    db.commit()
    monkeypatch.setenv("SANXIANG_INSTANCE_PATH", str(settings.instance_path))
    monkeypatch.setenv("SANXIANG_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    assert runner.invoke(main, ["verify"]).exit_code == 0
    path = settings.evidence_path / photo.sha256[:2] / photo.sha256[2:4] / photo.sha256
    path.chmod(0o644)
    path.write_bytes(png() + b"tampered")
    (settings.evidence_path / text.sha256[:2] / text.sha256[2:4] / text.sha256).unlink()
    result = runner.invoke(main, ["verify"])
    assert result.exit_code == 1
    assert f"evidence {photo.sha256}: changed" in result.output
    assert f"evidence {text.sha256}: missing" in result.output


def test_nothing_is_added_to_a_closed_case(db, settings, case):
    cases.terminate(db, get_user(db, "wang"), case.id, "撤销立案")
    with pytest.raises(InstanceNotActive):
        records.store_evidence(db, records.evidence_store(settings), io.BytesIO(png()), "late.png", "zhang", case)
    assert records.evidence_of(db, case.id) == []
