"""The chain heads' signing key: an Ed25519 keyring in one file outside the data directory.

The file (TANDEM_SIGNING_KEY_FILE, mode 0600) is JSON:

    {"current": {"key_id": ..., "private": base64 of the 32-byte seed, "created": ...},
     "retired": [{"key_id": ..., "public": base64 of the 32-byte key, "retired": ...}, ...]}

A key's id is the first 16 hex digits of SHA-256 over its raw public key. Rotation makes a
new current key and keeps only the old one's public half, so heads signed before the
rotation still verify and the old key can sign nothing more. The file is replaced whole
(written beside it, then renamed), so a reader never sees half a keyring.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from application.heads import HeadLogError
from application.ports import HeadSigner


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id_of(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw_public(key)).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Ed25519Keyring(HeadSigner):
    """The current signing key and the public keys of the retired ones."""

    def __init__(
        self,
        path: Path,
        private: Ed25519PrivateKey,
        retired: dict[str, Any],
        created: str | None = None,
    ) -> None:
        self.path, self.created = path, created or _now()
        self._private = private
        self._public = {key_id_of(private.public_key()): private.public_key()}
        self._retired = retired  # key id -> its file entry
        for key_id, entry in retired.items():
            self._public[key_id] = Ed25519PublicKey.from_public_bytes(
                base64.b64decode(entry["public"])
            )

    # --- the file ---------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, create: bool = True) -> Ed25519Keyring:
        """The keyring in `path`; a new one (a new key) if the file does not exist yet and
        `create` is set."""
        if not path.exists():
            if not create:
                raise HeadLogError(f"no signing key in {path}")
            keyring = cls(path, Ed25519PrivateKey.generate(), {})
            keyring._save(exclusive=True)
            return keyring
        try:
            fields = json.loads(path.read_text())
            current = fields["current"]
            seed = base64.b64decode(current["private"], validate=True)
            private = Ed25519PrivateKey.from_private_bytes(seed)
            retired = {entry["key_id"]: entry for entry in fields.get("retired", [])}
            return cls(path, private, retired, current.get("created"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise HeadLogError(f"the signing key file {path} cannot be read: {exc}") from exc

    def _fields(self) -> dict[str, Any]:
        seed = self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return {
            "current": {"key_id": self.key_id, "private": _b64(seed), "created": self.created},
            "retired": list(self._retired.values()),
        }

    def _save(self, exclusive: bool = False) -> None:
        text = json.dumps(self._fields(), indent=1)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if exclusive:  # first use: never overwrite a key another process just made
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                loaded = type(self).open(self.path, create=False)
                self.__dict__.update(loaded.__dict__)
                return
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            return
        temporary = self.path.with_name(self.path.name + ".new")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)

    def rotate(self) -> tuple[str, str]:
        """A new current key; the old one's public half is kept for checking. Returns the
        old and the new key ids."""
        old = self.key_id
        self._retired[old] = {
            "key_id": old,
            "public": _b64(_raw_public(self._private.public_key())),
            "retired": _now(),
        }
        self._private, self.created = Ed25519PrivateKey.generate(), _now()
        self._public[self.key_id] = self._private.public_key()
        self._save()
        return old, self.key_id

    # --- the port ---------------------------------------------------------------------------

    @property
    def key_id(self) -> str:
        return key_id_of(self._private.public_key())

    @property
    def key_ids(self) -> list[str]:
        """Every key this keyring can check, the current one first."""
        return [self.key_id, *(k for k in self._public if k != self.key_id)]

    def sign(self, payload: bytes) -> bytes:
        return self._private.sign(payload)

    def check(self, key_id: str, payload: bytes, signature: bytes) -> bool:
        public = self._public.get(key_id)
        if public is None:
            return False
        try:
            public.verify(signature, payload)
        except InvalidSignature:
            return False
        return True
