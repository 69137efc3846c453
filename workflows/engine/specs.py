"""The deployed model sets as the engine reads them: versions, their files, and parsed specs cached.

A stored version never changes, so its parsed specs are cached by the content hashes of its files
and found again by (database, version) without a query.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.core.errors import NotFound
from workflows.core.models import ModelBlob, ModelFile, ModelSet
from workflows.engine import xmlsafe
from workflows.engine.parsing import BPMN, build_parser


def current_version(session: Session) -> int | None:
    return session.scalar(select(func.max(ModelSet.version)))


def files_of(session: Session, version: int) -> dict[str, bytes]:
    rows = session.execute(select(ModelFile.filename, ModelBlob.content).join(ModelBlob)
                           .where(ModelFile.version == version))
    return {name: content for name, content in rows}


_names: dict[tuple[str, int], dict[str, str]] = {}


def process_names(session: Session, version: int) -> dict[str, str]:
    """Process id to name, for every process of a model-set version (read once per version)."""
    key = (str(session.get_bind().url), version)
    if key not in _names:
        names = {}
        for content in files_of(session, version).values():
            root = xmlsafe.parse(content)
            for process in root.iter(BPMN + "process"):
                names[process.get("id")] = process.get("name") or process.get("id")
        _names[key] = dict(sorted(names.items()))
    return _names[key]


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


_cache = _SpecCache()
get = _cache.get
