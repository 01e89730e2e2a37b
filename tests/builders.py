"""Small builders for synthetic patients and care teams (no real people, ever)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from eventsourcing.persistence import IntegrityError

from adapters.passwords import Argon2Passwords
from application.clinic import Clinic, Receipt
from application.directory import DirectoryUseCases
from application.ports import Passwords
from application.recording import register_now
from application.users import create_user_now
from application.writer import CommandWriter, Target
from domain.errors import Conflict
from domain.events import Actor, now
from domain.users import User, user_id_for
from domain.vocabulary import Role

SYSTEM = Actor.system("tests")
THERAPIST = Actor(user_id="therapist@test", role=Role.THERAPIST, organisation="Test Clinic")
PRESCRIBER = Actor(user_id="prescriber@test", role=Role.PRESCRIBER, organisation="Test Clinic")


def ago(**delta: float) -> datetime:
    return now() - timedelta(**delta)


def register_with_team(clinic: Clinic, given_name: str = "Testa") -> Receipt:
    """A registered synthetic patient with a therapist and a prescriber on the team."""
    mrn = f"T-{uuid.uuid4().hex[:10]}"
    receipt = register_patient(
        clinic,
        SYSTEM,
        ago(days=30),
        mrn=mrn,
        given_name=given_name,
        family_name="Synthetic",
        birth_date=date(1991, 4, 2),
        sex_at_birth="female",
    )
    for actor in (THERAPIST, PRESCRIBER):
        act(
            clinic,
            receipt.aggregate_id,
            lambda r, a=actor: r.add_team_member(
                SYSTEM, ago(days=30), user_id=a.user_id, role=a.role, organisation=a.organisation
            ),
        )
    return act(clinic, receipt.aggregate_id, lambda r: None)


@dataclass
class DemoServices:
    """What the demo loader writes through, around a store a test already opened."""

    clinic: Clinic
    passwords: Passwords = field(default_factory=Argon2Passwords)
    writer: CommandWriter = field(init=False)

    def __post_init__(self) -> None:
        self.writer = CommandWriter(self.clinic)


def demo_services(clinic: Clinic) -> DemoServices:
    return DemoServices(clinic)


# --- writing in tests: through the one write path, as the CLI and the demo do -------------


def act(clinic: Clinic, patient_id: uuid.UUID, command, expected_version: int | None = None):  # type: ignore[no-untyped-def]
    return CommandWriter(clinic).write(patient_id, command, expected_version=expected_version)


def commit(clinic: Clinic, aggregate) -> Receipt:  # type: ignore[no-untyped-def]
    """Store a new aggregate, or the new events of one loaded and changed by the test."""
    writer = CommandWriter(clinic)
    if aggregate.version == len(aggregate.pending_events):
        return writer.create(aggregate)
    stored = [clinic.mapper.to_stored_event(e) for e in aggregate.collect_events()]
    try:
        positions = clinic.recorder.insert_events(stored)
    except IntegrityError as exc:
        raise Conflict(aggregate.id) from exc
    return Receipt(aggregate.id, aggregate.version, positions[-1])


def register_patient(
    clinic: Clinic, by: Actor, at=None, *, join_team: bool = False, **demographics
):  # type: ignore[no-untyped-def]
    return register_now(CommandWriter(clinic), by, at, join_team=join_team, **demographics)


def create_user(clinic: Clinic, by: Actor, **account):  # type: ignore[no-untyped-def]
    return create_user_now(CommandWriter(clinic), by, **account)


def update_user(clinic: Clinic, email: str, command):  # type: ignore[no-untyped-def]
    try:
        return CommandWriter(clinic).write(
            Target(user_id_for(email), User, lambda: clinic.user(email)), command
        )
    finally:
        clinic.forget_user(email)


def register_recipient(clinic: Clinic, by: Actor, **entry) -> uuid.UUID:  # type: ignore[no-untyped-def]
    """A directory entry (kind, name, role, email), through the write path; its id."""
    return DirectoryUseCases(clinic, CommandWriter(clinic)).register_now(by, **entry).entry_id


def appended_since(clinic: Clinic, position: int) -> list[type]:
    """The types of the events stored after `position` (a refused read leaves one
    ReadRefused; nothing else may appear when nothing was disclosed or written)."""
    return [type(e) for _, e in clinic.all_events(start=position + 1)]


def post_login(client: Any, email: str, password: str, **options: Any) -> Any:
    """Sign a test browser in through the login form as a browser does: open the form, then
    post it with the CSRF token it carries."""
    form = client.get("/login")
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text)
    data = {"email": email, "password": password, "csrf": found.group(1) if found else ""}
    return client.post("/login", data=data, **options)
