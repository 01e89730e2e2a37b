"""Patients: registration, the record's summary, its timeline and events, the care team."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import Field

from api.deps import CurrentUser, ServicesDep
from api.errors import AUTH_ERRORS, WRITE_ERRORS, ErrorBody
from api.http.deps import ExpectedVersion
from application.recording import record, register
from application.schemas.base import CommandBody, CommandReceipt
from application.schemas.patients import DemographicsBody, PatientCreate
from application.search import SearchResult, search_patients
from domain.vocabulary import Role, ShortText

router = APIRouter(prefix="/patients", tags=["patients"])


class TeamMemberCreate(CommandBody):
    user_id: ShortText = Field(description="The member's sign-in email.")
    role: Role
    organisation: ShortText
    part2_program: bool = False


class TeamMemberRemoval(CommandBody):
    reason: ShortText


@router.get(
    "",
    response_model=SearchResult,
    responses={**AUTH_ERRORS, 422: {"model": ErrorBody, "description": "Empty or unusable query"}},
)
async def find_patients(
    user: CurrentUser,
    services: ServicesDep,
    q: str = Query(
        description="A name (every word must match a whole word of the patient's name, "
        "without case or accents), an MRN, or a birth date (year-month-day)."
    ),
) -> SearchResult:
    """Patients found by name, MRN or birth date that I may see; each one shown is an
    audited read of that patient's identity."""
    return await search_patients(services, user, q)


@router.post(
    "",
    status_code=201,
    response_model=CommandReceipt,
    responses={
        **AUTH_ERRORS,
        403: {"model": ErrorBody, "description": "Role may not register"},
        409: {"model": ErrorBody, "description": "MRN already registered"},
    },
)
async def register_patient(
    body: PatientCreate, user: CurrentUser, services: ServicesDep
) -> CommandReceipt:
    """Open a record. The registering clinician joins the care team in the same write."""
    return await register(services.writer, user, body.at(), **body.fields())


@router.put("/{patient_id}/demographics", response_model=CommandReceipt, responses=WRITE_ERRORS)
async def update_demographics(
    patient_id: UUID,
    body: DemographicsBody,
    user: CurrentUser,
    services: ServicesDep,
    expected_version: ExpectedVersion = None,
) -> CommandReceipt:
    return await record(
        services.writer,
        user,
        patient_id,
        lambda r: r.update_demographics(user.actor, body.at(), **body.fields()),
        expected_version=expected_version,
    )


@router.post(
    "/{patient_id}/team-members",
    status_code=201,
    response_model=CommandReceipt,
    responses=WRITE_ERRORS,
)
async def add_team_member(
    patient_id: UUID,
    body: TeamMemberCreate,
    user: CurrentUser,
    services: ServicesDep,
    expected_version: ExpectedVersion = None,
) -> CommandReceipt:
    return await record(
        services.writer,
        user,
        patient_id,
        lambda r: r.add_team_member(user.actor, body.at(), **body.fields()),
        expected_version=expected_version,
    )


@router.post(
    "/{patient_id}/team-members/{user_id}/removal",
    response_model=CommandReceipt,
    responses=WRITE_ERRORS,
)
async def remove_team_member(
    patient_id: UUID,
    user_id: str,
    body: TeamMemberRemoval,
    user: CurrentUser,
    services: ServicesDep,
    expected_version: ExpectedVersion = None,
) -> CommandReceipt:
    return await record(
        services.writer,
        user,
        patient_id,
        lambda r: r.remove_team_member(user.actor, body.at(), user_id=user_id, reason=body.reason),
        expected_version=expected_version,
    )
