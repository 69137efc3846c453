"""The audit log's key, kept outside the database: a file in the instance folder (or at the path of
``SANXIANG_AUDIT_KEY_FILE``), generated once, readable by its owner only.

The file holds one hex-encoded 32-byte secret per line. The last line is the current key; lines
before it are retired keys, kept so that what was linked or signed under them still verifies
(rotating the key is appending a line). Each secret gives two keys:

- the link key (HMAC-SHA256): every audit event's hash is keyed, so whoever edits the database
  without the file cannot recompute a chain after forging an event, as plain SHA-256 allowed;
- the checkpoint key (Ed25519): it signs the checkpoints; its public half can be handed to whoever
  keeps copies of them.

A key is named by an id of 16 hex digits derived from it (never the secret itself), stored on each
event it linked and in each checkpoint it signed.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy.orm import Session

from workflows.core.settings import Settings


class KeyMissing(RuntimeError):
    """The audit key cannot be read (or a session does not say where it is)."""


def _derive(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, f"sanxiang audit {purpose}".encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class Key:
    id: str
    link_key: bytes = field(repr=False)
    seed: bytes = field(repr=False)

    @classmethod
    def from_secret(cls, secret: bytes) -> "Key":
        return cls(_derive(secret, "key id").hex()[:16], _derive(secret, "link v2"),
                   _derive(secret, "checkpoint ed25519"))

    def link(self, data: bytes) -> str:
        """The keyed hash of one event's canonical bytes."""
        return hmac.digest(self.link_key, data, "sha256").hex()

    @cached_property
    def _signer(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @cached_property
    def public_hex(self) -> str:
        return self._signer.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()

    def sign(self, data: bytes) -> str:
        return self._signer.sign(data).hex()

    def signed(self, data: bytes, signature: str) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(self.public_hex)).verify(bytes.fromhex(signature), data)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class Keyring:
    current: Key
    by_id: dict[str, Key]

    def get(self, key_id: str | None) -> Key | None:
        return self.by_id.get(key_id) if key_id else None


def ensure_key_file(path: Path) -> bool:
    """Generate the key file if there is none; True when it was made now."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return True


def keyring(settings: Settings) -> Keyring:
    """The keys of ``settings``'s key file, made on first use (read again when the file changes)."""
    path = _path(settings)
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        ensure_key_file(path)
        stat = os.stat(path)
    except OSError as exc:
        raise KeyMissing(f"audit key file {path} cannot be read: {exc}") from None
    return _read(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=32)
def _path(settings: Settings) -> Path:
    return settings.audit_key_path


@lru_cache(maxsize=32)
def _read(path: Path, _mtime: int, _size: int) -> Keyring:
    try:
        lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
        keys = [Key.from_secret(bytes.fromhex(line)) for line in lines]
    except (OSError, ValueError) as exc:
        raise KeyMissing(f"audit key file {path} cannot be read: {exc}") from None
    if not keys or any(len(bytes.fromhex(line)) < 32 for line in lines):
        raise KeyMissing(f"audit key file {path} holds no key of 32 bytes")
    return Keyring(keys[-1], {k.id: k for k in keys})


def of_session(session: Session) -> Keyring:
    """The keyring of the settings the session was opened with (:func:`workflows.core.db.session_factory`)."""
    ring = session.info.get("audit_keyring")
    if ring is None:
        settings = session.info.get("settings")
        if settings is None:
            raise KeyMissing("this session does not know the audit key: open it with workflows.core.db.session_factory")
        ring = session.info["audit_keyring"] = keyring(settings)
    return ring
