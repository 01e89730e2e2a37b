"""Sends the reminders that are due and records each on the patient's record, so that a
restart, or a second run, never sends one twice. Run by `tandem remind`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, tzinfo
from uuid import UUID

from application.clinic import Clinic
from application.index_runner import IndexRunner
from application.ports import Notification, Sender, SendFailed
from application.writer import CommandWriter
from domain.errors import TandemError
from domain.events import Actor
from domain.history import demographics
from domain.patient import PatientRecord
from domain.rules.reminders import Reminder, due_reminders
from projections.care import facts_of, picture
from projections.record_index import EventRow

logger = logging.getLogger("tandem.reminders")
REMINDERS = Actor.system("reminders")


@dataclass(frozen=True)
class Outcome:
    sent: int
    failed: int
    skipped_no_address: int


class ReminderDispatcher:
    def __init__(
        self,
        clinic: Clinic,
        writer: CommandWriter,
        index: IndexRunner,
        sender: Sender,
        zone: tzinfo | None = None,
    ) -> None:
        self.zone = zone  # the clinic's time zone: the care rules' days
        self.clinic = clinic
        self.writer = writer
        self.index = index
        self.sender = sender

    def run_once(self, now: datetime) -> Outcome:
        self.index.catch_up()
        sent = failed = skipped = 0
        for patient_id in self.index.view.patients():
            rows = self.index.view.patient_events(patient_id)
            facts = facts_of(rows)
            address = _email(rows)
            care = picture(rows, now, self.zone)
            for reminder in due_reminders(facts, care.due, now):
                if address is None:
                    skipped += 1
                    continue
                try:
                    self.sender.send(Notification(address, reminder.subject, reminder.body))
                    self._record(patient_id, reminder, now)
                    sent += 1
                except (SendFailed, TandemError) as exc:
                    logger.warning("reminder %s for %s not sent: %s", reminder.key, patient_id, exc)
                    failed += 1
        self.index.catch_up()
        return Outcome(sent, failed, skipped)

    def _record(self, patient_id: UUID, reminder: Reminder, at: datetime) -> None:
        def command(record: PatientRecord) -> None:
            record.record_reminder_sent(
                REMINDERS,
                at,
                key=reminder.key,
                kind=reminder.kind,
                channel=self.sender.channel,
                subject=reminder.subject,
            )

        self.writer.write(patient_id, command)


def _email(rows: list[EventRow]) -> str | None:
    details = demographics(facts_of(rows))
    return details.email if details is not None else None
