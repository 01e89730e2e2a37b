"""Patient search: find patients by name, MRN or birth date.

The index finds candidates by exact search term (`projections.record_index.query_terms`;
with a cipher key it compares keyed hashes, never names). Each candidate is then read
through the one audited read as its "identity" view (name, MRN, birth date), so a search
shows only patients the reader may see, and each one shown leaves an access record. A
candidate the policy refuses is left out, as the board leaves out a patient it may not show
(`listing`): a search that merely finds a patient one may not see is not an attempt to read.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from anyio import to_thread
from pydantic import BaseModel

from application.reading import ReadRequest, default_purpose, viewer_of
from application.services import Services
from domain.errors import AccessDenied
from domain.users import User
from projections.record_index import query_terms

MAX_FOUND = 50


class FoundPatient(BaseModel):
    patient_id: UUID
    name: str | None
    mrn: str | None
    birth_date: str | None
    access_id: UUID


class SearchResult(BaseModel):
    patients: list[FoundPatient]
    more: bool


class PatientList(BaseModel):
    patients: list[FoundPatient]
    page: int
    pages: int
    total: int


LIST_PAGE = 50


async def my_patients(services: Services, user: User, page: int = 1) -> PatientList:
    """The patients whose care team the reader is on, a page of LIST_PAGE at a time (in the
    order they joined it), each an audited read of the patient's identity view, as search's
    are; a patient the policy no longer lets them see is left out."""
    ids = [
        pid for pid, _ in await to_thread.run_sync(services.reader.index.view.caseload, user.email)
    ]
    pages = max(1, -(-len(ids) // LIST_PAGE))
    page = min(max(page, 1), pages)
    chosen = ids[(page - 1) * LIST_PAGE : page * LIST_PAGE]
    viewer = viewer_of(user)
    reads = [ReadRequest(viewer, pid, "identity", default_purpose(user.role)) for pid in chosen]
    found: list[FoundPatient] = []
    for patient_id, answer in zip(
        chosen, await services.reads.read_listing(reads, user.actor), strict=True
    ):
        shown = answer.json().get("patient") if answer is not None else None
        if answer is None or shown is None:
            continue
        found.append(
            FoundPatient(
                patient_id=patient_id,
                name=shown.get("name"),
                mrn=shown.get("mrn"),
                birth_date=shown.get("birth_date"),
                access_id=answer.access_id,
            )
        )
    return PatientList(patients=found, page=page, pages=pages, total=len(ids))


async def search_patients(
    services: Services, user: User, text: str, field: str = "q"
) -> SearchResult:
    """The patients a name (every word), an MRN or a birth date finds, that the reader may
    see, each an audited read of the patient's identity view."""
    terms = query_terms(text, field)
    candidates = await to_thread.run_sync(services.reader.index.view.find_patients, terms)
    viewer = viewer_of(user)
    found: list[FoundPatient] = []
    for patient_id in candidates:
        if len(found) == MAX_FOUND:
            return SearchResult(patients=found, more=True)
        request = ReadRequest(viewer, patient_id, "identity", default_purpose(user.role))
        try:
            answer = await services.reads.read(request, user.actor, listing=True)
        except AccessDenied:
            continue
        shown: dict[str, Any] | None = answer.json().get("patient")
        if shown is None:
            continue  # a role whose views never show who the patient is
        found.append(
            FoundPatient(
                patient_id=patient_id,
                name=shown.get("name"),
                mrn=shown.get("mrn"),
                birth_date=shown.get("birth_date"),
                access_id=answer.access_id,
            )
        )
    return SearchResult(patients=found, more=False)
