"""The record index: every patient's events, consents and reads, in log order.

One projection feeds every role view (see `projections.role_views`): it keeps each
record event as a row with the facts the access policy needs (data class, author, SUD
counseling flag) and its payload, the consent events per patient, and the access log.
Its view stores each change together with the tracking position in one transaction, so a
restart resumes without gaps or duplicates, and a rebuild from position zero yields the
same rows. Rows carry their log position, so any view can be produced "as of" a position.
"""

from __future__ import annotations

import json
import re
import unicodedata
from abc import abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import date, datetime
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import Projection

from domain.audit import AccessRecorded, BreakGlassReviewed, ReadRefused, SignInFailed
from domain.consent import ConsentEvent
from domain.errors import InvalidInput
from domain.events import DomainEvent
from domain.record import RecordEvent
from domain.registration import MRN_PATTERN

if TYPE_CHECKING:
    from projections.board import PatientBoard

BASE_FIELDS = {
    "originator_id",
    "originator_version",
    "timestamp",
    "event_id",
    "actor",
    "data_class",
    "clinical_time",
    "originator_topic",
}


@dataclass(frozen=True)
class EventRow:
    position: int
    patient_id: UUID
    version: int
    kind: str
    data_class: str
    author: str
    author_role: str
    author_org: str
    sud_counseling: bool
    clinical_time: datetime
    recorded_at: datetime
    summary: str
    payload: dict[str, Any]
    # A 42 CFR Part 2 record (RecordEvent.part2), beside its data class.
    part2: bool = False
    # The two times as ISO 8601 text, when the index already holds them so (an answer
    # shows them so: formatting a hundred rows' times again costs more than reading them).
    clinical_time_iso: str | None = field(default=None, compare=False, repr=False)
    recorded_at_iso: str | None = field(default=None, compare=False, repr=False)

    @classmethod
    def stored(cls, **fields: Any) -> EventRow:
        """A row as the index hands it back, every field given: set as they are, without
        the frozen dataclass's one `object.__setattr__` per field (a read builds a hundred
        rows; this halves what each costs). Equal to `EventRow(**fields)`."""
        if fields.keys() != _EVENT_ROW_FIELDS:
            raise TypeError(f"EventRow.stored needs exactly {sorted(_EVENT_ROW_FIELDS)}")
        row = object.__new__(cls)
        row.__dict__.update(fields)
        return row

    @property
    def clinical_time_text(self) -> str:
        return self.clinical_time_iso or self.clinical_time.isoformat()

    @property
    def recorded_at_text(self) -> str:
        return self.recorded_at_iso or self.recorded_at.isoformat()


_EVENT_ROW_FIELDS = frozenset(f.name for f in dataclass_fields(EventRow))


@dataclass(frozen=True)
class ConsentRow:
    position: int
    patient_id: UUID
    version: int
    kind: str
    author: str
    clinical_time: datetime
    summary: str


@dataclass(frozen=True)
class AccessRow:
    position: int
    access_id: UUID
    at: datetime
    user_id: str
    role: str
    organisation: str
    patient_id: UUID
    view: str
    purpose: str
    basis: str
    classes: tuple[str, ...]
    consents: tuple[UUID, ...]
    reflected_position: int
    response_sha256: str
    emergency_reason: str | None
    part2: bool
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    review_outcome: str | None = None
    sections: tuple[str, ...] = ()  # a patient page's sections (AccessRecorded.sections)


@dataclass(frozen=True)
class RefusalRow:
    position: int
    refusal_id: UUID
    at: datetime
    user_id: str
    role: str
    organisation: str
    patient_id: UUID
    view: str
    purpose: str
    why: str


@dataclass(frozen=True)
class SignInFailureRow:
    position: int
    failure_id: UUID
    at: datetime
    username: str
    address: str
    reason: str


@dataclass(frozen=True)
class Review:
    access_id: UUID
    reviewed_by: str
    reviewed_at: datetime
    outcome: str


