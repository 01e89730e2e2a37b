"""Measures as Observations and QuestionnaireResponses: vital signs, instrument
answers and functional outcomes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from adapters.fhir.codes import (
    BLOOD_PRESSURE_PANEL,
    FUNCTIONAL_MEASURE_CODES,
    LOCAL_QUESTIONNAIRE,
    LOINC,
    ORDINAL_VALUE,
    PHQ9_ANSWERS,
    PHQ9_CODED_ITEMS,
    QUESTIONNAIRE_PANELS,
    VITAL_CODES,
    VITALS_PANEL,
)
from adapters.fhir.context import RenderContext, Rendered
from adapters.fhir.datatypes import (
    author,
    coding,
    loinc_concept,
    observation_category,
    subject,
    ucum_quantity,
)
from adapters.fhir.errors import FhirRenderError
from domain.instruments import INSTRUMENTS, InstrumentCode
from projections.record_index import EventRow


def vitals(row: EventRow, ctx: RenderContext) -> Rendered:
    """One measurement: the vital-signs profile's own code and value. Blood pressure
    alone: its panel with systolic and diastolic components. Several: the vital signs
    panel with one component each (one event renders as one resource)."""
    p = row.payload
    measured = [name for name in VITAL_CODES if p.get(name) is not None]
    resource: dict[str, Any] = {
        "status": "final",
        "category": [observation_category("vital-signs", "Vital Signs")],
        "subject": subject(row),
        "effectiveDateTime": row.clinical_time,
        "issued": row.recorded_at,
        "performer": [author(row)],
    }
    if not measured:
        raise FhirRenderError(row.kind, "no vital sign is measured")
    if set(measured) == {"systolic_mmhg", "diastolic_mmhg"}:
        resource["code"] = loinc_concept(
            BLOOD_PRESSURE_PANEL, "Blood pressure panel with all children optional"
        )
        resource["component"] = [_vital_component(name, p[name]) for name in measured]
    elif len(measured) == 1:
        code, display, unit = VITAL_CODES[measured[0]]
        resource["code"] = loinc_concept(code, display)
        resource["valueQuantity"] = ucum_quantity(p[measured[0]], unit)
    else:
        resource["code"] = loinc_concept(
            VITALS_PANEL,
            "Vital signs, weight, height, head circumference, oxygen saturation and BMI panel",
        )
        resource["component"] = [_vital_component(name, p[name]) for name in measured]
    return Observation, resource


def _vital_component(name: str, value: Any) -> dict[str, Any]:
    code, display, unit = VITAL_CODES[name]
    return {"code": loinc_concept(code, display), "valueQuantity": ucum_quantity(value, unit)}


def questionnaire(row: EventRow, ctx: RenderContext) -> Rendered:
    """A QuestionnaireResponse, its items in the instrument's order; PHQ-9's items 1-9
    answered with their LOINC answer codes."""
    p = row.payload
    code = InstrumentCode(p["instrument"])
    answers: Mapping[str, int] = p["answers"]
    order = [item.key for item in INSTRUMENTS[code].items]
    keys = [k for k in order if k in answers] + sorted(k for k in answers if k not in order)
    items = []
    for key in keys:
        score = int(answers[key])
        if code == InstrumentCode.PHQ9 and key in PHQ9_CODED_ITEMS:
            la, display = PHQ9_ANSWERS[score]
            answer_coding = {
                "extension": [{"url": ORDINAL_VALUE, "valueDecimal": score}],
                **coding(LOINC, la, display),
            }
            answer: dict[str, Any] = {"valueCoding": answer_coding}
        else:
            answer = {"valueInteger": score}
        items.append({"linkId": key, "answer": [answer]})
    resource: dict[str, Any] = {
        "questionnaire": questionnaire_url(code, str(p["instrument_version"])),
        "status": "completed",
        "subject": subject(row),
        "authored": row.clinical_time,
        "author": author(row),
        "item": items,
    }
    if row.author_role == "patient":
        resource["source"] = subject(row)
    return QuestionnaireResponse, resource


def questionnaire_url(code: InstrumentCode, version: str) -> str:
    """The canonical URL of an instrument: LOINC's form for those with a checked panel
    code, this system's own (with its version) for the others."""
    panel = QUESTIONNAIRE_PANELS.get(code)
    if panel is not None:
        return f"{LOINC}/q/{panel}"
    return f"{LOCAL_QUESTIONNAIRE}/{code.value}|{version}"


def functional_outcome(row: EventRow, ctx: RenderContext) -> Rendered:
    """An Observation of what was achieved against what was expected, in one setting."""
    p = row.payload
    what = f"{p['setting']} {p['measure']}"
    resource: dict[str, Any] = {
        "status": "final",
        "code": {
            "coding": [coding(FUNCTIONAL_MEASURE_CODES, f"{p['setting']}-{p['measure']}", what)],
            "text": what,
        },
        "subject": subject(row),
        "effectivePeriod": {"start": p["period_start"], "end": p["period_end"]},
        "issued": row.recorded_at,
        "performer": [author(row)],
        "valueRatio": {
            "numerator": {"value": p["achieved"]},
            "denominator": {"value": p["expected"]},
        },
    }
    if p.get("note"):
        resource["note"] = [{"text": p["note"]}]
    return Observation, resource
