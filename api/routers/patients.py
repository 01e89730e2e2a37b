"""Patients: registration, the record's summary, its timeline and events, the care team."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import (
    CommandBody,
    CommandReceipt,
    CurrentUser,
    ExpectedVersion,
    ServicesDep,
    readable_record,
    run_command,
)
from api.errors import AUTH_ERRORS, PATIENT_ERRORS, WRITE_ERRORS, ErrorBody
from domain.access import visible_events
from domain.errors import NotPermittedAuthor
from domain.registration import MRN_PATTERN
from domain.vocabulary import TREATING_ROLES, Role, Sex, ShortText, TelehealthPreference
from projections.timeline import timeline

router = APIRouter(prefix="/patients", tags=["patients"])


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


class PatientCreate(DemographicsBody):
    mrn: str = Field(pattern=MRN_PATTERN, description="Medical record number, unique.")


class TeamMemberCreate(CommandBody):
    user_id: ShortText = Field(description="The member's sign-in email.")
    role: Role
    organisation: ShortText
    part2_program: bool = False


class TeamMemberRemoval(CommandBody):
    reason: ShortText


class MemberPublic(BaseModel):
    user_id: str
    role: str
    organisation: str
    part2_program: bool


class MedicationSummary(BaseModel):
    medication_id: UUID
    drug: str
    dose: str
    status: str


class PatientPublic(BaseModel):
    id: UUID
    mrn: str
    name: str
    version: int
    phase: str | None
    team: list[MemberPublic]
    medications: list[MedicationSummary]


class TimelineEntryPublic(BaseModel):
    version: int
    clinical_time: datetime
    recorded_at: datetime
    actor: str
    role: str
    organisation: str
    data_class: str
    kind: str
    summary: str


class EventPublic(BaseModel):
    version: int
    kind: str
    data_class: str
    clinical_time: datetime
    recorded_at: datetime
    actor: dict[str, str]
    payload: dict[str, Any]


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
def register_patient(
    body: PatientCreate, user: CurrentUser, services: ServicesDep
) -> CommandReceipt:
    """Open a record. The registering clinician joins the care team in the same write."""
    if user.role not in TREATING_ROLES:
        raise NotPermittedAuthor(
            f"a {user.role.value} may not register patients", field="actor.role"
        )
    receipt = services.clinic.register_patient(
        user.actor, body.at(), join_team=True, **body.fields()
    )
    return CommandReceipt(
        patient_id=receipt.aggregate_id,
        version=receipt.version,
        position=receipt.position,
        created_id=receipt.aggregate_id,
    )


@router.get("/{patient_id}", response_model=PatientPublic, responses=PATIENT_ERRORS)
def read_patient(patient_id: UUID, user: CurrentUser, services: ServicesDep) -> PatientPublic:
    record = readable_record(services, user, patient_id)
    state = record.state
    return PatientPublic(
        id=record.id,
        mrn=state.mrn,
        name=state.name,
        version=record.version,
        phase=state.phase,
        team=[
            MemberPublic(
                user_id=m.user_id,
                role=m.role.value,
                organisation=m.organisation,
                part2_program=m.part2_program,
            )
            for m in state.team.values()
            if m.active
        ],
        medications=[
            MedicationSummary(medication_id=mid, drug=m.drug, dose=str(m.dose), status=m.status)
            for mid, m in state.medications.items()
        ],
    )


@router.get(
    "/{patient_id}/timeline", response_model=list[TimelineEntryPublic], responses=PATIENT_ERRORS
)
def read_timeline(
    patient_id: UUID, user: CurrentUser, services: ServicesDep
) -> list[TimelineEntryPublic]:
    readable_record(services, user, patient_id)
    events = visible_events(services.clinic.patient_events(patient_id), user.actor)
    return [TimelineEntryPublic.model_validate(e, from_attributes=True) for e in timeline(events)]


@router.get("/{patient_id}/events", response_model=list[EventPublic], responses=PATIENT_ERRORS)
def read_events(
    patient_id: UUID,
    user: CurrentUser,
    services: ServicesDep,
    after_version: int = 0,
) -> list[EventPublic]:
    """The record's events with their payloads (psychotherapy notes: author only)."""
    readable_record(services, user, patient_id)
    base = {
        "originator_id",
        "originator_version",
        "timestamp",
        "event_id",
        "actor",
        "data_class",
        "clinical_time",
        "originator_topic",
    }
    return [
        EventPublic(
            version=e.originator_version,
            kind=type(e).__name__,
            data_class=e.data_class.value,
            clinical_time=e.clinical_time,
            recorded_at=e.timestamp,
            actor=e.actor.model_dump(mode="json"),
            payload=e.model_dump(mode="json", exclude=base),
        )
        for e in visible_events(services.clinic.patient_events(patient_id), user.actor)
        if e.originator_version > after_version
    ]


@router.put("/{patient_id}/demographics", response_model=CommandReceipt, responses=WRITE_ERRORS)
async def update_demographics(
    patient_id: UUID,
    body: DemographicsBody,
    user: CurrentUser,
    services: ServicesDep,
    expected_version: ExpectedVersion = None,
) -> CommandReceipt:
    return await run_command(
        services,
        user,
        patient_id,
        lambda r: r.update_demographics(user.actor, body.at(), **body.fields()),
        expected_version,
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
    return await run_command(
        services,
        user,
        patient_id,
        lambda r: r.add_team_member(user.actor, body.at(), **body.fields()),
        expected_version,
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
    return await run_command(
        services,
        user,
        patient_id,
        lambda r: r.remove_team_member(user.actor, body.at(), user_id=user_id, reason=body.reason),
        expected_version,
    )
