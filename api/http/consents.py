"""Consent routes: parse, call the consent use case (application/consents.py), answer."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.deps import CurrentUser, ServicesDep
from api.errors import WRITE_ERRORS
from application.schemas.base import CommandReceipt
from application.schemas.consents import ConsentAmendment, ConsentCreate, ConsentRevocation

router = APIRouter(prefix="/patients/{patient_id}/consents", tags=["consents"])


@router.post("", status_code=201, response_model=CommandReceipt, responses=WRITE_ERRORS)
async def grant_consent(
    patient_id: UUID, body: ConsentCreate, user: CurrentUser, services: ServicesDep
) -> CommandReceipt:
    """Record a consent: who receives which data classes, for what purpose and period."""
    return await services.consents.grant(user, patient_id, body)


@router.post("/{consent_id}/amendment", response_model=CommandReceipt, responses=WRITE_ERRORS)
async def amend_consent(
    patient_id: UUID,
    consent_id: UUID,
    body: ConsentAmendment,
    user: CurrentUser,
    services: ServicesDep,
) -> CommandReceipt:
    return await services.consents.amend(user, patient_id, consent_id, body)


@router.post("/{consent_id}/revocation", response_model=CommandReceipt, responses=WRITE_ERRORS)
async def revoke_consent(
    patient_id: UUID,
    consent_id: UUID,
    body: ConsentRevocation,
    user: CurrentUser,
    services: ServicesDep,
) -> CommandReceipt:
    """Revoke in writing (45 CFR 164.508(b)(5), 42 CFR 2.31): nothing new flows after it."""
    return await services.consents.revoke(user, patient_id, consent_id, body)
