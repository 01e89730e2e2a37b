"""FHIR R4 export: one record event (a row of the record index) as one FHIR resource, and a
consent as a Consent, each checked by constructing its `fhir.resources.R4B` model.

`to_fhir(row, context)` renders the kinds in `RENDERED_KINDS` and refuses any other with
`FhirRenderError`. Events that name something recorded earlier (a dose change names its
medication, an attendance names its session) need a `RenderContext` built from the patient's
rows (`RenderContext.from_rows`); `render_rows` does both for a whole record.

Every resource carries the security labels of its data class (clinical/privacy.md, "FHIR
vocabulary for export"): confidentiality R on everything (the whole record is behavioral-
health information), PSYTHPN on psychotherapy notes, and on 42 CFR Part 2 records SUD, ETH,
42CFRPart2 and NORDSCLCD (no redisclosure without consent, the 2.32 notice as a label).

fhir.resources checks structure and cardinality, not terminology bindings or invariants: the
codes here are checked by tests/integration/test_fhir.py, and the invariants the renderers
must respect are named where they matter. Codes not read in a source are not invented:
where no standard code is known, a CodeableConcept carries text only, or a code of this
system's own (under https://tandem.example/fhir/).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from decimal import Decimal
from html import escape
from typing import Any
from uuid import UUID, uuid5

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.riskassessment import RiskAssessment
from fhir.resources.R4B.servicerequest import ServiceRequest

from adapters.fhir.codes import (
    BLOOD_PRESSURE_PANEL,
    CONDITION_CATEGORY,
    CONDITION_CLINICAL,
    DOSE_UCUM,
    FUNCTIONAL_MEASURE_CODES,
    ICD10CM,
    INTERPRETATION_FLAGS,
    LOCAL_QUESTIONNAIRE,
    LOINC,
    ONE_ADMINISTRATION_PER_DOSING_DAY,
    ORDINAL_VALUE,
    PHQ9_ANSWERS,
    PHQ9_CODED_ITEMS,
    PROGRESS_NOTE,
    QUESTIONNAIRE_PANELS,
    RELEASE_OF_INFORMATION,
    RESOURCE_IDS,
    RISK_PROBABILITY,
    RXNORM,
    SAFETY_CODES,
    TIMING,
    UCUM,
    V3_INTERPRETATION,
    VITAL_CODES,
    VITALS_PANEL,
    security_labels,
)
from adapters.fhir.consent import consent_to_fhir
from adapters.fhir.context import RenderContext, Rendered, SessionSlot
from adapters.fhir.datatypes import (
    author,
    coding,
    loinc_concept,
    observation_category,
    period,
    subject,
    ucum_quantity,
    uuid_identifier,
    without_none,
)
from adapters.fhir.errors import FhirRenderError, validated
from domain.instruments import INSTRUMENTS, InstrumentCode
from projections.record_index import EventRow

__all__ = [
    "BLOOD_PRESSURE_PANEL",
    "DOSE_UCUM",
    "PHQ9_ANSWERS",
    "PROGRESS_NOTE",
    "QUESTIONNAIRE_PANELS",
    "RELEASE_OF_INFORMATION",
    "RENDERED_KINDS",
    "VITALS_PANEL",
    "VITAL_CODES",
    "FhirRenderError",
    "RenderContext",
    "consent_to_fhir",
    "render_rows",
    "resource_id",
    "security_labels",
    "to_fhir",
]

# --- public API -----------------------------------------------------------------------------


def resource_id(row: EventRow) -> str:
    """The id of the resource rendered from a row: the same event always gets the same id
    (a version of a patient's record is one event)."""
    return str(uuid5(RESOURCE_IDS, f"{row.patient_id}/{row.version}"))


def to_fhir(row: EventRow, context: RenderContext | None = None) -> dict[str, Any]:
    """One record event as one FHIR R4 resource (JSON-ready dict, validated by its
    fhir.resources.R4B model). Raises FhirRenderError for kinds not in RENDERED_KINDS, and
    for an event naming a medication or session the context does not know."""
    renderer = _RENDERERS.get(row.kind)
    if renderer is None:
        raise FhirRenderError(row.kind, "this kind of event is not exported as FHIR")
    try:
        model, resource = renderer(row, context or RenderContext())
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise FhirRenderError(row.kind, f"its payload lacks or garbles {exc}") from exc
    resource = {
        "resourceType": model.get_resource_type(),
        "id": resource_id(row),
        "meta": {"security": security_labels(row.data_class, sud_counseling=row.sud_counseling)},
        "text": {
            "status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{escape(row.summary)}</div>',
        },
        **resource,
    }
    return validated(row.kind, model, resource)


def render_rows(
    rows: Sequence[EventRow], context: RenderContext | None = None
) -> list[dict[str, Any]]:
    """Every row of a kind in RENDERED_KINDS, rendered in order (with a context built from
    the rows themselves unless one is given); other kinds are left out."""
    ctx = context or RenderContext.from_rows(rows)
    return [to_fhir(row, ctx) for row in rows if row.kind in RENDERED_KINDS]


# --- renderers ------------------------------------------------------------------------------


def _medication(row: EventRow, ctx: RenderContext) -> Rendered:
    p = row.payload
    switched = row.kind == "MedicationSwitched"
    med = UUID(str(p["to_medication_id" if switched else "medication_id"]))
    if row.kind in ("MedicationStarted", "MedicationSwitched"):
        drug, rxnorm = str(p["drug"]), str(p["rxnorm"])
        frequency: str | None = str(p["schedule"]["frequency"])
    else:
        course = ctx.medications.get(med)
        if course is None:
            raise FhirRenderError(
                row.kind,
                f"medication {med} is not started in the rows given; "
                "pass RenderContext.from_rows(the patient's rows)",
            )
        drug, rxnorm, frequency = course.drug, course.rxnorm, course.frequency_at(row.version)
    resource: dict[str, Any] = {
        "identifier": [uuid_identifier(med)],
        "status": "stopped" if row.kind == "MedicationStopped" else "active",
        "medicationCodeableConcept": {"coding": [coding(RXNORM, rxnorm, drug)], "text": drug},
        "subject": subject(row),
        "effectiveDateTime": row.clinical_time,
        "dateAsserted": row.recorded_at,
        "informationSource": author(row),
    }
    notes: list[str] = []
    if row.kind == "MedicationStarted":
        resource["reasonCode"] = [{"text": p["indication"]}]
        resource["dosage"] = [
            _dosage(p["dose"], frequency, p["schedule"].get("times", []), route=p.get("route"))
        ]
    elif switched:
        old = ctx.medications.get(UUID(str(p["medication_id"])))
        from_drug = f" from {old.drug}" if old else ""
        resource["reasonCode"] = [
            {"text": p["indication"]},
            {"text": f"switched{from_drug}: {p['reason']}"},
        ]
        resource["dosage"] = [_dosage(p["dose"], frequency, p["schedule"].get("times", []))]
        if p.get("cross_taper"):
            notes.append("started with a cross-taper from the previous medication")
    elif row.kind == "DoseChanged":
        resource["reasonCode"] = [{"text": p["reason"]}]
        resource["dosage"] = [_dosage(p["dose"], frequency, [])]
        if p.get("override_reason"):
            notes.append(f"titration schedule overridden: {p['override_reason']}")
    elif row.kind == "DoseTimingChanged":
        resource["reasonCode"] = [{"text": p["reason"]}]
        resource["dosage"] = [_timing_dosage(p["schedule"], p.get("dose_per_administration"))]
    elif row.kind == "TaperStarted":
        resource["reasonCode"] = [{"text": p["reason"]}]
        resource["dosage"] = [
            _dosage(step["dose"], frequency, [], sequence=n, from_date=step["on_or_after"])
            for n, step in enumerate(p["steps"], start=1)
        ]
    else:  # MedicationStopped: why it stopped is the reason for its status.
        resource["statusReason"] = [{"text": p["reason"]}]
    if notes:
        resource["note"] = [{"text": n} for n in notes]
    return MedicationStatement, resource


def _lab_result(row: EventRow, ctx: RenderContext) -> Rendered:
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


def _vitals(row: EventRow, ctx: RenderContext) -> Rendered:
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


def _questionnaire(row: EventRow, ctx: RenderContext) -> Rendered:
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


def _condition(row: EventRow, ctx: RenderContext) -> Rendered:
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


def _functional_recommendation(row: EventRow, ctx: RenderContext) -> Rendered:
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


def _functional_outcome(row: EventRow, ctx: RenderContext) -> Rendered:
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


_APPOINTMENT_STATUS = {
    "SessionScheduled": "booked",
    "SessionAttended": "fulfilled",
    "SessionMissed": "noshow",
    "SessionCancelled": "cancelled",
}


def _session(row: EventRow, ctx: RenderContext) -> Rendered:
    """An Appointment, whose status follows a session from booked to fulfilled, noshow or
    cancelled (an Encounter has no no-show). The patient is its participant: Appointment
    has no subject."""
    p = row.payload
    session = UUID(str(p["session_id"]))
    status = _APPOINTMENT_STATUS[row.kind]
    slot = SessionSlot.scheduled(p) if row.kind == "SessionScheduled" else ctx.sessions.get(session)
    # app-3: only a proposed or cancelled appointment may lack its start and end.
    if slot is None and status != "cancelled":
        raise FhirRenderError(
            row.kind,
            f"session {session} is not scheduled in the rows given; "
            "pass RenderContext.from_rows(the patient's rows)",
        )
    resource: dict[str, Any] = {
        "identifier": [uuid_identifier(session)],
        "status": status,
        "participant": [{"actor": subject(row), "status": "accepted"}],
    }
    if slot is not None:
        resource["description"] = slot.description
        resource["start"] = slot.starts_at
        resource["end"] = slot.starts_at + timedelta(minutes=slot.duration_minutes)
        resource["minutesDuration"] = slot.duration_minutes
    if row.kind == "SessionScheduled":
        resource["serviceType"] = [{"text": p["modality"]}]
        resource["created"] = row.clinical_time
    elif row.kind == "SessionMissed" and p.get("reason"):
        resource["cancelationReason"] = {"text": p["reason"]}
    elif row.kind == "SessionCancelled":
        resource["cancelationReason"] = {"text": f"cancelled by {p['cancelled_by']}: {p['reason']}"}
    return Appointment, resource


def _note(row: EventRow, ctx: RenderContext) -> Rendered:
    """A DocumentReference holding the note's text. A psychotherapy note is labelled
    PSYTHPN by its data class; which rows reach an export is the access policy's call."""
    p = row.payload
    if row.kind == "ProgressNoteWritten":
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
            for label in security_labels(row.data_class, sud_counseling=row.sud_counseling)
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


def _lapse(row: EventRow, ctx: RenderContext) -> Rendered:
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


def _risk(row: EventRow, ctx: RenderContext) -> Rendered:
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


_RENDERERS: dict[str, Callable[[EventRow, RenderContext], Rendered]] = {
    **dict.fromkeys(
        (
            "MedicationStarted",
            "DoseChanged",
            "DoseTimingChanged",
            "MedicationSwitched",
            "TaperStarted",
            "MedicationStopped",
        ),
        _medication,
    ),
    "LabResulted": _lab_result,
    "VitalsRecorded": _vitals,
    "QuestionnaireAnswered": _questionnaire,
    "ConditionRecorded": _condition,
    "FunctionalRecommendationMade": _functional_recommendation,
    "FunctionalOutcomeRecorded": _functional_outcome,
    **dict.fromkeys(_APPOINTMENT_STATUS, _session),
    "ProgressNoteWritten": _note,
    "PsychotherapyNoteWritten": _note,
    "LapseReported": _lapse,
    "RiskAssessed": _risk,
}
RENDERED_KINDS: frozenset[str] = frozenset(_RENDERERS)


# --- pieces ---------------------------------------------------------------------------------


def _dose_quantity(dose: Mapping[str, Any], *, per_day: bool = False) -> dict[str, Any]:
    unit = str(dose["unit"])
    ucum = DOSE_UCUM.get(unit)
    quantity: dict[str, Any] = {
        "value": Decimal(str(dose["amount"])),
        "unit": f"{unit}/d" if per_day else unit,
    }
    if ucum is not None:  # qty-3: a code only with its system
        quantity.update(system=UCUM, code=f"{ucum}/d" if per_day else ucum)
    return quantity


def _amount(dose: Mapping[str, Any]) -> str:
    return f"{Decimal(str(dose['amount'])).normalize():f} {dose['unit']}"


def _timing(frequency: str | None, times: Sequence[str]) -> dict[str, Any] | None:
    repeat = dict(TIMING.get(frequency or "", {}))
    if times:
        repeat.pop("when", None)  # tim-10: no `when` beside timeOfDay
        repeat["timeOfDay"] = list(times)
    return repeat or None


def _dosage(
    dose: Mapping[str, Any],
    frequency: str | None,
    times: Sequence[str],
    *,
    route: str | None = None,
    sequence: int | None = None,
    from_date: str | None = None,
) -> dict[str, Any]:
    """The domain's dose on its schedule: a dose per administration when the schedule
    has one administration per dosing day, else the day's total as a rate per day."""
    per_administration = frequency in ONE_ADMINISTRATION_PER_DOSING_DAY
    text = _amount(dose) + ("" if per_administration else " per day")
    if frequency:
        text += f", {frequency}"
    if times:
        text += f" at {', '.join(t[:5] for t in times)}"
    if from_date:
        text += f", from {from_date}"
    dosage: dict[str, Any] = {"text": text}
    if sequence is not None:
        dosage["sequence"] = sequence
    repeat = _timing(frequency, times)
    if from_date:
        repeat = {**(repeat or {}), "boundsPeriod": {"start": from_date}}
    if repeat:
        dosage["timing"] = {"repeat": repeat}
    if frequency == "as-needed":
        dosage["asNeededBoolean"] = True
    if route:
        dosage["route"] = {"text": route}
    if per_administration:
        dosage["doseAndRate"] = [{"doseQuantity": _dose_quantity(dose)}]
    elif frequency is not None:
        dosage["doseAndRate"] = [{"rateQuantity": _dose_quantity(dose, per_day=True)}]
    return dosage


def _timing_dosage(schedule: Mapping[str, Any], each: Mapping[str, Any] | None) -> dict[str, Any]:
    frequency = str(schedule["frequency"])
    times = list(schedule.get("times", []))
    text = frequency + (f" at {', '.join(t[:5] for t in times)}" if times else "")
    dosage: dict[str, Any] = {"text": text + (f", {_amount(each)} each" if each else "")}
    repeat = _timing(frequency, times)
    if repeat:
        dosage["timing"] = {"repeat": repeat}
    if frequency == "as-needed":
        dosage["asNeededBoolean"] = True
    if each:
        dosage["doseAndRate"] = [{"doseQuantity": _dose_quantity(each)}]
    return dosage
