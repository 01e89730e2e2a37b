"""Registration and demographics: who the patient is, and whom to call in an emergency."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from application.schemas.base import CommandBody
from application.schemas.values import Strict
from domain.registration import MRN_PATTERN, PHONE_PATTERN
from domain.vocabulary import Sex, ShortText, TelehealthPreference


class DemographicsBody(CommandBody):
    given_name: ShortText
    family_name: ShortText
    birth_date: date
    sex_at_birth: Sex
    gender_identity: ShortText | None = None
    preferred_language: ShortText = "en"
    interpreter_needed: bool = False
    telehealth_preference: TelehealthPreference = TelehealthPreference.EITHER
    phone: ShortText | None = None
    email: ShortText | None = None


class EmergencyContactIn(Strict):
    name: ShortText
    relationship: ShortText = Field(examples=["sister"])
    phone: str = Field(pattern=PHONE_PATTERN, examples=["+1 555 0100"])


class EmergencyContactCreate(CommandBody, EmergencyContactIn):
    """Whom to call in an emergency (the last one set stands)."""


class PatientCreate(DemographicsBody):
    mrn: str = Field(pattern=MRN_PATTERN, description="Medical record number, unique.")
    emergency_contact: EmergencyContactIn | None = None
