"""Rules every section shares: who may record, when it may have happened, its data class."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest

from domain.errors import (
    InvalidInput,
    NotOnCareTeam,
    NotPermittedAuthor,
    RuleViolation,
    UnknownReference,
)
from domain.events import CLOCK_SKEW, Actor, now
from domain.medication import MedicationStarted
from domain.patient import PatientRecord
from domain.record import RecordEvent
from domain.therapy import ProgressNoteWritten
from domain.vocabulary import DataClass, Modality, RiskLevel, Role, SessionMode
from tests.unit.builders import (
    BUPRENORPHINE,
    OUTSIDER,
    PART2_COUNSELOR,
    PART2_PRESCRIBER,
    PATIENT,
    PRESCRIBER,
    SERTRALINE,
    SUPPORTER,
    SYSTEM,
    THERAPIST,
    a_registered_record,
    days_ago,
    demographics,
    given,
    only_event,
    recorded,
    refused,
    replayed,
    with_session,
)

Command = Callable[[PatientRecord, Actor, datetime], None]

# One command from each section, each one its usual author may record.
COMMANDS: dict[str, tuple[Actor, Command]] = {
    "condition": (
        PRESCRIBER,
        lambda r, by, at: r.record_condition(by, at, icd10="F33.1", description="MDD"),
    ),
    "session": (
        THERAPIST,
        lambda r, by, at: r.schedule_session(
            by,
            at,
            session_id=uuid4(),
            starts_at=at,
            duration_minutes=50,
            mode=SessionMode.IN_PERSON,
            modality=Modality.CBT,
        ),
    ),
    "medication": (
        PRESCRIBER,
        lambda r, by, at: r.start_medication(by, at, medication_id=uuid4(), **SERTRALINE),
    ),
    "lab order": (
        PRESCRIBER,
        lambda r, by, at: r.order_lab(
            by, at, order_id=uuid4(), loinc="14334-7", test_name="lithium", reason="level"
        ),
    ),
    "questionnaire": (
        PATIENT,
        lambda r, by, at: r.answer_questionnaire(
            by, at, instrument="gad-7", answers={str(n): 0 for n in range(1, 8)}
        ),
    ),
    "risk": (
        THERAPIST,
        lambda r, by, at: r.assess_risk(
            by, at, level=RiskLevel.LOW, method="c-ssrs", plan="routine"
        ),
    ),
    "message": (
        PATIENT,
        lambda r, by, at: r.send_message(
            by, at, message_id=uuid4(), to=[THERAPIST.user_id], subject="s", body="b"
        ),
    ),
    "observation": (
        SUPPORTER,
        lambda r, by, at: r.record_supporter_observation(
            by, at, cue="sleep", change="less-than-usual", observation="up at 4am"
        ),
    ),
}


# --- who may record -------------------------------------------------------------------


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_section_records_its_usual_authors_command(
    record: PatientRecord, at: datetime, name: str
) -> None:
    author, command = COMMANDS[name]

    command(record, author, at)

    [event] = recorded(record)
    assert isinstance(event, RecordEvent)
    assert (event.actor, event.clinical_time, event.patient_id) == (author, at, record.id)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_an_actor_not_on_the_care_team_is_refused(
    record: PatientRecord, at: datetime, name: str
) -> None:
    author, command = COMMANDS[name]
    stranger = Actor(user_id=OUTSIDER.user_id, role=author.role, organisation="Elsewhere")

    with refused(record, NotOnCareTeam, field="actor.user_id") as refusal:
        command(record, stranger, at)
    assert refusal.value.patient_id == record.id
    assert OUTSIDER.user_id in str(refusal.value)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_member_who_left_the_team_is_refused(at: datetime, name: str) -> None:
    author, command = COMMANDS[name]
    record = a_registered_record()
    record.remove_team_member(SYSTEM, at, user_id=author.user_id, reason="left")
    record = given(record)

    with refused(record, NotOnCareTeam):
        command(record, author, at)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_acting_in_a_role_other_than_ones_team_role_is_refused(
    record: PatientRecord, at: datetime, name: str
) -> None:
    author, command = COMMANDS[name]
    other_role = Role.PRESCRIBER if author.role != Role.PRESCRIBER else Role.THERAPIST
    pretending = Actor(user_id=author.user_id, role=other_role, organisation=author.organisation)

    with refused(record, NotPermittedAuthor, field="actor.role") as refusal:
        command(record, pretending, at)
    assert f"as {author.role.value}" in str(refusal.value)


@pytest.mark.parametrize(
    ("author", "command"),
    [
        (THERAPIST, COMMANDS["medication"][1]),
        (THERAPIST, COMMANDS["lab order"][1]),
        (
            PRESCRIBER,
            lambda r, by, at: r.write_psychotherapy_note(by, at, text="impressions"),
        ),
        (SUPPORTER, COMMANDS["questionnaire"][1]),
        (SUPPORTER, COMMANDS["risk"][1]),
        (PATIENT, COMMANDS["session"][1]),
        (PATIENT, COMMANDS["condition"][1]),
        (THERAPIST, COMMANDS["observation"][1]),
    ],
    ids=[
        "therapist starting a medication",
        "therapist ordering a lab",
        "prescriber writing a psychotherapy note",
        "supporter answering a questionnaire",
        "supporter assessing risk",
        "patient scheduling a session",
        "patient recording a condition",
        "therapist writing a supporter's observation",
    ],
)
def test_a_role_that_may_not_author_the_event_is_refused(
    record: PatientRecord, at: datetime, author: Actor, command: Command
) -> None:
    with refused(record, NotPermittedAuthor, field="actor.role") as refusal:
        command(record, author, at)
    assert f"a {author.role.value} may not record" in str(refusal.value)


@pytest.mark.parametrize("name", ["medication", "questionnaire", "risk", "message"])
def test_the_system_may_not_record_clinical_events(
    record: PatientRecord, at: datetime, name: str
) -> None:
    # Only registration, team changes and lab results list the system among their authors.
    _, command = COMMANDS[name]
    with refused(record, RuleViolation):
        command(record, SYSTEM, at)


def test_unknown_references_are_refused_with_the_field_that_names_them(
    record: PatientRecord, at: datetime
) -> None:
    unknown = uuid4()
    cases: list[tuple[str, Callable[[], None]]] = [
        (
            "medication_id",
            lambda: record.stop_medication(PRESCRIBER, at, medication_id=unknown, reason="x"),
        ),
        ("session_id", lambda: record.record_attendance(THERAPIST, at, session_id=unknown)),
        (
            "order_id",
            lambda: record.record_lab_result(
                SYSTEM, at, order_id=unknown, loinc="14334-7", test_name="x", value_text="x"
            ),
        ),
        ("message_id", lambda: record.acknowledge_message(PRESCRIBER, at, message_id=unknown)),
        (
            "homework_id",
            lambda: record.review_homework(PATIENT, at, homework_id=unknown, completion="done"),
        ),
    ]
    for field, command in cases:
        with refused(record, UnknownReference, field=field) as refusal:
            command()
        assert str(unknown) in str(refusal.value)


def test_a_refused_command_leaves_what_was_already_recorded_pending(
    record: PatientRecord, at: datetime
) -> None:
    record.write_progress_note(THERAPIST, at, text="accepted")

    with refused(record, InvalidInput, field="dose.amount"):
        record.start_medication(
            PRESCRIBER,
            at,
            medication_id=uuid4(),
            **{**SERTRALINE, "dose": {"amount": "0", "unit": "mg"}},
        )

    assert [type(e) for e in recorded(record)] == [ProgressNoteWritten]


# --- clinical time --------------------------------------------------------------------


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_clinical_time_in_the_future_is_refused(record: PatientRecord, name: str) -> None:
    author, command = COMMANDS[name]
    with refused(record, InvalidInput, field="clinical_time") as refusal:
        command(record, author, now() + timedelta(hours=2))
    assert "in the future" in refusal.value.errors[-1].reason


def test_a_clinical_time_within_the_clock_skew_is_accepted(record: PatientRecord) -> None:
    slightly_ahead = now() + CLOCK_SKEW / 5

    record.write_progress_note(THERAPIST, slightly_ahead, text="clocks differ by a minute")

    assert only_event(record, ProgressNoteWritten).clinical_time == slightly_ahead


def test_a_late_entry_keeps_its_earlier_clinical_time(record: PatientRecord) -> None:
    last_month = now() - timedelta(days=31)

    record.write_progress_note(THERAPIST, last_month, text="late entry for the 3rd")

    note = only_event(record, ProgressNoteWritten)
    assert note.clinical_time == last_month
    assert note.timestamp > last_month


def test_a_clinical_time_without_a_timezone_is_refused(record: PatientRecord) -> None:
    with refused(record, InvalidInput, field="clinical_time"):
        record.write_progress_note(THERAPIST, datetime(2024, 3, 4, 10, 0), text="x")


def test_a_clinical_time_in_another_timezone_is_the_same_instant(record: PatientRecord) -> None:
    eastern = timezone(timedelta(hours=-5))
    at = (now() - timedelta(days=1)).astimezone(eastern)

    record.write_progress_note(THERAPIST, at, text="x")

    assert only_event(record, ProgressNoteWritten).clinical_time == at


# --- what a command's details may not set ---------------------------------------------


def test_a_caller_cannot_choose_the_recording_time(record: PatientRecord) -> None:
    next_month = now() + timedelta(days=30)
    with refused(record, InvalidInput, field="timestamp"):
        record.start_medication(
            PRESCRIBER, next_month, medication_id=uuid4(), timestamp=next_month, **SERTRALINE
        )


@pytest.mark.parametrize("key", ["data_class", "actor"])
def test_a_caller_cannot_choose_the_data_class_or_the_actor(
    record: PatientRecord, at: datetime, key: str
) -> None:
    with refused(record, InvalidInput, field=key):
        record.start_medication(
            PRESCRIBER, at, medication_id=uuid4(), **{key: "medication"}, **SERTRALINE
        )


RESERVED_KEYS = [
    "timestamp",
    "actor",
    "data_class",
    "clinical_time",
    "originator_id",
    "originator_version",
    "originator_topic",
    "event_id",
    "sud_context",
    "event_class",
]


def with_medication_and_order(record: PatientRecord) -> tuple[PatientRecord, Any, Any]:
    medication_id, order_id = uuid4(), uuid4()
    record.start_medication(PRESCRIBER, days_ago(20), medication_id=medication_id, **SERTRALINE)
    record.order_lab(
        PRESCRIBER,
        days_ago(20),
        order_id=order_id,
        loinc="14334-7",
        test_name="lithium",
        reason="level",
    )
    return given(record), medication_id, order_id


# Every command that passes free-form details through to its event.
PASS_THROUGH: dict[str, Callable[[PatientRecord, Any, Any, datetime, dict[str, Any]], None]] = {
    "start_medication": lambda r, m, o, at, extra: r.start_medication(
        PRESCRIBER, at, medication_id=uuid4(), **SERTRALINE, **extra
    ),
    "switch_medication": lambda r, m, o, at, extra: r.switch_medication(
        PRESCRIBER,
        at,
        medication_id=m,
        to_medication_id=uuid4(),
        **SERTRALINE,
        reason="x",
        **extra,
    ),
    "record_evaluation": lambda r, m, o, at, extra: r.record_evaluation(
        PRESCRIBER, at, symptom_history="low mood for 10 weeks", **extra
    ),
    "record_lab_result": lambda r, m, o, at, extra: r.record_lab_result(
        SYSTEM, at, order_id=o, loinc="14334-7", test_name="lithium", value_text="0.7", **extra
    ),
    "update_demographics": lambda r, m, o, at, extra: r.update_demographics(
        PATIENT, at, **{k: v for k, v in demographics().items() if k != "mrn"}, **extra
    ),
}


@pytest.mark.parametrize("command", list(PASS_THROUGH))
@pytest.mark.parametrize("key", RESERVED_KEYS)
def test_no_command_lets_its_details_set_what_the_record_sets(
    record: PatientRecord, at: datetime, command: str, key: str
) -> None:
    record, medication_id, order_id = with_medication_and_order(record)
    # A value the field would accept, so that only the key can be the reason to refuse.
    value: Any = {
        "timestamp": at,
        "actor": PRESCRIBER,
        "data_class": DataClass.SUD,
        "part2": False,
        "clinical_time": at,
        "originator_id": record.id,
        "originator_version": record.version + 1,
        "originator_topic": "domain.patient:PatientRecord",
        "event_id": uuid4(),
        "sud_context": True,
        "event_class": MedicationStarted,
    }[key]

    with refused(record, InvalidInput, field=key) as refusal:
        PASS_THROUGH[command](record, medication_id, order_id, at, {key: value})
    assert refusal.value.errors[0].reason == "is set by the record, not the caller"


@pytest.mark.parametrize("key", [*RESERVED_KEYS, "id"])
def test_registration_does_not_let_its_details_set_what_the_record_sets(
    at: datetime, key: str
) -> None:
    with pytest.raises(InvalidInput) as refusal:
        PatientRecord.register(SYSTEM, at, **demographics(), **{key: "x"})
    assert [e.field for e in refusal.value.errors] == [key]


def test_a_caller_cannot_backdate_the_recording_time(record: PatientRecord, at: datetime) -> None:
    last_year = now() - timedelta(days=365)
    with refused(record, InvalidInput, field="timestamp"):
        record.record_evaluation(PRESCRIBER, at, symptom_history="x", timestamp=last_year)


def test_an_unknown_field_among_the_details_is_refused(record: PatientRecord, at: datetime) -> None:
    with refused(record, InvalidInput, field="brand") as refusal:
        record.start_medication(PRESCRIBER, at, medication_id=uuid4(), brand="Zoloft", **SERTRALINE)
    assert refusal.value.errors[0].reason == "is not a known field"


# --- data classes ---------------------------------------------------------------------


def test_events_by_a_part2_program_member_are_sud(at: datetime) -> None:
    record = a_registered_record(part2=[PART2_COUNSELOR, PART2_PRESCRIBER])

    record.start_medication(PART2_PRESCRIBER, at, medication_id=uuid4(), **SERTRALINE)
    record.write_progress_note(PART2_COUNSELOR, at, text="x")
    record.assess_risk(PART2_COUNSELOR, at, level=RiskLevel.LOW, method="c-ssrs", plan="x")
    record.record_condition(PART2_PRESCRIBER, at, icd10="F11.20", description="OUD, moderate")

    events = recorded(record)
    assert all(e.part2 for e in events)
    assert [e.data_class for e in events] == [
        DataClass.MEDICATION,
        DataClass.PROGRESS_NOTE,
        DataClass.SAFETY,
        DataClass.CARE_PLAN,
    ]


def test_events_by_other_members_of_a_part2_record_keep_their_class(
    part2_record: PatientRecord, at: datetime
) -> None:
    part2_record.start_medication(PRESCRIBER, at, medication_id=uuid4(), **SERTRALINE)
    part2_record.write_progress_note(THERAPIST, at, text="x")
    part2_record.assess_risk(THERAPIST, at, level=RiskLevel.LOW, method="c-ssrs", plan="x")

    events = recorded(part2_record)
    assert [(e.data_class, e.part2) for e in events] == [
        (DataClass.MEDICATION, False),
        (DataClass.PROGRESS_NOTE, False),
        (DataClass.SAFETY, False),
    ]


def test_sud_treatment_makes_a_medication_sud_whoever_prescribes_it(
    record: PatientRecord, at: datetime
) -> None:
    assert not record.in_part2_program()

    record.start_medication(PRESCRIBER, at, medication_id=uuid4(), **BUPRENORPHINE)

    assert only_event(record, MedicationStarted).part2


def test_a_psychotherapy_note_is_never_merged_into_sud(
    part2_record: PatientRecord, at: datetime
) -> None:
    part2_record, session_id = with_session(part2_record)

    part2_record.write_psychotherapy_note(PART2_COUNSELOR, at, text="x", session_id=session_id)

    [note] = recorded(part2_record)
    assert note.data_class == DataClass.PSYCHOTHERAPY_NOTE


def test_demographics_never_become_sud(at: datetime) -> None:
    record = PatientRecord.register(SYSTEM, at, **demographics())
    record.add_team_member(
        SYSTEM,
        at,
        user_id=PART2_COUNSELOR.user_id,
        role=Role.THERAPIST,
        organisation="Harbor OTP",
        part2_program=True,
    )
    update = demographics(phone="555-0101")
    del update["mrn"]
    record.update_demographics(PART2_COUNSELOR, at, **update)

    assert [(e.data_class, e.part2) for e in recorded(record)] == [
        (DataClass.DEMOGRAPHICS, False),
        (DataClass.CARE_TEAM, True),  # joining a Part 2 program's team says SUD treatment
        (DataClass.DEMOGRAPHICS, False),
    ]


# --- the record is its events ---------------------------------------------------------


def test_a_record_rebuilt_from_its_events_has_the_same_state(at: datetime) -> None:
    medication_id, session_id, order_id, message_id = uuid4(), uuid4(), uuid4(), uuid4()
    record = PatientRecord.register(SYSTEM, at, **demographics())
    for member in (THERAPIST, PRESCRIBER, PATIENT):
        record.add_team_member(
            SYSTEM, at, user_id=member.user_id, role=member.role, organisation="x"
        )
    record.start_medication(PRESCRIBER, at, medication_id=medication_id, **BUPRENORPHINE)
    record.change_dose(
        PRESCRIBER, at, medication_id=medication_id, dose={"amount": "12", "unit": "mg"}, reason="x"
    )
    record.schedule_session(
        THERAPIST,
        at,
        session_id=session_id,
        starts_at=at,
        duration_minutes=50,
        mode=SessionMode.IN_PERSON,
        modality=Modality.MOTIVATIONAL_INTERVIEWING,
    )
    record.record_attendance(THERAPIST, at, session_id=session_id)
    record.order_lab(
        PRESCRIBER,
        at,
        order_id=order_id,
        loinc="19295-5",
        test_name="opiates screen",
        reason="x",
        sud_context=True,
    )
    record.send_message(
        PATIENT, at, message_id=message_id, to=[THERAPIST.user_id], subject="s", body="b"
    )
    record.acknowledge_message(THERAPIST, at, message_id=message_id)
    record.change_phase(PRESCRIBER, at, phase="acute", reason="x")
    record.record_condition(PRESCRIBER, at, icd10="F11.20", description="OUD")
    record.remove_team_member(PRESCRIBER, at, user_id=PATIENT.user_id, reason="x")

    rebuilt = replayed(record.collect_events())

    assert rebuilt.id == record.id
    assert rebuilt.version == record.version == 14
    assert rebuilt.state == record.state
    assert rebuilt.state.sud_orders == {order_id}
    assert rebuilt.state.medications[medication_id].sud is True
    assert rebuilt.state.messages[message_id].acknowledged_by == {THERAPIST.user_id}
