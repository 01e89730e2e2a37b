"""The patient's clinical record: the aggregate every clinical event belongs to.

One record per patient is the consistency boundary: a dose change is checked against the
medications on this record, a session outcome against the sessions scheduled on it, and
the record's event stream is the patient's timeline, in order. Each area of care is a
section module (registration, care plan, therapy, medication, labs, measures, safety,
messaging) holding its events and commands (medication's commands are in
`domain.medication_management`); `PatientRecord` in `domain.patient` joins them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from pydantic import TypeAdapter, ValidationError, model_validator

from domain.errors import (
    FieldError,
    InvalidInput,
    NotOnCareTeam,
    NotPermittedAuthor,
    UnknownReference,
)
from domain.events import Actor, Aggregate
from domain.vocabulary import DataClass, Role

ANY_TEAM_ROLE = frozenset(Role) - {Role.SYSTEM, Role.COMPLIANCE}
TREATING = frozenset({Role.THERAPIST, Role.PRESCRIBER})

# What the record itself sets on every event: who, when (recorded and clinical), the data
# class and the event's place in the stream. A caller who could set these among a command's
# details could backdate a record, postdate a clinical time past its check, or relabel an
# SUD record, so they are refused by name rather than passed through.
ENVELOPE = frozenset(
    {
        "timestamp",
        "actor",
        "data_class",
        "clinical_time",
        "originator_id",
        "originator_version",
        "originator_topic",
        "event_id",
        "part2",
    }
)
# ...and the keywords of recording itself: the aggregate id, the event class, and the Part 2
# context (which the record decides from its own state, never from the caller).
RECORDING_KEYWORDS = frozenset({"id", "event_class", "sud_context"})
RESERVED = ENVELOPE | RECORDING_KEYWORDS

# The earliest clinical time (and birth date) a command accepts: nobody in care was born
# before 1900, and a year-1 entry is a typo that would stretch every chart of the record.
EARLIEST_CLINICAL_DATE = date(1900, 1, 1)
EARLIEST_CLINICAL_TIME = datetime(1900, 1, 1, tzinfo=UTC)
# How far ahead of its recording a scheduled moment (a session's start) may be.
LATEST_SCHEDULED_AHEAD = timedelta(days=2 * 366)
# The furthest ahead of UTC any place's calendar runs (UTC+14): a moment is on or after a
# birth date if it is on that date somewhere on Earth.
_FURTHEST_AHEAD_OF_UTC = timedelta(hours=14)


def check_clinical_date(value: Any, field_name: str) -> None:
    """Refuse a date before 1900 (a birth date, say), naming the field; anything not a date
    is left to the event's validation."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date) and value < EARLIEST_CLINICAL_DATE:
        raise InvalidInput.single(
            field_name, f"is before {EARLIEST_CLINICAL_DATE.isoformat()} ({value.isoformat()})"
        )


def check_clinical_time(
    at: Any, birth_date: date | None = None, field_name: str = "clinical_time"
) -> None:
    """The lower bounds of a clinical time, checked by the command that records it (not by
    the event class, so an event stored before the rule still loads): not before 1900 and
    not before the patient's birth date. Its upper bound, the recording time, is the event's
    own (domain.events). Anything not an aware datetime is left to the event's validation."""
    if not isinstance(at, datetime) or at.tzinfo is None:
        return
    if at < EARLIEST_CLINICAL_TIME:
        raise InvalidInput.single(
            field_name, f"is before {EARLIEST_CLINICAL_DATE.isoformat()} ({at.isoformat()})"
        )
    latest_date = (at.astimezone(UTC) + _FURTHEST_AHEAD_OF_UTC).date()
    if birth_date is not None and latest_date < birth_date:
        raise InvalidInput.single(
            field_name,
            f"is before the patient's birth date ({at.date().isoformat()} is before "
            f"{birth_date.isoformat()})",
        )


def check_scheduled_time(at: Any, scheduled: Any, field_name: str) -> None:
    """A scheduled moment (a session's start): not before 1900, and not more than two years
    after the moment it is recorded."""
    check_clinical_time(scheduled, field_name=field_name)
    if (
        isinstance(scheduled, datetime)
        and scheduled.tzinfo is not None
        and isinstance(at, datetime)
        and at.tzinfo is not None
        and scheduled > at + LATEST_SCHEDULED_AHEAD
    ):
        raise InvalidInput.single(
            field_name,
            f"is more than two years ahead ({scheduled.date().isoformat()} is after "
            f"{(at + LATEST_SCHEDULED_AHEAD).date().isoformat()})",
        )


