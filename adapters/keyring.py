"""The event store's cipher with a keyring: new events are sealed under the current key,
and events sealed under an earlier key stay readable.

A sealed state is

    b"\\x00TK1" + key id (8 bytes) + AES-GCM as eventsourcing's AESCipher writes it
                                     (12-byte nonce, 16-byte tag, ciphertext)

where the key id is the first 8 bytes of SHA-256 over a label and the key. The id tells
which key to open it with; a state without the prefix was written by AESCipher itself
(before the keyring) and is tried under each key, the current one first (GCM's tag tells
which one fits). Keys come from the environment the composition root builds: CIPHER_KEY
(current, base64 of 16, 24 or 32 bytes) and CIPHER_OLD_KEYS (the keys it replaced,
comma-separated), which only ever decrypt. The AES-GCM is eventsourcing's
`eventsourcing.cryptography` cipher (the `cryptography` package): the same stored form as
its pycryptodome one, whose per-event cipher set-up costs 150-300 microseconds.

Rotation never rewrites a stored event: the chain hashes each state as stored, so a
re-encrypted log would no longer match its links (nor its published heads). A key can
therefore be retired only with the events it sealed.
"""

from __future__ import annotations

import hashlib
from base64 import b64decode

from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import Cipher
from eventsourcing.utils import Environment

MAGIC = b"\x00TK1"
KEY_ID_BYTES = 8


def cipher_key_id(key_b64: str) -> bytes:
    """The id a sealed state names its key by (not secret: SHA-256 of a label and the key)."""
    key = b64decode(key_b64.encode())
    AESCipher.check_key_size(len(key))
    return hashlib.sha256(b"tandem/cipher-key-id/v1" + key).digest()[:KEY_ID_BYTES]


def _aes(key_b64: str) -> AESCipher:
    return AESCipher(Environment(env={AESCipher.CIPHER_KEY: key_b64}))


class KeyringCipher(Cipher):
    CIPHER_KEY = "CIPHER_KEY"
    CIPHER_OLD_KEYS = "CIPHER_OLD_KEYS"

    def __init__(self, environment: Environment) -> None:
        current = environment.get(self.CIPHER_KEY)
        if not current:
            raise OSError(f"'{self.CIPHER_KEY}' not in env")
        old = [k.strip() for k in (environment.get(self.CIPHER_OLD_KEYS) or "").split(",")]
        keys = [current, *(k for k in old if k and k != current)]
        self._ciphers = {cipher_key_id(k): _aes(k) for k in keys}
        self._current_id = cipher_key_id(current)
        self._current = self._ciphers[self._current_id]
        self._prefix = MAGIC + self._current_id

    @property
    def key_id(self) -> str:
        return self._current_id.hex()

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._prefix + self._current.encrypt(plaintext)

    def decrypt(self, ciphertext: bytes) -> bytes:
        head = len(MAGIC) + KEY_ID_BYTES
        if ciphertext[: len(MAGIC)] == MAGIC:
            named = self._ciphers.get(ciphertext[len(MAGIC) : head])
            if named is not None:
                return named.decrypt(ciphertext[head:])
        # Written by AESCipher before the keyring (or, once in 2**32, such a state whose
        # random nonce begins like the prefix): each key in turn.
        for cipher in self._ciphers.values():
            try:
                return cipher.decrypt(ciphertext)
            except ValueError:
                continue
        if ciphertext[: len(MAGIC)] == MAGIC:
            key_id = ciphertext[len(MAGIC) : head].hex()
            raise ValueError(
                f"an event is sealed under cipher key {key_id}, which is not configured "
                "(after a rotation, keep the old key in TANDEM_CIPHER_OLD_KEYS)"
            )
        raise ValueError("an event does not decrypt under any configured cipher key")
