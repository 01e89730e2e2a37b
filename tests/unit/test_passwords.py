"""The production password hash: Argon2id at pwdlib's defaults, whatever cost the suite
uses for its own accounts (tests/conftest.py lowers it for speed)."""

from __future__ import annotations

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from adapters import passwords

PASSWORD = "synthetic-password-1"


def test_every_hash_the_application_makes_is_argon2id_at_the_production_cost() -> None:
    made = passwords.HASHER.hash(PASSWORD)
    assert made.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.HASHER.verify(PASSWORD, made)
    assert not passwords.HASHER.verify("another-password-1", made)


def test_a_hash_made_at_another_cost_verifies_by_the_parameters_it_carries() -> None:
    """What lets the suite's cheaper hashes sign in through the production verifier."""
    cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    made = cheap.hash(PASSWORD)
    assert made.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert passwords.HASHER.verify(PASSWORD, made)
    assert not passwords.HASHER.verify("another-password-1", made)