def refuse_reserved(details: Mapping[str, Any]) -> None:
    """Refuse a command's free-form details if they name anything the record sets itself."""
    taken = [key for key in details if key in RESERVED]
    if taken:
        raise InvalidInput(
            [FieldError(key, "is set by the record, not the caller") for key in taken]
        )


@contextmanager
def refused_fields(prefix: str = "") -> Iterator[None]:
    """Turn pydantic's validation errors into the domain's field-level InvalidInput."""
    try:
        yield
    except ValidationError as exc:
        raise InvalidInput.from_validation_error(exc, prefix) from None


_FLAG: TypeAdapter[bool] = TypeAdapter(bool)


def parsed_flag(name: str, value: Any) -> bool:
    """A yes/no field parsed as its event will parse it ("false" is False), for commands
    that decide something (the data class) from it before the event is made."""
    with refused_fields(name):
        return _FLAG.validate_python(value)


class RecordEvent(Aggregate.Event):
    """An event on a patient's record. Its originator id is the patient id.

    Subclasses declare `default_class` (their data class unless a Part 2 rule applies)
    and `authors` (the roles that may record them).
    """

    default_class: ClassVar[DataClass]
    authors: ClassVar[frozenset[Role]] = TREATING
    # False for events that never identify substance-use treatment on their own.
    part2_eligible: ClassVar[bool] = True

    # 42 CFR Part 2: a record made by a Part 2 program, or about SUD treatment. A label
    # beside the data class, so a Part 2 consent can say what kind of record it covers
    # (2.31(a)(3)): a buprenorphine dose change is `medication` and Part 2.
    part2: bool = False

    @model_validator(mode="before")
    @classmethod
    def _part2_was_a_class(cls, state: Any) -> Any:
        """Upcast: before Part 2 was a label, a Part 2 record's data class was `sud` in
        place of its own (`data_class_for` put it there), and an SUD counseling note was
        flagged only by `sud_counseling`. Its own class is the event class's default."""
        if not isinstance(state, dict) or "part2" in state:
            return state
        if state.get("data_class") in (DataClass.SUD, DataClass.SUD.value):
            return {**state, "data_class": cls.default_class, "part2": True}
        if state.get("sud_counseling") is True:
            return {**state, "part2": True}
        return state

    @property
    def patient_id(self) -> UUID:
        return self.originator_id

    def mutate(self, aggregate: Any) -> Any:
        """Apply, and remember a clinical entry a correction may later name: what a
        correctable kind (CORRECTABLE, filled by domain.corrections) notes of the state
        before it, kept with the event under its record version."""
        spec = CORRECTABLE.get(type(self))
        before = spec.before(aggregate.state, self) if spec is not None and aggregate else None
        result = super().mutate(aggregate)
        if spec is not None and aggregate is not None:
            aggregate.state.entries[self.originator_version] = (self, before)
        return result

    def apply(self, aggregate: Any) -> None:
        """Evolve the record; most events only add to the timeline and change no state."""

    def summary(self) -> str:
        """One line, in the care team's words, for timelines."""
        return type(self).__name__


# The kinds of clinical entry a correction may name, with what each needs to be undone
# (domain.corrections fills it: the record's sections are defined after this module).
CORRECTABLE: dict[type[RecordEvent], Any] = {}


def kind_of(event_class: type[RecordEvent]) -> str:
    """The name a stored event goes by outside the record: `EventRow.kind` in the index,
    `Fact.kind` for the rules, "kind" in a view's entries. Code that tells events apart by
    that name takes it from the class, so renaming an event cannot break it silently."""
    return event_class.__name__


def kinds(*event_classes: type[RecordEvent]) -> frozenset[str]:
    """The names of several event classes (see `kind_of`)."""
    return frozenset(kind_of(c) for c in event_classes)


@dataclass
class Membership:
    user_id: str
    role: Role
    organisation: str
    part2_program: bool
    active: bool = True


