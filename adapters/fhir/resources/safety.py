"""Safety: lapses as Observations, risk assessments as RiskAssessments."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.riskassessment import RiskAssessment

from adapters.fhir.codes import RISK_PROBABILITY, SAFETY_CODES
from adapters.fhir.context import RenderContext, Rendered
from adapters.fhir.datatypes import author, coding, observation_category, subject
from projections.record_index import EventRow


def lapse(row: EventRow, ctx: RenderContext) -> Rendered:
    """An Observation of a substance use lapse, in this system's own safety code."""
    p = row.payload
    return Observation, {
        "status": "final",
        "category": [observation_category("social-history", "Social History")],
        "code": {
            "coding": [coding(SAFETY_CODES, "substance-use-lapse", "Substance use lapse")],
            "text": "Substance use lapse",
        },
        "subject": subject(row),
        "effectiveDateTime": p["occurred_on"],
        "issued": row.recorded_at,
        "performer": [author(row)],
        "valueString": p["substance"],
        "note": [{"text": p["circumstances"]}],
    }


def risk(row: EventRow, ctx: RenderContext) -> Rendered:
    """A RiskAssessment of safety risk: its level, rationale and plan."""
    p = row.payload
    level = str(p["level"])
    prediction: dict[str, Any] = {
        "qualitativeRisk": {"coding": [coding(RISK_PROBABILITY, level, level.capitalize())]}
    }
    if p.get("factors"):
        prediction["rationale"] = "factors: " + "; ".join(p["factors"])
    return RiskAssessment, {
        "status": "final",
        "method": {"text": p["method"]},
        "code": {"text": "safety risk assessment"},
        "subject": subject(row),
        "occurrenceDateTime": row.clinical_time,
        "performer": author(row),
        "prediction": [prediction],
        "mitigation": p["plan"],
    }
