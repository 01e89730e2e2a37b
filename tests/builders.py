"""Small builders for synthetic patients and care teams (no real people, ever)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from adapters.clinic import Clinic, Receipt
from domain.events import Actor, now
from domain.vocabulary import Role

SYSTEM = Actor.system("tests")
THERAPIST = Actor(user_id="therapist@test", role=Role.THERAPIST, organisation="Test Clinic")
PRESCRIBER = Actor(user_id="prescriber@test", role=Role.PRESCRIBER, organisation="Test Clinic")


def ago(**delta: float) -> datetime:
    return now() - timedelta(**delta)


def register_with_team(clinic: Clinic, given_name: str = "Testa") -> Receipt:
    """A registered synthetic patient with a therapist and a prescriber on the team."""
    mrn = f"T-{uuid.uuid4().hex[:10]}"
    receipt = clinic.register_patient(
        SYSTEM,
        ago(days=30),
        mrn=mrn,
        given_name=given_name,
        family_name="Synthetic",
        birth_date=date(1991, 4, 2),
        sex_at_birth="female",
    )
    for actor in (THERAPIST, PRESCRIBER):
        clinic.act(
            receipt.aggregate_id,
            lambda r, a=actor: r.add_team_member(
                SYSTEM, ago(days=30), user_id=a.user_id, role=a.role, organisation=a.organisation
            ),
        )
    return clinic.act(receipt.aggregate_id, lambda r: None)
