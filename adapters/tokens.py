"""Signed bearer tokens (JWT, HS256 through PyJWT)."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt

from application.ports import InvalidToken, Tokens

ISSUER = "tandem"
AUDIENCE = "tandem-api"


@dataclass(frozen=True)
class TokenService(Tokens):
    secret: str
    lifetime: timedelta = timedelta(minutes=60)
    # Tokens already verified, by their full text (signature included), with their expiry:
    # the same bytes verify the same way, so only the expiry needs checking again.
    _verified: dict[str, tuple[str, float]] = field(default_factory=dict, repr=False)
    cache_size: int = 10_000
    clock: Callable[[], float] = time.time

    def issue(self, email: str, role: str, now: datetime | None = None) -> str:
        issued = now or datetime.now(UTC)
        claims = {
            "sub": email,
            "role": role,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": issued,
            "nbf": issued,
            "exp": issued + self.lifetime,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def subject(self, token: str) -> str:
        """The email the token was issued to, if the token is genuine and current."""
        known = self._verified.get(token)
        if known is not None:
            if self.clock() < known[1]:
                return known[0]
            self._verified.pop(token, None)
            raise InvalidToken("token has expired")
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["sub", "exp", "iat", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        subject = claims.get("sub")
        if not isinstance(subject, str):
            raise InvalidToken("token has no subject")
        expires = float(claims["exp"])
        if self.clock() >= expires:
            raise InvalidToken("token has expired")
        if len(self._verified) >= self.cache_size:
            self._verified.clear()
        self._verified[token] = (subject, expires)
        return subject


def new_secret() -> str:
    return secrets.token_urlsafe(48)
