"""The relay: shares consented events with outside providers through Apache Kafka.

It reads the store's notification log from its checkpoint. For each record event and each
outside recipient whose consent covers it at that moment (decided by the one access
policy, as a read by that recipient would be), it publishes a share envelope to that
recipient's topic, keyed by patient id so one patient's events keep their order: the event
rendered as a FHIR R4 resource, the consents relied on, the security labels, and the
42 CFR 2.32 notice when SUD data is included. Revocations are published too. The checkpoint
moves only after the broker has acknowledged every envelope of the batch (idempotent
producer, acks=all); a crash in between re-sends the batch, and receivers de-duplicate by
envelope id. If the broker is down, events are still accepted and stored by the API; the
relay retries and catches up when the broker returns.

A recipient whose topic the broker refuses to the relay (an entry registered while no broker
admin was configured has no topic or ACL until `tandem directory credential` issues them)
holds up no one else: its topic is held from the position of its first refused envelope (a
row beside the checkpoint, written in the same transaction that moves it), the others' are
delivered and the checkpoint moves on. Each run retries a held topic (every `hold_retry`
seconds): its envelopes are derived again from the store from that position up to the
checkpoint, as any envelope is (so a consent revoked meanwhile shares nothing), and the
hold ends once they are all acknowledged. Nothing is kept of an envelope but its position.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError, TopicAlreadyExistsError, TopicAuthorizationFailedError

from adapters.fhir import RENDERED_KINDS, FhirRenderError, RenderContext, to_fhir
from adapters.kafka_connection import KafkaConnection
from application.clinic import Clinic
from domain.access import Decision, EventFacts, Viewer, decide
from domain.consent import (
    REDISCLOSURE_NOTICE,
    ConsentEvent,
    ConsentGranted,
    ConsentRevoked,
    PatientConsents,
    consents_id_for,
)
from domain.corrections import EntryCorrection
from domain.directory import Recipient
from domain.events import now
from domain.medication import MedicationSwitched
from domain.record import Membership, RecordEvent
from domain.registration import CareTeamMemberAdded, CareTeamMemberRemoved
from domain.vocabulary import DataClass, Role
from projections.record_index import event_row

logger = logging.getLogger("tandem.relay")
TOPIC_PREFIX = "tandem.share."
PARTITIONS = 6
HOLD_RETRY_SECONDS = 5.0
_NAMESPACE = uuid.UUID("3b0c8f1e-3f5d-4a3e-9d3c-6f1f0c2a7b11")


def topic_for(recipient: str) -> str:
    """One topic per recipient, so a recipient's credentials can be limited to its own."""
    return TOPIC_PREFIX + re.sub(r"[^a-z0-9._-]+", "-", recipient.strip().lower()).strip("-")


def group_for(recipient: str) -> str:
    """The recipient's consumer group: the only one its credential may join."""
    return f"tandem-receiver-{topic_for(recipient)}"


