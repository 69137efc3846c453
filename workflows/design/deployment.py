"""Deploying model sets: validate, then store as the next numbered version.

The unit of deployment is the whole set of BPMN and DMN files. Deploying some files replaces those
in the current set and carries the others over; deploying unchanged files stores nothing. A case
keeps the version it started on, called processes and decisions included.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflows.domain import audit
from workflows.engine import specs
from workflows.core.errors import Conflict, ValidationFailed
from workflows.core.messages import Message
from workflows.core.models import ModelBlob, ModelFile, ModelSet
from workflows.design.validation import validate

MODEL_SUFFIXES = (".bpmn", ".dmn")


def read_model_files(paths: list[Path]) -> dict[str, bytes]:
    """``{file name: content}`` of the given files and of the model files in the given folders."""
    files: dict[str, bytes] = {}
    for path in map(Path, paths):
        found = sorted(p for p in path.iterdir() if p.suffix in MODEL_SUFFIXES) if path.is_dir() else [path]
        for p in found:
            files[p.name] = p.read_bytes()
    return files


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True)
class Deployment:
    version: int
    changed: tuple[str, ...]

    @property
    def is_new(self) -> bool:
        return bool(self.changed)


def deploy(session: Session, files: dict[str, bytes], actor: str, note: str = "") -> Deployment:
    """Validate the set the files would make and store it as the next version (or do nothing).

    Two deployments racing each other both aim at the same next version number: the second to
    commit fails on the version's primary key and stores nothing."""
    if not files:
        raise ValidationFailed(["no .bpmn or .dmn files given"])
    version = specs.current_version(session)
    current = {f.filename: f.sha256 for f in session.get(ModelSet, version).files} if version else {}
    hashes = {name: sha256(content) for name, content in files.items()}
    changed = tuple(sorted(n for n, h in hashes.items() if current.get(n) != h))
    if version and not changed:
        return Deployment(version, ())
    merged = specs.files_of(session, version) | files if version else dict(files)
    problems = validate(merged)
    if problems:
        raise ValidationFailed(problems)
    new = ModelSet(version=(version or 0) + 1, deployed_by=actor, note=note.strip())
    session.add(new)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(Message("另一次部署刚刚生成了版本%(version)s，请重新核对后再部署", version=new.version)) from None
    for name in sorted(merged):
        digest = sha256(merged[name])
        if session.get(ModelBlob, digest) is None:
            session.add(ModelBlob(sha256=digest, content=merged[name]))
        session.add(ModelFile(version=new.version, filename=name, sha256=digest))
    session.flush()
    audit.record(session, actor, "model.deploy", version=new.version, changed=list(changed), note=note.strip(),
                 files={n: sha256(c) for n, c in sorted(merged.items())})
    return Deployment(new.version, changed)
