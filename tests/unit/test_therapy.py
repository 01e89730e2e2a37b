"""Psychotherapy: sessions, notes, targets and homework; and the session upcasts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import pytest

from domain.errors import InvalidInput, NotPermittedAuthor, RuleViolation, UnknownReference
from domain.patient import PatientRecord
from domain.therapy import (
    ATTENDED,
    CANCELLED,
    MISSED,
    SCHEDULED,
    HomeworkAssigned,
    HomeworkReviewed,
    ProgressNoteWritten,
    PsychotherapyNoteWritten,
    SessionAttended,
    SessionCancelled,
    SessionMissed,
    SessionScheduled,
    TherapyTargetSet,
)
from domain.vocabulary import DataClass, Modality, SessionKind, SessionMode
from tests.unit.builders import (
    PART2_COUNSELOR,
    PATIENT,
    PRESCRIBER,
    SUPPORTER,
    THERAPIST,
    assert_attributed,
    given,
    only_event,
    refused,
    with_session,
)

# --- sessions -------------------------------------------------------------------------


def test_a_therapist_schedules_a_telehealth_skills_session(
    record: PatientRecord, at: datetime
) -> None:
    session_id = uuid4()
    starts_at = at + timedelta(days=7)

    record.schedule_session(
        THERAPIST,
        at,
        session_id=session_id,
        starts_at=starts_at,
        duration_minutes=30,
        mode=SessionMode.TELEHEALTH,
        modality=Modality.DBT,
        kind=SessionKind.SKILLS,
    )

    scheduled = only_event(record, SessionScheduled)
    assert_attributed(
        scheduled, actor=THERAPIST, data_class=DataClass.APPOINTMENT, clinical_time=at
    )
    assert (scheduled.session_id, scheduled.starts_at, scheduled.duration_minutes) == (
        session_id,
        starts_at,
        30,
    )
    assert (scheduled.mode, scheduled.modality, scheduled.kind) == (
        SessionMode.TELEHEALTH,
        Modality.DBT,
        SessionKind.SKILLS,
    )
    assert record.state.sessions == {session_id: SCHEDULED}
    assert record.state.session_starts == {session_id: starts_at}


def test_a_session_start_without_a_utc_offset_is_refused(
    record: PatientRecord, at: datetime
) -> None:
    with refused(record, InvalidInput, field="starts_at"):
        record.schedule_session(
            THERAPIST,
            at,
            session_id=uuid4(),
            starts_at=datetime(2030, 1, 8, 15, 0),
            duration_minutes=50,
            mode=SessionMode.IN_PERSON,
            modality=Modality.CBT,
        )


def test_a_session_is_standard_unless_said_otherwise(record: PatientRecord, at: datetime) -> None:
    record.schedule_session(
        PRESCRIBER,
        at,
        session_id=uuid4(),
        starts_at=at,
        duration_minutes=20,
        mode=SessionMode.IN_PERSON,
        modality=Modality.MEDICATION_MANAGEMENT,
    )

    assert only_event(record, SessionScheduled).kind == SessionKind.STANDARD


def test_a_session_id_cannot_be_scheduled_twice(record: PatientRecord, at: datetime) -> None:
    record, session_id = with_session(record)
    with refused(record, RuleViolation, field="session_id"):
        record.schedule_session(
            THERAPIST,
            at,
            session_id=session_id,
            starts_at=at,
            duration_minutes=50,
            mode=SessionMode.IN_PERSON,
            modality=Modality.CBT,
        )


def _book(record: PatientRecord, at: datetime, starts_at: datetime, minutes: int = 50) -> None:
    record.schedule_session(
        THERAPIST,
        at,
        session_id=uuid4(),
        starts_at=starts_at,
        duration_minutes=minutes,
        mode=SessionMode.IN_PERSON,
        modality=Modality.CBT,
    )


@pytest.mark.parametrize(
    ("offset", "minutes"),
    [(timedelta(0), 50), (timedelta(minutes=49), 30), (timedelta(minutes=-20), 30)],
)
def test_a_session_overlapping_an_open_one_is_refused_naming_its_time(
    record: PatientRecord, at: datetime, offset: timedelta, minutes: int
) -> None:
    first = at + timedelta(days=2)
    _book(record, at, first)
    record = given(record)
    with refused(record, RuleViolation, field="starts_at") as info:
        _book(record, at, first + offset, minutes)
    assert first.isoformat() in str(info.value)


def test_sessions_that_only_touch_are_not_double_booked(
    record: PatientRecord, at: datetime
) -> None:
    first = at + timedelta(days=2)
    _book(record, at, first)
    _book(record, at, first + timedelta(minutes=50))
    _book(record, at, first - timedelta(minutes=30), 30)
    assert len(record.state.sessions) == 3


@pytest.mark.parametrize("outcome", ["cancel", "attend", "miss"])
def test_a_closed_session_no_longer_blocks_its_time(
    record: PatientRecord, at: datetime, outcome: str
) -> None:
    record, session_id = with_session(record)
    starts_at = record.state.session_starts[session_id]
    held = starts_at + timedelta(minutes=5)
    if outcome == "cancel":
        record.cancel_session(
            THERAPIST, held, session_id=session_id, cancelled_by="clinician", reason="ill"
        )
    elif outcome == "attend":
        record.record_attendance(THERAPIST, held, session_id=session_id)
    else:
        record.record_missed(THERAPIST, held, session_id=session_id)
    _book(record, held, starts_at)
    assert list(record.state.sessions.values()).count(SCHEDULED) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"duration_minutes": 4}, "duration_minutes"),
        ({"duration_minutes": 241}, "duration_minutes"),
        ({"mode": "phone"}, "mode"),
        ({"modality": "psychoanalysis"}, "modality"),
        ({"kind": "group"}, "kind"),
    ],
)
def test_scheduling_refuses_a_malformed_session(
    record: PatientRecord, at: datetime, changes: dict[str, Any], field: str
) -> None:
    session: dict[str, Any] = {
        "session_id": uuid4(),
        "starts_at": at,
        "duration_minutes": 50,
        "mode": "in-person",
        "modality": "cbt",
    }
    session.update(changes)
    with refused(record, InvalidInput, field=field):
        record.schedule_session(THERAPIST, at, **session)


def test_the_patient_may_not_schedule_a_session(record: PatientRecord, at: datetime) -> None:
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.schedule_session(
            PATIENT,
            at,
            session_id=uuid4(),
            starts_at=at,
            duration_minutes=50,
            mode=SessionMode.IN_PERSON,
            modality=Modality.CBT,
        )


def test_an_attended_session_is_recorded(record: PatientRecord, at: datetime) -> None:
    record, session_id = with_session(record)

    record.record_attendance(THERAPIST, at, session_id=session_id)

    attended = only_event(record, SessionAttended)
    assert_attributed(attended, actor=THERAPIST, data_class=DataClass.APPOINTMENT, clinical_time=at)
    assert attended.session_id == session_id
    assert record.state.sessions[session_id] == ATTENDED


def test_a_session_that_was_attended_cannot_be_marked_missed(
    record: PatientRecord, at: datetime
) -> None:
    record, session_id = with_session(record)
    record.record_attendance(THERAPIST, at, session_id=session_id)
    record = given(record)

    with refused(record, RuleViolation, field="session_id") as refusal:
        record.record_missed(THERAPIST, at, session_id=session_id, reason="no show")
    assert "already attended" in str(refusal.value)


def test_a_missed_session_is_recorded_with_its_reason(record: PatientRecord, at: datetime) -> None:
    record, session_id = with_session(record)

    record.record_missed(THERAPIST, at, session_id=session_id, reason="no answer at call time")

    missed = only_event(record, SessionMissed)
    assert_attributed(missed, actor=THERAPIST, data_class=DataClass.APPOINTMENT, clinical_time=at)
    assert (missed.session_id, missed.reason) == (session_id, "no answer at call time")
    assert record.state.sessions[session_id] == MISSED


def test_a_missed_session_cannot_then_be_attended(record: PatientRecord, at: datetime) -> None:
    record, session_id = with_session(record)
    record.record_missed(THERAPIST, at, session_id=session_id)
    record = given(record)

    with refused(record, RuleViolation, field="session_id"):
        record.record_attendance(THERAPIST, at, session_id=session_id)


def a_session_starting(record: PatientRecord, starts_at: datetime) -> tuple[PatientRecord, Any]:
    session_id = uuid4()
    record.schedule_session(
        THERAPIST,
        starts_at - timedelta(days=7),
        session_id=session_id,
        starts_at=starts_at,
        duration_minutes=50,
        mode=SessionMode.IN_PERSON,
        modality=Modality.CBT,
    )
    return given(record), session_id


@pytest.mark.parametrize("outcome", ["attended", "missed"])
def test_an_outcome_cannot_be_recorded_well_before_the_session_starts(
    record: PatientRecord, at: datetime, outcome: str
) -> None:
    record, session_id = a_session_starting(record, at)
    an_hour_early = at - timedelta(hours=1)

    with refused(record, InvalidInput, field="clinical_time") as refusal:
        if outcome == "attended":
            record.record_attendance(THERAPIST, an_hour_early, session_id=session_id)
        else:
            record.record_missed(THERAPIST, an_hour_early, session_id=session_id)
    assert "before the session starts" in refusal.value.errors[0].reason
    assert record.state.sessions[session_id] == SCHEDULED


@pytest.mark.parametrize("outcome", ["attended", "missed"])
def test_an_outcome_may_be_recorded_up_to_15_minutes_before_the_start(
    record: PatientRecord, at: datetime, outcome: str
) -> None:
    record, session_id = a_session_starting(record, at)
    # The same instant written in another time zone: the check compares instants.
    early = (at - timedelta(minutes=15)).astimezone(timezone(timedelta(hours=-8)))

    if outcome == "attended":
        record.record_attendance(THERAPIST, early, session_id=session_id)
        assert only_event(record, SessionAttended).clinical_time == early
    else:
        record.record_missed(THERAPIST, early, session_id=session_id)
        assert only_event(record, SessionMissed).clinical_time == early


def test_an_outcome_16_minutes_early_is_refused(record: PatientRecord, at: datetime) -> None:
    record, session_id = a_session_starting(record, at)
    with refused(record, InvalidInput, field="clinical_time"):
        record.record_attendance(THERAPIST, at - timedelta(minutes=16), session_id=session_id)


def test_the_patient_cancels_a_session(record: PatientRecord, at: datetime) -> None:
    record, session_id = with_session(record)

    record.cancel_session(
        PATIENT, at, session_id=session_id, cancelled_by="patient", reason="exam that morning"
    )

    cancelled = only_event(record, SessionCancelled)
    assert_attributed(cancelled, actor=PATIENT, data_class=DataClass.APPOINTMENT, clinical_time=at)
    assert (cancelled.session_id, cancelled.cancelled_by, cancelled.reason) == (
        session_id,
        "patient",
        "exam that morning",
    )
    assert record.state.sessions[session_id] == CANCELLED


def test_a_cancelled_session_cannot_be_cancelled_again(record: PatientRecord, at: datetime) -> None:
    record, session_id = with_session(record)
    record.cancel_session(
        THERAPIST, at, session_id=session_id, cancelled_by="clinician", reason="ill"
    )
    record = given(record)

    with refused(record, RuleViolation, field="session_id"):
        record.cancel_session(
            PATIENT, at, session_id=session_id, cancelled_by="patient", reason="x"
        )


def test_a_cancellation_names_who_cancelled(record: PatientRecord, at: datetime) -> None:
    record, session_id = with_session(record)
    with refused(record, InvalidInput, field="cancelled_by"):
        record.cancel_session(
            THERAPIST, at, session_id=session_id, cancelled_by="weather", reason="snow"
        )


def test_a_supporter_may_not_cancel_a_session(record: PatientRecord, at: datetime) -> None:
    record, session_id = with_session(record)
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.cancel_session(
            SUPPORTER, at, session_id=session_id, cancelled_by="patient", reason="unwell"
        )


@pytest.mark.parametrize("outcome", ["record_attendance", "record_missed", "cancel_session"])
def test_an_outcome_for_an_unknown_session_is_refused(
    record: PatientRecord, at: datetime, outcome: str
) -> None:
    extra: dict[str, Any] = (
        {"cancelled_by": "clinician", "reason": "x"} if outcome == "cancel_session" else {}
    )
    with refused(record, UnknownReference, field="session_id"):
        getattr(record, outcome)(THERAPIST, at, session_id=uuid4(), **extra)


# --- notes ----------------------------------------------------------------------------


def test_a_progress_note_is_written_for_a_session(record: PatientRecord, at: datetime) -> None:
    record, session_id = with_session(record)

    record.write_progress_note(
        THERAPIST,
        at,
        text="  Activity scheduling reviewed; two of three planned walks done.  ",
        session_id=session_id,
        modality=Modality.BEHAVIORAL_ACTIVATION,
    )

    note = only_event(record, ProgressNoteWritten)
    assert_attributed(note, actor=THERAPIST, data_class=DataClass.PROGRESS_NOTE, clinical_time=at)
    assert note.session_id == session_id
    assert note.modality == Modality.BEHAVIORAL_ACTIVATION
    assert note.text == "Activity scheduling reviewed; two of three planned walks done."


def test_a_prescriber_may_write_a_progress_note_without_a_session(
    record: PatientRecord, at: datetime
) -> None:
    record.write_progress_note(PRESCRIBER, at, text="Tolerating 50 mg; sleep improved.")

    note = only_event(record, ProgressNoteWritten)
    assert (note.actor, note.session_id, note.modality) == (PRESCRIBER, None, None)


def test_an_empty_progress_note_is_refused(record: PatientRecord, at: datetime) -> None:
    with refused(record, InvalidInput, field="text"):
        record.write_progress_note(THERAPIST, at, text="   ")


@pytest.mark.parametrize("command", ["write_progress_note", "write_psychotherapy_note"])
def test_a_note_for_an_unknown_session_is_refused(
    record: PatientRecord, at: datetime, command: str
) -> None:
    with refused(record, UnknownReference, field="session_id"):
        getattr(record, command)(THERAPIST, at, text="note", session_id=uuid4())


def test_a_psychotherapy_note_keeps_its_own_class(record: PatientRecord, at: datetime) -> None:
    record, session_id = with_session(record)

    record.write_psychotherapy_note(
        THERAPIST, at, text="Process notes on the rupture and repair.", session_id=session_id
    )

    note = only_event(record, PsychotherapyNoteWritten)
    assert_attributed(
        note, actor=THERAPIST, data_class=DataClass.PSYCHOTHERAPY_NOTE, clinical_time=at
    )
    assert note.session_id == session_id
    assert note.sud_counseling is False


def test_a_part2_counselors_psychotherapy_note_stays_a_psychotherapy_note(
    part2_record: PatientRecord, at: datetime
) -> None:
    part2_record.write_psychotherapy_note(PART2_COUNSELOR, at, text="Counseling note.")

    note = only_event(part2_record, PsychotherapyNoteWritten)
    assert note.data_class == DataClass.PSYCHOTHERAPY_NOTE
    assert note.sud_counseling is True


def test_a_prescriber_may_not_write_a_psychotherapy_note(
    record: PatientRecord, at: datetime
) -> None:
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.write_psychotherapy_note(PRESCRIBER, at, text="impressions")


def test_a_part2_counselors_progress_note_is_an_sud_record(
    part2_record: PatientRecord, at: datetime
) -> None:
    part2_record.write_progress_note(PART2_COUNSELOR, at, text="Attended group; no use reported.")

    assert only_event(part2_record, ProgressNoteWritten).part2


def test_an_ordinary_therapists_note_stays_a_progress_note_on_a_part2_record(
    part2_record: PatientRecord, at: datetime
) -> None:
    part2_record.write_progress_note(THERAPIST, at, text="Worked on sleep hygiene.")

    assert only_event(part2_record, ProgressNoteWritten).data_class == DataClass.PROGRESS_NOTE


# --- targets and homework -------------------------------------------------------------


def test_a_therapy_target_is_set(record: PatientRecord, at: datetime) -> None:
    target_id = uuid4()

    record.set_therapy_target(
        THERAPIST,
        at,
        target_id=target_id,
        description="Reduce avoidance of crowded places",
        modality=Modality.TRAUMA_FOCUSED,
    )

    target = only_event(record, TherapyTargetSet)
    assert_attributed(target, actor=THERAPIST, data_class=DataClass.CARE_PLAN, clinical_time=at)
    assert (target.target_id, target.modality) == (target_id, Modality.TRAUMA_FOCUSED)
    assert record.state.targets == {target_id}


def test_a_social_rhythm_target_is_set_in_ipsrt(record: PatientRecord, at: datetime) -> None:
    record.set_therapy_target(
        THERAPIST,
        at,
        target_id=uuid4(),
        description="Wake 07:00 and bed 23:00, within 45 minutes",
        modality="interpersonal-social-rhythm",
    )

    target = only_event(record, TherapyTargetSet)
    assert target.modality == Modality.INTERPERSONAL_SOCIAL_RHYTHM


def test_a_therapy_target_cannot_be_set_twice(record: PatientRecord, at: datetime) -> None:
    target_id = uuid4()
    record.set_therapy_target(
        THERAPIST, at, target_id=target_id, description="x", modality=Modality.CBT
    )
    record = given(record)

    with refused(record, RuleViolation, field="target_id"):
        record.set_therapy_target(
            THERAPIST, at, target_id=target_id, description="y", modality=Modality.CBT
        )


def test_homework_is_assigned_and_the_patient_reviews_it(
    record: PatientRecord, at: datetime
) -> None:
    homework_id = uuid4()

    record.assign_homework(
        THERAPIST,
        at,
        homework_id=homework_id,
        description="Thought record after each low-mood episode",
        due=date(2031, 1, 1),
    )

    assigned = only_event(record, HomeworkAssigned)
    assert_attributed(assigned, actor=THERAPIST, data_class=DataClass.CARE_PLAN, clinical_time=at)
    assert (assigned.homework_id, assigned.due) == (homework_id, date(2031, 1, 1))
    assert record.state.homework == {homework_id}

    record.review_homework(
        PATIENT, at, homework_id=homework_id, completion="partly", comment="did four of seven"
    )

    reviewed = only_event(record, HomeworkReviewed)
    assert_attributed(reviewed, actor=PATIENT, data_class=DataClass.CARE_PLAN, clinical_time=at)
    assert (reviewed.homework_id, reviewed.completion, reviewed.comment) == (
        homework_id,
        "partly",
        "did four of seven",
    )


def test_homework_cannot_be_assigned_twice(record: PatientRecord, at: datetime) -> None:
    homework_id = uuid4()
    record.assign_homework(THERAPIST, at, homework_id=homework_id, description="x")
    record = given(record)

    with refused(record, RuleViolation, field="homework_id"):
        record.assign_homework(THERAPIST, at, homework_id=homework_id, description="y")


def test_reviewing_unknown_homework_is_refused(record: PatientRecord, at: datetime) -> None:
    with refused(record, UnknownReference, field="homework_id"):
        record.review_homework(PATIENT, at, homework_id=uuid4(), completion="done")


def test_a_homework_review_uses_the_three_completion_words(
    record: PatientRecord, at: datetime
) -> None:
    homework_id = uuid4()
    record.assign_homework(THERAPIST, at, homework_id=homework_id, description="x")
    record = given(record)

    with refused(record, InvalidInput, field="completion"):
        record.review_homework(PATIENT, at, homework_id=homework_id, completion="mostly")


def test_a_supporter_may_not_review_homework(record: PatientRecord, at: datetime) -> None:
    homework_id = uuid4()
    record.assign_homework(THERAPIST, at, homework_id=homework_id, description="x")
    record = given(record)

    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.review_homework(SUPPORTER, at, homework_id=homework_id, completion="done")


# --- upcasting ------------------------------------------------------------------------


def session_scheduled_v1(**changes: Any) -> dict[str, Any]:
    """A stored SessionScheduled payload as version 1 wrote it (JSON-ready)."""
    state: dict[str, Any] = {
        "originator_id": str(uuid4()),
        "originator_version": 7,
        "timestamp": "2024-03-04T10:00:00+00:00",
        "event_id": str(uuid4()),
        "actor": {"user_id": THERAPIST.user_id, "role": "therapist", "organisation": "Riverside"},
        "data_class": "appointment",
        "clinical_time": "2024-03-04T09:55:00+00:00",
        "session_id": str(uuid4()),
        "starts_at": "2024-03-11T15:00:00+00:00",
        "duration_minutes": 50,
        "telehealth": True,
        "modality": "cbt",
    }
    state.update(changes)
    return state


def test_session_scheduled_is_at_version_3() -> None:
    assert SessionScheduled.class_version == 3


@pytest.mark.parametrize(
    ("telehealth", "mode"), [(True, SessionMode.TELEHEALTH), (False, SessionMode.IN_PERSON)]
)
def test_a_v1_session_becomes_a_v2_session_with_a_mode(telehealth: bool, mode: SessionMode) -> None:
    state = session_scheduled_v1(telehealth=telehealth)

    SessionScheduled.upcast_v1_v2(state)

    assert "telehealth" not in state
    assert state["mode"] == mode.value
    assert state["kind"] == SessionKind.STANDARD.value
    event = SessionScheduled.model_validate(state)
    assert (event.mode, event.kind, event.modality) == (mode, SessionKind.STANDARD, Modality.CBT)


def test_a_v1_session_without_the_telehealth_flag_was_in_person() -> None:
    state = session_scheduled_v1()
    del state["telehealth"]

    SessionScheduled.upcast_v1_v2(state)

    assert state["mode"] == SessionMode.IN_PERSON.value


def test_a_v2_session_start_without_an_offset_takes_the_offset_of_its_scheduling() -> None:
    state = session_scheduled_v1(
        clinical_time="2024-03-04T04:55:00-05:00", starts_at="2024-03-11T15:00:00"
    )
    SessionScheduled.upcast_v1_v2(state)

    SessionScheduled.upcast_v2_v3(state)

    event = SessionScheduled.model_validate(state)
    assert event.starts_at == datetime(2024, 3, 11, 20, 0, tzinfo=UTC)
    assert event.starts_at.utcoffset() == timedelta(hours=-5)


def test_a_v2_session_start_with_an_offset_is_left_as_it_was() -> None:
    state = session_scheduled_v1(starts_at="2024-03-11T15:00:00+01:00")
    SessionScheduled.upcast_v1_v2(state)

    SessionScheduled.upcast_v2_v3(state)

    assert state["starts_at"] == "2024-03-11T15:00:00+01:00"