@dataclass
class RecordState:
    """What the record must remember to check the next command."""

    mrn: str = ""
    name: str = ""
    birth_date: date | None = None
    team: dict[str, Membership] = field(default_factory=dict)
    sessions: dict[UUID, str] = field(default_factory=dict)
    session_starts: dict[UUID, datetime] = field(default_factory=dict)
    # When each session ends (its start plus its length): what a double booking is
    # checked against.
    session_ends: dict[UUID, datetime] = field(default_factory=dict)
    medications: dict[UUID, Any] = field(default_factory=dict)
    # Medications prescribed elsewhere, by drug, as the last reconciliation left them.
    reconciled: dict[str, Any] = field(default_factory=dict)
    lab_orders: dict[UUID, str] = field(default_factory=dict)
    sud_orders: set[UUID] = field(default_factory=set)
    messages: dict[UUID, Any] = field(default_factory=dict)
    goals: set[UUID] = field(default_factory=set)
    targets: set[UUID] = field(default_factory=set)
    homework: set[UUID] = field(default_factory=set)
    conditions: dict[str, str] = field(default_factory=dict)
    phase: str | None = None
    # What a dose range needs of the patient beside the birth date (also the lower bound
    # of clinical times): the latest weight by clinical time (domain/rules/dose_ranges.py).
    weight: tuple[datetime, Decimal] | None = None
    # The clinical entries a correction may name, by record version (domain.corrections),
    # and the versions marked entered in error. The entries are a memo of the log, not
    # state an entry changes: left out of comparisons of the state.
    entries: dict[int, Any] = field(default_factory=dict, compare=False)
    errored: set[int] = field(default_factory=set)


class RecordBase(Aggregate):
    """State and guards shared by every section of the record."""

    def __init__(self) -> None:
        self.state = RecordState()

    # --- guards -------------------------------------------------------------------

    def check_on_team(self, actor: Actor) -> Membership:
        member = self.state.team.get(actor.user_id)
        if member is None or not member.active:
            raise NotOnCareTeam(
                f"user {actor.user_id} is not on the care team of patient {self.id}",
                patient_id=self.id,
                field="actor.user_id",
            )
        return member

    def check_may_author(self, event_class: type[RecordEvent], actor: Actor) -> Membership | None:
        """The actor must be on the team, in the role they act in, and that role must be
        one that may record this kind of event. The system actor (CLI, imports) needs no
        membership but may only record what lists it among the authors."""
        if actor.role == Role.SYSTEM and Role.SYSTEM in event_class.authors:
            return None
        member = self.check_on_team(actor)
        if member.role != actor.role:
            raise NotPermittedAuthor(
                f"user {actor.user_id} is on this care team as {member.role.value}, "
                f"not {actor.role.value}",
                patient_id=self.id,
                field="actor.role",
            )
        if member.role not in event_class.authors:
            allowed = ", ".join(sorted(r.value for r in event_class.authors))
            raise NotPermittedAuthor(
                f"a {member.role.value} may not record {event_class.__name__} (allowed: {allowed})",
                patient_id=self.id,
                field="actor.role",
            )
        return member

    def check_known(self, kind: str, key: UUID, known: Any, field_name: str) -> None:
        if key not in known:
            raise UnknownReference(
                f"{kind} {key} is not on the record of patient {self.id}",
                patient_id=self.id,
                field=field_name,
            )

    def in_part2_program(self) -> bool:
        """Whether any active team member treats this patient in a Part 2 program."""
        return any(m.active and m.part2_program for m in self.state.team.values())

    # --- recording ----------------------------------------------------------------

    def part2_for(
        self, event_class: type[RecordEvent], member: Membership | None, sud_context: bool
    ) -> bool:
        """Whether a new event is a Part 2 record: 42 CFR Part 2 (2.11, 2.12) covers
        records made by a federally assisted SUD program, or about SUD treatment. It keeps
        its own data class beside the label; a psychotherapy note made in a program is an
        SUD counseling note (its author's program says so, `sud_counseling`)."""
        if not event_class.part2_eligible:
            return False
        return sud_context or (member is not None and member.part2_program)

    def _record(
        self,
        event_class: type[RecordEvent],
        by: Actor,
        at: datetime,
        *,
        sud_context: bool = False,
        **fields: Any,
    ) -> None:
        refuse_reserved(fields)
        member = self.check_may_author(event_class, by)
        check_clinical_time(at, self.state.birth_date)
        part2 = self.part2_for(event_class, member, sud_context)
        with refused_fields():
            self.trigger_event(
                event_class,
                actor=by,
                data_class=event_class.default_class,
                part2=part2,
                clinical_time=at,
                **fields,
            )
