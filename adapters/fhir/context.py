"""What a renderer is given besides its row: a `RenderContext` of what earlier rows recorded
that a later row only names by id (a dose change names its medication, an attendance names
its session), taken from the record's history (domain.history); and the shape of what it
gives back."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from fhir.resources.R4B.fhirresourcemodel import FHIRResourceModel

from domain.history import MedicationCourse, Session, medication_courses, sessions
from projections.care import facts_of
from projections.record_index import EventRow


def frequency_at(course: MedicationCourse, version: int) -> str | None:
    """The frequency the medication was taken at in that version of the record."""
    found = None
    for fact, schedule in course.schedules:
        if fact.version > version:
            break
        found = str(schedule["frequency"])
    return found


@dataclass(frozen=True)
class RenderContext:
    """What earlier rows recorded that a later row only names by id."""

    medications: Mapping[UUID, MedicationCourse] = field(default_factory=dict)
    sessions: Mapping[UUID, Session] = field(default_factory=dict)  # those scheduled

    @classmethod
    def from_rows(cls, rows: Iterable[EventRow]) -> RenderContext:
        """The medications and sessions a patient's rows record, in version order."""
        facts = facts_of(sorted(rows, key=lambda r: r.version))
        return cls(
            {UUID(key): course for key, course in medication_courses(facts).items()},
            {
                UUID(key): session
                for key, session in sessions(facts).items()
                if session.scheduled is not None
            },
        )


# A renderer's answer: the resource's model, and its fields other than those every
# resource gets (resourceType, id, meta.security and the narrative).
Rendered = tuple[type[FHIRResourceModel], dict[str, Any]]
Renderer = Callable[[EventRow, RenderContext], Rendered]