def envelope_id(event_id: UUID, recipient: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{event_id}:{recipient.strip().lower()}"))


# HL7 security labels: confidentiality R (restricted), the sensitivity and the obligation.
PSYCHOTHERAPY_LABELS = ["R", "PSYTHPN"]
PART2_LABELS = ["R", "ETH", "42CFRPart2", "NORDSCLCD"]


def security_labels(event: RecordEvent) -> list[str]:
    """A Part 2 record is labelled as one (and a Part 2 psychotherapy note as both)."""
    labels = ["R"]
    if event.data_class == DataClass.PSYCHOTHERAPY_NOTE:
        labels = list(PSYCHOTHERAPY_LABELS)
    if event.part2:
        labels += [label for label in PART2_LABELS if label not in labels]
    return labels


@dataclass(frozen=True)
class Held:
    """A recipient's topic the broker refused to the relay: its envelopes from `since` (a
    log position) on are still to be delivered."""

    topic: str
    since: int
    recipient: str
    reason: str


class Checkpoint:
    """The relay's position, and the topics held behind it, in its own small SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS checkpoint (name TEXT PRIMARY KEY, position INTEGER)"
        )
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS held (topic TEXT PRIMARY KEY, since INTEGER NOT NULL,"
            " recipient TEXT NOT NULL, reason TEXT NOT NULL)"
        )
        # Which entry went to which recipient (the broker acknowledged it): a correction of
        # it is sent there, and nowhere else. Ids and versions only, no content.
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS sent (patient_id TEXT NOT NULL, version INTEGER NOT"
            " NULL, recipient TEXT NOT NULL, event_id TEXT NOT NULL, resource_id TEXT,"
            " PRIMARY KEY (patient_id, version, recipient))"
        )

    def get(self, name: str = "relay") -> int:
        row = self._conn.execute(
            "SELECT position FROM checkpoint WHERE name = ?", (name,)
        ).fetchone()
        return int(row[0]) if row else 0

    def set(self, position: int, name: str = "relay") -> None:
        self._conn.execute(
            "INSERT INTO checkpoint VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = ?",
            (name, position, position),
        )

    def advance(self, position: int, held: Iterable[Held]) -> None:
        """Move the checkpoint to `position` and hold `held`'s topics, in one transaction
        (a topic already held keeps its earlier position)."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            for h in held:
                self._conn.execute(
                    "INSERT INTO held VALUES (?, ?, ?, ?) ON CONFLICT (topic) DO NOTHING",
                    (h.topic, h.since, h.recipient, h.reason),
                )
            self.set(position)
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def note_sent(self, envelope: dict[str, Any]) -> None:
        """Remember that a share envelope was acknowledged by the broker."""
        resource = envelope.get("resource") or {}
        self._conn.execute(
            "INSERT OR IGNORE INTO sent VALUES (?, ?, ?, ?, ?)",
            (
                envelope["patient_id"],
                envelope["version"],
                envelope["recipient"],
                envelope["event_id"],
                resource.get("id"),
            ),
        )

    def sent_to(self, patient_id: UUID, version: int) -> list[tuple[str, str, str | None]]:
        """The recipients an entry went to, with its event id and FHIR resource id."""
        rows = self._conn.execute(
            "SELECT recipient, event_id, resource_id FROM sent"
            " WHERE patient_id = ? AND version = ? ORDER BY recipient",
            (str(patient_id), version),
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def held(self) -> dict[str, Held]:
        rows = self._conn.execute("SELECT topic, since, recipient, reason FROM held").fetchall()
        return {r[0]: Held(r[0], int(r[1]), r[2], r[3]) for r in rows}

    def hold(self, held: Held) -> None:
        self._conn.execute(
            "INSERT INTO held VALUES (?, ?, ?, ?) ON CONFLICT (topic) DO UPDATE"
            " SET since = excluded.since, reason = excluded.reason",
            (held.topic, held.since, held.recipient, held.reason),
        )

    def release(self, topic: str) -> None:
        self._conn.execute("DELETE FROM held WHERE topic = ?", (topic,))


@dataclass(frozen=True)
class Envelope:
    topic: str
    key: str
    value: dict[str, Any]


class Relay:
    def __init__(
        self,
        clinic: Clinic,
        kafka: KafkaConnection,
        checkpoint: Checkpoint,
        batch: int = 200,
        hold_retry: float = HOLD_RETRY_SECONDS,
    ) -> None:
        self.clinic = clinic
        self.kafka = kafka
        self.checkpoint = checkpoint
        self.batch = batch
        self.hold_retry = hold_retry
        self._next_try: dict[str, float] = {}  # a held topic's next retry (monotonic time)
        self._producer: KafkaProducer | None = None
        self._topics: set[str] = set()
        self._batch_cache: dict[UUID, Any] = {}
        # The entries this batch shares, by (patient, version): recipient -> (event id,
        # resource id), so a correction later in the same batch finds them.
        self._batch_sent: dict[tuple[UUID, int], dict[str, tuple[str, str | None]]] = {}
        # Care teams with the record version they were read at, loaded once per patient and
        # reloaded when a team change newer than that version passes through.
        self._teams: dict[UUID, tuple[int, dict[str, Membership]]] = {}

    # --- Kafka ------------------------------------------------------------------------

    def producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = KafkaProducer(
                **self.kafka.configs(),
                acks="all",
                enable_idempotence=True,
                linger_ms=5,
                key_serializer=lambda k: k.encode(),
                value_serializer=lambda v: json.dumps(v, sort_keys=True).encode(),
                request_timeout_ms=10_000,
                max_block_ms=10_000,
            )
        return self._producer

    def ensure_topic(self, topic: str) -> None:
        if topic in self._topics:
            return
        admin = KafkaAdminClient(**self.kafka.configs(), request_timeout_ms=10_000)
        try:
            admin.create_topics({topic: {"num_partitions": PARTITIONS, "replication_factor": 1}})
        except TopicAlreadyExistsError:
            pass
        finally:
            admin.close()
        self._topics.add(topic)

    def close(self) -> None:
        """Drop the producer. Closing one whose broker is gone can time out flushing what it
        still holds: those envelopes were never acknowledged, so the checkpoint did not move
        and they go out again with the next producer (receivers drop duplicates)."""
        producer, self._producer = self._producer, None
        self._topics.clear()  # a topic may be gone (its recipient removed) when we return
        if producer is not None:
            try:
                producer.close(timeout=5)
            except KafkaError as exc:
                logger.warning("closing the producer left unacknowledged envelopes: %s", exc)

    # --- relaying ---------------------------------------------------------------------

    def run_once(self) -> int:
        """Retry the held topics that are due, then publish everything after the checkpoint;
        return how many envelopes the broker acknowledged. Raises KafkaError if the broker
        does not acknowledge (the checkpoint stays put), except for a topic the broker
        refuses to the relay: that topic is held, and the others go on."""
        sent = self._retry_held()
        while True:
            start = self.checkpoint.get() + 1
            notifications = self.clinic.recorder.select_notifications(start=start, limit=self.batch)
            if not notifications:
                return sent
            held = self.checkpoint.held()
            envelopes = [e for e in self._derive(notifications) if e.topic not in held]
            delivered, refused = self._publish(envelopes)
            self.checkpoint.advance(notifications[-1].id, refused.values())
            for h in refused.values():
                self._next_try[h.topic] = time.monotonic() + self.hold_retry
                logger.warning(
                    "sharing with %s is held from position %d: the broker refuses topic %s "
                    "to the relay (%s); `tandem directory credential` issues its access",
                    h.recipient,
                    h.since,
                    h.topic,
                    h.reason,
                )
            sent += delivered

    def held(self) -> dict[str, Held]:
        """The topics held behind the checkpoint, by topic."""
        return self.checkpoint.held()

    def _derive(self, notifications: Sequence[Any]) -> list[Envelope]:
        self._batch_cache = {}
        self._batch_sent = {}
        envelopes: list[Envelope] = []
        for n in notifications:
            envelopes.extend(self.envelopes_for(n.id, self.clinic.mapper.to_domain_event(n)))
        return envelopes

    def _publish(self, envelopes: list[Envelope]) -> tuple[int, dict[str, Held]]:
        """Send `envelopes` and wait for the broker's acknowledgements: how many were
        acknowledged, and the topics the broker refused to the relay (each from the position
        of its first refused envelope). Any other failure raises KafkaError."""
        refused: dict[str, Held] = {}

        def refuse(envelope: Envelope, exc: KafkaError) -> None:
            position = int(envelope.value["position"])
            known = refused.get(envelope.topic)
            if known is None or position < known.since:
                refused[envelope.topic] = Held(
                    envelope.topic, position, str(envelope.value["recipient"]), type(exc).__name__
                )

        if not envelopes:
            return 0, refused
        futures = []
        producer = self.producer()
        for envelope in envelopes:
            if envelope.topic in refused:
                continue
            try:
                self.ensure_topic(envelope.topic)
                futures.append(
                    (
                        envelope,
                        producer.send(envelope.topic, key=envelope.key, value=envelope.value),
                    )
                )
            except TopicAuthorizationFailedError as exc:
                refuse(envelope, exc)
        producer.flush(timeout=30)
        delivered = 0
        for envelope, future in futures:
            try:
                future.get(timeout=30)  # raises if the broker did not acknowledge
                delivered += 1
                if envelope.value["type"] == "share":
                    self.checkpoint.note_sent(envelope.value)
            except TopicAuthorizationFailedError as exc:
                refuse(envelope, exc)
        return delivered, refused

    def _retry_held(self) -> int:
        sent = 0
        for held in self.checkpoint.held().values():
            if self._next_try.get(held.topic, 0.0) <= time.monotonic():
                sent += self._catch_up(held)
        return sent

    def _catch_up(self, held: Held) -> int:
        """Derive the held topic's envelopes again from its position up to the checkpoint
        and send them; release it once all are acknowledged, else try again later."""
        upto, since, sent = self.checkpoint.get(), held.since, 0
        while since <= upto:
            notifications = [
                n
                for n in self.clinic.recorder.select_notifications(start=since, limit=self.batch)
                if n.id <= upto
            ]
            if not notifications:
                break
            envelopes = [e for e in self._derive(notifications) if e.topic == held.topic]
            delivered, refused = self._publish(envelopes)
            sent += delivered
            if held.topic in refused:
                self.checkpoint.hold(refused[held.topic])
                self._next_try[held.topic] = time.monotonic() + self.hold_retry
                return sent
            since = notifications[-1].id + 1
            self.checkpoint.hold(Held(held.topic, since, held.recipient, held.reason))
        self.checkpoint.release(held.topic)
        self._next_try.pop(held.topic, None)
        logger.info("sharing with %s caught up (topic %s)", held.recipient, held.topic)
        return sent

    def run_forever(self, idle: float = 0.5, stop: Any = None) -> None:
        backoff = 1.0
        while stop is None or not stop.is_set():
            try:
                if self.run_once() == 0:
                    time.sleep(idle)
                backoff = 1.0
            except KafkaError as exc:
                logger.warning("broker unavailable (%s); retrying in %.0f s", exc, backoff)
                self.close()
                time.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    def envelopes_for(self, position: int, event: Any) -> Iterable[Envelope]:
        if isinstance(event, ConsentEvent):
            # Consents changed: decide again for this patient from here on in the batch.
            self._batch_cache.pop(event.patient_id, None)
        if isinstance(event, ConsentRevoked):
            patient_consents = self._consents(event.patient_id)
            history = patient_consents.consents.get(event.consent_id) if patient_consents else None
            # Only a consent that named a directory entry ever shared anything.
            named = self.clinic.directory().resolved(history.current) if history else None
            recipient = named.recipient if named else None
            if recipient:
                yield Envelope(
                    topic_for(recipient),
                    str(event.patient_id),
                    {
                        "type": "revocation",
                        "envelope_id": envelope_id(event.event_id, recipient),
                        "position": position,
                        "patient_id": str(event.patient_id),
                        "consent_id": str(event.consent_id),
                        "recipient": recipient,
                        "at": event.clinical_time.isoformat(),
                    },
                )
            return
        if not isinstance(event, RecordEvent) or isinstance(event, ConsentGranted):
            return
        if isinstance(event, EntryCorrection):
            yield from self._correction_markers(position, event)
            return
        if isinstance(event, CareTeamMemberAdded | CareTeamMemberRemoved):
            known = self._teams.get(event.originator_id)
            if known is not None and event.originator_version > known[0]:
                # Newer than the team we hold (not a replay of an older change): reload.
                self._teams.pop(event.originator_id, None)
                self._batch_cache.pop(event.originator_id, None)
        decisions = self._decisions(event.originator_id)
        facts = EventFacts(
            event.data_class,
            event.actor.user_id,
            bool(getattr(event, "sud_counseling", False)),
            event.part2,
        )
        shared: set[str] = set()
        for terms, decision in decisions:
            if terms.recipient in shared or not decision.permits(facts):
                continue
            shared.add(terms.recipient)
            resource = self._render(position, event)
            self._batch_sent.setdefault((event.originator_id, event.originator_version), {})[
                terms.recipient
            ] = (str(event.event_id), resource.get("id") if resource else None)
            yield Envelope(
                topic_for(terms.recipient),
                str(event.originator_id),
                {
                    "type": "share",
                    "envelope_id": envelope_id(event.event_id, terms.recipient),
                    "event_id": str(event.event_id),
                    "position": position,
                    "patient_id": str(event.originator_id),
                    "version": event.originator_version,
                    "recipient": terms.recipient,
                    "consent_ids": [str(terms.consent_id)],
                    "purpose": terms.purpose.value,
                    "kind": type(event).__name__,
                    "data_class": event.data_class.value,
                    "part2": event.part2,
                    "security_labels": security_labels(event),
                    "clinical_time": event.clinical_time.isoformat(),
                    "recorded_at": event.timestamp.isoformat(),
                    "summary": event.summary(),
                    "medication_id": _medication_of(event),
                    "replaces": str(event.medication_id)
                    if isinstance(event, MedicationSwitched)
                    else None,
                    "resource": resource,
                    "notice": REDISCLOSURE_NOTICE if event.part2 else None,
                },
            )

    def _correction_markers(self, position: int, event: EntryCorrection) -> Iterable[Envelope]:
        """A correction goes to every recipient the entry went to, whatever their consent
        says now (a revocation stops new disclosures, not the correction of one made), and
        to no one else. It is a marker without content: which entry (its event and
        resource ids, which the recipient holds already) and whether it was entered in
        error or amended; not the reason, not the amended text, nothing new about the
        patient. A recipient no longer in the directory (its topic and access removed)
        gets nothing."""
        key = (event.originator_id, event.entry_version)
        went = {
            recipient: (event_id, resource_id)
            for recipient, event_id, resource_id in self.checkpoint.sent_to(*key)
        }
        went.update(self._batch_sent.get(key, {}))
        listed = {e.names for e in self.clinic.directory().entries.values()}
        for recipient, (event_id, resource_id) in sorted(went.items()):
            if recipient not in listed:
                continue
            yield Envelope(
                topic_for(recipient),
                str(event.originator_id),
                {
                    "type": "correction",
                    "envelope_id": envelope_id(event.event_id, recipient),
                    "position": position,
                    "patient_id": str(event.originator_id),
                    "recipient": recipient,
                    "entry_event_id": event_id,
                    "entry_version": event.entry_version,
                    "entry_resource_id": resource_id,
                    "status": event.status,
                },
            )

    def _decisions(self, patient_id: UUID) -> list[tuple[Any, Decision]]:
        """For each consent in force, the policy's decision for its recipient: made once per
        patient per batch, from the consents and the team as they now stand (a revocation
        therefore stops everything after it, even events recorded before it)."""
        cached = self._batch_cache.get(patient_id)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        decisions: list[tuple[Any, Decision]] = []
        consents = self._consents(patient_id)
        if consents is not None:
            at = now()
            known = self._teams.get(patient_id)
            if known is None:
                record = self.clinic.patient(patient_id)
                known = self._teams[patient_id] = (record.version, record.state.team)
            team = known[1]
            # As every read: a consent counts through the directory entry it names, and one
            # that names none (a free-text grant from before the directory) shares nothing.
            directory = self.clinic.directory()
            for terms in directory.resolve_all(consents.in_force(at)):
                entry = directory.entries[terms.recipient_id] if terms.recipient_id else None
                viewer = self._viewer(terms.recipient_kind, terms.recipient, team, entry)
                decision = decide(
                    viewer, patient_id, team, consents, at, terms.purpose, directory=directory
                )
                if terms.consent_id in decision.consents:
                    decisions.append((terms, decision))
        self._batch_cache[patient_id] = decisions
        return decisions

    def _render(self, position: int, event: RecordEvent) -> dict[str, Any] | None:
        """The event as FHIR; events that only name a medication or session by id are
        rendered with what the record said of it before. Kinds outside RENDERED_KINDS
        travel as their summary alone (resource None)."""
        if type(event).__name__ not in RENDERED_KINDS:
            return None
        row = event_row(position, event)
        try:
            return to_fhir(row)
        except FhirRenderError:
            earlier = self.clinic.events.get(event.originator_id, lte=event.originator_version)
            rows = [event_row(0, e) for e in earlier if isinstance(e, RecordEvent)]
            try:
                return to_fhir(row, RenderContext.from_rows(rows))
            except FhirRenderError as exc:
                logger.warning("event %s not rendered as FHIR: %s", event.event_id, exc)
                return None

    def _consents(self, patient_id: UUID) -> PatientConsents | None:
        try:
            found: Any = self.clinic.repository.get(consents_id_for(patient_id))
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, PatientConsents) else None

    def _viewer(
        self,
        kind: str,
        recipient: str,
        team: dict[str, Membership],
        entry: Recipient | None = None,
    ) -> Viewer:
        """The recipient as the policy sees it: a user with their account's role, or an
        organisation with the role its directory entry registers (else the role its members
        hold on this patient's team)."""
        registered = entry.role if entry is not None else None
        if kind == "user":
            user = self.clinic.find_user(recipient)
            if user is not None:
                return Viewer(user.email, user.role, user.organisation, user.patient_id)
            return Viewer(recipient, registered or Role.PRIMARY_CARE, recipient)
        role = registered or next(
            (m.role for m in team.values() if m.active and m.organisation == recipient),
            Role.PRIMARY_CARE,
        )
        return Viewer(f"org:{recipient}", role, recipient)


def _medication_of(event: RecordEvent) -> str | None:
    found = getattr(event, "to_medication_id", None) or getattr(event, "medication_id", None)
    return str(found) if found else None
