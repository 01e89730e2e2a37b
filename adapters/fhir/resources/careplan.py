"""The care plan: conditions as Conditions, functional recommendations as
ServiceRequests."""

from __future__ import annotations

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.servicerequest import ServiceRequest

from adapters.fhir.codes import CONDITION_CATEGORY, CONDITION_CLINICAL, ICD10CM
from adapters.fhir.context import RenderContext, Rendered
from adapters.fhir.datatypes import author, coding, period, subject
from projections.record_index import EventRow


def condition(row: EventRow, ctx: RenderContext) -> Rendered:
    """A Condition on the problem list, coded in ICD-10-CM."""
    p = row.payload
    return Condition, {
        "clinicalStatus": {"coding": [coding(CONDITION_CLINICAL, p.get("status", "active"))]},
        "category": [
            {"coding": [coding(CONDITION_CATEGORY, "problem-list-item", "Problem List Item")]}
        ],
        "code": {
            "coding": [coding(ICD10CM, p["icd10"], p["description"])],
            "text": p["description"],
        },
        "subject": subject(row),
        "recordedDate": row.clinical_time,
        "recorder": author(row),
    }


def functional_recommendation(row: EventRow, ctx: RenderContext) -> Rendered:
    """A ServiceRequest with intent "proposal": a recommendation to the school, employer
    or family, by someone who does not undertake to carry it out. (A CarePlan activity
    would need the patient's CarePlan around it, which one event does not make.)"""
    p = row.payload
    return ServiceRequest, {
        "status": "active",
        "intent": "proposal",
        "category": [{"text": f"functional recommendation ({p['setting']})"}],
        "code": {"text": p["recommendation"]},
        "subject": subject(row),
        "occurrencePeriod": period(row.clinical_time, p.get("valid_until")),
        "authoredOn": row.clinical_time,
        "requester": author(row),
    }
