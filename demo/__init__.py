"""Demo data: the four stories of DESIGN.md ("Demo stories"), told through the clinic's own
commands so that every event passes the same rules as live care.

`load_demo` creates one account per role, one per patient and a supporter (all sharing one
password), registers four synthetic patients and records several months of care for each,
in clinical-time order and ending before now. It refuses to run twice.

Given the broker's admin access (a ShareAccess: TANDEM_KAFKA_ADMIN_USERNAME is set), each
directory entry it registers is issued its broker credential, topic and ACLs, as
`tandem directory add` issues them; the passwords are in the result alone (shown once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from application.clinic import Clinic
from application.ports import Passwords, ShareAccess
from application.recording import register_now
from application.schemas.directory import BrokerCredential
from application.users import create_user_now
from application.writer import CommandWriter
from demo.bipolar import STORY as BIPOLAR
from demo.common import (
    FAMILY,
    SELF,
    STAFF,
    SYSTEM,
    THERAPIST,
    Chart,
    Progress,
    Story,
)
from demo.consents import grant_demo_consents
from demo.depression import STORY as DEPRESSION
from demo.opioid import STORY as OPIOID
from demo.student import STORY as STUDENT
from domain.errors import Conflict, InvalidInput, NotFound
from domain.users import user_id_for
from domain.vocabulary import Role

__all__ = ["DEMO_STEPS", "STORIES", "DemoPatient", "DemoResult", "demo_loaded", "load_demo"]

STORIES: tuple[Story, ...] = (DEPRESSION, BIPOLAR, OPIOID, STUDENT)


@dataclass(frozen=True)
class DemoPatient:
    mrn: str
    patient_id: UUID
    name: str
    story: str


@dataclass(frozen=True)
class DemoResult:
    """What the demo created: account emails (all with the given password) and patients."""

    users: tuple[str, ...]
    patients: tuple[DemoPatient, ...]
    position: int  # the log position after the last demo event
    # With a broker configured: each directory entry's name and its broker credential,
    # whose password is kept nowhere else.
    credentials: tuple[tuple[str, BrokerCredential], ...] = ()


def demo_emails() -> tuple[str, ...]:
    """Every demo account, in creation order."""
    emails = [actor.user_id for actor, _ in STAFF]
    for story in STORIES:
        emails.append(story.email)
        if story.supporter is not None:
            emails.append(story.supporter[0])
    return tuple(emails)


def demo_loaded(clinic: Clinic) -> bool:
    return clinic.find_user(THERAPIST.user_id) is not None


def _refuse_if_present(clinic: Clinic) -> None:
    """Refuse before writing anything if any demo account or patient already exists."""
    for email in demo_emails():
        if clinic.find_user(email) is not None:
            raise Conflict(
                user_id_for(email),
                f"the demo is already loaded or partly present ({email} exists); "
                "load it into a store without demo data",
            )
    for story in STORIES:
        if _patient_exists(clinic, story):
            raise Conflict(
                story.patient_id,
                f"the demo is already loaded or partly present (MRN {story.mrn} exists); "
                "load it into a store without demo data",
            )


def _patient_exists(clinic: Clinic, story: Story) -> bool:
    """Whether the story's MRN is taken (under any id) or its fixed id is."""
    if clinic.patient_id_by_mrn(story.mrn) is not None:
        return True
    try:
        clinic.patient(story.patient_id)
    except NotFound:
        return False
    return True


# One progress report for the accounts, one per registration, one per story step.
DEMO_STEPS = 2 + sum(1 + len(story.steps) for story in STORIES)


class DemoTarget(Protocol):
    """What the loader writes through: the application's store and its password hasher
    (`application.services.Services` is one)."""

    @property
    def clinic(self) -> Clinic: ...

    @property
    def passwords(self) -> Passwords: ...

    @property
    def writer(self) -> CommandWriter: ...


def load_demo(
    services: DemoTarget,
    password: str,
    progress: Progress | None = None,
    broker: ShareAccess | None = None,
) -> DemoResult:
    """Create the demo accounts and patients; refuse (Conflict) if any already exists.
    With `broker`, issue each directory entry its broker credential (in the result)."""
    clinic, writer = services.clinic, services.writer
    _refuse_if_present(clinic)
    try:
        password_hash = services.passwords.hash(password)  # once: Argon2 is slow on purpose
    except ValueError as exc:
        raise InvalidInput.single("password", str(exc).removeprefix("password: ")) from None

    # Accounts first, the therapist's before any other, so that a second loader running at
    # the same time fails on its first write and records nothing.
    for actor, display_name in STAFF:
        create_user_now(
            writer,
            SYSTEM,
            email=actor.user_id,
            display_name=display_name,
            role=actor.role,
            organisation=actor.organisation,
            password_hash=password_hash,
        )
    for story in STORIES:
        create_user_now(
            writer,
            SYSTEM,
            email=story.email,
            display_name=story.display_name,
            role=Role.PATIENT,
            organisation=SELF,
            password_hash=password_hash,
            patient_id=story.patient_id,
        )
        if story.supporter is not None:
            email, display_name = story.supporter
            create_user_now(
                writer,
                SYSTEM,
                email=email,
                display_name=display_name,
                role=Role.SUPPORTER,
                organisation=FAMILY,
                password_hash=password_hash,
                patient_id=story.patient_id,
            )
    if progress is not None:
        progress("Demo accounts created")

    patients = []
    for story in STORIES:
        chart = Chart(writer, story.patient_id, story.weeks_ago, progress)
        register_now(
            writer, SYSTEM, chart.at(0, 8), patient_id=story.patient_id, **story.demographics()
        )
        if progress is not None:
            progress(f"{story.display_name}: registered")
        story.tell(chart)
        patients.append(DemoPatient(story.mrn, story.patient_id, story.display_name, story.title))
    grant_demo_consents(writer, {story.email: story.patient_id for story in STORIES})
    if progress is not None:
        progress("Consents recorded")
    credentials: list[tuple[str, BrokerCredential]] = []
    if broker is not None:
        for entry in sorted(clinic.directory().entries.values(), key=lambda e: e.name):
            credentials.append((entry.name, broker.issue(entry)))
    return DemoResult(demo_emails(), tuple(patients), clinic.position(), tuple(credentials))
