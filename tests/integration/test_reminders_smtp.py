"""Reminders through a real SMTP server (aiosmtpd on loopback), sent once and recorded."""

from __future__ import annotations

import re
import socket
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from adapters.notify import Notification, SendFailed, SmtpSender
from application.reminders import ReminderDispatcher
from application.writer import CommandWriter
from bootstrap import bootstrap, index_runner
from bootstrap.settings import Settings
from domain.events import now
from domain.vocabulary import Modality, SessionMode
from tests.builders import SYSTEM, THERAPIST, act, register_patient


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_the_smtp_sender_delivers_to_a_real_server(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    SmtpSender("127.0.0.1", port, "reminders@tandem.test").send(
        Notification("patient@example.test", "Reminder", "Your session is tomorrow.")
    )
    assert len(inbox.messages) == 1
    assert inbox.messages[0]["To"] == "patient@example.test"
    assert inbox.messages[0].get_payload().strip() == "Your session is tomorrow."


def test_an_unreachable_server_is_a_clear_failure() -> None:
    with pytest.raises(SendFailed, match=re.escape("SMTP 127.0.0.1:1")):
        SmtpSender("127.0.0.1", 1, "x@tandem.test", timeout=2).send(
            Notification("a@b.test", "s", "b")
        )


def test_due_reminders_go_out_once_and_are_recorded(
    tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = Settings(data_dir=tmp_path)
    clinic = bootstrap(settings)
    receipt = register_patient(
        clinic,
        SYSTEM,
        now() - timedelta(days=10),
        mrn=f"R-{uuid.uuid4().hex[:8]}",
        given_name="Remi",
        family_name="Synthetic",
        birth_date=date(1990, 1, 1),
        sex_at_birth="unknown",
        email="remi@example.test",
    )
    patient = receipt.aggregate_id
    act(
        clinic,
        patient,
        lambda r: r.add_team_member(
            SYSTEM,
            now() - timedelta(days=10),
            user_id=THERAPIST.user_id,
            role=THERAPIST.role,
            organisation=THERAPIST.organisation,
        ),
    )
    act(
        clinic,
        patient,
        lambda r: r.schedule_session(
            THERAPIST,
            now() - timedelta(days=1),
            session_id=uuid.uuid4(),
            starts_at=now() + timedelta(hours=20),
            duration_minutes=50,
            mode=SessionMode.TELEHEALTH,
            modality=Modality.CBT,
        ),
    )
    dispatcher = ReminderDispatcher(
        clinic,
        CommandWriter(clinic),
        index_runner(settings, clinic),
        SmtpSender("127.0.0.1", port, "reminders@tandem.test"),
    )
    first = dispatcher.run_once(now())
    second = dispatcher.run_once(now())
    assert (first.sent, second.sent) == (1, 0)
    assert [m["To"] for m in inbox.messages] == ["remi@example.test"]
    assert type(clinic.patient_events(patient)[-1]).__name__ == "ReminderSent"
