"""Safety rules read from the record's facts (clinical/instruments.md, 'Safety rules')."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.rules.care import Fact
from domain.rules.safety import SAFETY_RULES, safety_picture
from domain.vocabulary import DataClass, Role

MONDAY_10AM = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
MIDNIGHT = datetime(2025, 3, 4, 0, 0, tzinfo=UTC)
TREATING = (Role.THERAPIST, Role.PRESCRIBER)


def fact(position: int, kind: str, at: datetime, role: str = "therapist", **payload: Any) -> Fact:
    return Fact(position, kind, at, f"{role}@riverside.example", role, payload)


def phq9(position: int, at: datetime, item9: int, rest: int = 1) -> Fact:
    answers = {str(n): rest for n in range(1, 9)} | {"9": item9}
    return fact(
        position,
        "QuestionnaireAnswered",
        at,
        "patient",
        instrument="phq-9",
        instrument_version="1",
        answers=answers,
    )


def cssrs(position: int, at: datetime, **answers: int) -> Fact:
    base = {"1": 0, "2": 0, "6": 0}
    base.update({k.removeprefix("q").replace("_", "-"): v for k, v in answers.items()})
    return fact(
        position,
        "QuestionnaireAnswered",
        at,
        "patient",
        instrument="c-ssrs-screener",
        instrument_version="screener-recent",
        answers=base,
    )


def risk_assessed(position: int, at: datetime) -> Fact:
    return fact(
        position,
        "RiskAssessed",
        at,
        level="moderate",
        method="clinical-interview",
        plan="safety plan reviewed",
        factors=[],
    )


def lapse(position: int, at: datetime) -> Fact:
    return fact(
        position,
        "LapseReported",
        at,
        "patient",
        substance="alcohol",
        occurred_on=at.date().isoformat(),
        circumstances="a party",
    )


# --- PHQ-9 item 9 ------------------------------------------------------------------------


def test_phq9_item9_raises_a_high_alert_for_the_treating_clinicians_at_the_answer() -> None:
    alerts, due = safety_picture([phq9(3, MONDAY_10AM, item9=1)], MONDAY_10AM)
    [alert] = alerts
    assert alert.key == "phq9-item9:3"
    assert alert.severity == "high"
    assert alert.title == "same-day suicide-risk assessment due"
    assert alert.for_roles == TREATING
    assert alert.raised_at == MONDAY_10AM
    assert alert.open
    assert alert.rule.rule_id == "phq9-item9"
    [task] = due
    assert (task.key, task.kind, task.status) == ("phq9-item9:assessment:3", "assessment", "due")
    assert (task.due_from, task.due_by) == (MONDAY_10AM, MIDNIGHT)  # the end of that day
    assert task.for_roles == TREATING


def test_phq9_item9_at_zero_raises_nothing_even_with_a_severe_total() -> None:
    assert safety_picture([phq9(3, MONDAY_10AM, item9=0, rest=3)], MONDAY_10AM) == ([], [])


def test_item9_of_another_instrument_raises_nothing() -> None:
    answers = {str(n): 4 for n in range(1, 21)}
    pcl5 = fact(
        3,
        "QuestionnaireAnswered",
        MONDAY_10AM,
        "patient",
        instrument="pcl-5",
        instrument_version="1",
        answers=answers,
    )
    assert safety_picture([pcl5], MONDAY_10AM) == ([], [])


def test_the_alert_stays_open_whatever_else_is_recorded() -> None:
    later = MONDAY_10AM + timedelta(days=3)
    facts = [
        phq9(3, MONDAY_10AM, item9=2),
        fact(4, "SessionAttended", MONDAY_10AM + timedelta(hours=2), session_id="s-1"),
        fact(5, "MessageSent", MONDAY_10AM + timedelta(hours=3), subject="checking in"),
    ]
    [alert], _ = safety_picture(facts, later)
    assert alert.open


def test_a_risk_assessment_after_the_answer_closes_the_alert_and_meets_the_task() -> None:
    assessed = MONDAY_10AM + timedelta(hours=5)
    facts = [phq9(3, MONDAY_10AM, item9=1), risk_assessed(4, assessed)]
    [alert], [task] = safety_picture(facts, MONDAY_10AM + timedelta(days=2))
    assert alert.closed_at == assessed
    assert not alert.open
    assert (task.status, task.met_at) == ("met", assessed)


def test_an_alert_and_its_task_name_the_answer_and_what_would_close_them() -> None:
    facts = [phq9(3, MONDAY_10AM, item9=1), lapse(5, MONDAY_10AM)]
    [alert], [task, *_] = safety_picture(facts, MONDAY_10AM + timedelta(hours=1))
    assert (alert.inputs, alert.awaits) == ({3}, {DataClass.SAFETY})
    assert (task.inputs, task.awaits) == ({3}, {DataClass.SAFETY})
    assessed = risk_assessed(4, MONDAY_10AM + timedelta(hours=2))
    [closed], _ = safety_picture([*facts, assessed], MONDAY_10AM + timedelta(hours=3))
    assert closed.inputs == {3, 4}


def test_a_risk_assessment_at_the_same_time_closes_the_alert() -> None:
    facts = [phq9(3, MONDAY_10AM, item9=1), risk_assessed(4, MONDAY_10AM)]
    [alert], _ = safety_picture(facts, MONDAY_10AM)
    assert alert.closed_at == MONDAY_10AM


def test_a_risk_assessment_before_the_answer_does_not_close_the_alert() -> None:
    earlier = MONDAY_10AM - timedelta(days=1)
    facts = [risk_assessed(2, earlier), phq9(3, MONDAY_10AM, item9=1)]
    [alert], [task] = safety_picture(facts, MONDAY_10AM + timedelta(hours=1))
    assert alert.open
    assert task.status == "due"


def test_a_late_entry_dated_before_the_answer_does_not_close_the_alert() -> None:
    # Recorded after the answer (higher position) but clinically before it.
    facts = [phq9(3, MONDAY_10AM, item9=1), risk_assessed(4, MONDAY_10AM - timedelta(hours=1))]
    [alert], _ = safety_picture(facts, MONDAY_10AM + timedelta(hours=1))
    assert alert.open


def test_the_assessment_task_goes_from_due_to_overdue_to_met() -> None:
    answered = phq9(3, MONDAY_10AM, item9=1)
    assert safety_picture([answered], MIDNIGHT)[1][0].status == "due"
    assert safety_picture([answered], MIDNIGHT + timedelta(seconds=1))[1][0].status == "overdue"
    late = MIDNIGHT + timedelta(hours=9)
    [task] = safety_picture([answered, risk_assessed(4, late)], late)[1]
    assert (task.status, task.met_at) == ("met", late)


def test_each_positive_answer_has_its_own_alert() -> None:
    tuesday = MONDAY_10AM + timedelta(days=1)
    facts = [
        phq9(3, MONDAY_10AM, item9=1),
        risk_assessed(4, MONDAY_10AM + timedelta(hours=2)),
        phq9(5, tuesday, item9=1),
    ]
    alerts, _ = safety_picture(facts, tuesday)
    assert [(a.key, a.open) for a in alerts] == [("phq9-item9:3", False), ("phq9-item9:5", True)]


# --- C-SSRS -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answers",
    [
        {"q1": 1, "q2": 1, "q3": 0, "q4": 1, "q5": 0},
        {"q1": 1, "q2": 1, "q3": 0, "q4": 0, "q5": 1},
        {"q6": 1, "q6_recent": 1},
    ],
)
def test_cssrs_high_risk_raises_a_high_alert_for_immediate_evaluation(
    answers: dict[str, int],
) -> None:
    alerts, due = safety_picture([cssrs(7, MONDAY_10AM, **answers)], MONDAY_10AM)
    [alert] = alerts
    assert (alert.key, alert.severity) == ("cssrs-high:7", "high")
    assert alert.title == "immediate evaluation and safety precautions"
    assert alert.for_roles == TREATING
    assert due == []


@pytest.mark.parametrize(
    "answers",
    [{"q1": 1, "q2": 1, "q3": 1, "q4": 0, "q5": 0}, {"q6": 1, "q6_recent": 0}],
)
def test_cssrs_moderate_risk_asks_for_an_assessment_within_24_hours(
    answers: dict[str, int],
) -> None:
    alerts, due = safety_picture([cssrs(7, MONDAY_10AM, **answers)], MONDAY_10AM)
    [alert] = alerts
    assert (alert.key, alert.severity) == ("cssrs-moderate:7", "moderate")
    assert alert.title == "assessment within the day by the treating clinician"
    [task] = due
    assert (task.key, task.kind, task.status) == (
        "cssrs-moderate:assessment:7",
        "assessment",
        "due",
    )
    assert task.due_by == MONDAY_10AM + timedelta(hours=24)


@pytest.mark.parametrize("answers", [{"q1": 1}, {}])
def test_cssrs_low_or_no_risk_raises_nothing(answers: dict[str, int]) -> None:
    assert safety_picture([cssrs(7, MONDAY_10AM, **answers)], MONDAY_10AM) == ([], [])


@pytest.mark.parametrize("level", ["high", "moderate"])
def test_cssrs_alerts_are_closed_by_a_later_risk_assessment_only(level: str) -> None:
    answers = {"q6": 1, "q6_recent": 1 if level == "high" else 0}
    screened = cssrs(7, MONDAY_10AM, **answers)
    before = risk_assessed(6, MONDAY_10AM - timedelta(minutes=5))
    after = risk_assessed(8, MONDAY_10AM + timedelta(minutes=30))
    [still_open], _ = safety_picture([before, screened], MONDAY_10AM)
    [closed], due = safety_picture([before, screened, after], MONDAY_10AM + timedelta(hours=1))
    assert still_open.open
    assert closed.closed_at == after.at
    assert all(d.status == "met" for d in due)


def test_cssrs_moderate_assessment_overdue_after_24_hours() -> None:
    screened = cssrs(7, MONDAY_10AM, q6=1, q6_recent=0)
    [task] = safety_picture([screened], MONDAY_10AM + timedelta(hours=24, seconds=1))[1]
    assert task.status == "overdue"


# --- lapses -------------------------------------------------------------------------------


def tasks_after_lapse(*later: Fact, now: datetime | None = None) -> dict[str, Any]:
    _, due = safety_picture([lapse(10, MONDAY_10AM), *later], now or MONDAY_10AM)
    return {d.key.split(":")[1]: d for d in due}


def test_a_lapse_makes_contact_assessment_and_plan_review_due_and_nothing_else() -> None:
    alerts, due = safety_picture([lapse(10, MONDAY_10AM)], MONDAY_10AM)
    assert alerts == []
    assert [(d.key, d.kind, d.due_by - d.due_from, d.status) for d in due] == [
        ("lapse:contact:10", "contact", timedelta(hours=4), "due"),
        ("lapse:assessment:10", "assessment", timedelta(hours=24), "due"),
        ("lapse:plan-review:10", "review", timedelta(days=7), "due"),
    ]
    assert all(d.for_roles == TREATING for d in due)


def test_lapse_contact_is_overdue_after_four_hours() -> None:
    tasks = tasks_after_lapse(now=MONDAY_10AM + timedelta(hours=4, minutes=1))
    assert tasks["contact"].status == "overdue"
    assert tasks["assessment"].status == "due"


@pytest.mark.parametrize(
    ("kind", "role"),
    [
        ("MessageSent", "therapist"),
        ("MessageSent", "prescriber"),
        ("SessionAttended", "therapist"),
        ("RiskAssessed", "prescriber"),
    ],
)
def test_lapse_contact_is_met_by_a_treating_clinician(kind: str, role: str) -> None:
    contact = fact(11, kind, MONDAY_10AM + timedelta(hours=1), role)
    assert tasks_after_lapse(contact)["contact"].met_at == contact.at


@pytest.mark.parametrize("role", ["supporter", "patient", "primary-care"])
def test_lapse_contact_is_not_met_by_a_message_from_anyone_else(role: str) -> None:
    message = fact(11, "MessageSent", MONDAY_10AM + timedelta(hours=1), role)
    assert tasks_after_lapse(message)["contact"].status == "due"


def test_lapse_contact_is_not_met_by_a_message_before_the_lapse() -> None:
    message = fact(9, "MessageSent", MONDAY_10AM - timedelta(hours=1))
    _, due = safety_picture([message, lapse(10, MONDAY_10AM)], MONDAY_10AM)
    assert due[0].status == "due"


@pytest.mark.parametrize("kind", ["SessionAttended", "MessageSent", "GoalSet"])
def test_lapse_assessment_is_met_only_by_a_risk_assessment(kind: str) -> None:
    other = fact(11, kind, MONDAY_10AM + timedelta(hours=1))
    assert tasks_after_lapse(other)["assessment"].status == "due"
    assessed = risk_assessed(12, MONDAY_10AM + timedelta(hours=2))
    assert tasks_after_lapse(other, assessed)["assessment"].met_at == assessed.at


@pytest.mark.parametrize("kind", ["PhaseChanged", "DoseChanged", "GoalSet", "MedicationReassessed"])
def test_lapse_plan_review_is_met_by_a_change_to_the_plan(kind: str) -> None:
    change = fact(11, kind, MONDAY_10AM + timedelta(days=2), "prescriber")
    review = tasks_after_lapse(change)["plan-review"]
    assert (review.status, review.met_at) == ("met", change.at)


@pytest.mark.parametrize("kind", ["RiskAssessed", "MessageSent", "SessionAttended"])
def test_lapse_plan_review_is_not_met_by_contact_or_assessment(kind: str) -> None:
    other = fact(11, kind, MONDAY_10AM + timedelta(days=1))
    later = MONDAY_10AM + timedelta(days=7, seconds=1)
    assert tasks_after_lapse(other, now=later)["plan-review"].status == "overdue"


def test_lapse_plan_review_is_not_met_by_a_change_before_the_lapse() -> None:
    change = fact(9, "DoseChanged", MONDAY_10AM - timedelta(days=1), "prescriber")
    _, due = safety_picture([change, lapse(10, MONDAY_10AM)], MONDAY_10AM)
    assert due[2].status == "due"


# --- keys and the rule table --------------------------------------------------------------


def test_keys_are_stable_across_evaluations_and_later_facts() -> None:
    facts = [phq9(3, MONDAY_10AM, item9=1), lapse(4, MONDAY_10AM + timedelta(hours=1))]
    first_alerts, first_due = safety_picture(facts, MONDAY_10AM + timedelta(hours=1))
    more = [
        fact(5, "SessionAttended", MONDAY_10AM + timedelta(hours=2)),
        risk_assessed(6, MONDAY_10AM + timedelta(hours=3)),
        cssrs(7, MONDAY_10AM + timedelta(hours=4), q1=1),
    ]
    later_alerts, later_due = safety_picture(
        list(reversed(facts + more)), MONDAY_10AM + timedelta(days=9)
    )
    assert [a.key for a in first_alerts] == [a.key for a in later_alerts] == ["phq9-item9:3"]
    assert (
        [d.key for d in first_due]
        == [d.key for d in later_due]
        == [
            "phq9-item9:assessment:3",
            "lapse:contact:4",
            "lapse:assessment:4",
            "lapse:plan-review:4",
        ]
    )
    assert {d.status for d in later_due} == {"met", "overdue"}


def test_every_rule_names_its_version_and_source() -> None:
    ids = [rule.ref.rule_id for rule in SAFETY_RULES]
    assert len(ids) == len(set(ids))
    for rule in SAFETY_RULES:
        assert rule.ref.version
        assert rule.ref.source
        assert rule.for_roles == TREATING


HONOLULU = ZoneInfo("Pacific/Honolulu")
NEW_YORK = ZoneInfo("America/New_York")


def same_day_task(now: datetime, at: datetime, zone: ZoneInfo | None) -> Any:
    _, due = safety_picture([phq9(1, at, item9=1)], now, zone)
    return next(d for d in due if d.key == "phq9-item9:assessment:1")


@pytest.mark.parametrize(
    ("zone", "evening"),
    [
        (HONOLULU, datetime(2026, 3, 1, 23, 30, tzinfo=HONOLULU)),  # 09:30 UTC the next day
        (NEW_YORK, datetime(2026, 3, 7, 23, 30, tzinfo=NEW_YORK)),  # clocks go forward 8 March
        (NEW_YORK, datetime(2026, 10, 31, 23, 30, tzinfo=NEW_YORK)),  # and back 1 November
    ],
)
def test_the_same_day_task_turns_overdue_at_the_clinics_local_midnight(
    zone: ZoneInfo, evening: datetime
) -> None:
    sent_as_utc = evening.astimezone(UTC)
    midnight = datetime.combine(evening.date() + timedelta(days=1), time(0), zone)
    assert same_day_task(midnight - timedelta(seconds=1), sent_as_utc, zone).status == "due"
    assert same_day_task(midnight, sent_as_utc, zone).status == "due"
    assert same_day_task(midnight + timedelta(seconds=1), sent_as_utc, zone).status == "overdue"


def test_without_a_clinic_zone_the_day_is_the_triggers_own_offsets() -> None:
    """The rule before the clinic had a zone, kept for replays of reads answered by it."""
    evening = datetime(2026, 3, 1, 23, 30, tzinfo=HONOLULU).astimezone(UTC)
    task = same_day_task(evening, evening, None)
    assert task.due_by == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)  # the end of 2 March in UTC
