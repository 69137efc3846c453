"""Model sets: validate, store as numbered versions, and serve parsed specs from a cache.

The unit of deployment is the whole set of BPMN and DMN files. Deploying some files replaces those
in the current set and carries the others over; deploying unchanged files stores nothing. A case
keeps the version it started on, called processes and decisions included.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from threading import Lock

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit, xmlsafe
from .errors import NotFound, ValidationFailed
from .models import ModelBlob, ModelFile, ModelSet
from .parsing import build_parser
from .validation import validate

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


def current_version(session: Session) -> int | None:
    return session.scalar(select(func.max(ModelSet.version)))


def files_of(session: Session, version: int) -> dict[str, bytes]:
    rows = session.execute(select(ModelFile.filename, ModelBlob.content).join(ModelBlob)
                           .where(ModelFile.version == version))
    return {name: content for name, content in rows}


def deploy(session: Session, files: dict[str, bytes], actor: str) -> Deployment:
    """Validate the set the files would make and store it as the next version (or do nothing)."""
    if not files:
        raise ValidationFailed(["no .bpmn or .dmn files given"])
    version = current_version(session)
    current = {f.filename: f.sha256 for f in session.get(ModelSet, version).files} if version else {}
    hashes = {name: sha256(content) for name, content in files.items()}
    changed = tuple(sorted(n for n, h in hashes.items() if current.get(n) != h))
    if version and not changed:
        return Deployment(version, ())
    merged = files_of(session, version) | files if version else dict(files)
    problems = validate(merged)
    if problems:
        raise ValidationFailed(problems)
    new = ModelSet(version=(version or 0) + 1, deployed_by=actor)
    session.add(new)
    for name in sorted(merged):
        digest = sha256(merged[name])
        if session.get(ModelBlob, digest) is None:
            session.add(ModelBlob(sha256=digest, content=merged[name]))
        session.add(ModelFile(version=new.version, filename=name, sha256=digest))
    session.flush()
    audit.record(session, actor, "model.deploy", version=new.version, changed=list(changed),
                 files={n: sha256(c) for n, c in sorted(merged.items())})
    return Deployment(new.version, changed)


@dataclass(frozen=True)
class ProcessSpecs:
    spec: object
    subprocess_specs: dict

    def task_spec(self, process_id: str, spec_id: str):
        """The spec of task ``spec_id`` in this process or in one it calls."""
        process = self.spec if process_id == self.spec.name else self.subprocess_specs[process_id]
        return process.task_specs[spec_id]


class _SpecCache:
    """Parsed specs by the content hashes of the set, so identical sets are parsed once per process."""

    def __init__(self, size: int = 32):
        self._items: OrderedDict[tuple, ProcessSpecs] = OrderedDict()
        self._by_version: dict[tuple, tuple] = {}
        self._size = size
        self._lock = Lock()

    def get(self, session: Session, version: int, process_id: str) -> ProcessSpecs:
        # A stored version never changes, so (database, version) finds the parsed set without a query.
        fast_key = (str(session.get_bind().url), version, process_id)
        with self._lock:
            if fast_key in self._by_version:
                return self._items[self._by_version[fast_key]]
        model_set = session.get(ModelSet, version)
        if model_set is None:
            raise NotFound(f"model-set version {version} does not exist")
        key = (tuple((f.filename, f.sha256) for f in model_set.files), process_id)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self._by_version[fast_key] = key
                return self._items[key]
        specs = self._parse(files_of(session, version), process_id)
        with self._lock:
            self._items[key] = specs
            self._by_version[fast_key] = key
            while len(self._items) > self._size:
                evicted, _ = self._items.popitem(last=False)
                self._by_version = {k: v for k, v in self._by_version.items() if v != evicted}
        return specs

    @staticmethod
    def _parse(files: dict[str, bytes], process_id: str) -> ProcessSpecs:
        parser = build_parser({n: xmlsafe.parse(c) for n, c in files.items()})
        if process_id not in parser.get_process_ids():
            raise NotFound(f"process {process_id!r} is not in the deployed model set")
        spec = parser.get_spec(process_id)
        return ProcessSpecs(spec, parser.get_subprocess_specs(process_id))


specs = _SpecCache()
