"""The patient's own reads of their record as theirs (application.portal), for a patient's
bearer token: who has seen their record, and their copy of it (45 CFR 164.524). Each goes
through the one audited read and answers its recorded bytes, with the access record that
holds them (`X-Access-Id`). Any other account is refused (403) before anything is read."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from api.deps import CurrentUser, ServicesDep
from api.errors import PATIENT_ERRORS
from api.http.views import Before, Limit, answer
from application import portal
from application.reading import PAGE_DEFAULT, Page

router = APIRouter(prefix="/me", tags=["portal"])


class ReadOfMyRecord(BaseModel):
    """One read of the patient's record, from its access record."""

    access_id: UUID
    position: int
    at: datetime
    user_id: str
    name: str | None
    role: str
    organisation: str
    view: str
    sections: list[str]
    classes: list[str]
    purpose: str
    basis: str
    consents: list[dict[str, Any]]
    emergency_reason: str | None
    part2: bool


class AccessLogPublic(BaseModel):
    """Who has seen the patient's record: a page of its reads, newest first, the patient's
    own left out (`page.next_before` names the next, older page)."""

    patient_id: UUID
    view: str
    viewer_role: str
    basis: str
    purpose: str
    as_of_position: int
    consents: list[UUID]
    notice: str | None
    reads: list[ReadOfMyRecord]
    page: dict[str, Any]
    classes: list[str]
    part2: bool


class RecordExportPublic(BaseModel):
    """The patient's designated record set (45 CFR 164.524): their details, every entry
    with its payload, their consents; never a psychotherapy note (`excluded`)."""

    patient_id: UUID
    view: str
    viewer_role: str
    basis: str
    purpose: str
    as_of_position: int
    consents: list[UUID]
    notice: str | None
    patient: dict[str, Any] | None
    entries: list[dict[str, Any]]
    consent_events: list[dict[str, Any]]
    consents_given: list[dict[str, Any]]
    excluded: list[str]
    classes: list[str]
    part2: bool


@router.get("/access-log", response_model=AccessLogPublic, responses=PATIENT_ERRORS)
async def read_my_access_log(
    user: CurrentUser, services: ServicesDep, before: Before = None, limit: Limit = PAGE_DEFAULT
) -> Response:
    """Who has seen my record: each read of it (when, who, what, why, on what grounds and
    the consent relied on), newest first, my own left out. For a patient's own account only."""
    return answer(await portal.access_log(services, user, Page(before, limit)))


@router.get("/record", response_model=RecordExportPublic, responses=PATIENT_ERRORS)
async def download_my_record(user: CurrentUser, services: ServicesDep) -> Response:
    """My whole record, to keep (the right of access, 45 CFR 164.524), as an attachment:
    recorded as a disclosure to me for right-of-access. Psychotherapy notes are never in
    it. For a patient's own account only."""
    found = await portal.record_export(services, user)
    response = answer(found)
    filename = portal.export_filename(found, portal.download_day(services))
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
