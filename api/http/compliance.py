"""Compliance routes: parse, call the compliance use case (application/compliance.py),
render (JSON, or CSV where asked)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import CurrentUser, ServicesDep
from api.errors import AUTH_ERRORS, ErrorBody
from api.exports import csv_response
from api.http.deps import MinPosition
from application import compliance as use
from application.compliance import (
    AccessPublic,
    Accounting,
    Flagged,
    RefusalPublic,
    ReplayPublic,
    ReviewBody,
    SignInFailurePublic,
    Verification,
)

router = APIRouter(prefix="/compliance", tags=["compliance"])
ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    403: {"model": ErrorBody, "description": "Not a compliance reviewer"},
    404: {"model": ErrorBody, "description": "No such access record"},
    409: {"model": ErrorBody, "description": "Already reviewed, or needs no review"},
}
Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv")]


@router.get("/access", response_model=list[AccessPublic], responses=ERRORS)
def who_saw_what(
    user: CurrentUser,
    services: ServicesDep,
    patient_id: UUID | None = None,
    user_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    format: Format = "json",
    min_position: MinPosition = None,
) -> Any:
    """Who saw patient X in a period, or what user Y saw (either filter, or both)."""
    found = use.who_saw_what(
        services,
        user,
        patient_id=patient_id,
        user_id=user_id,
        since=since,
        until=until,
        min_position=min_position,
    )
    return csv_response(found) if format == "csv" else found


@router.get("/disclosures/{patient_id}", response_model=Accounting, responses=ERRORS)
def accounting_of_disclosures(
    patient_id: UUID,
    user: CurrentUser,
    services: ServicesDep,
    format: Format = "json",
    min_position: MinPosition = None,
) -> Any:
    """Every disclosure outside the treating team (under a consent, or break-the-glass)
    over the last six years (45 CFR 164.528), Part 2 disclosures listed apart (42 CFR 2.25)."""
    found = use.accounting_of_disclosures(services, user, patient_id, min_position)
    if format == "csv":
        return csv_response([*found.disclosures, *found.part2_disclosures])
    return found


@router.get("/refused", response_model=list[RefusalPublic], responses=ERRORS)
def refused_reads(
    user: CurrentUser,
    services: ServicesDep,
    user_id: str | None = None,
    since: datetime | None = None,
    format: Format = "json",
    min_position: MinPosition = None,
) -> Any:
    """Every refused read (an attempted access: who, role, the patient id asked for, when,
    why), oldest first; the callers were told only 403."""
    found = use.refused_reads(
        services, user, user_id=user_id, since=since, min_position=min_position
    )
    return csv_response(found) if format == "csv" else found


@router.get("/sign-ins", response_model=list[SignInFailurePublic], responses=ERRORS)
def failed_sign_ins(
    user: CurrentUser,
    services: ServicesDep,
    username: str | None = None,
    since: datetime | None = None,
    format: Format = "json",
    min_position: MinPosition = None,
) -> Any:
    """Every refused sign-in (the username tried, the client address, when, why), oldest
    first; the callers were told only 401. Passwords are never kept."""
    found = use.sign_in_failures(
        services, user, username=username, since=since, min_position=min_position
    )
    return csv_response(found) if format == "csv" else found


@router.get("/refused/flagged", response_model=list[Flagged], responses=ERRORS)
def flagged_users(user: CurrentUser, services: ServicesDep) -> list[Flagged]:
    """Users refused again and again in a short window (5 within 10 minutes, last 30 days)."""
    return use.flagged_users(services, user)


@router.get("/break-glass", response_model=list[AccessPublic], responses=ERRORS)
def review_queue(
    user: CurrentUser, services: ServicesDep, min_position: MinPosition = None
) -> list[AccessPublic]:
    """Break-the-glass reads not yet reviewed, oldest first. A break-the-glass answer's
    X-Access-Position, given as `min_position`, makes sure its record is listed."""
    return use.review_queue(services, user, min_position)


@router.post("/break-glass/{access_id}/review", response_model=AccessPublic, responses=ERRORS)
async def review(
    access_id: UUID, body: ReviewBody, user: CurrentUser, services: ServicesDep
) -> AccessPublic:
    return await use.review(services, user, access_id, body)


@router.get("/access/{access_id}/replay", response_model=ReplayPublic, responses=ERRORS)
def replay(
    access_id: UUID, user: CurrentUser, services: ServicesDep, min_position: MinPosition = None
) -> ReplayPublic:
    """Rebuild the exact answer of a past read from the log and compare its hash."""
    return use.replay(services, user, access_id, min_position)


@router.get("/verify", response_model=Verification, responses=ERRORS)
def verify_log(user: CurrentUser, services: ServicesDep) -> Verification:
    """Whether the stored log (clinical events and access records) is intact, and if not
    the first broken position."""
    return use.verify_log(services, user)
