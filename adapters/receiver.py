"""The receiver: another organisation's process that builds its view of the patients it
was given access to from its share stream alone, in its own store.

Delivery is at least once (the relay re-sends after a crash); the receiver stores each
envelope once (its id is the key), keeps each patient's events in log order, commits its
Kafka offsets only after the rows are stored, and on a revocation shows the revocation and
accepts nothing newer under that consent.

With a key of its own (`Sealer.keyed(key, "receiver")`), each shared event's summary and
envelope are kept as one sealed blob: only ids, positions, kinds, classes and times are in
the clear. A store written without a key is sealed in place when a key is first given; a
store sealed under another key is refused (it cannot be read, and Kafka has moved on).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer

from adapters.fhir import FhirRenderError, entered_in_error
from adapters.kafka_connection import KafkaConnection
from adapters.relay import group_for, topic_for
from adapters.sealing import Sealer

# The receiver's own words for a correction marker (adapters.relay sends the domain's).
ENTERED_IN_ERROR = "entered-in-error"

SCHEMA = """
CREATE TABLE IF NOT EXISTS shared (
  envelope_id TEXT PRIMARY KEY, patient_id TEXT NOT NULL, position INTEGER NOT NULL,
  kind TEXT NOT NULL, data_class TEXT NOT NULL, consent_ids TEXT NOT NULL,
  clinical_time TEXT NOT NULL, summary TEXT NOT NULL, envelope TEXT NOT NULL, sealed BLOB);