def event_row(position: int, event: RecordEvent) -> EventRow:
    """A record event as the index (and anything reading like it) keeps it."""
    return EventRow(
        position=position,
        patient_id=event.originator_id,
        version=event.originator_version,
        kind=type(event).__name__,
        data_class=event.data_class.value,
        author=event.actor.user_id,
        author_role=event.actor.role.value,
        author_org=event.actor.organisation,
        sud_counseling=bool(getattr(event, "sud_counseling", False)),
        clinical_time=event.clinical_time,
        recorded_at=event.timestamp,
        summary=event.summary(),
        payload=json.loads(event.model_dump_json(exclude=BASE_FIELDS | {"part2"})),
        part2=event.part2,
    )


def _words(text: str) -> list[str]:
    """A name's words, compared without case or accents ("José" finds "jose")."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return [w for w in re.split(r"[^\w]+", plain) if w]


def search_terms(payload: dict[str, Any]) -> dict[str, set[str]]:
    """What a registration or demographics update lets the patient be found by, per field:
    each word of the name, the MRN (registration only) and the birth date."""
    terms: dict[str, set[str]] = {
        "name": {f"name:{w}" for w in _words(f"{payload['given_name']} {payload['family_name']}")},
        "born": {f"born:{payload['birth_date']}"},
    }
    if payload.get("mrn"):
        terms["mrn"] = {f"mrn:{payload['mrn'].strip().casefold()}"}
    return terms


def query_terms(text: str, field: str = "q") -> frozenset[str]:
    """The terms a search finds patients by: a birth date (year-month-day), an MRN (it has
    a digit), or else the words of a name, every one of which must match a whole word of
    the patient's name (no prefixes or parts of words: with a key, the index keeps only
    keyed hashes of whole words)."""
    text = text.strip()
    if not text:
        raise InvalidInput.single(field, "is empty: enter a name, an MRN or a birth date")
    if len(text) > 200:
        raise InvalidInput.single(field, "is longer than 200 characters")
    try:
        return frozenset({f"born:{date.fromisoformat(text).isoformat()}"})
    except ValueError:
        pass
    if re.fullmatch(MRN_PATTERN, text) and any(c.isdigit() for c in text):
        return frozenset({f"mrn:{text.casefold()}"})
    words = _words(text)
    if not words:
        raise InvalidInput.single(field, "has no letters: enter a name, an MRN or a birth date")
    return frozenset(f"name:{w}" for w in words)


class IndexView(TrackingRecorder):
    """The port a store implements for the record index (adapters.views)."""

    @abstractmethod
    def add_event(self, row: EventRow, tracking: Tracking) -> None: ...

    @abstractmethod
    def add_consent_event(self, row: ConsentRow, tracking: Tracking) -> None: ...

    @abstractmethod
    def add_access(self, row: AccessRow, tracking: Tracking) -> None: ...

    @abstractmethod
    def add_review(self, review: Review, tracking: Tracking) -> None: ...

    @abstractmethod
    def add_refusal(self, row: RefusalRow, tracking: Tracking) -> None: ...

    @abstractmethod
    def refusals(
        self, *, user_id: str | None = None, since: datetime | None = None
    ) -> list[RefusalRow]:
        """Refused reads, oldest first."""

    @abstractmethod
    def add_sign_in_failure(self, row: SignInFailureRow, tracking: Tracking) -> None: ...

    @abstractmethod
    def sign_in_failures(
        self, *, username: str | None = None, since: datetime | None = None
    ) -> list[SignInFailureRow]:
        """Refused sign-ins, oldest first."""

    @abstractmethod
    def record_version(self, patient_id: UUID) -> int:
        """The newest version of the patient's record the index holds (0: none)."""

    @abstractmethod
    def patient_events(
        self, patient_id: UUID, up_to: int | None = None, kinds: frozenset[str] | None = None
    ) -> list[EventRow]:
        """A patient's rows in log order, up to a position; only those of `kinds` if given."""

    @abstractmethod
    def consent_events(self, patient_id: UUID, up_to: int | None = None) -> list[ConsentRow]: ...

    @abstractmethod
    def accesses(
        self,
        *,
        patient_id: UUID | None = None,
        user_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        basis: tuple[str, ...] = (),
        unreviewed_only: bool = False,
    ) -> list[AccessRow]: ...

    @abstractmethod
    def patient_accesses(
        self,
        patient_id: UUID,
        *,
        up_to: int,
        before: int | None = None,
        limit: int = 50,
        excluding: tuple[str, ...] = (),
    ) -> list[AccessRow]:
        """A patient's access records at log positions up to `up_to` (and before `before`,
        if given), newest first, at most `limit`, leaving out the reads on the bases
        `excluding`."""

    @abstractmethod
    def access(self, access_id: UUID) -> AccessRow | None: ...

    @abstractmethod
    def caseload(self, user_id: str) -> list[tuple[UUID, str]]: ...

    @abstractmethod
    def patients(self) -> list[UUID]: ...

    @abstractmethod
    def find_patients(self, terms: frozenset[str]) -> list[UUID]:
        """Patients matching every one of `terms` (made by `query_terms`)."""

    @abstractmethod
    def patient_board(self, patient_id: UUID, at: datetime | None = None) -> PatientBoard | None:
        """The patient's stored board (projections.board), as their rows leave it: every
        item, or with `at` only the items open by then (what a read at `at` can show)."""

    @abstractmethod
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
        """(urgency, patient id) of the patients on the user's caseload with board items
        for them at `at`, most urgent first, after `after`, at most `limit`."""

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group many changes into one transaction where the store can (default: none)."""
        yield

    @abstractmethod
    def clear(self) -> None:
        """Drop every row and the tracking position (for a rebuild from zero)."""


class RecordIndex(Projection[IndexView]):
    name = "record_index"

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        # Events this index does not show (accounts, ...) still move its position, so a
        # restart does not read them again.
        self.view.insert_tracking(tracking)

    @process_event.register
    def _record(self, event: RecordEvent, tracking: Tracking) -> None:
        self.view.add_event(event_row(tracking.notification_id, event), tracking)

    @process_event.register
    def _consent(self, event: ConsentEvent, tracking: Tracking) -> None:
        self.view.add_consent_event(
            ConsentRow(
                position=tracking.notification_id,
                patient_id=event.patient_id,
                version=event.originator_version,
                kind=type(event).__name__,
                author=event.actor.user_id,
                clinical_time=event.clinical_time,
                summary=event.summary(),
            ),
            tracking,
        )

    @process_event.register
    def _access(self, event: AccessRecorded, tracking: Tracking) -> None:
        self.view.add_access(
            AccessRow(
                position=tracking.notification_id,
                access_id=event.originator_id,
                at=event.clinical_time,
                user_id=event.actor.user_id,
                role=event.actor.role.value,
                organisation=event.actor.organisation,
                patient_id=event.patient_id,
                view=event.view,
                purpose=event.purpose,
                basis=event.basis,
                classes=tuple(c.value for c in event.classes),
                consents=tuple(event.consents),
                reflected_position=event.reflected_position,
                response_sha256=event.response_sha256,
                emergency_reason=event.emergency_reason,
                part2=event.part2,
                sections=tuple(event.sections),
            ),
            tracking,
        )

    @process_event.register
    def _review(self, event: BreakGlassReviewed, tracking: Tracking) -> None:
        self.view.add_review(
            Review(event.originator_id, event.actor.user_id, event.clinical_time, event.outcome),
            tracking,
        )

    @process_event.register
    def _refusal(self, event: ReadRefused, tracking: Tracking) -> None:
        self.view.add_refusal(
            RefusalRow(
                position=tracking.notification_id,
                refusal_id=event.originator_id,
                at=event.clinical_time,
                user_id=event.actor.user_id,
                role=event.actor.role.value,
                organisation=event.actor.organisation,
                patient_id=event.patient_id,
                view=event.view,
                purpose=event.purpose,
                why=event.why,
            ),
            tracking,
        )

    @process_event.register
    def _sign_in_failure(self, event: SignInFailed, tracking: Tracking) -> None:
        self.view.add_sign_in_failure(
            SignInFailureRow(
                position=tracking.notification_id,
                failure_id=event.originator_id,
                at=event.clinical_time,
                username=event.username,
                address=event.address,
                reason=event.reason,
            ),
            tracking,
        )

    def process(self, event: DomainEvent, tracking: Tracking) -> None:
        self.process_event(event, tracking)
