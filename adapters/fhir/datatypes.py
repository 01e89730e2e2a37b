"""FHIR datatypes as the renderers build them: Coding and CodeableConcept, references to
the patient and to an event's author, identifiers, UCUM quantities and periods."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

from adapters.fhir.codes import LOINC, OBSERVATION_CATEGORY, UCUM, URI, USER_ID
from domain.lab_units import ucum_code
from projections.record_index import EventRow


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    """A Coding; without a display when none is given."""
    found = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def loinc_concept(code: str, display: str) -> dict[str, Any]:
    """A CodeableConcept of one LOINC code, its display as its text."""
    return {"coding": [coding(LOINC, code, display)], "text": display}


def observation_category(code: str, display: str) -> dict[str, Any]:
    """An Observation.category from HL7's observation-category codes."""
    return {"coding": [coding(OBSERVATION_CATEGORY, code, display)]}


def patient_reference(patient_id: UUID) -> dict[str, str]:
    """A Reference to the patient."""
    return {"reference": f"Patient/{patient_id}"}


def subject(row: EventRow) -> dict[str, str]:
    """A Reference to the patient whose record holds the row."""
    return patient_reference(row.patient_id)


def author(row: EventRow) -> dict[str, Any]:
    """Who recorded the event, by their user id (an email, or system:<name>)."""
    return {
        "identifier": {"system": USER_ID, "value": row.author},
        "display": f"{row.author} ({row.author_role}, {row.author_org})",
    }


def uuid_identifier(value: UUID) -> dict[str, str]:
    """An Identifier holding one of this system's UUIDs as a URN."""
    return {"system": URI, "value": f"urn:uuid:{value}"}


def ucum_quantity(value: Any, unit: str | None) -> dict[str, Any]:
    """A Quantity, coded in UCUM when it has a unit (a spelling stored before the lab
    unit table, such as "mIU/L", coded as the UCUM code it stands for)."""
    quantity: dict[str, Any] = {"value": Decimal(str(value))}
    if unit is not None:
        quantity.update(unit=unit, system=UCUM, code=ucum_code(unit))
    return quantity


def period(start: Any, end: Any = None) -> dict[str, Any]:
    """A Period; open-ended when it has no end."""
    return without_none({"start": start, "end": end})


def without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values that are not None."""
    return {k: v for k, v in values.items() if v is not None}
