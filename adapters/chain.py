"""A tamper-evident hash chain over the store's notification log.

Every stored event, in log order (clinical events, user accounts and access records alike),
is linked to the one before it. For the event at log position n, whose predecessor in the
log is at position p (positions may skip: PostgreSQL burns ids in failed transactions):

    link(n) = SHA-256( link(p)                    32 bytes; 32 zero bytes before the first event
                     + n                          8 bytes, big-endian
                     + originator id              16 bytes (the UUID's bytes)
                     + originator version         8 bytes, big-endian
                     + len(topic) + topic         8-byte big-endian length, then UTF-8 bytes
                     + len(state) + state )       8-byte big-endian length, then the bytes

The state is hashed exactly as stored (after compression and encryption), so the chain can be
verified without the cipher key and any changed byte changes the link. Rows are read straight
from the events table rather than through the library's recorder, because the recorder
normalises what it reads: SQLite keeps the originator id as hex text and `UUID()` also parses
upper-case or hyphenated forms, so a row rewritten into such a form would drop out of its
aggregate while hashing the same. A row the library could not have written is "malformed".

The links live beside the events, in `records_chain(position, link)` of the same database:
the SQLite file (whose events table the library names `stored_events`, positions being its
rowids) or the PostgreSQL schema (`records_events`, positions in `notification_id`).
`HashChain.extend()` links whatever was written since it last ran; `HashChain.verify()`
recomputes every link from the stored rows and names the first position where they
disagree. What it cannot see: events not yet linked, and an
attacker who rewrites the events and the chain together (or cuts both at the tail); compare
the head link with a copy kept elsewhere to catch those.

    TandemError
    └── ChainError               the chain cannot be read or extended
        ├── MalformedEvent       a stored row the library could not have written (position)
        └── ChainStoreError      the database holding the chain refused or is unreachable
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar
from uuid import UUID

import psycopg

from adapters.clinic import Clinic
from adapters.settings import Settings
from domain.errors import TandemError

ZERO_LINK = bytes(32)
CHAIN_TABLE = "records_chain"
# Where the library keeps the Records application's events: SQLite names its table without
# the application's prefix, PostgreSQL with it.
SQLITE_EVENTS_TABLE = "stored_events"
POSTGRES_EVENTS_TABLE = "records_events"


class ChainError(TandemError):
    """The chain cannot be read or extended."""


class MalformedEvent(ChainError):
    """A stored row the library could not have written: tampered, though not by a byte
    the hash alone would have shown."""

    def __init__(self, position: int, why: str) -> None:
        self.position, self.why = position, why
        super().__init__(f"event at position {position} is malformed: {why}")


class ChainStoreError(ChainError):
    """The database holding the events and the chain refused or could not be reached."""


@dataclass(frozen=True)
class StoredRow:
    """One row of the events table exactly as the driver returned it (not yet checked)."""

    position: int
    originator_id: object
    originator_version: object
    topic: object
    state: object


@dataclass(frozen=True)
class Link:
    """The chain's entry for the event at `position`: its SHA-256 digest."""

    position: int
    digest: bytes


@dataclass(frozen=True)
class Verification:
    """What `verify` found. `head` is the last linked position (0: nothing linked yet) and
    `checked` the number of linked events found intact before any break."""

    intact: bool
    checked: int
    head: int
    head_link_hex: str
    first_broken: int | None
    reason: str
    unlinked: int = 0


def _u64(value: int) -> bytes:
    return value.to_bytes(8, "big")


