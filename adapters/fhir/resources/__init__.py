"""One record event (a row of the record index) as one FHIR resource: the renderer of each
kind exported, and the parts every resource shares (its id, security labels and
narrative). The renderers live beside the domain modules their events come from."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any
from uuid import uuid5

from fhir.resources.R4B import get_fhir_model_class

from adapters.fhir.codes import RESOURCE_IDS, security_labels
from adapters.fhir.context import RenderContext, Renderer
from adapters.fhir.errors import FhirRenderError, validated
from adapters.fhir.resources import careplan, labs, measures, medication, safety, therapy
from domain.careplan import ConditionRecorded, FunctionalRecommendationMade
from domain.labs import LabResulted
from domain.measures import FunctionalOutcomeRecorded, QuestionnaireAnswered, VitalsRecorded
from domain.record import kind_of
from domain.safety import LapseReported, RiskAssessed
from domain.therapy import ProgressNoteWritten, PsychotherapyNoteWritten
from projections.record_index import EventRow

RENDERERS: dict[str, Renderer] = {
    **dict.fromkeys((kind_of(c) for c in medication.MEDICATION_STEPS), medication.medication),
    kind_of(LabResulted): labs.lab_result,
    kind_of(VitalsRecorded): measures.vitals,
    kind_of(QuestionnaireAnswered): measures.questionnaire,
    kind_of(ConditionRecorded): careplan.condition,
    kind_of(FunctionalRecommendationMade): careplan.functional_recommendation,
    kind_of(FunctionalOutcomeRecorded): measures.functional_outcome,
    **dict.fromkeys(therapy.APPOINTMENT_STATUS, therapy.session),
    kind_of(ProgressNoteWritten): therapy.note,
    kind_of(PsychotherapyNoteWritten): therapy.note,
    kind_of(LapseReported): safety.lapse,
    kind_of(RiskAssessed): safety.risk,
}
RENDERED_KINDS: frozenset[str] = frozenset(RENDERERS)


def resource_id(row: EventRow) -> str:
    """The id of the resource rendered from a row: the same event always gets the same id
    (a version of a patient's record is one event)."""
    return str(uuid5(RESOURCE_IDS, f"{row.patient_id}/{row.version}"))


def to_fhir(row: EventRow, context: RenderContext | None = None) -> dict[str, Any]:
    """One record event as one FHIR R4 resource (JSON-ready dict, validated by its
    fhir.resources.R4B model). Raises FhirRenderError for kinds not in RENDERED_KINDS, and
    for an event naming a medication or session the context does not know."""
    renderer = RENDERERS.get(row.kind)
    if renderer is None:
        raise FhirRenderError(row.kind, "this kind of event is not exported as FHIR")
    try:
        model, resource = renderer(row, context or RenderContext())
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise FhirRenderError(row.kind, f"its payload lacks or garbles {exc}") from exc
    resource = {
        "resourceType": model.get_resource_type(),
        "id": resource_id(row),
        "meta": {
            "security": security_labels(row.data_class, part2=row.part2 or row.sud_counseling)
        },
        "text": {
            "status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{escape(row.summary)}</div>',
        },
        **resource,
    }
    return validated(row.kind, model, resource)


def entered_in_error(resource: dict[str, Any]) -> dict[str, Any]:
    """A rendered resource whose entry was marked entered in error: the same resource with
    its status `entered-in-error` (MedicationStatement, Observation, QuestionnaireResponse,
    Appointment, DocumentReference and RiskAssessment all carry that code in their status
    value set), checked again by its fhir.resources model."""
    kind = str(resource.get("resourceType"))
    if "status" not in resource:
        raise FhirRenderError(kind, "it has no status to mark entered in error")
    model: Any = get_fhir_model_class(kind)
    return validated(kind, model, {**resource, "status": "entered-in-error"})


def render_rows(
    rows: Sequence[EventRow], context: RenderContext | None = None
) -> list[dict[str, Any]]:
    """Every row of a kind in RENDERED_KINDS, rendered in order (with a context built from
    the rows themselves unless one is given); other kinds are left out."""
    ctx = context or RenderContext.from_rows(rows)
    return [to_fhir(row, ctx) for row in rows if row.kind in RENDERED_KINDS]
