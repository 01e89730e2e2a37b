"""The clinic application: the event store and how aggregates are read from it.

`Clinic` is an eventsourcing Application. It owns persistence (SQLite or PostgreSQL, chosen
by the environment the composition root builds from settings). It reads; it does not write:
every change goes through the one write path (application/writer.py), which answers with a
`Receipt` naming the log position the write reached.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import ApplicationRecorder

from domain.consent import PatientConsents, consents_id_for
from domain.directory import DIRECTORY_ID, EMPTY_DIRECTORY, Directory, RecipientDirectory
from domain.errors import NotFound
from domain.events import Actor, DomainEvent
from domain.patient import PatientRecord
from domain.record import RecordEvent
from domain.registration import MrnClaim, mrn_claim_id, patient_id_for
from domain.users import User, user_id_for


@dataclass(frozen=True)
class Receipt:
    """What a write promises: the aggregate, its new version, and the global log position
    of its last event (durable when this is returned)."""

    aggregate_id: UUID
    version: int
    position: int


class Clinic(Application[UUID]):
    name = "Records"

    # Signed-in users are looked up on every request; a short-lived copy spares the store a
    # read each time. This process drops its copy whenever it changes the user, so a
    # deactivation here counts at once; one made by another process counts within this TTL.
    USER_TTL_SECONDS = 1.0

    def __init__(
        self,
        env: Any = None,
        recorder_wrapper: Callable[[ApplicationRecorder], ApplicationRecorder] | None = None,
        mrn_key: bytes = b"",
    ) -> None:
        # Set before the library builds the recorder (construct_recorder below).
        self._recorder_wrapper = recorder_wrapper
        # What an MRN's claim id is keyed on (TANDEM_MRN_KEY; empty: a plain hash).
        self._mrn_key = mrn_key
        super().__init__(env=env)
        self._signed_in: dict[str, tuple[float, User]] = {}
        # The directory as each version left it: a version never changes once stored, so
        # every read decides with the copy of its version and loads the aggregate only when
        # a registration has added one (the store is asked only for its last version).
        self._directories: dict[int, Directory] = {}
        # Each account's name as it was created (it has no event that changes it).
        self._names: dict[str, str] = {}

    def construct_recorder(self) -> ApplicationRecorder:
        """The library's recorder for the configured store; the composition root may wrap
        it (a test's fake that fails its commits, say)."""
        recorder = super().construct_recorder()
        return self._recorder_wrapper(recorder) if self._recorder_wrapper else recorder

    # --- reading --------------------------------------------------------------------

    def patient(self, patient_id: UUID) -> PatientRecord:
        try:
            record: object = self.repository.get(patient_id)
        except AggregateNotFoundError:
            raise NotFound("patient", patient_id) from None
        if not isinstance(record, PatientRecord):
            raise NotFound("patient", patient_id)
        return record

    def find_patient(self, key: str) -> PatientRecord:
        """A patient by id or by medical record number."""
        try:
            return self.patient(UUID(key))
        except ValueError:
            pass
        found = self.patient_id_by_mrn(key)
        if found is None:
            raise NotFound("patient", key)
        return self.patient(found)

    # --- medical record numbers -------------------------------------------------------

    def mrn_claim_id(self, mrn: str) -> UUID:
        """The id of the claim an MRN's registration stores beside the record."""
        return mrn_claim_id(mrn, self._mrn_key)

    def mrn_claim(self, record: PatientRecord, by: Actor, at: datetime) -> MrnClaim:
        """The claim of a new record's MRN, to store in the same write as the record."""
        return MrnClaim.claim(self.mrn_claim_id(record.state.mrn), by, at, record.id)

    def legacy_patient(self, mrn: str) -> UUID | None:
        """The id of a patient registered before ids were random (uuid5 of the MRN, no
        claim), if there is one."""
        legacy = patient_id_for(mrn)
        return legacy if self.recorder.select_events(legacy, limit=1) else None

    def patient_id_by_mrn(self, mrn: str) -> UUID | None:
        """The id of the patient registered with this MRN: from its claim, or for a record
        registered before claims, the id the MRN used to give (None: nobody has it)."""
        try:
            claim: object = self.repository.get(self.mrn_claim_id(mrn))
        except AggregateNotFoundError:
            return self.legacy_patient(mrn)
        return claim.patient_id if isinstance(claim, MrnClaim) else None

    def patient_events(self, patient_id: UUID) -> list[RecordEvent]:
        events = [e for e in self.events.get(patient_id) if isinstance(e, RecordEvent)]
        if not events:
            raise NotFound("patient", patient_id)
        return events

    def position(self) -> int:
        """The global log position of the newest stored event (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    def record_version(self, patient_id: UUID) -> int:
        """The version of the patient's record as the store holds it (0: no such record)."""
        last = self.recorder.select_events(patient_id, desc=True, limit=1)
        return last[0].originator_version if last else 0

    def all_events(self, start: int = 1, batch: int = 500) -> Iterator[tuple[int, DomainEvent]]:
        """Every stored event in log order, with its position."""
        while True:
            notifications = self.recorder.select_notifications(start=start, limit=batch)
            for n in notifications:
                yield n.id, self.mapper.to_domain_event(n)  # type: ignore[misc]
            if len(notifications) < batch:
                return
            start = notifications[-1].id + 1

    # --- users ----------------------------------------------------------------------

    def user(self, email: str) -> User:
        try:
            user: object = self.repository.get(user_id_for(email))
        except AggregateNotFoundError:
            raise NotFound("user", email) from None
        if not isinstance(user, User):
            raise NotFound("user", email)
        return user

    def find_user(self, email: str) -> User | None:
        try:
            return self.user(email)
        except NotFound:
            return None

    def cached_user(self, email: str) -> User | None:
        """The user behind a token if read within the cache's lifetime (no store access)."""
        cached = self._signed_in.get(email.strip().lower())
        if cached is not None and time.monotonic() - cached[0] < self.USER_TTL_SECONDS:
            return cached[1]
        return None

    def signed_in_user(self, email: str) -> User | None:
        """The user behind a token, read through the short-lived cache (read-only use)."""
        user = self.cached_user(email)
        if user is None:
            user = self.find_user(email)
            if user is not None:
                self._signed_in[user.email] = (time.monotonic(), user)
        return user

    def display_name(self, email: str) -> str | None:
        """The name an account was opened with (None: no such account). No event changes
        it, so an answer that shows it (the patient's access log) replays the same."""
        key = email.strip().lower()
        name = self._names.get(key)
        if name is None:
            try:
                created: object = self.repository.get(user_id_for(key), version=1)
            except AggregateNotFoundError:
                return None
            if not isinstance(created, User):
                return None
            name = self._names[key] = created.display_name
        return name

    def forget_user(self, email: str) -> None:
        """Drop this process's copy of a user the write path just changed."""
        self._signed_in.pop(email.strip().lower(), None)

    def consents(self, patient_id: UUID, version: int | None = None) -> PatientConsents | None:
        """A patient's consents (at a version), or None if none was ever recorded."""
        if version == 0:
            return None
        try:
            found: object = self.repository.get(consents_id_for(patient_id), version=version)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, PatientConsents) else None

    def recipient_directory(self) -> RecipientDirectory | None:
        """The directory of recipients as an aggregate (to register in), None before any."""
        try:
            found: object = self.repository.get(DIRECTORY_ID)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, RecipientDirectory) else None

    def directory(self, version: int | None = None) -> Directory:
        """The directory of recipients (at a version; empty before anything was
        registered), as the store holds it now, like the consents."""
        if version is None:
            last = self.recorder.select_events(DIRECTORY_ID, desc=True, limit=1)
            version = last[0].originator_version if last else 0
        if version == 0:
            return EMPTY_DIRECTORY
        found = self._directories.get(version)
        if found is None:
            try:
                loaded: object = self.repository.get(DIRECTORY_ID, version=version)
            except AggregateNotFoundError:
                return EMPTY_DIRECTORY
            if not isinstance(loaded, RecipientDirectory):
                return EMPTY_DIRECTORY
            found = loaded.listing
            if found.version == version:  # a version the store holds: it stays as it is
                self._directories[version] = found
        return found
