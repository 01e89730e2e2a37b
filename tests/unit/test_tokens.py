from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.tokens import InvalidToken, SQLiteRevokedTokens, TokenService


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).timestamp()

    def __call__(self) -> float:
        return self.now


def test_a_token_names_its_subject_until_it_expires_even_once_cached() -> None:
    clock = Clock()
    tokens = TokenService("s" * 48, lifetime=timedelta(minutes=5), clock=clock)
    token = tokens.issue("someone@test", "therapist")
    assert tokens.subject(token) == "someone@test"
    assert tokens.subject(token) == "someone@test"  # from the verified cache
    clock.now += 301
    with pytest.raises(InvalidToken):
        tokens.subject(token)
    with pytest.raises(InvalidToken):  # and stays refused once dropped from the cache
        tokens.subject(token)


def test_a_token_signed_with_another_key_is_refused() -> None:
    token = TokenService("a" * 48).issue("someone@test", "therapist")
    with pytest.raises(InvalidToken):
        TokenService("b" * 48).subject(token)


def test_a_tampered_token_is_refused_although_its_original_was_cached() -> None:
    tokens = TokenService("s" * 48)
    token = tokens.issue("someone@test", "therapist")
    tokens.subject(token)
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-2]}AA"
    with pytest.raises(InvalidToken):
        tokens.subject(forged)


def test_an_expired_token_is_refused() -> None:
    tokens = TokenService("s" * 48)
    token = tokens.issue("someone@test", "therapist", now=datetime.now(UTC) - timedelta(hours=2))
    with pytest.raises(InvalidToken):
        tokens.subject(token)


def test_a_revoked_token_is_refused_although_cached_and_its_id_goes_once_it_expires(
    tmp_path: Path,
) -> None:
    clock = Clock()
    revoked = SQLiteRevokedTokens(tmp_path / "sessions.sqlite", clock=clock)
    tokens = TokenService("s" * 48, timedelta(minutes=5), revoked=revoked, clock=clock)
    token, kept = tokens.issue("someone@test", "therapist"), tokens.issue("someone@test", "x")
    assert tokens.subject(token) == "someone@test"  # now in the verified cache
    tokens.revoke(token)
    with pytest.raises(InvalidToken, match="signed out"):
        tokens.subject(token)
    assert tokens.subject(kept) == "someone@test"
    reopened = SQLiteRevokedTokens(tmp_path / "sessions.sqlite", clock=clock)
    assert TokenService("s" * 48, revoked=reopened, clock=clock)._claims(token)[2] in reopened
    clock.now += 301
    revoked.add("another", clock.now + 60)  # adding sweeps the expired ids out
    rows = revoked._conn().execute("SELECT token_id FROM revoked_tokens").fetchall()
    assert rows == [("another",)]
