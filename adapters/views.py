"""The record index stored in SQLite (`DATA_DIR/views.sqlite`), rows and tracking together.

Each change and its tracking position are written in one transaction: after a crash the
index resumes from its own position, never skipping or repeating an event. Reads use their
own connections (WAL lets them run beside the writer).

With a cipher key (`Sealer.keyed`), no patient text is kept in the clear: each row's private
fields (summaries, payloads, user ids, reasons) are one sealed blob, and what queries need
(a user id, a patient's search terms) is kept as a keyed hash beside it. Positions, patient
ids, kinds, data classes, roles, organisations and times stay in the clear: the queries
select by them. The file names the layout and the key it was written under (`meta`); an
index written by another layout or under another key (or none) is dropped, its pages
overwritten, and rebuilt from the log.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.persistence import Tracking

from adapters.sealing import Sealer
from domain.record import kind_of
from domain.registration import (
    CareTeamMemberAdded,
    CareTeamMemberRemoved,
    DemographicsUpdated,
    PatientRegistered,
)
from projections.board import URGENCY, BoardItem, PatientBoard, item_json, item_of
from projections.record_index import (
    AccessRow,
    ConsentRow,
    EventRow,
    IndexView,
    RefusalRow,
    Review,
    SignInFailureRow,
    search_terms,
)
from projections.role_views import VIEW_FORMAT, board_in

# The layout of these tables: an index another layout (or key) wrote is dropped and rebuilt
# from the log (it holds nothing the log does not). 3 added the Part 2 label;
LAYOUT = "5"  # 4 added the board (projections.board); 5 a patient page's sections

SCHEMA = """
CREATE TABLE IF NOT EXISTS tracking (application_name TEXT PRIMARY KEY, notification_id INTEGER);
CREATE TABLE IF NOT EXISTS record_events (
  position INTEGER PRIMARY KEY, patient_id TEXT NOT NULL, version INTEGER NOT NULL,
  kind TEXT NOT NULL, data_class TEXT NOT NULL, author TEXT NOT NULL, author_role TEXT NOT NULL,
  author_org TEXT NOT NULL, sud_counseling INTEGER NOT NULL, clinical_time TEXT NOT NULL,
  recorded_at TEXT NOT NULL, summary TEXT NOT NULL, payload TEXT NOT NULL, sealed BLOB,
  part2 INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS record_events_patient ON record_events (patient_id, position);
CREATE TABLE IF NOT EXISTS consent_events (
  position INTEGER PRIMARY KEY, patient_id TEXT NOT NULL, version INTEGER NOT NULL,
  kind TEXT NOT NULL, author TEXT NOT NULL, clinical_time TEXT NOT NULL, summary TEXT NOT NULL,
  sealed BLOB);
CREATE INDEX IF NOT EXISTS consent_events_patient ON consent_events (patient_id, position);
CREATE TABLE IF NOT EXISTS access_log (
  position INTEGER PRIMARY KEY, access_id TEXT UNIQUE NOT NULL, at TEXT NOT NULL,
  user_id TEXT NOT NULL, role TEXT NOT NULL, organisation TEXT NOT NULL, patient_id TEXT NOT NULL,
  view TEXT NOT NULL, purpose TEXT NOT NULL, basis TEXT NOT NULL, classes TEXT NOT NULL,
  consents TEXT NOT NULL, reflected_position INTEGER NOT NULL, response_sha256 TEXT NOT NULL,
  emergency_reason TEXT, part2 INTEGER NOT NULL, reviewed_by TEXT, reviewed_at TEXT,
  review_outcome TEXT, sealed BLOB, sections TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS access_patient ON access_log (patient_id, at);
-- A patient's own access log, newest first, a page at a time (an older file gains it).
CREATE INDEX IF NOT EXISTS access_patient_position ON access_log (patient_id, position);
CREATE INDEX IF NOT EXISTS access_user ON access_log (user_id, at);
CREATE TABLE IF NOT EXISTS refused_reads (
  position INTEGER PRIMARY KEY, refusal_id TEXT UNIQUE NOT NULL, at TEXT NOT NULL,
  user_id TEXT NOT NULL, role TEXT NOT NULL, organisation TEXT NOT NULL,
  patient_id TEXT NOT NULL, view TEXT NOT NULL, purpose TEXT NOT NULL, why TEXT NOT NULL,
  sealed BLOB);
CREATE INDEX IF NOT EXISTS refused_user ON refused_reads (user_id, at);
CREATE TABLE IF NOT EXISTS sign_in_failures (
  position INTEGER PRIMARY KEY, failure_id TEXT UNIQUE NOT NULL, at TEXT NOT NULL,
  username TEXT NOT NULL, address TEXT NOT NULL, reason TEXT NOT NULL, sealed BLOB);
CREATE INDEX IF NOT EXISTS sign_in_username ON sign_in_failures (username, at);
CREATE TABLE IF NOT EXISTS team_members (
  position INTEGER PRIMARY KEY, patient_id TEXT NOT NULL, member TEXT NOT NULL,
  kind TEXT NOT NULL, role TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS team_member ON team_members (member, position);
CREATE TABLE IF NOT EXISTS search_terms (
  term TEXT NOT NULL, field TEXT NOT NULL, patient_id TEXT NOT NULL,
  PRIMARY KEY (term, patient_id));
CREATE INDEX IF NOT EXISTS search_patient ON search_terms (patient_id);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS board_patients (
  patient_id TEXT PRIMARY KEY, position INTEGER NOT NULL, version INTEGER NOT NULL,
  horizon TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS board_items (
  patient_id TEXT NOT NULL, ord INTEGER NOT NULL, section TEXT NOT NULL, kind TEXT NOT NULL,
  due_from REAL, due_by REAL, roles TEXT NOT NULL, waiting TEXT NOT NULL, item TEXT NOT NULL,
  sealed BLOB, PRIMARY KEY (patient_id, ord));
-- Every column a board page is selected and ranked by, so that its query reads this index
-- alone, never the items' rows (an older file's narrower index is replaced).
DROP INDEX IF EXISTS board_items_patient;
CREATE INDEX IF NOT EXISTS board_items_open ON board_items
  (patient_id, due_from, section, due_by, roles, waiting, kind);
"""
# The columns a patient's rows are read with, in the order `patient_events` reads them.
EVENT_COLUMNS = (
    "position, version, kind, data_class, author_role, author_org, sud_counseling, "
    "clinical_time, recorded_at, part2, author, summary, payload, sealed"
)
TABLES = (
    "tracking",
    "record_events",
    "consent_events",
    "access_log",
    "refused_reads",
    "sign_in_failures",
    "team_members",
    "search_terms",
    "board_patients",
    "board_items",
)


# How many patients' open board items a view keeps decoded: two of the largest board
# pages (200 patients each; a patient's open items take some tens of kilobytes as objects).
BOARDS_KEPT = 400


@dataclass(frozen=True)
class KeptBoard:
    head: tuple[Any, ...]  # the board's position, version and horizon when it was read
    read_at: float  # the reading time (a timestamp) its items were selected for
    until: float  # when its next item opens (inf: none)
    items: tuple[BoardItem, ...]


class SQLiteIndexView(IndexView):
    def __init__(
        self, path: Path, sealer: Sealer | None = None, zone: ZoneInfo | None = None
    ) -> None:
        self.path = path
        self.sealer = sealer or Sealer.plain()
        # The clinic's time zone the stored boards' rules count days in (settings).
        self.zone = zone
        path.parent.mkdir(parents=True, exist_ok=True)
        self._write_lock = threading.RLock()
        self._batching = False
        self._dirty: set[UUID] = set()  # patients whose board this transaction recomputes
        self._writer = self._connect()
        self._open_layout()
        self._readers = threading.local()
        # The open items of the boards last read, decoded, by patient (`_open_items`): in
        # memory only, at most BOARDS_KEPT patients, the one read longest ago dropped first.
        self._boards: dict[UUID, KeptBoard] = {}
        self._boards_lock = threading.Lock()

    def _open_layout(self) -> None:
        """Use the file as it is if this layout wrote it under this key; else drop every
        table (deleted pages overwritten, the file compacted and its WAL emptied, so no row
        of the old layout survives in any byte) and start empty: the runner then rebuilds
        the index from the log's first event."""
        conn = self._writer
        # The stored boards are the rules' answer in this zone and rule layout: a file
        # written under another is rebuilt like one of another layout.
        want = {
            "layout": LAYOUT,
            "key": self.sealer.fingerprint,
            "zone": self.zone.key if self.zone is not None else "",
            "rules": str(VIEW_FORMAT),
        }
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        found = (
            dict(conn.execute("SELECT name, value FROM meta").fetchall()) if "meta" in names else {}
        )
        if names and found != want:
            conn.execute("PRAGMA secure_delete=ON")
            for name in names:
                conn.execute(f'DROP TABLE IF EXISTS "{name}"')
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.executescript(SCHEMA)
        conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", want.items())

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # rebuildable from the store: no fsync per row
        conn.execute("PRAGMA secure_delete=ON")  # a deleted row's bytes do not stay behind
        conn.row_factory = sqlite3.Row
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._readers, "conn", None)
        if conn is None:
            conn = self._connect()
            self._readers.conn = conn
        return conn

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many changes in one transaction (a catch-up's worth): each still tracks its own
        position, and a failure rolls the whole batch back, tracking included."""
        with self._write_lock:
            self._writer.execute("BEGIN IMMEDIATE")
            self._batching = True
            try:
                yield
                self._refresh_boards(self._writer)
                self._writer.execute("COMMIT")
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            finally:
                self._batching = False
                self._dirty.clear()

    @contextmanager
    def _transaction(self, tracking: Tracking) -> Iterator[sqlite3.Connection]:
        with self._write_lock:
            conn = self._writer
            if self._batching:
                yield conn
                self._track(conn, tracking)
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                self._refresh_boards(conn)
                self._track(conn, tracking)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            finally:
                self._dirty.clear()

    @staticmethod
    def _track(conn: sqlite3.Connection, tracking: Tracking) -> None:
        cursor = conn.execute(
            "INSERT INTO tracking VALUES (?, ?) ON CONFLICT (application_name) DO UPDATE "
            "SET notification_id = excluded.notification_id "
            "WHERE tracking.notification_id < excluded.notification_id",
            (tracking.application_name, tracking.notification_id),
        )
        if cursor.rowcount != 1:
            # Already past this position: the event was processed before. Refuse, so the
            # caller's rows roll back rather than being written twice.
            msg = f"{tracking.application_name} already tracked past {tracking.notification_id}"
            raise sqlite3.IntegrityError(msg)

    # --- TrackingRecorder -------------------------------------------------------------

    def insert_tracking(self, tracking: Tracking) -> None:
        with self._transaction(tracking):
            pass

    def max_tracking_id(self, application_name: str) -> int | None:
        row = (
            self._reader()
            .execute(
                "SELECT notification_id FROM tracking WHERE application_name = ?",
                (application_name,),
            )
            .fetchone()
        )
        return None if row is None else int(row[0])

    # --- changes ------------------------------------------------------------------------

    def _private(self, **fields: Any) -> tuple[dict[str, Any], bytes | None]:
        """The private columns as stored (blanked when sealed) and the sealed blob (none
        when plain)."""
        if not self.sealer.sealed:
            return fields, None
        return {k: "" for k in fields}, self.sealer.seal(fields)

    def _opened(self, r: sqlite3.Row, *names: str) -> dict[str, Any]:
        return self._opened_all([r], *names)[0]

    def _opened_all(self, rows: list[sqlite3.Row], *names: str) -> list[dict[str, Any]]:
        """Each row's private fields: its columns, or its blob opened (all of them at once,
        which is what keeps a read of a hundred sealed rows fast)."""
        sealed = [r["sealed"] for r in rows if r["sealed"] is not None]
        opened = iter(self.sealer.open_many(sealed) if sealed else [])
        return [{n: r[n] for n in names} if r["sealed"] is None else next(opened) for r in rows]

    def add_event(self, row: EventRow, tracking: Tracking) -> None:
        if self.sealer.sealed:  # the payload as it is, in the blob: one JSON parse to open
            shown, sealed = self._private(
                author=row.author, summary=row.summary, payload=row.payload
            )
        else:
            payload = json.dumps(row.payload, separators=(",", ":"), sort_keys=True)
            shown, sealed = self._private(author=row.author, summary=row.summary, payload=payload)
        with self._transaction(tracking) as conn:
            conn.execute(
                "INSERT INTO record_events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    row.position,
                    str(row.patient_id),
                    row.version,
                    row.kind,
                    row.data_class,
                    self.sealer.token(row.author) if sealed else row.author,
                    row.author_role,
                    row.author_org,
                    int(row.sud_counseling),
                    row.clinical_time.isoformat(),
                    row.recorded_at.isoformat(),
                    shown["summary"],
                    shown["payload"],
                    sealed,
                    int(row.part2),
                ),
            )
            self._dirty.add(row.patient_id)
            if row.kind in (kind_of(CareTeamMemberAdded), kind_of(CareTeamMemberRemoved)):
                conn.execute(
                    "INSERT INTO team_members VALUES (?,?,?,?,?)",
                    (
                        row.position,
                        str(row.patient_id),
                        self.sealer.token(row.payload["user_id"]),
                        row.kind,
                        row.payload.get("role", ""),
                    ),
                )
            if row.kind in (kind_of(PatientRegistered), kind_of(DemographicsUpdated)):
                terms = search_terms(row.payload)
                # An update replaces the name and birth date a patient is found by.
                conn.execute(
                    "DELETE FROM search_terms WHERE patient_id = ? AND field IN "
                    f"({','.join('?' * len(terms))})",
                    (str(row.patient_id), *terms),
                )
                conn.executemany(
                    "INSERT OR IGNORE INTO search_terms VALUES (?,?,?)",
                    [
                        (self.sealer.token(term), field, str(row.patient_id))
                        for field, found in terms.items()
                        for term in found
                    ],
                )

    def add_consent_event(self, row: ConsentRow, tracking: Tracking) -> None:
        shown, sealed = self._private(author=row.author, summary=row.summary)
        with self._transaction(tracking) as conn:
            conn.execute(
                "INSERT INTO consent_events VALUES (?,?,?,?,?,?,?,?)",
                (
                    row.position,
                    str(row.patient_id),
                    row.version,
                    row.kind,
                    shown["author"],
                    row.clinical_time.isoformat(),
                    shown["summary"],
                    sealed,
                ),
            )

    def add_access(self, row: AccessRow, tracking: Tracking) -> None:
        shown, sealed = self._private(user_id=row.user_id, emergency_reason=row.emergency_reason)
        with self._transaction(tracking) as conn:
            conn.execute(
                "INSERT INTO access_log VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    row.position,
                    str(row.access_id),
                    row.at.isoformat(),
                    self.sealer.token(row.user_id),
                    row.role,
                    row.organisation,
                    str(row.patient_id),
                    row.view,
                    row.purpose,
                    row.basis,
                    ",".join(row.classes),
                    ",".join(str(c) for c in row.consents),
                    row.reflected_position,
                    row.response_sha256,
                    shown["emergency_reason"] or None,
                    int(row.part2),
                    None,
                    None,
                    None,
                    sealed,
                    ",".join(row.sections),
                ),
            )

    def add_review(self, review: Review, tracking: Tracking) -> None:
        with self._transaction(tracking) as conn:
            conn.execute(
                "UPDATE access_log SET reviewed_by = ?, reviewed_at = ?, review_outcome = ? "
                "WHERE access_id = ?",
                (
                    review.reviewed_by,
                    review.reviewed_at.isoformat(),
                    review.outcome,
                    str(review.access_id),
                ),
            )

    def add_refusal(self, row: RefusalRow, tracking: Tracking) -> None:
        shown, sealed = self._private(user_id=row.user_id, why=row.why)
        with self._transaction(tracking) as conn:
            conn.execute(
                "INSERT INTO refused_reads VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    row.position,
                    str(row.refusal_id),
                    row.at.isoformat(),
                    self.sealer.token(row.user_id),
                    row.role,
                    row.organisation,
                    str(row.patient_id),
                    row.view,
                    row.purpose,
                    shown["why"],
                    sealed,
                ),
            )

    def refusals(
        self, *, user_id: str | None = None, since: datetime | None = None
    ) -> list[RefusalRow]:
        found = self._by_person("refused_reads", "user_id", user_id, since)
        return [self._refusal(r) for r in found]

    def _by_person(
        self, table: str, column: str, person: str | None, since: datetime | None
    ) -> list[sqlite3.Row]:
        """A log table's rows in log order, of one person (by lookup token) and since a
        time, when given."""
        clauses, params = ["1 = 1"], []
        if person is not None:
            clauses.append(f"{column} = ?")
            params.append(self.sealer.token(person))
        if since is not None:
            clauses.append("at >= ?")
            params.append(since.isoformat())
        return (
            self._reader()
            .execute(
                f"SELECT * FROM {table} WHERE {' AND '.join(clauses)} ORDER BY position",
                params,
            )
            .fetchall()
        )

    def add_sign_in_failure(self, row: SignInFailureRow, tracking: Tracking) -> None:
        shown, sealed = self._private(username=row.username, address=row.address)
        with self._transaction(tracking) as conn:
            conn.execute(
                "INSERT INTO sign_in_failures VALUES (?,?,?,?,?,?,?)",
                (
                    row.position,
                    str(row.failure_id),
                    row.at.isoformat(),
                    self.sealer.token(row.username),
                    shown["address"],
                    row.reason,
                    sealed,
                ),
            )

    def sign_in_failures(
        self, *, username: str | None = None, since: datetime | None = None
    ) -> list[SignInFailureRow]:
        found = self._by_person("sign_in_failures", "username", username, since)
        private = self._opened_all(found, "username", "address")
        return [
            SignInFailureRow(
                position=r["position"],
                failure_id=UUID(r["failure_id"]),
                at=datetime.fromisoformat(r["at"]),
                username=p["username"],
                address=p["address"],
                reason=r["reason"],
            )
            for r, p in zip(found, private, strict=True)
        ]

    def _refusal(self, r: sqlite3.Row) -> RefusalRow:
        private = self._opened(r, "user_id", "why")
        return RefusalRow(
            position=r["position"],
            refusal_id=UUID(r["refusal_id"]),
            at=datetime.fromisoformat(r["at"]),
            user_id=private["user_id"],
            role=r["role"],
            organisation=r["organisation"],
            patient_id=UUID(r["patient_id"]),
            view=r["view"],
            purpose=r["purpose"],
            why=private["why"],
        )

    def clear(self) -> None:
        with self._write_lock:
            for table in TABLES:
                self._writer.execute(f"DELETE FROM {table}")
            with self._boards_lock:
                self._boards.clear()

    # --- queries ------------------------------------------------------------------------

    def record_version(self, patient_id: UUID) -> int:
        found = (
            self._reader()
            .execute(
                "SELECT MAX(version) FROM record_events WHERE patient_id = ?", (str(patient_id),)
            )
            .fetchone()
        )
        return int(found[0] or 0)

    def patient_events(
        self, patient_id: UUID, up_to: int | None = None, kinds: frozenset[str] | None = None
    ) -> list[EventRow]:
        return self._events(self._reader(), patient_id, up_to, kinds)

    def _events(
        self,
        conn: sqlite3.Connection,
        patient_id: UUID,
        up_to: int | None = None,
        kinds: frozenset[str] | None = None,
    ) -> list[EventRow]:
        cursor = conn.cursor()
        cursor.row_factory = None  # plain tuples: a read of a hundred rows is mostly this
        only = f" AND kind IN ({','.join('?' * len(kinds))})" if kinds else ""
        rows = cursor.execute(
            f"SELECT {EVENT_COLUMNS} FROM record_events WHERE patient_id = ? AND position <= ?"
            f"{only} ORDER BY position",
            (str(patient_id), up_to if up_to is not None else 2**62, *sorted(kinds or ())),
        ).fetchall()
        sealed = [r[13] for r in rows if r[13] is not None]
        opened = iter(self.sealer.open_many(sealed) if sealed else ())
        plain = [r[12] for r in rows if r[13] is None]
        # Every plain payload in one parse, as an array (one call per row costs more).
        payloads = iter(json.loads("[" + ",".join(plain) + "]") if plain else ())
        found = []
        for r in rows:
            if r[13] is None:
                author, summary, payload = r[10], r[11], next(payloads)
            else:
                private = next(opened)
                author, summary, payload = private["author"], private["summary"], private["payload"]
            found.append(
                EventRow.stored(
                    position=r[0],
                    patient_id=patient_id,
                    version=r[1],
                    kind=r[2],
                    data_class=r[3],
                    author=author,
                    author_role=r[4],
                    author_org=r[5],
                    sud_counseling=bool(r[6]),
                    clinical_time=datetime.fromisoformat(r[7]),
                    recorded_at=datetime.fromisoformat(r[8]),
                    summary=summary,
                    payload=payload,
                    part2=bool(r[9]),
                    clinical_time_iso=r[7],
                    recorded_at_iso=r[8],
                )
            )
        return found

    def consent_events(self, patient_id: UUID, up_to: int | None = None) -> list[ConsentRow]:
        rows = (
            self._reader()
            .execute(
                "SELECT * FROM consent_events WHERE patient_id = ? AND position <= ? ORDER BY position",
                (str(patient_id), up_to if up_to is not None else 2**62),
            )
            .fetchall()
        )
        opened = self._opened_all(rows, "author", "summary")
        return [self._consent(r, private) for r, private in zip(rows, opened, strict=True)]

    def _consent(self, r: sqlite3.Row, private: dict[str, Any]) -> ConsentRow:
        return ConsentRow(
            position=r["position"],
            patient_id=UUID(r["patient_id"]),
            version=r["version"],
            kind=r["kind"],
            author=private["author"],
            clinical_time=datetime.fromisoformat(r["clinical_time"]),
            summary=private["summary"],
        )

    def accesses(
        self,
        *,
        patient_id: UUID | None = None,
        user_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        basis: tuple[str, ...] = (),
        unreviewed_only: bool = False,
    ) -> list[AccessRow]:
        where, params = ["1=1"], []
        if patient_id is not None:
            where.append("patient_id = ?")
            params.append(str(patient_id))
        if user_id is not None:
            where.append("user_id = ?")
            params.append(self.sealer.token(user_id))
        if since is not None:
            where.append("at >= ?")
            params.append(since.isoformat())
        if until is not None:
            where.append("at < ?")
            params.append(until.isoformat())
        if basis:
            where.append(f"basis IN ({','.join('?' * len(basis))})")
            params.extend(basis)
        if unreviewed_only:
            where.append("basis = 'break-the-glass' AND reviewed_by IS NULL")
        rows = (
            self._reader()
            .execute(
                f"SELECT * FROM access_log WHERE {' AND '.join(where)} ORDER BY position",
                params,
            )
            .fetchall()
        )
        return [self._access(r) for r in rows]

    def patient_accesses(
        self,
        patient_id: UUID,
        *,
        up_to: int,
        before: int | None = None,
        limit: int = 50,
        excluding: tuple[str, ...] = (),
    ) -> list[AccessRow]:
        where, params = ["patient_id = ?", "position <= ?"], [str(patient_id), up_to]
        if before is not None:
            where.append("position < ?")
            params.append(before)
        if excluding:
            where.append(f"basis NOT IN ({','.join('?' * len(excluding))})")
            params.extend(excluding)
        rows = (
            self._reader()
            .execute(
                f"SELECT * FROM access_log WHERE {' AND '.join(where)} "
                "ORDER BY position DESC LIMIT ?",
                (*params, limit),
            )
            .fetchall()
        )
        return [self._access(r) for r in rows]

    def access(self, access_id: UUID) -> AccessRow | None:
        r = (
            self._reader()
            .execute("SELECT * FROM access_log WHERE access_id = ?", (str(access_id),))
            .fetchone()
        )
        return None if r is None else self._access(r)

    def patients(self) -> list[UUID]:
        rows = (
            self._reader()
            .execute(
                "SELECT patient_id FROM record_events WHERE kind = 'PatientRegistered' ORDER BY position"
            )
            .fetchall()
        )
        return [UUID(r[0]) for r in rows]

    def caseload(self, user_id: str) -> list[tuple[UUID, str]]:
        """Patients this user is an active team member of, with their role there."""
        rows = (
            self._reader()
            .execute(
                "SELECT patient_id, kind, role FROM team_members WHERE member = ? "
                "ORDER BY position",
                (self.sealer.token(user_id),),
            )
            .fetchall()
        )
        current: dict[UUID, str] = {}
        for r in rows:
            patient = UUID(r["patient_id"])
            if r["kind"] == kind_of(CareTeamMemberAdded):
                current[patient] = r["role"]
            else:
                current.pop(patient, None)
        return list(current.items())

    def find_patients(self, terms: frozenset[str]) -> list[UUID]:
        """Patients found by every one of `terms` (see `projections.record_index.query_terms`),
        by exact term: with a key, the terms are compared as keyed hashes."""
        if not terms:
            return []
        tokens = [self.sealer.token(t) for t in sorted(terms)]
        rows = (
            self._reader()
            .execute(
                "SELECT patient_id FROM search_terms "
                f"WHERE term IN ({','.join('?' * len(tokens))}) "
                "GROUP BY patient_id HAVING COUNT(DISTINCT term) = ? ORDER BY patient_id",
                (*tokens, len(tokens)),
            )
            .fetchall()
        )
        return [UUID(r[0]) for r in rows]

    def _access(self, r: sqlite3.Row) -> AccessRow:
        private = self._opened(r, "user_id", "emergency_reason")
        return AccessRow(
            position=r["position"],
            access_id=UUID(r["access_id"]),
            at=datetime.fromisoformat(r["at"]),
            user_id=private["user_id"],
            role=r["role"],
            organisation=r["organisation"],
            patient_id=UUID(r["patient_id"]),
            view=r["view"],
            purpose=r["purpose"],
            basis=r["basis"],
            classes=tuple(c for c in r["classes"].split(",") if c),
            consents=tuple(UUID(c) for c in r["consents"].split(",") if c),
            reflected_position=r["reflected_position"],
            response_sha256=r["response_sha256"],
            emergency_reason=private["emergency_reason"],
            part2=bool(r["part2"]),
            reviewed_by=r["reviewed_by"],
            reviewed_at=datetime.fromisoformat(r["reviewed_at"]) if r["reviewed_at"] else None,
            review_outcome=r["review_outcome"],
            sections=tuple(s for s in r["sections"].split(",") if s),
        )

    # --- the board (projections.board) ------------------------------------------------

    def _refresh_boards(self, conn: sqlite3.Connection) -> None:
        """Recompute the board of each patient this transaction added events for, from
        their rows as the transaction sees them: per patient, never over the caseload."""
        for patient_id in sorted(self._dirty):
            board = board_in(patient_id, self._events(conn, patient_id), zone=self.zone)
            self._store_board(conn, patient_id, board)
        self._dirty.clear()

    def _store_board(
        self, conn: sqlite3.Connection, patient_id: UUID, board: PatientBoard | None
    ) -> None:
        pid = str(patient_id)
        conn.execute("DELETE FROM board_patients WHERE patient_id = ?", (pid,))
        conn.execute("DELETE FROM board_items WHERE patient_id = ?", (pid,))
        if board is None:
            return
        conn.execute(
            "INSERT INTO board_patients VALUES (?,?,?,?)",
            (pid, board.position, board.version, board.horizon.isoformat()),
        )
        # Each item in its own row, sealed on its own, with what a page is selected and
        # ordered by beside it: section, due times, roles and (keyed hashes of) who a
        # message waits for. A read takes only the rows of the items open at its time.
        rows = []
        for n, item in enumerate(board.items):
            shown, sealed = self._private(item=item_json(item))
            rows.append(
                (
                    pid,
                    n,
                    item.section,
                    str(item.shown.get("kind", "")),
                    item.due_from.timestamp() if item.due_from else None,
                    item.due_by.timestamp() if item.due_by else None,
                    "," + ",".join(item.roles) + ",",
                    "," + ",".join(self.sealer.token(w) for w in item.waiting) + ",",
                    shown["item"],
                    sealed,
                )
            )
        conn.executemany("INSERT INTO board_items VALUES (?,?,?,?,?,?,?,?,?,?)", rows)

    def patient_board(self, patient_id: UUID, at: datetime | None = None) -> PatientBoard | None:
        conn = self._reader()
        pid = str(patient_id)
        # One read transaction: the head and the items are of one version of the board.
        conn.execute("BEGIN")
        try:
            head = conn.execute(
                "SELECT position, version, horizon FROM board_patients WHERE patient_id = ?",
                (pid,),
            ).fetchone()
            if head is None:
                return None
            if at is None:
                found = conn.execute(
                    "SELECT item, sealed FROM board_items WHERE patient_id = ? ORDER BY ord",
                    (pid,),
                ).fetchall()
                items = tuple(item_of(o["item"]) for o in self._opened_all(found, "item"))
            else:
                items = self._open_items(conn, patient_id, tuple(head), at.timestamp())
        finally:
            conn.execute("COMMIT")
        return PatientBoard(
            patient_id,
            head["position"],
            head["version"],
            datetime.fromisoformat(head["horizon"]),
            items,
        )

    def _open_items(
        self, conn: sqlite3.Connection, patient_id: UUID, head: tuple[Any, ...], t: float
    ) -> tuple[BoardItem, ...]:
        """The patient's items open at time `t`, in order: the ones kept from an earlier
        read when the board's head (position, version, horizon) is the same and no item
        opens between that read's time and `t`; else read, decoded and kept."""
        with self._boards_lock:
            kept = self._boards.pop(patient_id, None)
            if kept is not None:
                self._boards[patient_id] = kept  # the last read, the last dropped
        if kept is not None and kept.head == head and kept.read_at <= t < kept.until:
            return kept.items
        pid = str(patient_id)
        found = conn.execute(
            "SELECT item, sealed FROM board_items WHERE patient_id = ? "
            "AND (due_from IS NULL OR due_from <= ?) ORDER BY ord",
            (pid, t),
        ).fetchall()
        items = tuple(item_of(o["item"]) for o in self._opened_all(found, "item"))
        # The next time an item opens (read in the caller's transaction, with the head).
        later = conn.execute(
            "SELECT MIN(due_from) FROM board_items WHERE patient_id = ? AND due_from > ?",
            (pid, t),
        ).fetchone()[0]
        until = float("inf") if later is None else float(later)
        with self._boards_lock:
            self._boards.pop(patient_id, None)
            self._boards[patient_id] = KeptBoard(head, t, until, items)
            while len(self._boards) > BOARDS_KEPT:
                del self._boards[next(iter(self._boards))]
        return items

    def board_page(
        self,
        user_id: str,
        role: str,
        at: datetime,
        *,
        team: bool = False,
        status: str | None = None,
        kind: str | None = None,
        alerts_only: bool = False,
        patient_id: UUID | None = None,
        after: tuple[int, UUID] | None = None,
        limit: int = 50,
    ) -> list[tuple[int, UUID]]:
        """The patients on this user's caseload with board items for them at `at`, most
        urgent first (alerts, overdue, due, then missed sessions and waiting messages), by
        patient id within each; after `after` (urgency, patient id), at most `limit`. One
        query joining the caseload and the board's rows: nothing else is read."""
        t = at.timestamp()
        member = self.sealer.token(user_id)
        mine = "" if team else " AND b.roles LIKE ?"
        waits = "" if team else " AND b.waiting LIKE ?"
        due_kind = " AND b.kind = ?" if kind else ""
        overdue_ok = status != "due" and not alerts_only
        due_ok = status != "overdue" and not alerts_only
        rank = (
            f"CASE WHEN b.section = 'alert'{mine} THEN {URGENCY['alert']} "
            f"WHEN b.section = 'due' AND ? AND b.due_by < ?{mine}{due_kind} "
            f"THEN {URGENCY['overdue']} "
            f"WHEN b.section = 'due' AND ? AND b.due_from <= ? AND b.due_by >= ?{mine}"
            f"{due_kind} THEN {URGENCY['due']} "
            f"WHEN b.section = 'missed' AND ? THEN {URGENCY['missed']} "
            f"WHEN b.section = 'message' AND ?{waits} THEN {URGENCY['message']} "
            "ELSE 9 END"
        )
        like_role, like_member = f"%,{role},%", f"%,{member},%"
        rank_params: list[Any] = []
        rank_params += [] if team else [like_role]
        rank_params += [int(overdue_ok), t] + ([] if team else [like_role])
        rank_params += [kind] if kind else []
        rank_params += [int(due_ok), t, t] + ([] if team else [like_role])
        rank_params += [kind] if kind else []
        rank_params += [int(not alerts_only)]
        rank_params += [int(not alerts_only)] + ([] if team else [like_member])
        # A due item not yet open is on no page: its rows are skipped by the index.
        where = ["(b.due_from IS NULL OR b.due_from <= ?)"]
        params: list[Any] = [t]
        if patient_id is not None:
            where.append("b.patient_id = ?")
            params.append(str(patient_id))
        having, having_params = ["urgency < 9"], []
        if after is not None:
            having.append("(urgency > ? OR (urgency = ? AND b.patient_id > ?))")
            having_params += [after[0], after[0], str(after[1])]
        rows = (
            self._reader()
            .execute(
                "WITH latest AS (SELECT patient_id, MAX(position) AS position FROM team_members "
                "WHERE member = ? GROUP BY patient_id), "
                "caseload AS (SELECT t.patient_id FROM team_members t JOIN latest l "
                "ON t.patient_id = l.patient_id AND t.position = l.position WHERE t.kind = ?) "
                f"SELECT b.patient_id, MIN({rank}) AS urgency FROM board_items b "
                f"JOIN caseload c ON c.patient_id = b.patient_id WHERE {' AND '.join(where)} "
                f"GROUP BY b.patient_id HAVING {' AND '.join(having)} "
                "ORDER BY urgency, b.patient_id LIMIT ?",
                (
                    member,
                    kind_of(CareTeamMemberAdded),
                    *rank_params,
                    *params,
                    *having_params,
                    limit,
                ),
            )
            .fetchall()
        )
        return [(int(r[1]), UUID(r[0])) for r in rows]
