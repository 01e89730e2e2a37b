from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.rules.care import DueItem, Fact, RuleRef
from domain.rules.reminders import due_reminders

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def fact(position: int, kind: str, **payload: Any) -> Fact:
    return Fact(position, kind, NOW - timedelta(days=3), "therapist@test", "therapist", payload)


def session(position: int, starts: datetime, sid: str = "s1") -> Fact:
    return fact(
        position,
        "SessionScheduled",
        session_id=sid,
        starts_at=starts.isoformat(),
        mode="telehealth",
    )


def test_an_appointment_reminder_goes_out_within_a_day_of_the_session() -> None:
    tomorrow = NOW + timedelta(hours=20)
    reminders = due_reminders([session(1, tomorrow)], [], NOW)
    assert [r.key for r in reminders] == ["appointment:s1"]
    assert "by video" in reminders[0].body
    assert due_reminders([session(1, NOW + timedelta(hours=30))], [], NOW) == []


def test_no_appointment_reminder_for_a_cancelled_session_or_one_already_sent() -> None:
    tomorrow = NOW + timedelta(hours=20)
    cancelled = fact(2, "SessionCancelled", session_id="s1")
    assert due_reminders([session(1, tomorrow), cancelled], [], NOW) == []
    sent = fact(2, "ReminderSent", key="appointment:s1")
    assert due_reminders([session(1, tomorrow), sent], [], NOW) == []


def test_a_questionnaire_reminder_follows_its_due_item() -> None:
    rule = RuleRef("r", "1", "s", True)
    item = DueItem(
        "phq9:1",
        "questionnaire",
        "PHQ-9 due",
        (),
        NOW - timedelta(days=1),
        NOW + timedelta(days=13),
        "due",
        rule,
    )
    met = DueItem(
        "phq9:2",
        "questionnaire",
        "PHQ-9 due",
        (),
        NOW - timedelta(days=1),
        NOW + timedelta(days=13),
        "met",
        rule,
    )
    later = DueItem(
        "phq9:3",
        "questionnaire",
        "PHQ-9 due",
        (),
        NOW + timedelta(days=1),
        NOW + timedelta(days=13),
        "due",
        rule,
    )
    assert [r.key for r in due_reminders([], [item, met, later], NOW)] == ["questionnaire:phq9:1"]


def test_a_dose_reminder_names_no_drug() -> None:
    started = fact(
        1,
        "MedicationStarted",
        medication_id="m1",
        drug="buprenorphine",
        schedule={"frequency": "once-daily", "times": ["08:30:00"]},
    )
    reminders = due_reminders([started], [], NOW)
    assert [r.kind for r in reminders] == ["dose"]
    assert "buprenorphine" not in reminders[0].subject + reminders[0].body
    stopped = fact(2, "MedicationStopped", medication_id="m1")
    assert due_reminders([started, stopped], [], NOW) == []
    assert due_reminders([started], [], NOW + timedelta(hours=3)) == []
