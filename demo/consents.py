"""The demo patients' consents: what each chose to share with whom.

- Ava: her medication list to her primary-care practice (treatment); functional
  recommendations to her employer's occupational health (return to work).
- Ben: measures and functional outcomes to his partner, his supporter (family support).
- Cara: her medication list to her primary-care practice (treatment), under a 42 CFR
  Part 2 consent: her records come from a Part 2 program, and Part 2 is a label beside each
  record's data class, so the practice gets her buprenorphine doses (with the 2.32 notice)
  and nothing else of the program's: no counseling note, drug screen or lapse.
- Dev: functional recommendations and progress markers to his college counseling centre
  (education support; FERPA keeps anything else away from a school).

Every outside recipient they name is first registered in the directory of recipients
(domain/directory.py), with the role it acts in, and each grant names its entry.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal
from uuid import UUID, uuid5

from application.writer import CommandWriter
from demo.common import HARBOR, MAPLE, NORTHFIELD, SYSTEM, patient_actor
from domain.consent import PatientConsents, Purpose
from domain.directory import RecipientDirectory
from domain.events import now
from domain.vocabulary import DataClass, Role

_DEMO = UUID("0b6f4a9e-41c4-4a0e-8f0e-3d1b8f6f2a11")

GRANTS: tuple[
    tuple[
        str, str, Literal["user", "organisation"], str, tuple[DataClass, ...], Purpose, bool, int
    ],
    ...,
] = (
    # (patient email, consent name, kind, recipient, classes, purpose, part2, weeks ago)
    (
        "ava@demo",
        "ava-maple",
        "organisation",
        MAPLE,
        # Her name and birth date with her medications: the practice can tell whom the
        # list is about (Cara's Part 2 consent names her medications alone).
        (DataClass.DEMOGRAPHICS, DataClass.MEDICATION),
        Purpose.TREATMENT,
        False,
        16,
    ),
    (
        "ava@demo",
        "ava-harbor",
        "organisation",
        HARBOR,
        (DataClass.FUNCTIONAL,),
        Purpose.RETURN_TO_WORK,
        False,
        8,
    ),
    (
        "ben@demo",
        "ben-sam",
        "user",
        "supporter@demo",
        (DataClass.MEASURE, DataClass.FUNCTIONAL),
        Purpose.FAMILY_SUPPORT,
        False,
        14,
    ),
    (
        "cara@demo",
        "cara-maple-part2",
        "organisation",
        MAPLE,
        (DataClass.MEDICATION,),
        Purpose.TREATMENT,
        True,
        3,
    ),
    (
        "dev@demo",
        "dev-northfield",
        "organisation",
        NORTHFIELD,
        (DataClass.FUNCTIONAL, DataClass.MEASURE),
        Purpose.EDUCATION_SUPPORT,
        False,
        20,
    ),
)


# The directory of recipients: the organisations the grants name, and the outside people with
# demo accounts (so that a patient's consent form can offer them too): (kind, name, role,
# email).
RECIPIENTS: tuple[tuple[Literal["user", "organisation"], str, Role, str | None], ...] = (
    ("organisation", MAPLE, Role.PRIMARY_CARE, None),
    ("organisation", HARBOR, Role.EMPLOYER, None),
    ("organisation", NORTHFIELD, Role.SCHOOL_COUNSELOR, None),
    ("user", "Sam Okafor (partner)", Role.SUPPORTER, "supporter@demo"),
    ("user", "Dr. Paul Chen, MD", Role.PRIMARY_CARE, "pcp@demo"),
    ("user", "Casey Morgan, LPC", Role.SCHOOL_COUNSELOR, "counselor@demo"),
    ("user", "Erin Walsh, RN (occupational health)", Role.EMPLOYER, "employer@demo"),
)


def register_demo_recipients(writer: CommandWriter) -> dict[str, UUID]:
    """The directory entries, by the text each grant names (an email or a name)."""
    directory = RecipientDirectory.open(SYSTEM, now() - timedelta(weeks=30))
    ids = {
        email or name: directory.register(
            SYSTEM, directory.modified_on, kind=kind, name=name, role=role, email=email
        )
        for kind, name, role, email in RECIPIENTS
    }
    writer.create(directory)
    return ids


def consent_id(name: str) -> UUID:
    return uuid5(_DEMO, name)


def grant_demo_consents(writer: CommandWriter, patients: dict[str, UUID]) -> None:
    """`patients` maps each demo patient's email to their patient id."""
    entries = register_demo_recipients(writer)
    opened: dict[UUID, PatientConsents] = {}
    for email, name, kind, recipient, classes, purpose, part2, weeks in GRANTS:
        patient_id = patients[email]
        at = now() - timedelta(weeks=weeks)
        actor = patient_actor(email)
        consents = opened.get(patient_id)
        if consents is None:
            consents = opened[patient_id] = PatientConsents.open(actor, at, patient_id)
        consents.grant(
            actor,
            at,
            consent_id=consent_id(name),
            recipient_kind=kind,
            recipient=recipient,
            recipient_id=entries[recipient],
            data_classes=list(classes),
            purpose=purpose,
            valid_from=at,
            valid_until=None,
            part2=part2,
        )
    for consents in opened.values():
        writer.create(consents)
