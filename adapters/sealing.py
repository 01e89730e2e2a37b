"""Sealing what Tandem keeps beside the event store (the record index, a receiver's store).

With a cipher key set, every column that can hold patient text (summaries, payloads, user
ids, reasons) is kept as one AES-GCM blob per row (eventsourcing's AESCipher), and what the
stores must still look up (a user id, a patient's name, MRN or birth date) is kept as a
keyed hash (HMAC-SHA256) beside it: equal inputs give equal tokens, so exact lookups work,
but nothing in the file can be read back or matched without the key. Each use gets its own
subkey, derived from the configured key by HMAC with a label, so the index's key is not
the event store's and a search token is not a ciphertext key.

Without a key, `Sealer.plain()` keeps text as text and a lookup token is the text itself:
the stores then look exactly as they always have.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from base64 import b64decode, b64encode
from typing import Any

from eventsourcing.cipher import AESCipher
from eventsourcing.utils import Environment


def subkey(master_b64: str, label: str) -> bytes:
    """A 32-byte key for one use (`label`), derived from the configured (base64) key."""
    master = b64decode(master_b64.encode())
    AESCipher.check_key_size(len(master))
    return hmac.new(master, f"tandem/{label}/v1".encode(), hashlib.sha256).digest()


class Sealer:
    """Seals a row's private fields into one blob and makes lookup tokens."""

    def __init__(self, seal_key: bytes | None, token_key: bytes | None) -> None:
        self._cipher: AESCipher | None = None
        if seal_key is not None:
            self._cipher = AESCipher(
                Environment(env={AESCipher.CIPHER_KEY: b64encode(seal_key).decode()})
            )
        self._token_key = token_key

    @classmethod
    def plain(cls) -> Sealer:
        return cls(None, None)

    @classmethod
    def keyed(cls, master_b64: str, purpose: str) -> Sealer:
        """A sealer for one store (`purpose`: "index", "receiver", ...)."""
        return cls(subkey(master_b64, f"{purpose}/seal"), subkey(master_b64, f"{purpose}/token"))

    @property
    def sealed(self) -> bool:
        return self._cipher is not None

    @property
    def fingerprint(self) -> str:
        """Names the key in use without revealing it ("plain" without one), so a store can
        tell that it was written under another key (or none)."""
        if self._token_key is None:
            return "plain"
        return hmac.new(self._token_key, b"fingerprint", hashlib.sha256).hexdigest()[:16]

    def token(self, text: str) -> str:
        """The lookup key for `text`: the text itself when plain, else its keyed hash."""
        if self._token_key is None:
            return text
        return hmac.new(self._token_key, text.encode(), hashlib.sha256).hexdigest()

    def seal(self, fields: dict[str, Any]) -> bytes:
        if self._cipher is None:
            raise RuntimeError("no cipher key: nothing is sealed")
        return self._cipher.encrypt(json.dumps(fields, separators=(",", ":")).encode())

    def open(self, blob: bytes) -> dict[str, Any]:
        if self._cipher is None:
            raise RuntimeError("no cipher key: a sealed store cannot be read")
        found: dict[str, Any] = json.loads(self._cipher.decrypt(blob))
        return found
