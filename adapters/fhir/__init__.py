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

from adapters.fhir.codes import (
    BLOOD_PRESSURE_PANEL,
    DOSE_UCUM,
    PHQ9_ANSWERS,
    PROGRESS_NOTE,
    QUESTIONNAIRE_PANELS,
    RELEASE_OF_INFORMATION,
    VITAL_CODES,
    VITALS_PANEL,
    security_labels,
)
from adapters.fhir.consent import consent_to_fhir
from adapters.fhir.context import RenderContext
from adapters.fhir.errors import FhirRenderError
from adapters.fhir.resources import (
    RENDERED_KINDS,
    entered_in_error,
    render_rows,
    resource_id,
    to_fhir,
)

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
    "entered_in_error",
    "render_rows",
    "resource_id",
    "security_labels",
    "to_fhir",
]
