"""What the record says of each thing it tracks (domain.history), folded from the facts the
index keeps of real domain events: medication courses, sessions, lab orders, demographics,
the care team and messages."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import uuid4

from domain.history import (
    care_team,
    demographics,
    lab_orders,
    medication_courses,
    messages,
    sessions,
)
from domain.medication import STOPPED, TAPERING, MedicationStarted
from domain.patient import PatientRecord
from domain.record import RecordEvent, kind_of
from domain.rules.care import Fact
from domain.therapy import CANCELLED, MISSED, SCHEDULED, SessionScheduled
from domain.vocabulary import Modality, SessionMode
from projections.care import facts_of
from projections.record_index import event_row
from tests.unit.builders import (
    PATIENT,
    PRESCRIBER,
    SERTRALINE,
    SUPPORTER,
    SYSTEM,
    THERAPIST,
    days_ago,
)
from tests.unit.builders import (
    demographics as registration,
)

START = days_ago(60)


def a_record() -> PatientRecord:
    record: PatientRecord = PatientRecord.register(SYSTEM, START, **registration())
    for member in (THERAPIST, PRESCRIBER, PATIENT, SUPPORTER):
        record.add_team_member(
            SYSTEM,
            START,
            user_id=member.user_id,
            role=member.role,
            organisation=member.organisation,
        )
    return record


def facts(made: PatientRecord | list[Any]) -> list[Fact]:
    """Events (or all a record made since the last call), as the index keeps them and the
    rules read them."""
    events = made.collect_events() if isinstance(made, PatientRecord) else made
    rows = [event_row(n, e) for n, e in enumerate(events, start=1) if isinstance(e, RecordEvent)]
    return facts_of(rows)


def test_a_switch_ends_one_course_and_begins_the_next_with_its_own_doses() -> None:
    record, first, second = a_record(), uuid4(), uuid4()
    record.start_medication(PRESCRIBER, START, medication_id=first, **SERTRALINE)
    record.change_dose(
        PRESCRIBER, START + timedelta(days=7), medication_id=first,
        dose={"amount": "50", "unit": "mg"}, reason="tolerated",
    )  # fmt: skip
    record.switch_medication(
        PRESCRIBER, START + timedelta(days=30), medication_id=first, to_medication_id=second,
        drug="escitalopram", rxnorm="321988", dose={"amount": "10", "unit": "mg"},
        schedule={"frequency": "once-daily", "times": ["09:00"]}, indication="depression",
        reason="no response",
    )  # fmt: skip
    record.start_taper(
        PRESCRIBER, START + timedelta(days=40), medication_id=second,
        steps=[{"dose": {"amount": "5", "unit": "mg"}, "on_or_after": date.today()}],
        reason="plan",
    )  # fmt: skip

    courses = medication_courses(facts(record))

    old, new = courses[str(first)], courses[str(second)]
    assert [step.dose["amount"] for step in old.doses] == ["25", "50"]
    assert (old.status, old.switched_to, old.stop_reason) == (STOPPED, str(second), "no response")
    assert old.stopped_at == START + timedelta(days=30)
    assert (new.drug, new.switched_from, new.status) == ("escitalopram", str(first), TAPERING)
    assert new.started.at == START + timedelta(days=30)
    assert new.schedule["times"] == ["09:00:00"]


def test_a_dose_change_of_a_course_whose_start_the_facts_lack_is_left_out() -> None:
    record, medication_id = a_record(), uuid4()
    record.start_medication(PRESCRIBER, START, medication_id=medication_id, **SERTRALINE)
    record.change_dose(
        PRESCRIBER, START + timedelta(days=7), medication_id=medication_id,
        dose={"amount": "50", "unit": "mg"}, reason="tolerated",
    )  # fmt: skip
    seen = [f for f in facts(record) if f.kind != kind_of(MedicationStarted)]

    assert medication_courses(seen) == {}


def test_a_session_is_open_until_its_outcome_and_an_outcome_alone_is_kept() -> None:
    record = a_record()
    booked = {}
    for hour, name in enumerate(("kept", "missed", "cancelled", "open")):
        booked[name] = uuid4()  # an hour apart: one patient is never booked twice at once
        record.schedule_session(
            THERAPIST, START, session_id=booked[name],
            starts_at=START + timedelta(days=7, hours=hour),
            duration_minutes=50, mode=SessionMode.IN_PERSON, modality=Modality.CBT,
        )  # fmt: skip
    after = START + timedelta(days=7, hours=1, minutes=10)
    record.record_attendance(THERAPIST, after, session_id=booked["kept"])
    record.record_missed(THERAPIST, after, session_id=booked["missed"], reason="unwell")
    record.cancel_session(
        PATIENT, START + timedelta(days=1), session_id=booked["cancelled"],
        cancelled_by="patient", reason="travel",
    )  # fmt: skip
    all_facts = facts(record)

    found = sessions(all_facts)
    outcome_only = sessions(f for f in all_facts if f.kind != kind_of(SessionScheduled))

    assert [s.open for s in found.values()] == [False, False, False, True]
    assert found[str(booked["missed"])].status == MISSED
    assert found[str(booked["missed"])].reason == "unwell"
    assert found[str(booked["cancelled"])].status == CANCELLED
    assert found[str(booked["open"])].status == SCHEDULED
    assert found[str(booked["open"])].starts_at == START + timedelta(days=7, hours=3)
    assert list(outcome_only) == [str(booked[n]) for n in ("kept", "missed", "cancelled")]
    assert not any(s.open for s in outcome_only.values())


def test_a_lab_order_stays_open_through_a_preliminary_result_and_closes_on_the_final() -> None:
    record, order_id = a_record(), uuid4()
    record.order_lab(
        PRESCRIBER, START, order_id=order_id, loinc="14334-7", test_name="lithium serum",
        reason="level", due_by=date(2030, 1, 10),
    )  # fmt: skip
    result = {"loinc": "14334-7", "test_name": "lithium serum", "value_text": "pending"}
    record.record_lab_result(
        SYSTEM, START + timedelta(days=1), order_id=order_id, **result, final=False
    )
    events = record.collect_events()
    preliminary = lab_orders(facts(events))
    record.record_lab_result(SYSTEM, START + timedelta(days=2), order_id=order_id, **result)

    final = lab_orders(facts(events + record.collect_events()))

    assert preliminary[str(order_id)].open
    assert preliminary[str(order_id)].due_by == date(2030, 1, 10)
    assert not final[str(order_id)].open
    assert len(final[str(order_id)].results) == 2


def test_demographics_keep_the_mrn_and_the_last_email_given() -> None:
    record = a_record()
    details = {k: v for k, v in registration().items() if k != "mrn"}
    record.update_demographics(
        PATIENT, START + timedelta(days=1), **details, email="sam@mail.example"
    )
    record.update_demographics(
        PATIENT, START + timedelta(days=2), **{**details, "given_name": "Samantha"}
    )

    details = demographics(facts(record))

    assert details is not None
    assert (details.name, details.mrn) == ("Samantha Rivera", registration()["mrn"])
    assert details.email == "sam@mail.example"
    assert details.birth_date == date(1994, 5, 17)


def test_a_removed_member_stays_on_the_team_inactive_until_added_again() -> None:
    record = a_record()
    record.remove_team_member(
        SYSTEM, START + timedelta(days=1), user_id=SUPPORTER.user_id, reason="x"
    )

    team = care_team(facts(record))

    assert [m.user_id for m in team.values() if m.active] == [
        THERAPIST.user_id,
        PRESCRIBER.user_id,
        PATIENT.user_id,
    ]
    assert not team[SUPPORTER.user_id].active


def test_a_message_waits_for_each_recipient_until_they_acknowledge_it() -> None:
    record, message_id = a_record(), uuid4()
    record.send_message(
        THERAPIST, START, message_id=message_id, to=[PRESCRIBER.user_id, PATIENT.user_id],
        subject="dose", body="please check",
    )  # fmt: skip
    record.acknowledge_message(PRESCRIBER, START + timedelta(hours=1), message_id=message_id)

    message = messages(facts(record))[str(message_id)]

    assert message.sender == THERAPIST.user_id
    assert message.waiting_for == {PATIENT.user_id}
