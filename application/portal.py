"""The patient's portal: what a patient reads of their own record as theirs, through the
one audited read like every other read.

- `access_log`: who has seen their record (the own-access-log kind), a page at a time;
- `record_export`: their copy of their record, the right of access (45 CFR 164.524): the
  record-export kind, read for the purpose right-of-access, one access record (the
  disclosure to the patient), never a psychotherapy note;
- `own_page`: everything their page (/me) shows, the access log's page included (the
  own-portal kind), in one answer and one access record.

Each names no patient: it is the patient whose account reads (NotAPatient for any other
account, before anything is read or recorded). The reader refuses these kinds on any
basis but the patient's own record, so no other route could read them for someone else.
"""

from __future__ import annotations

from datetime import UTC, date
from uuid import UUID

from application.audited import AuditedAnswer
from application.reading import (
    OWN_ACCESS_LOG,
    OWN_PORTAL,
    RECORD_EXPORT,
    Page,
    ReadRequest,
    viewer_of,
)
from application.services import Services
from domain.access import own_patient_of
from domain.consent import Purpose
from domain.events import now
from domain.users import User

# How many reads the patient's page lists at a time (the API's default is PAGE_DEFAULT).
PAGE_READS = 20


def own_patient(user: User) -> UUID:
    """The patient whose own record `user` reads (NotAPatient unless a patient's account)."""
    return own_patient_of(viewer_of(user))


async def access_log(services: Services, user: User, page: Page | None = None) -> AuditedAnswer:
    """One page of the reads of the user's own record, newest first, their own left out."""
    request = ReadRequest(
        viewer_of(user), own_patient(user), OWN_ACCESS_LOG, Purpose.TREATMENT, page=page
    )
    return await services.reads.read(request, user.actor)


async def record_export(services: Services, user: User) -> AuditedAnswer:
    """The user's whole record as theirs to keep (45 CFR 164.524), recorded as a disclosure
    to the patient for right-of-access."""
    request = ReadRequest(
        viewer_of(user), own_patient(user), RECORD_EXPORT, Purpose.RIGHT_OF_ACCESS
    )
    return await services.reads.read(request, user.actor)


async def own_page(
    services: Services, user: User, page: Page | None = None, min_position: int | None = None
) -> AuditedAnswer:
    """Everything the user's own page shows, with the page of their access log asked for
    (default: the newest PAGE_READS); with `min_position`, once the index has reached it."""
    request = ReadRequest(
        viewer_of(user),
        own_patient(user),
        OWN_PORTAL,
        Purpose.TREATMENT,
        min_position=min_position,
        page=page or Page(size=PAGE_READS),
    )
    return await services.reads.read(request, user.actor)


def download_day(services: Services) -> date:
    """The day a download is made, on the clinic's clock (its zone; none set: UTC): the
    day its file is named for and its PDF says it was printed."""
    return now().astimezone(services.reader.zone or UTC).date()


def export_filename(answer: AuditedAnswer, on: date, suffix: str = "json") -> str:
    """A download's name: the record's MRN (else its id) and the day it was read."""
    patient = answer.json().get("patient") or {}
    key = str(patient.get("mrn") or answer.json()["patient_id"])
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in key)
    return f"tandem-record-{safe}-{on.isoformat()}.{suffix}"
