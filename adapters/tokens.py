"""Signed bearer tokens (JWT, HS256 through PyJWT), and the ids of those signed out before
their expiry (kept server-side: a signature cannot be taken back)."""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from application.ports import InvalidToken, RevokedTokens, Tokens

ISSUER = "tandem"
AUDIENCE = "tandem-api"


class MemoryRevokedTokens(RevokedTokens):
    """Signed-out token ids in this process only (tests that build their own services)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._until: dict[str, float] = {}
        self.clock = clock

    def add(self, token_id: str, expires: float) -> None:
        self._until[token_id] = expires

    def __contains__(self, token_id: object) -> bool:
        return isinstance(token_id, str) and self._until.get(token_id, 0.0) > self.clock()


class SQLiteRevokedTokens(RevokedTokens):
    """Signed-out token ids in SQLite (DATA_DIR/sessions.sqlite, beside the page sessions),
    each kept until the token would have expired anyway, then deleted."""

    SCHEMA = """CREATE TABLE IF NOT EXISTS revoked_tokens (
      token_id TEXT PRIMARY KEY, expires REAL NOT NULL)"""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._local = threading.local()
        with self._conn() as conn:
            conn.execute(self.SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            self._local.conn = conn
        return conn

    def add(self, token_id: str, expires: float) -> None:
        with self._conn() as conn:
            conn.execute("DELETE FROM revoked_tokens WHERE expires <= ?", (self.clock(),))
            conn.execute("INSERT OR REPLACE INTO revoked_tokens VALUES (?, ?)", (token_id, expires))

    def __contains__(self, token_id: object) -> bool:
        if not isinstance(token_id, str):
            return False
        row = (
            self._conn()
            .execute("SELECT expires FROM revoked_tokens WHERE token_id = ?", (token_id,))
            .fetchone()
        )
        return row is not None and float(row[0]) > self.clock()


@dataclass(frozen=True)
class TokenService(Tokens):
    secret: str
    lifetime: timedelta = timedelta(minutes=60)
    revoked: RevokedTokens = field(default_factory=MemoryRevokedTokens)
    # Tokens already verified, by their full text (signature included), with their subject,
    # expiry and id: the same bytes verify the same way, so only the expiry and whether the
    # token was signed out need checking again.
    _verified: dict[str, tuple[str, float, str]] = field(default_factory=dict, repr=False)
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
        """The email the token was issued to, if the token is genuine, current and not
        signed out."""
        subject, _expires, token_id = self._claims(token)
        if token_id in self.revoked:
            raise InvalidToken("token was signed out")
        return subject

    def revoke(self, token: str) -> None:
        _subject, expires, token_id = self._claims(token)
        self.revoked.add(token_id, expires)

    def _claims(self, token: str) -> tuple[str, float, str]:
        known = self._verified.get(token)
        if known is not None:
            if self.clock() < known[1]:
                return known
            self._verified.pop(token, None)
            raise InvalidToken("token has expired")
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["sub", "exp", "iat", "iss", "aud", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        subject, token_id = claims.get("sub"), claims.get("jti")
        if not isinstance(subject, str) or not isinstance(token_id, str):
            raise InvalidToken("token has no subject or no id")
        expires = float(claims["exp"])
        if self.clock() >= expires:
            raise InvalidToken("token has expired")
        if len(self._verified) >= self.cache_size:
            self._verified.clear()
        found = self._verified[token] = (subject, expires, token_id)
        return found


def new_secret() -> str:
    return secrets.token_urlsafe(48)
