"""The clinic's use cases over the event store: get a record, run a command, save.

`Clinic` is an eventsourcing Application. It owns persistence (SQLite or PostgreSQL, chosen
by the environment the composition root builds from settings), translates storage errors
into the domain's own, and answers every write with a receipt naming the log position the
write reached.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from adapters.mapper import PydanticMapper
from domain.errors import Conflict, NotFound
from domain.events import Actor, DomainEvent, now
from domain.patient import PatientRecord
from domain.record import RecordEvent
from domain.registration import patient_id_for
from domain.users import User, user_id_for
from domain.vocabulary import Role


@dataclass(frozen=True)
class Receipt:
    """What a write promises: the aggregate, its new version, and the global log position
    of its last event (durable when this is returned)."""

    aggregate_id: UUID
    version: int
    position: int


class Clinic(Application[UUID]):
    name = "Records"
    env = {"MAPPER_TOPIC": get_topic(PydanticMapper)}

    # Signed-in users are looked up on every request; a short-lived copy spares the store a
    # read each time. This process drops its copy whenever it changes the user, so a
    # deactivation here counts at once; one made by another process counts within this TTL.
    USER_TTL_SECONDS = 1.0

    def __init__(self, env: Any = None) -> None:
        super().__init__(env=env)
        self._signed_in: dict[str, tuple[float, User]] = {}

    # --- writing --------------------------------------------------------------------

    def commit(self, aggregate: Any) -> Receipt:
        """Save one aggregate's new events; a concurrent change to it is a Conflict."""
        try:
            recordings = self.save(aggregate)
        except IntegrityError as exc:
            raise Conflict(aggregate.id) from exc
        position = max((r.notification.id for r in recordings), default=self.position())
        return Receipt(aggregate.id, aggregate.version, position)

    def register_patient(
        self,
        by: Actor,
        at: datetime | None = None,
        *,
        join_team: bool = False,
        **demographics: Any,
    ) -> Receipt:
        """Open a record; with `join_team`, the registering clinician becomes the first
        member of the care team in the same transaction."""
        at = at or now()
        record = PatientRecord.register(by, at, **demographics)
        if join_team:
            record.add_team_member(
                Actor.system("registration"),
                at,
                user_id=by.user_id,
                role=by.role,
                organisation=by.organisation,
            )
        try:
            return self.commit(record)
        except Conflict:
            raise Conflict(
                record.id, f"a patient with MRN {demographics.get('mrn')} is already registered"
            ) from None

    def act(
        self,
        patient_id: UUID,
        command: Callable[[PatientRecord], None],
        *,
        expected_version: int | None = None,
    ) -> Receipt:
        """Load the record, run one command on it, save what it recorded.

        With `expected_version`, refuse (Conflict) if the record has moved on since the
        caller last read it. A concurrent writer that saves first also yields Conflict.
        """
        record = self.patient(patient_id)
        if expected_version is not None and record.version != expected_version:
            raise Conflict(
                patient_id,
                f"record {patient_id} is at version {record.version}, "
                f"not the expected {expected_version}",
            )
        command(record)
        return self.commit(record)

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
            return self.patient(patient_id_for(key))

    def patient_events(self, patient_id: UUID) -> list[RecordEvent]:
        events = [e for e in self.events.get(patient_id) if isinstance(e, RecordEvent)]
        if not events:
            raise NotFound("patient", patient_id)
        return events

    def position(self) -> int:
        """The global log position of the newest stored event (0 when empty)."""
        return self.recorder.max_notification_id() or 0

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

    def create_user(
        self,
        by: Actor,
        *,
        email: str,
        display_name: str,
        role: Role,
        organisation: str,
        password_hash: str,
        patient_id: UUID | None = None,
    ) -> Receipt:
        user = User.create(
            by,
            now(),
            email=email,
            display_name=display_name,
            role=role,
            organisation=organisation,
            password_hash=password_hash,
            patient_id=patient_id,
        )
        try:
            return self.commit(user)
        except Conflict:
            raise Conflict(user.id, f"an account for {email} already exists") from None

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

    def update_user(self, email: str, command: Callable[[User], None]) -> Receipt:
        user = self.user(email)
        command(user)
        try:
            return self.commit(user)
        finally:
            self._signed_in.pop(user.email, None)
