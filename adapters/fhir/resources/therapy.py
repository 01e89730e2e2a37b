"""Therapy: sessions as Appointments, progress and psychotherapy notes as
DocumentReferences."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any
from uuid import UUID

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.documentreference import DocumentReference

from adapters.fhir.codes import PROGRESS_NOTE, security_labels
from adapters.fhir.context import RenderContext, Rendered
from adapters.fhir.datatypes import author, loinc_concept, subject, uuid_identifier
from adapters.fhir.errors import FhirRenderError
from domain.history import Session
from domain.record import kind_of
from domain.therapy import (
    ProgressNoteWritten,
    SessionAttended,
    SessionCancelled,
    SessionMissed,
    SessionScheduled,
)
from projections.care import fact_of
from projections.record_index import EventRow

APPOINTMENT_STATUS = {
    kind_of(SessionScheduled): "booked",
    kind_of(SessionAttended): "fulfilled",
    kind_of(SessionMissed): "noshow",
    kind_of(SessionCancelled): "cancelled",
}


def session(row: EventRow, ctx: RenderContext) -> Rendered:
    """An Appointment, whose status follows a session from booked to fulfilled, noshow or
    cancelled (an Encounter has no no-show). The patient is its participant: Appointment
    has no subject."""
    p = row.payload
    session_id = UUID(str(p["session_id"]))
    status = APPOINTMENT_STATUS[row.kind]
    booking = row.kind == kind_of(SessionScheduled)
    slot = Session.booked(fact_of(row)) if booking else ctx.sessions.get(session_id)
    # app-3: only a proposed or cancelled appointment may lack its start and end.
    if slot is None and status != "cancelled":
        raise FhirRenderError(
            row.kind,
            f"session {session_id} is not scheduled in the rows given; "
            "pass RenderContext.from_rows(the patient's rows)",
        )
    resource: dict[str, Any] = {
        "identifier": [uuid_identifier(session_id)],
        "status": status,
        "participant": [{"actor": subject(row), "status": "accepted"}],
    }
    if slot is not None and slot.starts_at is not None and slot.duration_minutes is not None:
        resource["description"] = (
            f"{slot.kind} {slot.modality} session ({slot.mode}, {slot.duration_minutes} min)"
        )
        resource["start"] = slot.starts_at
        resource["end"] = slot.starts_at + timedelta(minutes=slot.duration_minutes)
        resource["minutesDuration"] = slot.duration_minutes
    if booking:
        resource["serviceType"] = [{"text": p["modality"]}]
        resource["created"] = row.clinical_time
    elif row.kind == kind_of(SessionMissed) and p.get("reason"):
        resource["cancelationReason"] = {"text": p["reason"]}
    elif row.kind == kind_of(SessionCancelled):
        resource["cancelationReason"] = {"text": f"cancelled by {p['cancelled_by']}: {p['reason']}"}
    return Appointment, resource


def note(row: EventRow, ctx: RenderContext) -> Rendered:
    """A DocumentReference holding the note's text. A psychotherapy note is labelled
    PSYTHPN by its data class; which rows reach an export is the access policy's call."""
    p = row.payload
    if row.kind == kind_of(ProgressNoteWritten):
        kind: dict[str, Any] = loinc_concept(PROGRESS_NOTE, "Progress note")
        title = "Progress note"
    else:
        kind = {"text": "Psychotherapy note"}
        title = "Psychotherapy note"
    resource: dict[str, Any] = {
        "status": "current",
        "type": kind,
        "subject": subject(row),
        "date": row.clinical_time,
        "author": [author(row)],
        "securityLabel": [
            {"coding": [label]}
            for label in security_labels(row.data_class, part2=row.part2 or row.sud_counseling)
        ],
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain; charset=utf-8",
                    "data": base64.b64encode(str(p["text"]).encode()).decode(),
                    "title": title,
                }
            }
        ],
    }
    if p.get("modality"):
        resource["description"] = f"{p['modality']} {title.lower()}"
    if p.get("session_id"):
        resource["context"] = {
            "related": [
                {"type": "Appointment", "identifier": uuid_identifier(UUID(str(p["session_id"])))}
            ]
        }
    return DocumentReference, resource
