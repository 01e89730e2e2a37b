"""Sealing what Tandem keeps beside the event store (the record index, a receiver's store).

With a cipher key set, every column that can hold patient text (summaries, payloads, user
ids, reasons) is kept as one sealed blob per row, and what the
stores must still look up (a user id, a patient's name, MRN or birth date) is kept as a
keyed hash (HMAC-SHA256) beside it: equal inputs give equal tokens, so exact lookups work,
but nothing in the file can be read back or matched without the key. Each use gets its own
subkey, derived from the configured key by HMAC with a label, so the index's key is not
the event store's and a search token is not a ciphertext key.

A blob is AES-256 in counter mode (a random 12-byte nonce and a 4-byte block counter; at
most some 2**32 rows per key, the bound of AES-GCM's random nonces) and a keyed BLAKE2b tag
of 16 bytes over nonce and ciphertext (encrypt-then-MAC), each under its own subkey. Not
the event store's AES-GCM (eventsourcing's AESCipher): pycryptodome builds a GCM object per
call, 150-300 microseconds each on the machine this was measured on, and a read opens every
row of a patient (a hundred, often). `open_many` makes the key stream of all the rows of a
read in one AES call instead.

Without a key, `Sealer.plain()` keeps text as text and a lookup token is the text itself:
the stores then look exactly as they always have.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from base64 import b64decode
from typing import Any, cast

from Crypto.Cipher import AES
from eventsourcing.cipher import AESCipher


def subkey(master_b64: str, label: str) -> bytes:
    """A 32-byte key for one use (`label`), derived from the configured (base64) key."""
    master = b64decode(master_b64.encode())
    AESCipher.check_key_size(len(master))
    return hmac.new(master, f"tandem/{label}/v1".encode(), hashlib.sha256).digest()


class SealBroken(Exception):
    """A sealed blob failed its check."""


# Counter blocks (a zero nonce and a 4-byte block counter), laid end to end.
_COUNTERS = b"".join(bytes(12) + i.to_bytes(4, "big") for i in range(1 << 12))
_ZERO_COUNTER = bytes(4)


def _blocks(size: int) -> int:
    return (size + 15) // 16


class Sealer:
    """Seals a row's private fields into one blob and makes lookup tokens."""

    NONCE = 12
    TAG = 16

    def __init__(self, seal_key: bytes | None, token_key: bytes | None) -> None:
        self._keys: tuple[bytes, bytes] | None = None
        if seal_key is not None:
            self._keys = (
                hmac.new(seal_key, b"encrypt", hashlib.sha256).digest(),
                hmac.new(seal_key, b"authenticate", hashlib.sha256).digest(),
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
        return self._keys is not None

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

    def _stream(self, parts: list[tuple[bytes, int]]) -> bytes:
        """The AES-CTR key stream for each (nonce, length), concatenated, block-aligned.
        Each counter block is nonce || counter: every nonce repeated once per block, XORed
        in one go with the counters laid out the same way."""
        assert self._keys is not None
        nonces = b"".join([(nonce + _ZERO_COUNTER) * _blocks(size) for nonce, size in parts])
        counters = b"".join([_counter_blocks(_blocks(size)) for _, size in parts])
        return AES.new(self._keys[0], AES.MODE_ECB).encrypt(_xor(nonces, counters))

    def _tag(self, body: bytes) -> bytes:
        assert self._keys is not None
        return hashlib.blake2b(body, key=self._keys[1], digest_size=self.TAG).digest()

    def seal(self, fields: dict[str, Any]) -> bytes:
        if self._keys is None:
            raise RuntimeError("no cipher key: nothing is sealed")
        text = json.dumps(fields, separators=(",", ":"), sort_keys=True).encode()
        nonce = os.urandom(self.NONCE)
        body = nonce + _xor(text, self._stream([(nonce, len(text))]))
        return body + self._tag(body)

    def open(self, blob: bytes) -> dict[str, Any]:
        return self.open_many([blob])[0]

    def open_many(self, blobs: list[bytes]) -> list[dict[str, Any]]:
        """Each blob's fields; every tag is checked before anything is used."""
        if self._keys is None:
            raise RuntimeError("no cipher key: a sealed store cannot be read")
        parts = []
        for blob in blobs:
            body, tag = blob[: -self.TAG], blob[-self.TAG :]
            if not hmac.compare_digest(self._tag(body), tag):
                raise SealBroken("a sealed row does not verify: changed, or another key's")
            parts.append((body[: self.NONCE], len(body) - self.NONCE))
        stream = self._stream(parts)
        # One XOR over every row's ciphertext (each padded to whole blocks, as the stream
        # is) and one JSON parse of them all as an array: per-row calls cost more than the
        # work itself at a hundred rows a read.
        padded = b"".join(
            blob[self.NONCE : self.NONCE + size] + bytes(_blocks(size) * 16 - size)
            for blob, (_, size) in zip(blobs, parts, strict=True)
        )
        plain = _xor(padded, stream)
        texts, at = [], 0
        for _, size in parts:
            texts.append(plain[at : at + size])
            at += _blocks(size) * 16
        found = json.loads(b"[" + b",".join(texts) + b"]")
        if len(found) != len(blobs) or not all(isinstance(f, dict) for f in found):
            raise SealBroken("a sealed row does not hold one set of fields")
        return cast(list[dict[str, Any]], found)


def _counter_blocks(count: int) -> bytes:
    if count * 16 <= len(_COUNTERS):
        return _COUNTERS[: count * 16]
    return b"".join(bytes(12) + i.to_bytes(4, "big") for i in range(count))


def _xor(data: bytes, stream: bytes) -> bytes:
    size = len(data)
    mixed = int.from_bytes(data, "little") ^ int.from_bytes(stream[:size], "little")
    return mixed.to_bytes(size, "little")
