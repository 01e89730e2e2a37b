"""Measures between visits: questionnaires, sleep, functional outcomes, supporters' notes."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import FieldError, InvalidInput, NotPermittedAuthor
from domain.events import Actor
from domain.instruments import INSTRUMENTS, InstrumentCode, check_answers
from domain.measures import (
    FunctionalOutcomeRecorded,
    QuestionnaireAnswered,
    SleepLogged,
    SupporterObservationRecorded,
)
from domain.patient import PatientRecord
from domain.vocabulary import DataClass, Role
from tests.unit.builders import (
    PART2_COUNSELOR,
    PATIENT,
    PRESCRIBER,
    SCHOOL_COUNSELOR,
    SUPPORTER,
    THERAPIST,
    a_registered_record,
    assert_attributed,
    fields_of,
    only_event,
    refused,
)


def phq9(**answers: int) -> dict[str, int]:
    """Nine answers of 1 with the given items changed (item keys as `i9=3`)."""
    base = {str(n): 1 for n in range(1, 10)}
    base.update({key.removeprefix("i"): value for key, value in answers.items()})
    return base


def cssrs(**answers: int) -> dict[str, int]:
    return {key.removeprefix("i").replace("_", "-"): value for key, value in answers.items()}


# --- questionnaires -------------------------------------------------------------------


def test_the_patient_answers_a_phq9(record: PatientRecord, at: datetime) -> None:
    answers = phq9(i9=0, i10=2)

    record.answer_questionnaire(PATIENT, at, instrument="phq-9", answers=answers)

    answered = only_event(record, QuestionnaireAnswered)
    assert_attributed(answered, actor=PATIENT, data_class=DataClass.MEASURE, clinical_time=at)
    assert answered.instrument == InstrumentCode.PHQ9
    assert answered.instrument_version == "1"
    assert answered.answers == answers


def test_a_phq9_without_the_difficulty_item_is_complete(
    record: PatientRecord, at: datetime
) -> None:
    record.answer_questionnaire(THERAPIST, at, instrument=InstrumentCode.PHQ9, answers=phq9())

    assert "10" not in only_event(record, QuestionnaireAnswered).answers


def test_phq9_item_9_answered_4_is_outside_its_range(record: PatientRecord, at: datetime) -> None:
    with refused(record, InvalidInput, field="answers.9") as refusal:
        record.answer_questionnaire(PATIENT, at, instrument="phq-9", answers=phq9(i9=4))
    assert fields_of(refusal.value) == ["answers.9"]
    assert refusal.value.errors[0].reason == "4 is outside 0-3"


def test_an_unknown_item_is_refused(record: PatientRecord, at: datetime) -> None:
    with refused(record, InvalidInput, field="answers.11") as refusal:
        record.answer_questionnaire(PATIENT, at, instrument="phq-9", answers=phq9(i11=0))
    assert "no item 11" in refusal.value.errors[0].reason


def test_a_missing_required_item_is_refused(record: PatientRecord, at: datetime) -> None:
    answers = phq9()
    del answers["3"]
    with refused(record, InvalidInput, field="answers.3") as refusal:
        record.answer_questionnaire(PATIENT, at, instrument="phq-9", answers=answers)
    assert refusal.value.errors[0].reason == "is required"


def test_every_problem_with_the_answers_is_named_at_once(
    record: PatientRecord, at: datetime
) -> None:
    answers = phq9(i1=-1, i9=4, i12=0)
    del answers["5"]
    with refused(record, InvalidInput) as refusal:
        record.answer_questionnaire(PATIENT, at, instrument="phq-9", answers=answers)
    assert sorted(fields_of(refusal.value)) == ["answers.1", "answers.12", "answers.5", "answers.9"]


def test_an_unknown_instrument_is_refused(record: PatientRecord, at: datetime) -> None:
    with refused(record, InvalidInput, field="instrument") as refusal:
        record.answer_questionnaire(PATIENT, at, instrument="isi", answers={"1": 2})
    assert "phq-9" in refusal.value.errors[0].reason


def test_promis_sleep_items_start_at_one(record: PatientRecord, at: datetime) -> None:
    answers = {str(n): 3 for n in range(1, 9)} | {"4": 0}
    with refused(record, InvalidInput, field="answers.4"):
        record.answer_questionnaire(PATIENT, at, instrument="promis-sleep-8a", answers=answers)


@pytest.mark.parametrize("answer", [None, "2", 2.0, 1.5, True, False, [2]])
def test_check_answers_wants_whole_numbers(answer: Any) -> None:
    answers: dict[str, Any] = {**phq9(), "9": answer}
    assert check_answers(InstrumentCode.PHQ9, answers) == [
        FieldError("answers.9", "must be a whole number")
    ]


def test_a_boolean_cssrs_answer_is_refused(record: PatientRecord, at: datetime) -> None:
    # True == 1 in Python, but a yes is recorded as 1, not as a flag the event would coerce.
    answers: dict[str, Any] = {"1": 0, "2": 0, "6": True, "6-recent": 0}
    with refused(record, InvalidInput, field="answers.6") as refusal:
        record.answer_questionnaire(PATIENT, at, instrument="c-ssrs-screener", answers=answers)
    assert refusal.value.errors[0].reason == "must be a whole number"


def test_answers_that_are_not_a_mapping_are_refused(record: PatientRecord, at: datetime) -> None:
    with refused(record, InvalidInput, field="answers"):
        record.answer_questionnaire(PATIENT, at, instrument="phq-9", answers=[1, 2, 3])


@pytest.mark.parametrize("answer", [None, "2"])
def test_a_non_numeric_answer_is_refused_as_invalid_input(
    record: PatientRecord, at: datetime, answer: Any
) -> None:
    answers: dict[str, Any] = {**phq9(), "9": answer}
    with refused(record, InvalidInput, field="answers.9"):
        record.answer_questionnaire(PATIENT, at, instrument="phq-9", answers=answers)


@pytest.mark.parametrize(
    "author",
    [SUPPORTER, Actor(user_id=SUPPORTER.user_id, role=Role.PRESCRIBER, organisation="family")],
)
def test_a_supporter_may_not_answer_for_the_patient_or_as_a_prescriber(
    record: PatientRecord, at: datetime, author: Actor
) -> None:
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.answer_questionnaire(author, at, instrument="phq-9", answers=phq9())


# The structure of each instrument, as clinical/instruments.md gives it:
# (number of required items, optional item keys, lowest answer, highest answer).
REFERENCE: dict[InstrumentCode, tuple[int, list[str], int, int]] = {
    InstrumentCode.PHQ9: (9, ["10"], 0, 3),
    InstrumentCode.GAD7: (7, [], 0, 3),
    InstrumentCode.PCL5: (20, [], 0, 4),
    InstrumentCode.AUDITC: (3, [], 0, 4),
    InstrumentCode.ASRS: (6, [], 0, 4),
    InstrumentCode.PROMIS_SLEEP: (8, [], 1, 5),
}


@pytest.mark.parametrize("code", list(REFERENCE))
def test_each_instrument_has_the_items_and_ranges_of_the_reference(code: InstrumentCode) -> None:
    required, optional, low, high = REFERENCE[code]
    instrument = INSTRUMENTS[code]

    assert [i.key for i in instrument.items if i.required] == [
        str(n) for n in range(1, required + 1)
    ]
    assert [i.key for i in instrument.items if not i.required] == optional
    assert {(i.low, i.high) for i in instrument.items} == {(low, high)}
    lowest = {i.key: low for i in instrument.items}
    highest = {i.key: high for i in instrument.items}
    assert check_answers(code, lowest) == []
    assert check_answers(code, highest) == []
    assert [e.field for e in check_answers(code, {**highest, "1": high + 1})] == ["answers.1"]
    assert [e.field for e in check_answers(code, {**lowest, "1": low - 1})] == ["answers.1"]


# --- C-SSRS skip logic ----------------------------------------------------------------


@pytest.mark.parametrize(
    "answers",
    [
        cssrs(i1=0, i2=0, i6=0),
        cssrs(i1=1, i2=1, i3=1, i4=0, i5=0, i6=0),
        cssrs(i1=1, i2=1, i3=1, i4=1, i5=1, i6=1, i6_recent=1),
        cssrs(i1=0, i2=0, i6=1, i6_recent=0),
    ],
    ids=["no ideation", "ideation with method", "high risk", "lifetime behaviour only"],
)
def test_a_cssrs_screener_following_the_skip_logic_is_recorded(
    record: PatientRecord, at: datetime, answers: dict[str, int]
) -> None:
    record.answer_questionnaire(THERAPIST, at, instrument="c-ssrs-screener", answers=answers)

    answered = only_event(record, QuestionnaireAnswered)
    assert answered.answers == answers
    assert answered.instrument_version == "screener-recent"


@pytest.mark.parametrize(
    ("answers", "problems"),
    [
        (cssrs(i1=1, i2=0, i3=1, i6=0), {"answers.3": "is asked only when item 2 is yes"}),
        (
            cssrs(i1=1, i2=1, i3=1, i6=0),
            {
                "answers.4": "is required when item 2 is yes",
                "answers.5": "is required when item 2 is yes",
            },
        ),
        (cssrs(i1=0, i2=0, i6=1), {"answers.6-recent": "is required when item 6 is yes"}),
        (
            cssrs(i1=0, i2=0, i6=0, i6_recent=0),
            {"answers.6-recent": "is asked only when item 6 is yes"},
        ),
        (cssrs(i1=0, i6=0), {"answers.2": "is required"}),
    ],
    ids=[
        "Q3 without Q2",
        "Q2 yes without Q4-Q5",
        "Q6 yes without recent",
        "recent without Q6",
        "no Q2",
    ],
)
def test_a_cssrs_screener_breaking_the_skip_logic_is_refused(
    record: PatientRecord, at: datetime, answers: dict[str, int], problems: dict[str, str]
) -> None:
    with refused(record, InvalidInput) as refusal:
        record.answer_questionnaire(THERAPIST, at, instrument="c-ssrs-screener", answers=answers)
    assert {e.field: e.reason for e in refusal.value.errors} == problems


# --- sleep ----------------------------------------------------------------------------


def test_the_patient_logs_a_night_of_sleep(record: PatientRecord, at: datetime) -> None:
    record.log_sleep(
        PATIENT,
        at,
        night_of=date(2024, 3, 3),
        hours_asleep=Decimal("6.5"),
        quality=3,
        bedtime=time(23, 30),
        wake_time=time(6, 45),
    )

    sleep = only_event(record, SleepLogged)
    assert_attributed(sleep, actor=PATIENT, data_class=DataClass.MEASURE, clinical_time=at)
    assert (sleep.night_of, sleep.hours_asleep, sleep.quality) == (
        date(2024, 3, 3),
        Decimal("6.5"),
        3,
    )
    assert (sleep.bedtime, sleep.wake_time) == (time(23, 30), time(6, 45))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"hours_asleep": Decimal("25")}, "hours_asleep"),
        ({"hours_asleep": Decimal("-1")}, "hours_asleep"),
        ({"hours_asleep": Decimal("7.125")}, "hours_asleep"),
        ({"quality": 0}, "quality"),
        ({"quality": 6}, "quality"),
    ],
)
def test_a_sleep_log_out_of_range_is_refused(
    record: PatientRecord, at: datetime, changes: dict[str, Any], field: str
) -> None:
    night: dict[str, Any] = {"night_of": date(2024, 3, 3), "hours_asleep": Decimal(7), "quality": 3}
    night.update(changes)
    with refused(record, InvalidInput, field=field):
        record.log_sleep(PATIENT, at, **night)


def test_a_supporter_may_not_log_the_patients_sleep(record: PatientRecord, at: datetime) -> None:
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.log_sleep(SUPPORTER, at, night_of=date(2024, 3, 3), hours_asleep=7, quality=3)


# --- functional outcomes --------------------------------------------------------------


def test_a_school_counselor_records_attendance(at: datetime) -> None:
    record = a_registered_record(others=[SCHOOL_COUNSELOR])

    record.record_functional_outcome(
        SCHOOL_COUNSELOR,
        at,
        setting="school",
        measure="attendance",
        period_start=date(2024, 2, 1),
        period_end=date(2024, 2, 29),
        achieved=17,
        expected=20,
    )

    outcome = only_event(record, FunctionalOutcomeRecorded)
    assert_attributed(
        outcome, actor=SCHOOL_COUNSELOR, data_class=DataClass.FUNCTIONAL, clinical_time=at
    )
    assert (outcome.setting, outcome.measure, outcome.achieved, outcome.expected) == (
        "school",
        "attendance",
        17,
        20,
    )


def test_a_functional_outcome_by_a_part2_counselor_stays_functional(
    part2_record: PatientRecord, at: datetime
) -> None:
    part2_record.record_functional_outcome(
        PART2_COUNSELOR,
        at,
        setting="work",
        measure="hours",
        period_start=date(2024, 2, 1),
        period_end=date(2024, 2, 7),
        achieved=30,
        expected=40,
    )

    assert only_event(part2_record, FunctionalOutcomeRecorded).data_class == DataClass.FUNCTIONAL


def test_a_functional_period_cannot_end_before_it_starts(
    record: PatientRecord, at: datetime
) -> None:
    with refused(record, InvalidInput, field="period_end"):
        record.record_functional_outcome(
            THERAPIST,
            at,
            setting="work",
            measure="hours",
            period_start=date(2024, 2, 7),
            period_end=date(2024, 2, 1),
            achieved=30,
            expected=40,
        )


def test_a_functional_outcome_expects_at_least_one(record: PatientRecord, at: datetime) -> None:
    with refused(record, InvalidInput, field="expected"):
        record.record_functional_outcome(
            PATIENT,
            at,
            setting="home",
            measure="role-functioning",
            period_start=date(2024, 2, 1),
            period_end=date(2024, 2, 7),
            achieved=0,
            expected=0,
        )


# --- supporters' observations ---------------------------------------------------------


def test_a_supporter_records_an_early_warning_cue(record: PatientRecord, at: datetime) -> None:
    record.record_supporter_observation(
        SUPPORTER,
        at,
        cue="spending",
        change="much-more-than-usual",
        observation="Bought three phones this week",
    )

    observation = only_event(record, SupporterObservationRecorded)
    assert_attributed(observation, actor=SUPPORTER, data_class=DataClass.MEASURE, clinical_time=at)
    assert (observation.cue, observation.change) == ("spending", "much-more-than-usual")


@pytest.mark.parametrize("author", [THERAPIST, PATIENT, PRESCRIBER])
def test_only_a_supporter_records_supporter_observations(
    record: PatientRecord, at: datetime, author: Actor
) -> None:
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.record_supporter_observation(
            author, at, cue="sleep", change="less-than-usual", observation="x"
        )


def test_a_supporter_observation_uses_the_taught_cues(record: PatientRecord, at: datetime) -> None:
    with refused(record, InvalidInput, field="cue"):
        record.record_supporter_observation(
            SUPPORTER, at, cue="appetite", change="usual", observation="x"
        )
