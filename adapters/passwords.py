"""Password hashing (Argon2id through pwdlib): the only place a password is touched."""

from __future__ import annotations

from functools import cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from application.ports import Passwords

# Argon2id at pwdlib's defaults (m=64 MiB, t=3, p=4): every hash this module makes. The test
# suite lowers the cost for its own throwaway accounts (tests/conftest.py) and checks these
# (tests/unit/test_passwords.py).
HASHER = PasswordHash((Argon2Hasher(),))
_hasher = HASHER


# A real hash of a random password, verified against when an account does not exist, so
# that a failed sign-in costs the same time whether or not the account exists.
@cache
def _dummy_hash() -> str:
    return _hasher.hash("tandem-no-such-account-8f2c1d")


MIN_LENGTH = 10


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"password: must be at least {MIN_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Check a password; with no hash, spend the same effort and answer False."""
    if password_hash is None:
        _hasher.verify(password, _dummy_hash())
        return False
    return _hasher.verify(password, password_hash)


class Argon2Passwords(Passwords):
    """The Passwords port over pwdlib's Argon2id."""

    def hash(self, password: str) -> str:
        return hash_password(password)

    def verify(self, password: str, password_hash: str | None) -> bool:
        return verify_password(password, password_hash)
