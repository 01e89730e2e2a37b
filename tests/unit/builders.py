"""Small builders for domain unit tests: who acts, when, a record with a care team, and the
given / when / then helpers.

"Given" is a record whose earlier events are committed (the registered record is rebuilt
from its events, so its team is what the events say); "when" is one command on it; "then"
is what `collect_events()` returns, or a refusal that left nothing pending.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest

from domain.errors import InvalidInput, RuleViolation, TandemError
from domain.events import Actor, now
from domain.patient import PatientRecord
from domain.record import RecordEvent
from domain.vocabulary import DataClass, Modality, Role, SessionMode

E = TypeVar("E", bound=RecordEvent)

ORGANISATION = "Riverside Behavioral Health"

SYSTEM = Actor.system()
THERAPIST = Actor(
    user_id="t.okafor@riverside.example", role=Role.THERAPIST, organisation=ORGANISATION
)
PRESCRIBER = Actor(
    user_id="p.lindqvist@riverside.example", role=Role.PRESCRIBER, organisation=ORGANISATION
)
PATIENT = Actor(user_id="sam.rivera@mail.example", role=Role.PATIENT, organisation="self")
SUPPORTER = Actor(user_id="alex.rivera@mail.example", role=Role.SUPPORTER, organisation="family")
OUTSIDER = Actor(
    user_id="m.jones@elsewhere.example", role=Role.THERAPIST, organisation="Elsewhere Clinic"
)

# Members who join only in the tests that need them.
PART2_COUNSELOR = Actor(
    user_id="c.diaz@harbor-otp.example", role=Role.THERAPIST, organisation="Harbor OTP"
)
PART2_PRESCRIBER = Actor(
    user_id="r.singh@harbor-otp.example", role=Role.PRESCRIBER, organisation="Harbor OTP"
)
PRIMARY_CARE = Actor(
    user_id="g.nakamura@valley-pc.example",
    role=Role.PRIMARY_CARE,
    organisation="Valley Primary Care",
)
SCHOOL_COUNSELOR = Actor(
    user_id="counseling@state-u.example",
    role=Role.SCHOOL_COUNSELOR,
    organisation="State University",
)

MRN = "RBH-000123"

SERTRALINE: dict[str, Any] = {
    "drug": "sertraline",
    "rxnorm": "36437",
    "dose": {"amount": "25", "unit": "mg"},
    "schedule": {"frequency": "once-daily", "times": ["08:00"]},
    "indication": "major depressive disorder, recurrent",
}
BUPRENORPHINE: dict[str, Any] = {
    "drug": "buprenorphine/naloxone",
    "rxnorm": "1010600",
    "dose": {"amount": "8", "unit": "mg"},
    "schedule": {"frequency": "once-daily"},
    "route": "sublingual",
    "indication": "opioid use disorder",
    "sud_treatment": True,
}


def days_ago(days: float) -> datetime:
    """A clinical time safely in the past (the recording clock is the real one)."""
    return now() - timedelta(days=days)


def demographics(mrn: str = MRN, **changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "mrn": mrn,
        "given_name": "Sam",
        "family_name": "Rivera",
        "birth_date": date(1994, 5, 17),
        "sex_at_birth": "female",
    }
    fields.update(changes)
    return fields


def replayed(events: Sequence[Any]) -> PatientRecord:
    """A record rebuilt from its events alone, with nothing pending."""
    record: Any = None
    for event in events:
        record = event.mutate(record)
    assert isinstance(record, PatientRecord)
    return record


def given(record: PatientRecord) -> PatientRecord:
    """Commit what the record recorded so far (as a store would on save), so that what the
    next command records is all that is pending."""
    record.collect_events()
    return record


def a_registered_record(
    *,
    at: datetime | None = None,
    mrn: str = MRN,
    part2: Sequence[Actor] = (),
    others: Sequence[Actor] = (),
) -> PatientRecord:
    """Registered by the system, with the therapist, prescriber, patient and supporter on
    the team, plus any Part 2 program members and other members asked for."""
    when = at or days_ago(30)
    record: PatientRecord = PatientRecord.register(SYSTEM, when, **demographics(mrn))
    for member in (THERAPIST, PRESCRIBER, PATIENT, SUPPORTER, *others):
        record.add_team_member(
            SYSTEM, when, user_id=member.user_id, role=member.role, organisation=member.organisation
        )
    for member in part2:
        record.add_team_member(
            SYSTEM,
            when,
            user_id=member.user_id,
            role=member.role,
            organisation=member.organisation,
            part2_program=True,
        )
    # Rebuilt from its events, so the team the tests rely on is the one the events say.
    return replayed(record.collect_events())


def with_medication(
    record: PatientRecord,
    *,
    by: Actor = PRESCRIBER,
    at: datetime | None = None,
    details: dict[str, Any] | None = None,
) -> tuple[PatientRecord, UUID]:
    medication_id = uuid4()
    record.start_medication(
        by, at or days_ago(20), medication_id=medication_id, **(details or SERTRALINE)
    )
    return given(record), medication_id


def with_session(
    record: PatientRecord, *, at: datetime | None = None
) -> tuple[PatientRecord, UUID]:
    session_id = uuid4()
    when = at or days_ago(20)
    record.schedule_session(
        THERAPIST,
        when,
        session_id=session_id,
        starts_at=when + timedelta(days=7),
        duration_minutes=50,
        mode=SessionMode.TELEHEALTH,
        modality=Modality.CBT,
    )
    return given(record), session_id


def with_lab_order(
    record: PatientRecord,
    *,
    by: Actor = PRESCRIBER,
    at: datetime | None = None,
    sud_context: bool = False,
    loinc: str = "14979-9",
) -> tuple[PatientRecord, UUID]:
    order_id = uuid4()
    record.order_lab(
        by,
        at or days_ago(20),
        order_id=order_id,
        loinc=loinc,
        test_name="lithium [moles/volume] in serum or plasma",
        reason="lithium level 5 days after dose change",
        sud_context=sud_context,
    )
    return given(record), order_id


# --- then -----------------------------------------------------------------------------


def recorded(record: PatientRecord) -> list[RecordEvent]:
    """Everything recorded since the last commit, in order."""
    events = record.collect_events()
    assert all(isinstance(e, RecordEvent) for e in events)
    return [e for e in events if isinstance(e, RecordEvent)]


def only_event(record: PatientRecord, kind: type[E]) -> E:
    """The one event the command recorded, of the expected kind."""
    events = record.collect_events()
    assert [type(e) for e in events] == [kind]
    event = events[0]
    assert isinstance(event, kind)
    return event


def assert_attributed(
    event: RecordEvent, *, actor: Actor, data_class: DataClass, clinical_time: datetime
) -> None:
    assert event.actor == actor
    assert event.data_class == data_class
    assert event.clinical_time == clinical_time


def fields_of(error: InvalidInput) -> list[str]:
    assert error.errors, "an InvalidInput must name at least one field"
    for field_error in error.errors:
        assert field_error.reason, f"{field_error.field} refused without a reason"
    return [e.field for e in error.errors]


@contextmanager
def refused(
    record: PatientRecord, error: type[TandemError] = InvalidInput, *, field: str | None = None
) -> Iterator[pytest.ExceptionInfo[Any]]:
    """The command in the block is refused with `error`, naming `field`, and records nothing."""
    pending_before = list(record.pending_events)
    version_before = record.version
    state_before = copy.deepcopy(record.state)
    with pytest.raises(error) as info:
        yield info
    assert list(record.pending_events) == pending_before
    assert record.version == version_before
    assert record.state == state_before
    if field is not None:
        if isinstance(info.value, InvalidInput):
            assert field in fields_of(info.value), info.value.errors
        else:
            assert isinstance(info.value, RuleViolation)
            assert info.value.field == field
