from __future__ import annotations

import hashlib
import io
import random
import stat
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from workflows.domain.evidence_store import (
    CHUNK_SIZE,
    DEFAULT_ALLOWED_TYPES,
    MAX_FILENAME_CHARS,
    EvidenceCorrupted,
    EvidenceError,
    EvidenceMissing,
    EvidenceStore,
    EvidenceTooLarge,
    EvidenceTypeNotAllowed,
    LocalEvidenceStore,
    StoredObject,
    safe_filename,
)


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1x1, 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


MINIMAL_PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PADDING = bytes(64)


class GeneratedStream:
    """A file-like object backed by a generator, recording how much each read asked for."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        self._blocks = blocks
        self._buffer = b""
        self.requested: list[int] = []
        self.returned: list[int] = []

    def read(self, size: int = -1) -> bytes:
        self.requested.append(size)
        if size is None or size < 0:
            raise AssertionError("the store must never read the whole stream at once")
        while len(self._buffer) < size:
            block = next(self._blocks, b"")
            if not block:
                break
            self._buffer += block
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        self.returned.append(len(data))
        return data


def text_blocks(total: int) -> Iterator[bytes]:
    """Deterministic UTF-8 text, produced a block at a time so it never exists whole."""
    block = "执法记录 evidence line\n".encode() * 200
    for start in range(0, total, len(block)):
        yield block[: total - start]


def sha256_of(blocks: Iterator[bytes]) -> str:
    digest = hashlib.sha256()
    for block in blocks:
        digest.update(block)
    return digest.hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> LocalEvidenceStore:
    return LocalEvidenceStore(tmp_path / "evidence", max_bytes=1024 * 1024, allowed_types=DEFAULT_ALLOWED_TYPES)


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_local_store_satisfies_protocol(store: LocalEvidenceStore) -> None:
    assert isinstance(store, EvidenceStore)


def test_round_trip_keeps_hash_size_and_type(store: LocalEvidenceStore) -> None:
    png = tiny_png()

    stored = store.put(io.BytesIO(png), "现场照片.png")

    assert stored == StoredObject(
        sha256=hashlib.sha256(png).hexdigest(), size=len(png), mime="image/png", filename="现场照片.png"
    )
    assert store.exists(stored.sha256)
    assert b"".join(store.open(stored.sha256)) == png
    assert store.check(stored.sha256) is None
    assert list(store.iter_all()) == [stored.sha256]


def test_object_is_content_addressed_and_read_only(store: LocalEvidenceStore) -> None:
    stored = store.put(io.BytesIO(MINIMAL_PDF), "record.pdf")

    path = store.root / stored.sha256[:2] / stored.sha256[2:4] / stored.sha256
    assert path.read_bytes() == MINIMAL_PDF
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert stored.mime == "application/pdf"


def test_identical_content_is_stored_once(store: LocalEvidenceStore) -> None:
    first = store.put(io.BytesIO(MINIMAL_PDF), "a.pdf")
    second = store.put(io.BytesIO(MINIMAL_PDF), "b.pdf")

    assert first.sha256 == second.sha256
    assert (first.filename, second.filename) == ("a.pdf", "b.pdf")
    assert files_under(store.root) == [store.root / first.sha256[:2] / first.sha256[2:4] / first.sha256]


def test_oversized_upload_is_refused_early_and_leaves_nothing(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path / "evidence", max_bytes=CHUNK_SIZE + 1, allowed_types=DEFAULT_ALLOWED_TYPES)
    stream = GeneratedStream(text_blocks(10 * CHUNK_SIZE))

    with pytest.raises(EvidenceTooLarge) as refused:
        store.put(stream, "big.txt")

    assert refused.value.limit == CHUNK_SIZE + 1
    assert f"{CHUNK_SIZE + 1:,}" in str(refused.value)
    assert sum(stream.returned) == 2 * CHUNK_SIZE
    assert files_under(store.root) == []
    assert list(store.iter_all()) == []


@pytest.mark.parametrize(
    "content",
    [
        random.Random(1).randbytes(4096),
        b"MZ\x90\x00" + PADDING,  # Windows executable
        b"PK\x03\x04" + PADDING,  # zip / Office document
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"\xff\xff\xff\xff" + PADDING,  # puremagic calls this text/plain
        b"",
    ],
    ids=["random", "exe", "zip", "html", "svg", "fake-text", "empty"],
)
def test_disallowed_type_is_refused(store: LocalEvidenceStore, content: bytes) -> None:
    with pytest.raises(EvidenceTypeNotAllowed) as refused:
        store.put(io.BytesIO(content), "photo.jpg")

    assert refused.value.mime not in DEFAULT_ALLOWED_TYPES
    assert files_under(store.root) == []


def test_type_comes_from_content_not_name(store: LocalEvidenceStore) -> None:
    assert store.put(io.BytesIO(tiny_png()), "notes.exe").mime == "image/png"
    assert store.put(io.BytesIO("询问笔录\r\n".encode()), "photo.png").mime == "text/plain"


def test_store_honours_its_own_allowed_types(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path, max_bytes=1024, allowed_types=frozenset({"application/pdf"}))

    with pytest.raises(EvidenceTypeNotAllowed, match="image/png"):
        store.put(io.BytesIO(tiny_png()), "x.png")
    assert store.put(io.BytesIO(MINIMAL_PDF), "x.pdf").mime == "application/pdf"


@pytest.mark.parametrize(
    ("content", "mime"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + PADDING, "image/jpeg"),
        (b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00" + PADDING, "image/jpeg"),
        (tiny_png(), "image/png"),
        (b"GIF89a\x01\x00\x01\x00" + PADDING, "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 " + PADDING, "image/webp"),
        (MINIMAL_PDF, "application/pdf"),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + PADDING, "video/mp4"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + PADDING, "video/mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  " + PADDING, "video/quicktime"),
        (b"\x00\x00\x00\x18ftypavc1\x00\x00\x00\x00avc1isom" + PADDING, "video/mp4"),  # a body camera's brand
        (b"RIFF\x00\x00\x00\x00AVI LIST" + PADDING, "video/avi"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x00" + PADDING, "audio/mpeg"),
        (b"\xff\xfb\x90\x64" + PADDING, "audio/mpeg"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00" + PADDING, "audio/wave"),
        (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom" + PADDING, "audio/mp4"),
        (b"\xff\xf1\x50\x80\x02\x1f\xfc" + PADDING, "audio/aac"),
        (b"OggS\x00\x02" + bytes(20) + b"OpusHead" + PADDING, "application/ogg"),
        ("当事人陈述：情况属实。\n".encode(), "text/plain"),
    ],
    ids=[
        "jpeg-jfif", "jpeg-exif", "png", "gif", "webp", "pdf", "mp4-isom", "mp4-mp42", "mov", "mp4-avc1", "avi",
        "mp3-id3", "mp3-frame", "wav", "m4a", "aac", "ogg", "text",
    ],
)
def test_default_types_are_accepted(store: LocalEvidenceStore, content: bytes, mime: str) -> None:
    assert mime in DEFAULT_ALLOWED_TYPES
    assert store.put(io.BytesIO(content), "upload").mime == mime


def test_put_streams_in_bounded_chunks(store: LocalEvidenceStore) -> None:
    total = 5 * CHUNK_SIZE + 123  # multi-byte characters straddle the sniffing boundary
    stream = GeneratedStream(text_blocks(total))

    stored = store.put(stream, "long.txt")

    assert stored.sha256 == sha256_of(text_blocks(total))
    assert stored.size == total
    assert stored.mime == "text/plain"
    assert max(stream.requested) == CHUNK_SIZE
    assert max(stream.returned) == CHUNK_SIZE
    assert max(len(chunk) for chunk in store.open(stored.sha256)) == CHUNK_SIZE


def test_altered_file_is_detected(store: LocalEvidenceStore) -> None:
    stored = store.put(io.BytesIO(MINIMAL_PDF), "record.pdf")
    path = store.root / stored.sha256[:2] / stored.sha256[2:4] / stored.sha256
    path.chmod(0o644)
    path.write_bytes(MINIMAL_PDF.replace(b"Catalog", b"Catalag"))

    with pytest.raises(EvidenceCorrupted) as corrupted:
        for _ in store.open(stored.sha256):
            pass

    assert corrupted.value.sha256 == stored.sha256
    assert corrupted.value.actual == hashlib.sha256(path.read_bytes()).hexdigest()
    assert store.check(stored.sha256) == "changed"


def test_deleted_file_is_reported_missing(store: LocalEvidenceStore) -> None:
    stored = store.put(io.BytesIO(MINIMAL_PDF), "record.pdf")
    (store.root / stored.sha256[:2] / stored.sha256[2:4] / stored.sha256).unlink()

    assert not store.exists(stored.sha256)
    with pytest.raises(EvidenceMissing, match=stored.sha256):
        store.open(stored.sha256)
    assert store.check(stored.sha256) == "missing"
    assert list(store.iter_all()) == []


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\x", "x"),
        ("C:\\Users\\张三\\Desktop\\现场.jpg", "现场.jpg"),
        ("..", "unnamed"),
        ("", "unnamed"),
        ("evil\x00name\r\n.pdf", "evilname.pdf"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
    ],
)
def test_filename_is_reduced_to_a_safe_basename(given: str, kept: str) -> None:
    assert safe_filename(given) == kept


def test_filename_is_capped_keeping_the_extension() -> None:
    name = safe_filename("照" * 500 + ".jpeg")

    assert len(name) == MAX_FILENAME_CHARS
    assert name.endswith("照.jpeg")


@pytest.mark.parametrize("filename", ["../../etc/passwd", "..\\..\\x"])
def test_traversal_filename_never_reaches_the_file_system(tmp_path: Path, filename: str) -> None:
    store = LocalEvidenceStore(tmp_path / "a" / "b" / "evidence", max_bytes=1024, allowed_types=DEFAULT_ALLOWED_TYPES)

    stored = store.put(io.BytesIO(MINIMAL_PDF), filename)

    assert stored.filename in {"passwd", "x"}
    assert files_under(tmp_path) == [store.root / stored.sha256[:2] / stored.sha256[2:4] / stored.sha256]


@pytest.mark.parametrize("bad", ["../../etc/passwd", "A" * 64, "a" * 63, "a" * 64 + "\n", "g" * 64])
def test_hash_arguments_are_validated(store: LocalEvidenceStore, bad: str) -> None:
    for call in (store.open, store.exists, store.check):
        with pytest.raises(ValueError):
            call(bad)


def test_iter_all_lists_every_object_and_skips_strays(store: LocalEvidenceStore) -> None:
    stored = {store.put(io.BytesIO(c), "f").sha256 for c in (MINIMAL_PDF, tiny_png())}
    (store.root / "ab").mkdir()
    (store.root / "ab" / "README").write_text("not evidence")

    assert set(store.iter_all()) == stored


def test_errors_share_a_base_class() -> None:
    for error in (EvidenceTooLarge, EvidenceTypeNotAllowed, EvidenceMissing, EvidenceCorrupted):
        assert issubclass(error, EvidenceError)
