"""Reminders scheduled from the record: appointments, questionnaires due, doses.

Pure rules: given the record's facts, the patient's contact, the questionnaire due items
and a time, which reminders should have gone out by then. Each has a stable key, so the
sender records what it sent (a `ReminderSent` event on the record) and never sends twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from domain.history import medication_courses, sessions
from domain.medication import STOPPED
from domain.messaging import ReminderSent
from domain.record import kind_of
from domain.rules.care import DueItem, Fact, RuleRef

APPOINTMENT_LEAD = timedelta(hours=24)
DOSE_LOOKBACK = timedelta(hours=2)  # a dose reminder older than this is not worth sending
RULES = {
    "appointment": RuleRef(
        "reminder-appointment", "1", "clinic policy: 24 h before a session", True
    ),
    "questionnaire": RuleRef(
        "reminder-questionnaire", "1", "measurement-based care schedule", True
    ),
    "dose": RuleRef("reminder-dose", "1", "the medication's schedule times", True),
}


@dataclass(frozen=True)
class Reminder:
    key: str
    kind: str
    send_at: datetime
    subject: str
    body: str


def appointment_reminders(facts: Sequence[Fact], now: datetime) -> list[Reminder]:
    found = []
    for session in sessions(facts).values():
        starts = session.starts_at
        if not session.open or starts is None:
            continue
        send_at = starts - APPOINTMENT_LEAD
        if send_at <= now < starts:
            how = "by video" if session.mode == "telehealth" else "in person"
            found.append(
                Reminder(
                    key=f"appointment:{session.session_id}",
                    kind="appointment",
                    send_at=send_at,
                    subject="Reminder: your appointment tomorrow",
                    body=f"You have a session {how} on {starts:%A %d %B at %H:%M} (UTC).",
                )
            )
    return found


def questionnaire_reminders(due: Sequence[DueItem], now: datetime) -> list[Reminder]:
    return [
        Reminder(
            key=f"questionnaire:{item.key}",
            kind="questionnaire",
            send_at=item.due_from,
            subject="A short questionnaire is due",
            body=f"{item.title}: please complete it by {item.due_by:%d %B}.",
        )
        for item in due
        if item.kind == "questionnaire" and item.status != "met" and item.due_from <= now
    ]


def dose_reminders(facts: Sequence[Fact], now: datetime) -> list[Reminder]:
    """Today's scheduled dose times that have come (within the lookback) for each active
    medication whose schedule names times."""
    active = {
        course.medication_id: list(course.schedule.get("times", []))
        for course in medication_courses(facts).values()
        if course.status != STOPPED
    }
    found = []
    for medication_id, times in active.items():
        for text in times:
            at = datetime.combine(now.date(), time.fromisoformat(text), tzinfo=now.tzinfo)
            if at <= now < at + DOSE_LOOKBACK:
                # No drug name: a reminder travels through mail systems outside the clinic,
                # and a name such as buprenorphine would disclose SUD treatment (42 CFR 2.13).
                found.append(
                    Reminder(
                        key=f"dose:{medication_id}:{at.isoformat()}",
                        kind="dose",
                        send_at=at,
                        subject="Medication reminder",
                        body=f"A scheduled dose is due at {text}. Log it in Tandem when you have taken it.",
                    )
                )
    return found


def due_reminders(facts: Sequence[Fact], due: Sequence[DueItem], now: datetime) -> list[Reminder]:
    """Every reminder that should have gone out by `now` and has not yet been sent."""
    sent = {str(f.payload["key"]) for f in facts if f.kind == kind_of(ReminderSent)}
    candidates = [
        *appointment_reminders(facts, now),
        *questionnaire_reminders(due, now),
        *dose_reminders(facts, now),
    ]
    return [r for r in candidates if r.key not in sent]
