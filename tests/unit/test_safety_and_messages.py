"""Safety (lapses, risk assessments) and messages within the care team."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.errors import (
    InvalidInput,
    NotOnCareTeam,
    NotPermittedAuthor,
    RuleViolation,
    UnknownReference,
)
from domain.events import Actor
from domain.messaging import MessageAcknowledged, MessageSent
from domain.patient import PatientRecord
from domain.safety import LapseReported, RiskAssessed
from domain.vocabulary import DataClass, RiskLevel, Role
from tests.unit.builders import (
    OUTSIDER,
    PART2_COUNSELOR,
    PATIENT,
    PRESCRIBER,
    SUPPORTER,
    SYSTEM,
    THERAPIST,
    assert_attributed,
    given,
    only_event,
    refused,
)

# --- lapses ---------------------------------------------------------------------------


def test_the_patient_reports_a_lapse(record: PatientRecord, at: datetime) -> None:
    occurred_on = (at - timedelta(days=1)).date()

    record.report_lapse(
        PATIENT, at, substance="alcohol", occurred_on=occurred_on, circumstances="work party"
    )

    lapse = only_event(record, LapseReported)
    assert_attributed(lapse, actor=PATIENT, data_class=DataClass.SAFETY, clinical_time=at)
    assert (lapse.substance, lapse.occurred_on, lapse.circumstances) == (
        "alcohol",
        occurred_on,
        "work party",
    )


def test_a_lapse_is_sud_when_the_patient_has_an_active_part2_team_member(
    part2_record: PatientRecord, at: datetime
) -> None:
    part2_record.report_lapse(
        PATIENT, at, substance="opioids", occurred_on=at.date(), circumstances="old friend"
    )

    assert only_event(part2_record, LapseReported).part2


def test_a_lapse_is_not_sud_once_the_part2_member_has_left(
    part2_record: PatientRecord, at: datetime
) -> None:
    part2_record.remove_team_member(
        SYSTEM, at, user_id=PART2_COUNSELOR.user_id, reason="program completed"
    )
    record = given(part2_record)

    record.report_lapse(
        THERAPIST, at, substance="alcohol", occurred_on=at.date(), circumstances="wedding"
    )

    assert only_event(record, LapseReported).data_class == DataClass.SAFETY


def test_a_lapse_cannot_have_happened_after_it_was_reported(
    record: PatientRecord, at: datetime
) -> None:
    with refused(record, InvalidInput, field="occurred_on"):
        record.report_lapse(
            PATIENT,
            at,
            substance="alcohol",
            occurred_on=(at + timedelta(days=1)).date(),
            circumstances="x",
        )


def test_a_supporter_may_not_report_a_lapse(record: PatientRecord, at: datetime) -> None:
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.report_lapse(
            SUPPORTER, at, substance="alcohol", occurred_on=at.date(), circumstances="x"
        )


# --- risk assessments -----------------------------------------------------------------


def test_a_therapist_assesses_suicide_risk(record: PatientRecord, at: datetime) -> None:
    record.assess_risk(
        THERAPIST,
        at,
        level=RiskLevel.MODERATE,
        method="c-ssrs",
        plan="Safety plan reviewed; follow-up call tomorrow",
        factors=["PHQ-9 item 9 answered 1", "recent job loss"],
    )

    risk = only_event(record, RiskAssessed)
    assert_attributed(risk, actor=THERAPIST, data_class=DataClass.SAFETY, clinical_time=at)
    assert (risk.level, risk.method) == (RiskLevel.MODERATE, "c-ssrs")
    assert risk.factors == ["PHQ-9 item 9 answered 1", "recent job loss"]


def test_a_risk_assessment_without_factors_has_an_empty_list(
    record: PatientRecord, at: datetime
) -> None:
    record.assess_risk(PRESCRIBER, at, level=RiskLevel.LOW, method="clinical-interview", plan="x")

    assert only_event(record, RiskAssessed).factors == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"method": "gut feeling"}, "method"),
        ({"level": "extreme"}, "level"),
        ({"plan": ""}, "plan"),
    ],
)
def test_a_malformed_risk_assessment_is_refused(
    record: PatientRecord, at: datetime, changes: dict[str, str], field: str
) -> None:
    assessment = {"level": "high", "method": "c-ssrs", "plan": "ED evaluation", **changes}
    with refused(record, InvalidInput, field=field):
        record.assess_risk(THERAPIST, at, **assessment)  # type: ignore[arg-type]


def test_the_patient_may_not_assess_their_own_risk(record: PatientRecord, at: datetime) -> None:
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.assess_risk(PATIENT, at, level=RiskLevel.LOW, method="c-ssrs", plan="x")


# --- messages -------------------------------------------------------------------------


def with_message(
    record: PatientRecord, at: datetime, *, sender: Actor = THERAPIST
) -> tuple[PatientRecord, UUID]:
    message_id = uuid4()
    record.send_message(
        sender,
        at,
        message_id=message_id,
        to=[PRESCRIBER.user_id, PATIENT.user_id],
        subject="PHQ-9 item 9",
        body="Item 9 answered 1 today; risk assessed as low.",
    )
    return given(record), message_id


def test_a_therapist_messages_the_prescriber_about_a_record_entry(
    record: PatientRecord, at: datetime
) -> None:
    message_id = uuid4()
    last_entry = record.version

    record.send_message(
        THERAPIST,
        at,
        message_id=message_id,
        to=[PRESCRIBER.user_id],
        subject="Sleep worse since dose increase",
        body="Can we review timing?",
        regarding=[1, last_entry],
    )

    sent = only_event(record, MessageSent)
    assert_attributed(sent, actor=THERAPIST, data_class=DataClass.MESSAGE, clinical_time=at)
    assert (sent.message_id, sent.to, sent.subject) == (
        message_id,
        [PRESCRIBER.user_id],
        "Sleep worse since dose increase",
    )
    assert sent.regarding == [1, last_entry]
    message = record.state.messages[message_id]
    assert (message.sender, message.recipients, message.acknowledged_by) == (
        THERAPIST.user_id,
        frozenset({PRESCRIBER.user_id}),
        set(),
    )


def test_a_message_from_a_part2_counselor_is_an_sud_record(
    part2_record: PatientRecord, at: datetime
) -> None:
    part2_record.send_message(
        PART2_COUNSELOR, at, message_id=uuid4(), to=[PRESCRIBER.user_id], subject="s", body="b"
    )

    assert only_event(part2_record, MessageSent).part2


def test_a_message_goes_only_to_members_of_the_team(record: PatientRecord, at: datetime) -> None:
    with refused(record, RuleViolation, field="to.1"):
        record.send_message(
            THERAPIST,
            at,
            message_id=uuid4(),
            to=[PRESCRIBER.user_id, OUTSIDER.user_id],
            subject="s",
            body="b",
        )


def test_a_message_needs_a_recipient(record: PatientRecord, at: datetime) -> None:
    with refused(record, InvalidInput, field="to"):
        record.send_message(THERAPIST, at, message_id=uuid4(), to=[], subject="s", body="b")


@pytest.mark.parametrize("position", [0, 99])
def test_a_message_refers_only_to_positions_on_the_record(
    record: PatientRecord, at: datetime, position: int
) -> None:
    with refused(record, RuleViolation, field="regarding.0"):
        record.send_message(
            THERAPIST,
            at,
            message_id=uuid4(),
            to=[PRESCRIBER.user_id],
            subject="s",
            body="b",
            regarding=[position],
        )


def test_a_message_id_cannot_be_sent_twice(record: PatientRecord, at: datetime) -> None:
    record, message_id = with_message(record, at)
    with refused(record, RuleViolation, field="message_id"):
        record.send_message(
            THERAPIST, at, message_id=message_id, to=[PRESCRIBER.user_id], subject="s", body="b"
        )


def test_a_supporter_messages_the_team(record: PatientRecord, at: datetime) -> None:
    message_id = uuid4()

    record.send_message(
        SUPPORTER,
        at,
        message_id=message_id,
        to=[THERAPIST.user_id],
        subject="Short nights",
        body="Up at 4 am twice this week.",
    )

    sent = only_event(record, MessageSent)
    assert_attributed(sent, actor=SUPPORTER, data_class=DataClass.MESSAGE, clinical_time=at)
    assert record.state.messages[message_id].sender == SUPPORTER.user_id


def test_a_supporter_may_not_message_as_a_therapist(record: PatientRecord, at: datetime) -> None:
    pretending = Actor(user_id=SUPPORTER.user_id, role=Role.THERAPIST, organisation="family")
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.send_message(
            pretending, at, message_id=uuid4(), to=[THERAPIST.user_id], subject="s", body="b"
        )


def test_a_recipient_acknowledges_a_message(record: PatientRecord, at: datetime) -> None:
    record, message_id = with_message(record, at)

    record.acknowledge_message(PRESCRIBER, at, message_id=message_id)

    acknowledged = only_event(record, MessageAcknowledged)
    assert_attributed(
        acknowledged, actor=PRESCRIBER, data_class=DataClass.MESSAGE, clinical_time=at
    )
    assert acknowledged.message_id == message_id
    assert record.state.messages[message_id].acknowledged_by == {PRESCRIBER.user_id}


def test_each_recipient_acknowledges_once(record: PatientRecord, at: datetime) -> None:
    record, message_id = with_message(record, at)
    record.acknowledge_message(PRESCRIBER, at, message_id=message_id)
    record = given(record)

    with refused(record, RuleViolation, field="message_id") as refusal:
        record.acknowledge_message(PRESCRIBER, at, message_id=message_id)
    assert "already acknowledged" in str(refusal.value)

    record.acknowledge_message(PATIENT, at, message_id=message_id)
    assert only_event(record, MessageAcknowledged).actor == PATIENT
    assert record.state.messages[message_id].acknowledged_by == {
        PRESCRIBER.user_id,
        PATIENT.user_id,
    }


def test_a_supporter_who_is_a_recipient_acknowledges_a_message(
    record: PatientRecord, at: datetime
) -> None:
    message_id = uuid4()
    record.send_message(
        THERAPIST,
        at,
        message_id=message_id,
        to=[SUPPORTER.user_id],
        subject="Early warning signs",
        body="Please note any nights under 6 hours.",
    )
    record = given(record)

    record.acknowledge_message(SUPPORTER, at, message_id=message_id)

    acknowledged = only_event(record, MessageAcknowledged)
    assert acknowledged.actor == SUPPORTER
    assert record.state.messages[message_id].acknowledged_by == {SUPPORTER.user_id}


def test_a_supporter_who_is_not_a_recipient_may_not_acknowledge(
    record: PatientRecord, at: datetime
) -> None:
    record, message_id = with_message(record, at)
    with refused(record, RuleViolation, field="message_id") as refusal:
        record.acknowledge_message(SUPPORTER, at, message_id=message_id)
    assert "not a recipient" in str(refusal.value)


def test_a_recipient_acknowledges_only_in_the_role_they_hold_on_the_team(
    record: PatientRecord, at: datetime
) -> None:
    record, message_id = with_message(record, at)
    pretending = Actor(user_id=PATIENT.user_id, role=Role.THERAPIST, organisation="self")
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.acknowledge_message(pretending, at, message_id=message_id)


def test_only_a_recipient_acknowledges_a_message(record: PatientRecord, at: datetime) -> None:
    record, message_id = with_message(record, at)
    with refused(record, RuleViolation, field="message_id") as refusal:
        record.acknowledge_message(THERAPIST, at, message_id=message_id)
    assert "not a recipient" in str(refusal.value)


def test_a_recipient_who_left_the_team_can_no_longer_acknowledge(
    record: PatientRecord, at: datetime
) -> None:
    record, message_id = with_message(record, at)
    record.remove_team_member(SYSTEM, at, user_id=PRESCRIBER.user_id, reason="left the clinic")
    record = given(record)

    with refused(record, NotOnCareTeam, field="actor.user_id"):
        record.acknowledge_message(PRESCRIBER, at, message_id=message_id)


def test_acknowledging_an_unknown_message_is_refused(record: PatientRecord, at: datetime) -> None:
    with refused(record, UnknownReference, field="message_id"):
        record.acknowledge_message(PRESCRIBER, at, message_id=uuid4())


def test_an_outsider_cannot_learn_who_is_on_the_team_by_messaging_them(
    record: PatientRecord, at: datetime
) -> None:
    with refused(record, NotOnCareTeam):
        record.send_message(
            OUTSIDER, at, message_id=uuid4(), to=["nobody@mail.example"], subject="s", body="b"
        )


def test_an_outsider_learns_nothing_from_a_message_id_they_acknowledge(
    record: PatientRecord, at: datetime
) -> None:
    record, message_id = with_message(record, at)
    for probe in (message_id, uuid4()):
        with refused(record, NotOnCareTeam, field="actor.user_id"):
            record.acknowledge_message(OUTSIDER, at, message_id=probe)


def test_an_outsider_gets_the_same_refusal_whoever_they_message(
    part2_record: PatientRecord, at: datetime
) -> None:
    refusals = []
    for recipient in (PART2_COUNSELOR.user_id, "nobody@mail.example"):
        with refused(part2_record, NotOnCareTeam, field="actor.user_id") as refusal:
            part2_record.send_message(
                OUTSIDER, at, message_id=uuid4(), to=[recipient], subject="s", body="b"
            )
        refusals.append(str(refusal.value))
    assert refusals[0] == refusals[1]
