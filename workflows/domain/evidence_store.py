"""Tamper-evident, content-addressed storage for enforcement evidence.

An object's address is the SHA-256 of its bytes, so a case that records the hash can
always prove the file it links to is the file that was uploaded: every read re-hashes.
The type is sniffed from the content, because file names and client-declared types are
whatever the uploader says they are. The original file name is kept only as metadata.
"""
from __future__ import annotations

import codecs
import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

import puremagic

CHUNK_SIZE = 64 * 1024
MAX_FILENAME_CHARS = 200

# The MIME strings puremagic 1.x reports for the accepted formats. WAV has two magic
# entries of equal weight, MOV files either start with an ``ftypqt`` box or a bare atom.
# Raw MPEG-2 layer III frames (0xFFF3/0xFFF2) and the ``avc1`` MP4 brand are unknown to
# puremagic: an ISO base-media file (``ftyp`` box at offset 4) is judged by its brand here, so a body
# camera's MP4 of any brand is accepted.
DEFAULT_ALLOWED_TYPES: frozenset[str] = frozenset({
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "application/pdf",
    "video/mp4",
    "video/quicktime",
    "video/avi",
    "video/x-msvideo",
    "audio/mpeg",
    "audio/wave",
    "audio/x-wav",
    "audio/mp4",
    "audio/aac",
    "application/ogg",
    "text/plain",
})

# What an audio-visual record (音像记录) may be: sound or moving pictures, nothing else.
AV_TYPES: frozenset[str] = frozenset(t for t in DEFAULT_ALLOWED_TYPES if t.startswith(("audio/", "video/"))) | {
    "application/ogg"}

_SHA256 = re.compile(r"[0-9a-f]{64}")
_EMPTY = "application/x-empty"
_UNKNOWN = "application/octet-stream"
_TEXT_CONTROLS_ALLOWED = frozenset("\t\n\r\f")


class EvidenceError(Exception):
    """Base class for evidence problems that are reported to the user."""


class EvidenceTooLarge(EvidenceError):
    def __init__(self, limit: int, received: int) -> None:
        self.limit = limit
        self.received = received
        super().__init__(
            f"evidence file too large: the limit is {limit:,} bytes, "
            f"the upload was stopped after {received:,} bytes"
        )


class EvidenceTypeNotAllowed(EvidenceError):
    def __init__(self, mime: str, allowed: frozenset[str]) -> None:
        self.mime = mime
        self.allowed = allowed
        super().__init__(
            f"evidence file type {mime} is not accepted; accepted types: {', '.join(sorted(allowed))}"
        )


class EvidenceMissing(EvidenceError):
    def __init__(self, sha256: str) -> None:
        self.sha256 = sha256
        super().__init__(f"evidence {sha256} is missing from the store")


class EvidenceCorrupted(EvidenceError):
    def __init__(self, sha256: str, actual: str) -> None:
        self.sha256 = sha256
        self.actual = actual
        super().__init__(f"evidence {sha256} has been altered: its content now hashes to {actual}")


@dataclass(frozen=True, slots=True)
class StoredObject:
    sha256: str
    size: int
    mime: str
    filename: str


@runtime_checkable
class EvidenceStore(Protocol):
    """What the engine needs from evidence storage, so an S3-compatible store can replace the local one."""

    def put(self, stream: BinaryIO, filename: str) -> StoredObject: ...

    def open(self, sha256: str) -> Iterator[bytes]:
        """Yield the content in chunks; raise EvidenceCorrupted after the last chunk if it no longer matches."""

    def exists(self, sha256: str) -> bool: ...

    def check(self, sha256: str) -> str | None:
        """Re-hash the object: None if intact, otherwise "missing" or "changed"."""

    def iter_all(self) -> Iterator[str]: ...


