"""Signed bearer tokens (JWT, HS256 through PyJWT)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ISSUER = "tandem"
AUDIENCE = "tandem-api"


class InvalidToken(Exception):
    """The token is missing, forged, expired or malformed."""


@dataclass(frozen=True)
class TokenService:
    secret: str
    lifetime: timedelta = timedelta(minutes=60)

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
        return subject


def new_secret() -> str:
    return secrets.token_urlsafe(48)