CREATE INDEX IF NOT EXISTS shared_patient ON shared (patient_id, position);
CREATE TABLE IF NOT EXISTS revocations (
  consent_id TEXT PRIMARY KEY, patient_id TEXT NOT NULL, position INTEGER NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS corrections (
  envelope_id TEXT PRIMARY KEY, patient_id TEXT NOT NULL, position INTEGER NOT NULL,
  entry_event_id TEXT NOT NULL, status TEXT NOT NULL);
"""


class ReceiverKeyMismatch(Exception):
    """The receiver's store was sealed under another key (or a key is now missing)."""


@dataclass(frozen=True)
class Stored:
    new: int
    duplicates: int
    refused: int


class ReceiverStore:
    def __init__(self, path: Path, sealer: Sealer | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.sealer = sealer or Sealer.plain()
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA secure_delete=ON")
        names = {
            r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if names and "sealed" not in {
            r[1] for r in self.conn.execute("PRAGMA table_info(shared)")
        }:  # the layout before sealing: same rows, no sealed column
            self.conn.execute("ALTER TABLE shared ADD COLUMN sealed BLOB")
        self.conn.executescript(SCHEMA)
        found = self.conn.execute("SELECT value FROM meta WHERE name = 'key'").fetchone()
        was = found[0] if found else "plain"
        if was != self.sealer.fingerprint:
            if was != "plain" or not self.sealer.sealed:
                raise ReceiverKeyMismatch(
                    f"{path} was written {'without a key' if was == 'plain' else 'under another key'}"
                    f" and cannot be opened {'without' if not self.sealer.sealed else 'with'} "
                    "this one: give the receiver the key it was written under"
                )
            self._seal_existing()
        self.conn.execute(
            "INSERT OR REPLACE INTO meta VALUES ('key', ?)", (self.sealer.fingerprint,)
        )

    def _seal_existing(self) -> None:
        """Seal the rows a keyless receiver stored, then compact the file and empty its WAL
        so that no plain row is left in any byte."""
        self.conn.execute("BEGIN IMMEDIATE")
        rows = self.conn.execute(
            "SELECT envelope_id, summary, envelope FROM shared WHERE sealed IS NULL"
        ).fetchall()
        for envelope_id, summary, envelope in rows:
            self.conn.execute(
                "UPDATE shared SET summary = '', envelope = '', sealed = ? WHERE envelope_id = ?",
                (self.sealer.seal({"summary": summary, "envelope": envelope}), envelope_id),
            )
        self.conn.execute(
            "INSERT OR REPLACE INTO meta VALUES ('key', ?)", (self.sealer.fingerprint,)
        )
        self.conn.execute("COMMIT")
        self.conn.execute("VACUUM")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def store(self, envelopes: list[dict[str, Any]]) -> Stored:
        new = duplicates = refused = 0
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for e in envelopes:
                if e["type"] == "revocation":
                    self.conn.execute(
                        "INSERT OR IGNORE INTO revocations VALUES (?,?,?,?)",
                        (e["consent_id"], e["patient_id"], e["position"], e["at"]),
                    )
                    continue
                if e["type"] == "correction":
                    # A marker on an entry already received: taken even after a revocation
                    # (it discloses nothing new; it keeps what was disclosed from misleading).
                    cursor = self.conn.execute(
                        "INSERT OR IGNORE INTO corrections VALUES (?,?,?,?,?)",
                        (
                            e["envelope_id"],
                            e["patient_id"],
                            e["position"],
                            e["entry_event_id"],
                            e["status"],
                        ),
                    )
                    new, duplicates = (
                        (new + 1, duplicates) if cursor.rowcount else (new, duplicates + 1)
                    )
                    continue
                marks = ",".join("?" * len(e["consent_ids"]))
                revoked = self.conn.execute(
                    f"SELECT 1 FROM revocations WHERE consent_id IN ({marks}) AND position < ?",
                    (*e["consent_ids"], e["position"]),
                ).fetchone()
                if revoked:
                    refused += 1
                    continue
                summary, envelope = e["summary"], json.dumps(e, sort_keys=True)
                sealed = None
                if self.sealer.sealed:
                    sealed = self.sealer.seal({"summary": summary, "envelope": envelope})
                    summary = envelope = ""
                cursor = self.conn.execute(
                    "INSERT OR IGNORE INTO shared VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (
                        e["envelope_id"],
                        e["patient_id"],
                        e["position"],
                        e["kind"],
                        e["data_class"],
                        ",".join(e["consent_ids"]),
                        e["clinical_time"],
                        summary,
                        envelope,
                        sealed,
                    ),
                )
                if cursor.rowcount:
                    new += 1
                else:
                    duplicates += 1
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return Stored(new, duplicates, refused)

    def events(self, patient_id: str | None = None) -> list[dict[str, Any]]:
        """Shared events in each patient's log order (the order they were recorded)."""
        query = "SELECT envelope, sealed FROM shared"
        params: tuple[Any, ...] = ()
        if patient_id:
            query += " WHERE patient_id = ?"
            params = (patient_id,)
        rows = self.conn.execute(query + " ORDER BY patient_id, position", params).fetchall()
        found = [
            json.loads(r[0] if r[1] is None else self.sealer.open(r[1])["envelope"]) for r in rows
        ]
        marked = self._corrections()
        for e in found:
            status = marked.get(e.get("event_id", ""))
            if status is None:
                continue
            e["correction"] = status
            if status == ENTERED_IN_ERROR and e.get("resource"):
                # A resource with no status keeps it: the mark beside it says so.
                with suppress(FhirRenderError):
                    e["resource"] = entered_in_error(e["resource"])
        return found

    def _corrections(self) -> dict[str, str]:
        """Per corrected entry (its event id), the standing mark: entered in error is final,
        of amendments the latest."""
        marked: dict[str, str] = {}
        for event_id, status in self.conn.execute(
            "SELECT entry_event_id, status FROM corrections ORDER BY position"
        ):
            if marked.get(event_id) != ENTERED_IN_ERROR:
                marked[event_id] = status
        return marked

    def corrections(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT patient_id, position, entry_event_id, status FROM corrections"
            " ORDER BY patient_id, position"
        ).fetchall()
        return [
            dict(zip(("patient_id", "position", "entry_event_id", "status"), r, strict=True))
            for r in rows
        ]

    def revocations(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT consent_id, patient_id, position, at FROM revocations"
        ).fetchall()
        return [
            dict(zip(("consent_id", "patient_id", "position", "at"), r, strict=True)) for r in rows
        ]

    def medication_list(self) -> dict[str, list[dict[str, Any]]]:
        """The current medications per patient, from the shared FHIR MedicationStatements."""
        current: dict[str, dict[str, dict[str, Any]]] = {}
        for e in self.events():
            resource = e.get("resource") or {}
            if resource.get("resourceType") != "MedicationStatement":
                continue
            if e.get("correction") == ENTERED_IN_ERROR:
                continue  # as if never sent: the list stands as the clinic's now does
            meds = current.setdefault(e["patient_id"], {})
            if e.get("replaces") in meds:
                meds[e["replaces"]]["status"] = "stopped"
            concept = resource.get("medicationCodeableConcept", {})
            name = concept.get("text") or concept.get("coding", [{}])[0].get("display", "?")
            meds[e.get("medication_id") or name] = {
                "drug": name,
                "status": resource.get("status"),
                "dosage": [d.get("text") for d in resource.get("dosage", [])],
                "as_of": e["clinical_time"],
            }
        return {pid: list(m.values()) for pid, m in current.items()}


class Receiver:
    def __init__(self, kafka: KafkaConnection, recipient: str, store: ReceiverStore) -> None:
        self.recipient = recipient
        self.store = store
        self.consumer = KafkaConsumer(
            topic_for(recipient),
            **kafka.configs(),
            group_id=group_for(recipient),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            value_deserializer=lambda v: json.loads(v.decode()),
            consumer_timeout_ms=1000,
        )

    def poll_once(self, timeout_ms: int = 1000) -> Stored:
        batches = self.consumer.poll(timeout_ms=timeout_ms, max_records=500)
        envelopes = [record.value for records in batches.values() for record in records]
        if not envelopes:
            return Stored(0, 0, 0)
        stored = self.store.store(envelopes)
        self.consumer.commit()  # only after the rows are stored
        return stored

    def run(self, stop: Any = None) -> Iterator[Stored]:
        while stop is None or not stop.is_set():
            yield self.poll_once()

    def close(self) -> None:
        self.consumer.close()