class LocalEvidenceStore:
    """Evidence files under ``root/ab/cd/<sha256>``, read-only once written.

    Uploads are written to ``root/.tmp`` and renamed into place, so a reader never sees a
    partial object and a crash leaves at most a stray temp file, never a wrong address.
    """

    def __init__(
        self, root: Path, max_bytes: int, allowed_types: frozenset[str] = DEFAULT_ALLOWED_TYPES
    ) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.allowed_types = allowed_types
        self._tmp = self.root / ".tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)

    def put(self, stream: BinaryIO, filename: str) -> StoredObject:
        """Store the stream's content; refuse it as soon as it is too large or of a refused type."""
        digest = hashlib.sha256()
        size = 0
        head = b""
        mime: str | None = None
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="upload-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK_SIZE):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise EvidenceTooLarge(self.max_bytes, size)
                    if mime is None:
                        head += chunk
                        if len(head) >= CHUNK_SIZE:
                            mime = self._allowed_type(head)
                    digest.update(chunk)
                    out.write(chunk)
                if mime is None:
                    mime = self._allowed_type(head)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o444)
            sha256 = digest.hexdigest()
            target = self._path(sha256)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return StoredObject(sha256=sha256, size=size, mime=mime, filename=safe_filename(filename))

    def open(self, sha256: str) -> Iterator[bytes]:
        """Raise EvidenceMissing here rather than on first read, so callers can refuse before streaming."""
        if not self._path(sha256).is_file():
            raise EvidenceMissing(sha256)
        return self._verified_chunks(sha256)

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def check(self, sha256: str) -> str | None:
        try:
            for _ in self.open(sha256):
                pass
        except EvidenceMissing:
            return "missing"
        except EvidenceCorrupted:
            return "changed"
        return None

    def iter_all(self) -> Iterator[str]:
        """All stored hashes, in no particular order; temp files and strays are skipped."""
        for path in self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*"):
            name = path.name
            if _SHA256.fullmatch(name) and path.parent.name == name[2:4] and path.parent.parent.name == name[:2]:
                yield name

    def _verified_chunks(self, sha256: str) -> Iterator[bytes]:
        digest = hashlib.sha256()
        try:
            with self._path(sha256).open("rb") as f:
                while chunk := f.read(CHUNK_SIZE):
                    digest.update(chunk)
                    yield chunk
        except FileNotFoundError:
            raise EvidenceMissing(sha256) from None
        if digest.hexdigest() != sha256:
            raise EvidenceCorrupted(sha256, digest.hexdigest())

    def _allowed_type(self, head: bytes) -> str:
        mime = sniff_mime(head)
        if mime not in self.allowed_types:
            raise EvidenceTypeNotAllowed(mime, self.allowed_types)
        return mime

    def _path(self, sha256: str) -> Path:
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256


def sniff_mime(head: bytes) -> str:
    """MIME type of content starting with ``head``, judged from the bytes alone.

    puremagic's verdict wins when it has one, except ``text/plain``: puremagic also gives
    that to some binary formats, so plain text is decided here instead, as UTF-8 without
    control characters other than tab, newlines and form feed (in ``head`` only).
    """
    if not head:
        return _EMPTY
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        matches = []
    mime = next((m.mime_type for m in matches if m.mime_type), "")
    if mime and mime != "text/plain":
        return mime
    if head[4:8] == b"ftyp":  # ISO base media: QuickTime, M4A, or MP4 of any brand
        brand = head[8:12]
        return "video/quicktime" if brand == b"qt  " else "audio/mp4" if brand in (b"M4A ", b"M4B ") else "video/mp4"
    return "text/plain" if _is_utf8_text(head) else _UNKNOWN


def _is_utf8_text(head: bytes) -> bool:
    try:
        # Not final: ``head`` may end in the middle of a multi-byte character.
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return not any(unicodedata.category(c) == "Cc" and c not in _TEXT_CONTROLS_ALLOWED for c in text)


def safe_filename(filename: str) -> str:
    """The client's file name reduced to a displayable basename; it never reaches a path."""
    name = unicodedata.normalize("NFC", filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if not unicodedata.category(c).startswith("C")).strip(" .")
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and len(ext) <= 16:
            name = stem[: MAX_FILENAME_CHARS - len(dot + ext)] + dot + ext
        else:
            name = name[:MAX_FILENAME_CHARS]
    return name or "unnamed"
