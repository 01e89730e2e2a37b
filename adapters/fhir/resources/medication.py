"""Medication courses as MedicationStatements, and the domain's doses as FHIR Dosage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from fhir.resources.R4B.medicationstatement import MedicationStatement

from adapters.fhir.codes import DOSE_UCUM, ONE_ADMINISTRATION_PER_DOSING_DAY, RXNORM, TIMING, UCUM
from adapters.fhir.context import RenderContext, Rendered, frequency_at
from adapters.fhir.datatypes import author, coding, subject, uuid_identifier
from adapters.fhir.errors import FhirRenderError
from domain.medication import (
    DoseChanged,
    DoseTimingChanged,
    MedicationStarted,
    MedicationStopped,
    MedicationSwitched,
    TaperStarted,
)
from domain.record import kind_of
from projections.record_index import EventRow

# The kinds rendered here: each step of a course.
MEDICATION_STEPS = (
    MedicationStarted,
    DoseChanged,
    DoseTimingChanged,
    MedicationSwitched,
    TaperStarted,
    MedicationStopped,
)


def medication(row: EventRow, ctx: RenderContext) -> Rendered:
    """A MedicationStatement for each step of a course: started, dose or timing changed,
    switched (as the new medication), tapered or stopped. The steps after a start name
    their medication only by id: its drug and frequency come from the context."""
    p = row.payload
    started, switched = (
        row.kind == kind_of(MedicationStarted),
        row.kind == kind_of(MedicationSwitched),
    )
    med = UUID(str(p["to_medication_id" if switched else "medication_id"]))
    if started or switched:
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
        drug, rxnorm = course.drug, str(course.rxnorm)
        frequency = frequency_at(course, row.version)
    resource: dict[str, Any] = {
        "identifier": [uuid_identifier(med)],
        "status": "stopped" if row.kind == kind_of(MedicationStopped) else "active",
        "medicationCodeableConcept": {"coding": [coding(RXNORM, rxnorm, drug)], "text": drug},
        "subject": subject(row),
        "effectiveDateTime": row.clinical_time,
        "dateAsserted": row.recorded_at,
        "informationSource": author(row),
    }
    notes: list[str] = []
    if started:
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
    elif row.kind == kind_of(DoseChanged):
        resource["reasonCode"] = [{"text": p["reason"]}]
        resource["dosage"] = [_dosage(p["dose"], frequency, [])]
        if p.get("override_reason") and not _above_usual_max(p):
            notes.append(f"titration schedule overridden: {p['override_reason']}")
    elif row.kind == kind_of(DoseTimingChanged):
        resource["reasonCode"] = [{"text": p["reason"]}]
        resource["dosage"] = [_timing_dosage(p["schedule"], p.get("dose_per_administration"))]
    elif row.kind == kind_of(TaperStarted):
        resource["reasonCode"] = [{"text": p["reason"]}]
        resource["dosage"] = [
            _dosage(step["dose"], frequency, [], sequence=n, from_date=step["on_or_after"])
            for n, step in enumerate(p["steps"], start=1)
        ]
    else:  # MedicationStopped: why it stopped is the reason for its status.
        resource["statusReason"] = [{"text": p["reason"]}]
    if _above_usual_max(p):
        check = p["dose_check"]
        notes.append(
            f"{check['amount']} is above the usual maximum of {check['usual_max']} "
            f"({check['rule_id']} v{check['version']}), overridden: {p.get('override_reason')}"
        )
    if notes:
        resource["note"] = [{"text": n} for n in notes]
    return MedicationStatement, resource


def _above_usual_max(p: Mapping[str, Any]) -> bool:
    """A dose recorded above its usual maximum, with an override reason (events recorded
    before dose checks carry no `dose_check`)."""
    return bool((p.get("dose_check") or {}).get("above_usual_max"))


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
