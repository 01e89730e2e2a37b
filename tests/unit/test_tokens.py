from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.tokens import InvalidToken, TokenService


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