def link_for(previous: bytes, row: StoredRow) -> bytes:
    """The link of `row` after the link `previous`, per the format above."""
    oid, version, topic, state = row.originator_id, row.originator_version, row.topic, row.state
    if isinstance(oid, str):  # SQLite: the library writes exactly `uuid.hex`
        try:
            parsed: UUID | None = UUID(hex=oid)
        except ValueError:
            parsed = None
        if parsed is None or parsed.hex != oid:
            raise MalformedEvent(row.position, "originator id is not a UUID in stored form")
        oid = parsed
    if not isinstance(oid, UUID):
        raise MalformedEvent(row.position, "originator id is not a UUID")
    if type(version) is not int or not 0 < version < 2**63:
        raise MalformedEvent(row.position, "originator version is not a positive integer")
    if not 0 < row.position < 2**63:
        raise MalformedEvent(row.position, "position is not a positive integer")
    if isinstance(state, memoryview):
        state = bytes(state)
    if not isinstance(state, bytes):
        raise MalformedEvent(row.position, "state is not stored as bytes")
    try:
        topic_bytes = topic.encode("utf-8") if isinstance(topic, str) else None
    except UnicodeEncodeError:
        topic_bytes = None
    if topic_bytes is None:
        raise MalformedEvent(row.position, "topic is not UTF-8 text")
    parts = (previous, _u64(row.position), oid.bytes, _u64(version))
    tail = (_u64(len(topic_bytes)), topic_bytes, _u64(len(state)), state)
    return hashlib.sha256(b"".join(parts + tail)).digest()


