"""Reads by a person at the command line: as their own account, with a stated reason, through
the one audited read (so `tandem events` leaves an access record like any page does)."""

from __future__ import annotations

from uuid import UUID

from application.audited import AuditedAnswer
from application.errors import Unauthorized
from application.reading import ReadRequest, viewer_of
from application.services import Services
from domain.consent import Purpose
from domain.errors import InvalidInput
from domain.registration import patient_id_for


def patient_key(services: Services, key: str) -> UUID:
    """A patient's id, from the id itself or the medical record number (looked up; an MRN
    nobody has gives an id nobody has, refused as any other)."""
    try:
        return UUID(key)
    except ValueError:
        return services.clinic.patient_id_by_mrn(key) or patient_id_for(key)


def read_as_operator(
    services: Services, email: str, patient: str, reason: str, kind: str, purpose: Purpose
) -> AuditedAnswer:
    """One audited read as the operator's own active account, reflecting the whole log."""
    if not reason.strip():
        raise InvalidInput.single("reason", "is required: say why you read this record")
    user = services.clinic.find_user(email)
    if user is None or not user.active:
        raise Unauthorized(f"{email} is not an active account")
    request = ReadRequest(
        viewer_of(user),
        patient_key(services, patient),
        kind,
        purpose,
        min_position=services.clinic.position() or None,
        reason=reason.strip(),
    )
    return services.reads.read_now(request, user.actor)
