"""Reading a patient: every answer decided by the access policy and recorded.

Every route here goes through `application.reading.Reader`: the policy decides from role,
care-team membership and the consents in force; the answer is built from the record index;
an access record (who, role, patient, view, classes returned, consents relied on, purpose,
log position, response hash) is durably stored before the bytes are sent.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from api.deps import CurrentUser, ServicesDep, viewer_of
from api.errors import PATIENT_ERRORS, ErrorBody
from api.http.deps import MinPosition
from application.audited import AuditedAnswer
from application.reading import (
    CARE_ITEMS,
    PAGE_DEFAULT,
    PAGE_MAX,
    PAGED_KINDS,
    SCORED_OUTCOMES,
    Page,
    ReadRequest,
    default_purpose,
)
from application.schemas.reads import BreakGlassRequest
from domain.consent import Purpose

router = APIRouter(prefix="/patients/{patient_id}", tags=["views"])

AsOf = Annotated[
    int | None, Query(ge=1, description="Answer as the view stood at this log position.")
]
PurposeQuery = Annotated[
    Purpose | None,
    Query(
        description="Why the record is read (default: the purpose of the reader's role: "
        "return-to-work for employers, education-support for school counselors, "
        "family-support for supporters, treatment for everyone else)."
    ),
]
READ_ERRORS: dict[int | str, dict[str, Any]] = {
    **PATIENT_ERRORS,
    503: {"model": ErrorBody, "description": "The view has not reached min_position yet"},
}


class ViewPublic(BaseModel):
    """A patient view: which sections appear depends on the role and what it may see."""

    patient_id: UUID
    view: str
    viewer_role: str
    basis: str
    purpose: str
    as_of_position: int
    consents: list[UUID]
    notice: str | None
    classes: list[str]
    record_version: int | None = None
    patient: dict[str, Any] | None = None
    team: list[dict[str, Any]] | None = None
    medications: list[dict[str, Any]] | None = None
    functional_recommendations: list[dict[str, Any]] | None = None
    entries: list[dict[str, Any]] | None = None
    page: dict[str, Any] | None = None
    consent_events: list[dict[str, Any]] | None = None
    name: str | None = None
    due: list[dict[str, Any]] | None = None
    overdue: list[dict[str, Any]] | None = None
    upcoming: list[dict[str, Any]] | None = None
    alerts: list[dict[str, Any]] | None = None
    missed_sessions: list[dict[str, Any]] | None = None
    unacknowledged_messages: list[dict[str, Any]] | None = None
    series: dict[str, dict[str, Any]] | None = None
    functional_outcomes: list[dict[str, Any]] | None = None
    sleep: list[dict[str, Any]] | None = None
    medication_timeline: list[dict[str, Any]] | None = None


def answer(found: AuditedAnswer) -> Response:
    """The recorded bytes, as they were hashed, with the access record that holds them."""
    return Response(
        found.body,
        media_type="application/json",
        headers={
            "X-Access-Id": str(found.access_id),
            "X-Access-Position": str(found.access_position),
        },
    )


# The operation keeps its name when its route moves to a newer view kind.
# Kinds whose route keeps the operation id of the kind it read before.
OPERATION = {
    CARE_ITEMS: "care",
    "consent-list": "consents",
    "timeline-page": "timeline",
    "events-page": "events",
    "view-page": "view",
    SCORED_OUTCOMES: "outcomes",
}
Before = Annotated[
    int | None,
    Query(description="The next page: the `next_before` the previous page gave (log position)."),
]
Limit = Annotated[
    int,
    Query(description=f"Entries per page (at most {PAGE_MAX})."),
]


def _read(kind: str, summary: str) -> Any:
    if kind in PAGED_KINDS:
        return _read_page(kind, summary)

    async def endpoint(
        patient_id: UUID,
        user: CurrentUser,
        services: ServicesDep,
        purpose: PurposeQuery = None,
        min_position: MinPosition = None,
        as_of: AsOf = None,
    ) -> Response:
        chosen = purpose or default_purpose(user.role)
        request = ReadRequest(viewer_of(user), patient_id, kind, chosen, None, min_position, as_of)
        return answer(await services.reads.read(request, user.actor))

    endpoint.__name__ = f"read_{OPERATION.get(kind, kind)}"
    endpoint.__doc__ = summary
    return endpoint


def _read_page(kind: str, summary: str) -> Any:
    async def endpoint(
        patient_id: UUID,
        user: CurrentUser,
        services: ServicesDep,
        purpose: PurposeQuery = None,
        min_position: MinPosition = None,
        as_of: AsOf = None,
        before: Before = None,
        limit: Limit = PAGE_DEFAULT,
    ) -> Response:
        chosen = purpose or default_purpose(user.role)
        request = ReadRequest(
            viewer_of(user),
            patient_id,
            kind,
            chosen,
            None,
            min_position,
            as_of,
            page=Page(before, limit),
        )
        return answer(await services.reads.read(request, user.actor))

    endpoint.__name__ = f"read_{OPERATION.get(kind, kind)}"
    endpoint.__doc__ = summary
    return endpoint


PAGED = f" Newest first, {PAGE_DEFAULT} at a time: `page.next_before` names the next (older) page."

for _path, _kind, _summary in (
    ("", "summary", "The patient's summary as this user may see it."),
    (
        "/view",
        "view-page",
        "The role's view of the patient: the sections its work needs, its timeline" + PAGED,
    ),
    ("/timeline", "timeline-page", "The events this user may see." + PAGED),
    ("/events", "events-page", "The events this user may see, with their payloads." + PAGED),
    (
        "/consents",
        "consent-list",
        "The patient's consents, as this user may see them: the history, and every consent "
        "given with its id, the directory entry it names and whether it is in force.",
    ),
    ("/care", CARE_ITEMS, "Due and overdue items, open alerts, missed sessions, waiting messages."),
    (
        "/outcomes",
        SCORED_OUTCOMES,
        "Each instrument's series (severity, change, response, remission; a screen's "
        "result or triage level), each score with the scoring version and cut-off it was "
        "scored by, functional outcomes and sleep logs.",
    ),
    (
        "/medication-timeline",
        "medications",
        "Doses over time with reasons, side effects, adherence.",
    ),
):
    router.add_api_route(
        _path,
        _read(_kind, _summary),
        methods=["GET"],
        response_model=ViewPublic,
        responses=READ_ERRORS,
        operation_id=f"read_{OPERATION.get(_kind, _kind)}",
    )


@router.post("/break-glass", response_model=ViewPublic, responses=READ_ERRORS)
async def break_the_glass(
    patient_id: UUID, body: BreakGlassRequest, user: CurrentUser, services: ServicesDep
) -> Response:
    """Emergency read without consent (42 CFR 2.51): recorded at once with its reason and
    put on the compliance review queue."""
    request = ReadRequest(
        viewer_of(user), patient_id, "view-page", Purpose.TREATMENT, body.reason, None, None
    )
    return answer(await services.reads.read(request, user.actor))
