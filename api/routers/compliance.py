"""Compliance: who saw what, accounting of disclosures, the break-the-glass review queue,
replay of any past read, and the log's integrity. Audit records only, never clinical
content (the reviewer reads summaries of access, not the record itself)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUser, ServicesDep, viewer_of
from api.errors import AUTH_ERRORS, ErrorBody
from domain.access import check_auditor
from domain.errors import NotFound
from domain.events import now
from domain.vocabulary import Text
from projections.record_index import AccessRow

router = APIRouter(prefix="/compliance", tags=["compliance"])
ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    403: {"model": ErrorBody, "description": "Not a compliance reviewer"},
    404: {"model": ErrorBody, "description": "No such access record"},
    409: {"model": ErrorBody, "description": "Already reviewed, or needs no review"},
}
Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv")]
# 45 CFR 164.528(a): an accounting covers the six years before the request.
ACCOUNTING_YEARS = 6


class AccessPublic(BaseModel):
    access_id: UUID
    position: int
    at: datetime
    user_id: str
    role: str
    organisation: str
    patient_id: UUID
    view: str
    purpose: str
    basis: str
    classes: list[str]
    consents: list[UUID]
    reflected_position: int
    response_sha256: str
    emergency_reason: str | None
    part2: bool
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_outcome: str | None


class Disclosure(BaseModel):
    date: datetime
    recipient: str
    recipient_organisation: str
    description: str
    purpose: str
    basis: str
    access_id: UUID


class Accounting(BaseModel):
    patient_id: UUID
    since: datetime
    disclosures: list[Disclosure]
    part2_disclosures: list[Disclosure]


class ReviewBody(BaseModel):
    outcome: Literal["appropriate", "inappropriate", "needs-follow-up"]
    note: Text


class ReplayPublic(BaseModel):
    access_id: UUID
    matches: bool
    original_sha256: str
    replayed_sha256: str


class Verification(BaseModel):
    intact: bool
    checked: int
    head: int
    head_link: str
    first_broken: int | None
    reason: str


def _public(row: AccessRow) -> AccessPublic:
    return AccessPublic(
        access_id=row.access_id,
        position=row.position,
        at=row.at,
        user_id=row.user_id,
        role=row.role,
        organisation=row.organisation,
        patient_id=row.patient_id,
        view=row.view,
        purpose=row.purpose,
        basis=row.basis,
        classes=list(row.classes),
        consents=list(row.consents),
        reflected_position=row.reflected_position,
        response_sha256=row.response_sha256,
        emergency_reason=row.emergency_reason,
        part2=row.part2,
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at,
        review_outcome=row.review_outcome,
    )


def _csv(models: Sequence[BaseModel]) -> Response:
    out = io.StringIO()
    if models:
        fields = list(type(models[0]).model_fields)
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        for m in models:
            writer.writerow(
                {
                    k: ("|".join(map(str, v)) if isinstance(v, list) else v)
                    for k, v in m.model_dump(mode="json").items()
                }
            )
    return Response(out.getvalue(), media_type="text/csv")


@router.get("/access", response_model=list[AccessPublic], responses=ERRORS)
def who_saw_what(
    user: CurrentUser,
    services: ServicesDep,
    patient_id: UUID | None = None,
    user_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    format: Format = "json",
) -> Any:
    """Who saw patient X in a period, or what user Y saw (either filter, or both)."""
    check_auditor(viewer_of(user))
    rows = services.reader.index.view.accesses(
        patient_id=patient_id,
        user_id=user_id.lower() if user_id else None,
        since=since,
        until=until,
    )
    public = [_public(r) for r in rows]
    return _csv(public) if format == "csv" else public


def _disclosure(row: AccessRow) -> Disclosure:
    return Disclosure(
        date=row.at,
        recipient=row.user_id,
        recipient_organisation=row.organisation,
        description=f"{row.view} of the record: {', '.join(row.classes) or 'nothing'}",
        purpose=row.purpose,
        basis=row.basis,
        access_id=row.access_id,
    )


@router.get("/disclosures/{patient_id}", response_model=Accounting, responses=ERRORS)
def accounting_of_disclosures(
    patient_id: UUID, user: CurrentUser, services: ServicesDep, format: Format = "json"
) -> Any:
    """Every disclosure outside the treating team (under a consent, or break-the-glass)
    over the last six years (45 CFR 164.528), Part 2 disclosures listed apart (42 CFR 2.25)."""
    check_auditor(viewer_of(user))
    since = now() - timedelta(days=365 * ACCOUNTING_YEARS + 2)
    rows = services.reader.index.view.accesses(
        patient_id=patient_id, since=since, basis=("consent", "break-the-glass")
    )
    general = [_disclosure(r) for r in rows if not r.part2]
    part2 = [_disclosure(r) for r in rows if r.part2]
    if format == "csv":
        return _csv([*general, *part2])
    return Accounting(
        patient_id=patient_id, since=since, disclosures=general, part2_disclosures=part2
    )


@router.get("/break-glass", response_model=list[AccessPublic], responses=ERRORS)
def review_queue(user: CurrentUser, services: ServicesDep) -> list[AccessPublic]:
    """Break-the-glass reads not yet reviewed, oldest first."""
    check_auditor(viewer_of(user))
    return [_public(r) for r in services.reader.index.view.accesses(unreviewed_only=True)]


@router.post("/break-glass/{access_id}/review", response_model=AccessPublic, responses=ERRORS)
async def review(
    access_id: UUID, body: ReviewBody, user: CurrentUser, services: ServicesDep
) -> AccessPublic:
    check_auditor(viewer_of(user))

    def act() -> int:
        try:
            record: Any = services.clinic.repository.get(access_id)
        except AggregateNotFoundError:
            raise NotFound("access record", access_id) from None
        record.review(user.actor, now(), outcome=body.outcome, note=body.note)
        return int(services.clinic.save(record)[-1].notification.id)

    position = await run_in_threadpool(act)
    await run_in_threadpool(services.reader.index.wait_for, position)
    row = services.reader.index.view.access(access_id)
    if row is None:
        raise NotFound("access record", access_id)
    return _public(row)


@router.get("/access/{access_id}/replay", response_model=ReplayPublic, responses=ERRORS)
def replay(access_id: UUID, user: CurrentUser, services: ServicesDep) -> ReplayPublic:
    """Rebuild the exact answer of a past read from the log and compare its hash."""
    check_auditor(viewer_of(user))
    if services.reader.index.view.access(access_id) is None:
        raise NotFound("access record", access_id)
    result = services.reader.replay(access_id)
    return ReplayPublic(
        access_id=access_id,
        matches=result.matches,
        original_sha256=result.original_sha256,
        replayed_sha256=result.replayed_sha256,
    )


@router.get("/verify", response_model=Verification, responses=ERRORS)
def verify_log(user: CurrentUser, services: ServicesDep) -> Verification:
    """Whether the stored log (clinical events and access records) is intact, and if not
    the first broken position."""
    check_auditor(viewer_of(user))
    if services.chain is None:
        raise NotFound("hash chain", "configured")
    services.chain.extend()
    result = services.chain.verify()
    return Verification(
        intact=result.intact,
        checked=result.checked,
        head=result.head,
        head_link=result.head_link_hex,
        first_broken=result.first_broken,
        reason=result.reason,
    )
