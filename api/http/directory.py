"""The directory of recipients: parse, call the directory use case
(application/directory.py), answer."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.deps import CurrentUser, ServicesDep
from api.errors import AUTH_ERRORS, WRITE_ERRORS
from application import directory as use
from application.schemas.base import CommandReceipt
from application.schemas.consents import RecipientResolution
from application.schemas.directory import DirectoryReceipt, RecipientCreate, RecipientPublic

router = APIRouter(tags=["directory"])


@router.get("/directory", response_model=list[RecipientPublic], responses=AUTH_ERRORS)
async def list_recipients(user: CurrentUser, services: ServicesDep) -> list[RecipientPublic]:
    """The organisations and people outside the clinic a consent may name."""
    return await services.directory.listing()


@router.post("/directory", status_code=201, response_model=DirectoryReceipt, responses=WRITE_ERRORS)
async def register_recipient(
    body: RecipientCreate, user: CurrentUser, services: ServicesDep
) -> DirectoryReceipt:
    """Register an outside recipient (an organisation, or a person by their sign-in email)
    with the role it acts in; consents name it by the entry_id answered."""
    return await services.directory.register(user.actor, body)


@router.get(
    "/directory/unresolved-consents",
    response_model=list[use.UnresolvedConsent],
    responses=WRITE_ERRORS,
)
async def unresolved_consents(
    user: CurrentUser, services: ServicesDep
) -> list[use.UnresolvedConsent]:
    """Consents stored before the directory whose recipient names no entry, on the
    reader's caseload: they open nothing until resolved."""
    return await use.unresolved_consents(services, user)


@router.post(
    "/patients/{patient_id}/consents/{consent_id}/recipient",
    response_model=CommandReceipt,
    responses=WRITE_ERRORS,
)
async def resolve_recipient(
    patient_id: UUID,
    consent_id: UUID,
    body: RecipientResolution,
    user: CurrentUser,
    services: ServicesDep,
) -> CommandReceipt:
    """Name the directory entry a consent stored before the directory meant."""
    return await services.consents.resolve_recipient(user, patient_id, consent_id, body)
