"""Lab results as Observations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from fhir.resources.R4B.observation import Observation

from adapters.fhir.codes import INTERPRETATION_FLAGS, LOINC, V3_INTERPRETATION
from adapters.fhir.context import RenderContext, Rendered
from adapters.fhir.datatypes import (
    author,
    coding,
    observation_category,
    subject,
    ucum_quantity,
    uuid_identifier,
    without_none,
)
from projections.record_index import EventRow


def lab_result(row: EventRow, ctx: RenderContext) -> Rendered:
    """An Observation of a lab result, flagged low, normal or high against its range."""
    p = row.payload
    unit = p.get("unit")
    resource: dict[str, Any] = {
        "basedOn": [
            {"type": "ServiceRequest", "identifier": uuid_identifier(UUID(str(p["order_id"])))}
        ],
        "status": "final" if p.get("final", True) else "preliminary",
        "category": [observation_category("laboratory", "Laboratory")],
        "code": {"coding": [coding(LOINC, p["loinc"], p["test_name"])], "text": p["test_name"]},
        "subject": subject(row),
        "effectiveDateTime": row.clinical_time,
        "issued": row.recorded_at,
        "performer": [author(row)],
    }
    if p.get("value") is not None:
        resource["valueQuantity"] = ucum_quantity(p["value"], unit)
    else:
        resource["valueString"] = p["value_text"]
    low, high = p.get("reference_low"), p.get("reference_high")
    if low is not None or high is not None:
        resource["referenceRange"] = [
            without_none(
                {
                    "low": ucum_quantity(low, unit) if low is not None else None,
                    "high": ucum_quantity(high, unit) if high is not None else None,
                }
            )
        ]
    flag = lab_interpretation(p.get("value"), low, high)
    if flag is not None:
        resource["interpretation"] = [
            {"coding": [coding(V3_INTERPRETATION, *INTERPRETATION_FLAGS[flag])]}
        ]
    if p.get("comment"):
        resource["note"] = [{"text": p["comment"]}]
    return Observation, resource


def lab_interpretation(value: Any, low: Any, high: Any) -> str | None:
    """The flag ("low", "normal" or "high") as domain.labs.LabResulted.interpretation computes it,
    from a payload's strings; None when there is no number or no range."""
    if value is None:
        return None
    number = Decimal(str(value))
    if low is not None and number < Decimal(str(low)):
        return "low"
    if high is not None and number > Decimal(str(high)):
        return "high"
    return "normal" if (low, high) != (None, None) else None
