"""Page sessions kept server-side in SQLite (DATA_DIR/sessions.sqlite): a browser's cookie
holds a random id, the file only its SHA-256, so a copy of the file opens no session. A
session ends when it is signed out, when its user is deactivated, after `idle_seconds`
without a request (45 CFR 164.312(a)(2)(iii), automatic logoff) or `max_seconds` after it
began; an ended session's row is deleted, so a restart cannot bring it back."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from adapters.sealing import Sealer
from application.ports import Sessions

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
  id_sha256 TEXT PRIMARY KEY, email TEXT NOT NULL, started REAL NOT NULL, seen REAL NOT NULL,
  sealed BLOB);
CREATE INDEX IF NOT EXISTS sessions_email ON sessions (email);
"""


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SQLiteSessions(Sessions):
    def __init__(
        self,
        path: Path,
        idle_seconds: float = 15 * 60,
        max_seconds: float = 12 * 3600,
        clock: Callable[[], float] = time.time,
        sealer: Sealer | None = None,
    ) -> None:
        self.path = path
        # With a cipher key the email is kept as a keyed hash (to end a user's sessions)
        # and sealed (to answer who a session belongs to), never in the clear.
        self.sealer = sealer or Sealer.plain()
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds
        self.clock = clock
        # A session's last use is written at most this often (not on every request).
        self.touch_seconds = min(30.0, idle_seconds / 10)
        self._local = threading.local()
        with self._conn() as conn:
            conn.executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA secure_delete=ON")
            self._local.conn = conn
        return conn

    def start(self, email: str) -> str:
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        with self._conn() as conn:
            # Ended sessions of anyone go as new ones begin: the file stays small.
            conn.execute(
                "DELETE FROM sessions WHERE seen <= ? OR started <= ?",
                (now - self.idle_seconds, now - self.max_seconds),
            )
            sealed = self.sealer.seal({"email": email}) if self.sealer.sealed else None
            conn.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                (_digest(session_id), self.sealer.token(email), now, now, sealed),
            )
        return session_id

    def resolve(self, session_id: str) -> str | None:
        if not session_id or len(session_id) > 100:
            return None
        digest, now = _digest(session_id), self.clock()
        conn = self._conn()
        row = conn.execute(
            "SELECT email, started, seen, sealed FROM sessions WHERE id_sha256 = ?", (digest,)
        ).fetchone()
        if row is None:
            return None
        email, started, seen, sealed = row
        if sealed is not None:
            email = self.sealer.open(sealed)["email"]
        if now - seen >= self.idle_seconds or now - started >= self.max_seconds:
            self.end(session_id)
            return None
        if now - seen >= self.touch_seconds:
            with conn:
                conn.execute("UPDATE sessions SET seen = ? WHERE id_sha256 = ?", (now, digest))
        return str(email)

    def end(self, session_id: str) -> None:
        with self._conn() as conn:
            conn.execute("DELETE FROM sessions WHERE id_sha256 = ?", (_digest(session_id),))

    def end_all(self, email: str) -> None:
        with self._conn() as conn:
            conn.execute(
                "DELETE FROM sessions WHERE email = ?", (self.sealer.token(email.strip().lower()),)
            )
