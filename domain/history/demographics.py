"""Who the patient is: their details as last registered or updated."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.record import kinds
from domain.registration import DemographicsUpdated, PatientRegistered
from domain.rules.care import Fact

DETAILS = kinds(PatientRegistered, DemographicsUpdated)


@dataclass(frozen=True)
class PatientDetails:
    given_name: str
    family_name: str
    birth_date: date
    sex_at_birth: str | None
    preferred_language: Any
    interpreter_needed: Any
    telehealth_preference: Any
    mrn: str | None  # from the registration: an update does not carry it
    email: str | None  # the last address given (an update without one keeps it)

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"


def demographics(facts: Iterable[Fact]) -> PatientDetails | None:
    """The patient's details as the last registration or update among the facts leaves
    them; None if the facts hold neither."""
    found: PatientDetails | None = None
    for fact in facts:
        if fact.kind not in DETAILS:
            continue
        p = fact.payload
        mrn = p.get("mrn", found.mrn if found else None)
        found = PatientDetails(
            given_name=str(p["given_name"]),
            family_name=str(p["family_name"]),
            birth_date=date.fromisoformat(str(p["birth_date"])),
            sex_at_birth=p.get("sex_at_birth"),
            preferred_language=p.get("preferred_language"),
            interpreter_needed=p.get("interpreter_needed"),
            telehealth_preference=p.get("telehealth_preference"),
            mrn=None if mrn is None else str(mrn),
            email=p.get("email") or (found.email if found else None),
        )
    return found
