"""Where the chain is kept: the `ChainStore` port and its SQLite and PostgreSQL stores.

The links live beside the events, in `records_chain(position, link)` of the same database:
the SQLite file (whose events table the library names `stored_events`, positions being its
rowids) or the PostgreSQL schema (`records_events`, positions in `notification_id`).
"""

from __future__ import annotations

import sqlite3
import threading
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from application.chain_link import Link, StoredRow
from application.ports import ChainStore, ChainStoreError


@dataclass(frozen=True)
class PostgresConnection:
    """Where the PostgreSQL store is (the composition root fills it from settings)."""

    host: str
    port: int
    dbname: str
    user: str
    password: str = field(repr=False)


CHAIN_TABLE = "records_chain"
# Where the library keeps the Records application's events: SQLite names its table without
# the application's prefix, PostgreSQL with it.
SQLITE_EVENTS_TABLE = "stored_events"
POSTGRES_EVENTS_TABLE = "records_events"


def _quoted(*names: str) -> str:
    return ".".join('"' + name.replace('"', '""') + '"' for name in names)


class _SQLChainStore(ChainStore):
    """The SQL both backends share; each says how it connects, marks parameters, names the
    position column and serialises extenders. One connection per store, behind a lock."""

    mark: str
    position_column: str
    driver_error: type[Exception]
    events_sql: str  # quoted table names
    chain_sql: str

    def __init__(self, events_table: str, where: str) -> None:
        self.events_table, self.where = events_table, where
        self._lock = threading.Lock()
        self._conn: Any = None

    @abstractmethod
    def _open(self) -> Any:
        """A new connection, the chain table created if it was not there."""

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        with self._lock:
            try:
                if self._conn is None:
                    self._conn = self._open()
                yield self._conn
            except self.driver_error as exc:
                self._drop()  # start afresh next time (the server may have restarted)
                raise ChainStoreError(f"{self.where}: {exc}") from exc

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _rows(self, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._connection() as conn:
            return list(conn.execute(statement, params).fetchall())

    def _range(
        self, column: str, start: int | None, limit: int, stop: int | None
    ) -> tuple[str, list[Any]]:
        where, params = [], []
        if start is not None:
            where.append(f"{column} >= {self.mark}")
            params.append(start)
        if stop is not None:
            where.append(f"{column} <= {self.mark}")
            params.append(stop)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        return f"{clause} ORDER BY {column} LIMIT {self.mark}", [*params, limit]

    def events(self, start: int | None, limit: int, stop: int | None = None) -> list[StoredRow]:
        pos = self.position_column
        tail, params = self._range(pos, start, limit, stop)
        columns = f"{pos}, originator_id, originator_version, topic, state"
        rows = self._rows(f"SELECT {columns} FROM {self.events_sql}{tail}", params)
        return [StoredRow(*row) for row in rows]

    def count_events(self, after: int) -> int:
        statement = f"SELECT count(*) FROM {self.events_sql} WHERE {self.position_column} > "
        return int(self._rows(statement + self.mark, [after])[0][0])

    def links(self, start: int | None, limit: int, stop: int | None = None) -> list[Link]:
        tail, params = self._range("position", start, limit, stop)
        rows = self._rows(f"SELECT position, link FROM {self.chain_sql}{tail}", params)
        return [Link(position, _as_bytes(digest)) for position, digest in rows]

    def head(self) -> Link | None:
        statement = f"SELECT position, link FROM {self.chain_sql} ORDER BY position DESC"
        rows = self._rows(statement + f" LIMIT {self.mark}", [1])
        return Link(rows[0][0], _as_bytes(rows[0][1])) if rows else None

    def _head_is(self, conn: Any, after: int) -> bool:
        statement = f"SELECT coalesce(max(position), 0) FROM {self.chain_sql}"
        return bool(conn.execute(statement).fetchone()[0] == after)


def _as_bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode("utf-8", "surrogateescape")  # a link rewritten as text


class SQLiteChainStore(_SQLChainStore):
    """The chain in the same SQLite file as the events (WAL mode, so reading the chain never
    blocks the application's writers)."""

    mark, position_column, driver_error = "?", "rowid", sqlite3.Error

    def __init__(self, path: Path, events_table: str = SQLITE_EVENTS_TABLE) -> None:
        super().__init__(events_table, f"SQLite {path}")
        self.events_sql, self.chain_sql = _quoted(events_table), _quoted(CHAIN_TABLE)
        self.path = path

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            # Undecodable text in a tampered row must reach the checks, not fail the read.
            conn.text_factory = lambda b: b.decode("utf-8", "surrogateescape")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {self.chain_sql} "
                "(position INTEGER PRIMARY KEY, link BLOB NOT NULL)"
            )
        except BaseException:
            conn.close()
            raise
        return conn

    def append(self, links: Sequence[Link], after: int) -> bool:
        with self._connection() as conn:
            # IMMEDIATE takes the write lock up front: the head check and the insert are one
            # step for every other extender, in this process or another.
            conn.execute("BEGIN IMMEDIATE")
            try:
                if not self._head_is(conn, after):
                    conn.execute("ROLLBACK")
                    return False
                conn.executemany(
                    f"INSERT INTO {self.chain_sql} (position, link) VALUES (?, ?)",
                    [(k.position, k.digest) for k in links],
                )
                conn.execute("COMMIT")
                return True
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise


class PostgresChainStore(_SQLChainStore):
    """The chain in the application's PostgreSQL schema."""

    mark, position_column, driver_error = "%s", "notification_id", psycopg.Error

    def __init__(
        self,
        connection: PostgresConnection,
        schema: str = "",
        events_table: str = POSTGRES_EVENTS_TABLE,
    ) -> None:
        super().__init__(events_table, f"PostgreSQL {connection.host}:{connection.port}")
        schema = schema.strip() or "public"
        self.events_sql = _quoted(schema, events_table)
        self.chain_sql = _quoted(schema, CHAIN_TABLE)
        self.connection = connection

    def _open(self) -> psycopg.Connection[tuple[Any, ...]]:
        c = self.connection
        conn = psycopg.connect(
            host=c.host,
            port=c.port,
            dbname=c.dbname,
            user=c.user,
            password=c.password,
            autocommit=True,
            connect_timeout=10,
        )
        try:
            with conn.transaction():
                # Concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalogue;
                # a lock named after the table makes creators take turns.
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [self.chain_sql])
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {self.chain_sql} "
                    "(position bigint PRIMARY KEY, link bytea NOT NULL)"
                )
        except BaseException:
            conn.close()
            raise
        return conn

    def append(self, links: Sequence[Link], after: int) -> bool:
        with self._connection() as conn, conn.transaction():
            # EXCLUSIVE blocks other extenders' writes until commit, but not readers.
            conn.execute(f"LOCK TABLE {self.chain_sql} IN EXCLUSIVE MODE")
            if not self._head_is(conn, after):
                return False
            copy_in = f"COPY {self.chain_sql} (position, link) FROM STDIN"
            with conn.cursor() as cursor, cursor.copy(copy_in) as copy:
                for link in links:
                    copy.write_row((link.position, link.digest))
            return True
