"""Consents: granted by the patient (or documented by a treating clinician from a signed
authorization), amended, revoked. A revocation counts from the very next read: reads load
the patient's consents from the store itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from adapters.bootstrap import Services
from api.deps import CommandReceipt, CurrentUser, ServicesDep, viewer_of
from api.errors import WRITE_ERRORS
from domain.access import denied, may_manage_consents
from domain.consent import PatientConsents, Purpose, consents_id_for
from domain.errors import NotFound
from domain.events import now
from domain.users import User
from domain.vocabulary import DataClass, ShortText, Text

router = APIRouter(prefix="/patients/{patient_id}/consents", tags=["consents"])


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    clinical_time: AwareDatetime | None = None


class ConsentCreate(Body):
    consent_id: UUID = Field(default_factory=uuid4)
    recipient_kind: Literal["user", "organisation"]
    recipient: ShortText = Field(description="The recipient's sign-in email, or an organisation.")
    data_classes: list[DataClass] = Field(min_length=1, max_length=len(DataClass))
    purpose: Purpose
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    until_end_of_treatment: bool = False
    part2: bool = False


class ConsentAmendment(Body):
    data_classes: list[DataClass] | None = Field(
        default=None, min_length=1, max_length=len(DataClass)
    )
    valid_until: AwareDatetime | None = None


class ConsentRevocation(Body):
    reason: Text


def _consents_act(
    services: Services, user: User, patient_id: UUID, command: Any, created: UUID | None = None
) -> CommandReceipt:
    """Check who may keep this patient's consents, then load, act and save."""
    try:
        record = services.clinic.patient(patient_id)
    except NotFound:
        raise denied(patient_id) from None
    if not may_manage_consents(viewer_of(user), patient_id, record.state.team):
        raise denied(patient_id)
    try:
        consents: Any = services.clinic.repository.get(consents_id_for(patient_id))
    except AggregateNotFoundError:
        consents = PatientConsents.open(user.actor, now(), patient_id)
    command(consents)
    receipt = services.clinic.commit(consents)
    services.reader.index.wake()
    return CommandReceipt(
        patient_id=patient_id,
        version=receipt.version,
        position=receipt.position,
        created_id=created,
    )


def _at(body: Body) -> datetime:
    return body.clinical_time or now()


@router.post("", status_code=201, response_model=CommandReceipt, responses=WRITE_ERRORS)
def grant_consent(
    patient_id: UUID, body: ConsentCreate, user: CurrentUser, services: ServicesDep
) -> CommandReceipt:
    """Record a consent: who receives which data classes, for what purpose and period."""
    at = _at(body)
    fields = body.model_dump(exclude={"clinical_time", "valid_from"})
    return _consents_act(
        services,
        user,
        patient_id,
        lambda c: c.grant(user.actor, at, valid_from=body.valid_from or at, **fields),
        body.consent_id,
    )


@router.post("/{consent_id}/amendment", response_model=CommandReceipt, responses=WRITE_ERRORS)
def amend_consent(
    patient_id: UUID,
    consent_id: UUID,
    body: ConsentAmendment,
    user: CurrentUser,
    services: ServicesDep,
) -> CommandReceipt:
    at = _at(body)
    return _consents_act(
        services,
        user,
        patient_id,
        lambda c: c.amend(
            user.actor,
            at,
            consent_id=consent_id,
            data_classes=body.data_classes,
            valid_until=body.valid_until,
        ),
    )


@router.post("/{consent_id}/revocation", response_model=CommandReceipt, responses=WRITE_ERRORS)
def revoke_consent(
    patient_id: UUID,
    consent_id: UUID,
    body: ConsentRevocation,
    user: CurrentUser,
    services: ServicesDep,
) -> CommandReceipt:
    """Revoke in writing (45 CFR 164.508(b)(5), 42 CFR 2.31): nothing new flows after it."""
    at = _at(body)
    return _consents_act(
        services,
        user,
        patient_id,
        lambda c: c.revoke(user.actor, at, consent_id=consent_id, reason=body.reason),
    )