class ChainStore(ABC):
    """Port: reads the log's rows exactly as stored, and keeps their links.

    Positions are log positions (notification ids). Reads take `start` (None: from the
    lowest), an inclusive `stop` and a `limit`, and return rows in position order.
    Implementations are safe to share between threads.
    """

    events_table: str  # the events table it reads, as the library names it

    @abstractmethod
    def events(self, start: int | None, limit: int, stop: int | None = None) -> list[StoredRow]:
        """Stored events with start <= position <= stop, at most `limit` of them."""

    @abstractmethod
    def count_events(self, after: int) -> int:
        """How many stored events lie after position `after`."""

    @abstractmethod
    def links(self, start: int | None, limit: int, stop: int | None = None) -> list[Link]:
        """Stored links with start <= position <= stop, at most `limit` of them."""

    @abstractmethod
    def head(self) -> Link | None:
        """The link at the highest position, or None for an empty chain."""

    @abstractmethod
    def append(self, links: Sequence[Link], after: int) -> bool:
        """Store `links` atomically if the head is still at position `after` (0: empty);
        False, storing nothing, if another extender moved it first."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> ChainStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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

    def __init__(self, settings: Settings, events_table: str = POSTGRES_EVENTS_TABLE) -> None:
        super().__init__(
            events_table, f"PostgreSQL {settings.postgres_host}:{settings.postgres_port}"
        )
        schema = settings.postgres_schema.strip() or "public"
        self.events_sql = _quoted(schema, events_table)
        self.chain_sql = _quoted(schema, CHAIN_TABLE)
        self.settings = settings

    def _open(self) -> psycopg.Connection[tuple[Any, ...]]:
        s = self.settings
        conn = psycopg.connect(
            host=s.postgres_host,
            port=s.postgres_port,
            dbname=s.postgres_dbname,
            user=s.postgres_user,
            password=s.postgres_password.get_secret_value(),
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


def chain_store_for(settings: Settings) -> ChainStore:
    """The chain store beside the event store that `settings` selects."""
    if settings.store == "postgres":
        return PostgresChainStore(settings)
    return SQLiteChainStore(settings.sqlite_path)


class _Positioned(Protocol):
    @property
    def position(self) -> int: ...


P = TypeVar("P", bound=_Positioned)


def _stream(fetch: Callable[[int | None], Sequence[P]], batch: int) -> Iterator[P]:
    """Everything `fetch` returns, one batch at a time, resuming after the last position."""
    start: int | None = None
    while True:
        items = fetch(start)
        yield from items
        if len(items) < batch:
            return
        start = items[-1].position + 1


@dataclass(frozen=True)
class _Suspect:
    """A position that disagrees with the chain. Whether the next link still follows from the
    stored link here, or from the one recomputed here, tells which side was changed."""

    position: int
    kind: str  # "mismatch": row and link differ; "unlinked": row, no link; "missing": link, no row
    before: bytes  # the stored link preceding this position
    stored: bytes | None
    computed: bytes | None

    def diagnose(self, row: StoredRow | None, link: Link | None) -> str:
        def next_follows(previous: bytes | None) -> bool:
            if previous is None or row is None or link is None:
                return False
            try:
                return link_for(previous, row) == link.digest
            except MalformedEvent:
                return False

        n = self.position
        if self.kind == "mismatch":
            if not next_follows(self.stored) and next_follows(self.computed):
                return f"link at position {n} was altered (it does not match its event)"
            return f"event at position {n} does not match its link"
        if self.kind == "unlinked":
            if not next_follows(self.before) and next_follows(self.computed):
                return f"link at position {n} is missing"
            return f"event at position {n} is not in the chain (an inserted row)"
        if not next_follows(self.stored) and next_follows(self.before):
            return f"link at position {n} has no event (an inserted link)"
        return f"event at position {n} is missing"


class HashChain:
    """Links the clinic's notification log into the chain, and verifies it."""

    def __init__(self, clinic: Clinic, store: ChainStore, *, batch: int = 1000) -> None:
        table = getattr(clinic.recorder, "events_table_name", None)
        if table != store.events_table:
            raise ChainError(f"the store reads table {store.events_table}; this log is in {table}")
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self.clinic, self.store, self.batch = clinic, store, batch

    def extend(self) -> int:
        """Link every stored event after the chain's head, a batch at a time; return the new
        head position. Idempotent, and safe beside other extenders (threads or processes): a
        batch is stored only if the head has not moved meanwhile, else it is recomputed.
        Raises MalformedEvent rather than link a row the library could not have written."""
        while True:
            head = self.store.head() or Link(0, ZERO_LINK)
            rows = self.store.events(head.position + 1, self.batch)
            if not rows:
                return head.position
            previous, links = head.digest, []
            for row in rows:
                previous = link_for(previous, row)
                links.append(Link(row.position, previous))
            self.store.append(links, after=head.position)

    def verify(self) -> Verification:
        """Recompute every link up to the head from the stored rows, in batches, and compare
        with the stored links. Events after the head are counted as not yet linked; they do
        not make the log broken. An altered link at the head itself reads as an altered event
        (no later link can tell the two apart)."""
        head = self.store.head() or Link(0, ZERO_LINK)
        before, checked = ZERO_LINK, 0
        suspect: _Suspect | None = None
        broken: tuple[int, str] | None = None
        for position, row, link in self._walk(head.position):
            if suspect is not None:
                broken = (suspect.position, suspect.diagnose(row, link))
                break
            if row is None:
                stored = link.digest if link is not None else None
                suspect = _Suspect(position, "missing", before, stored, None)
                continue
            try:
                computed = link_for(before, row)
            except MalformedEvent as exc:
                broken = (position, str(exc))
                break
            if link is None:
                suspect = _Suspect(position, "unlinked", before, None, computed)
            elif computed != link.digest:
                suspect = _Suspect(position, "mismatch", before, link.digest, computed)
            else:
                checked, before = checked + 1, link.digest
        else:
            if suspect is not None:
                broken = (suspect.position, suspect.diagnose(None, None))
        unlinked = self.store.count_events(after=head.position)
        if broken is not None:
            first, reason = broken
            return Verification(
                False, checked, head.position, head.digest.hex(), first, reason, unlinked
            )
        reason = f"intact: {checked} events linked up to position {head.position}"
        if unlinked:
            reason += f"; not yet linked: {unlinked} events"
        return Verification(True, checked, head.position, head.digest.hex(), None, reason, unlinked)

    def _walk(self, stop: int) -> Iterator[tuple[int, StoredRow | None, Link | None]]:
        """Stored rows and links up to `stop`, merged by position."""
        rows = _stream(lambda start: self.store.events(start, self.batch, stop), self.batch)
        links = _stream(lambda start: self.store.links(start, self.batch, stop), self.batch)
        row, link = next(rows, None), next(links, None)
        while row is not None or link is not None:
            position = min(x.position for x in (row, link) if x is not None)
            row_here = row if row is not None and row.position == position else None
            link_here = link if link is not None and link.position == position else None
            yield position, row_here, link_here
            if row_here is not None:
                row = next(rows, None)
            if link_here is not None:
                link = next(links, None)
