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
from application.schemas.directory import (
    BrokerCredential,
    DirectoryReceipt,
    RecipientCreate,
    RecipientPublic,
    RecipientRemoval,
)

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
    with the role it acts in; consents name it by the entry_id answered. With a broker
    configured, the answer holds the entry's broker credential, shown this once."""
    return await services.directory.register(user.actor, body)


@router.post(
    "/directory/{entry_id}/removal", response_model=DirectoryReceipt, responses=WRITE_ERRORS
)
async def remove_recipient(
    entry_id: UUID, body: RecipientRemoval, user: CurrentUser, services: ServicesDep
) -> DirectoryReceipt:
    """Take an entry out of the directory: consents naming it open nothing from now on,
    and its broker credential and ACLs are revoked."""
    return await services.directory.remove(user.actor, entry_id, body)


@router.post(
    "/directory/{entry_id}/credential", response_model=BrokerCredential, responses=WRITE_ERRORS
)
async def issue_credential(
    entry_id: UUID, user: CurrentUser, services: ServicesDep
) -> BrokerCredential:
    """A new broker credential for the entry (shown this once); an earlier one stops working."""
    return await services.directory.issue_credential(user.actor, entry_id)


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
