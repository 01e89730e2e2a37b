"""What a renderer is given besides its row: a `RenderContext`, folded from the patient's
rows, of what earlier rows recorded that a later row only names by id (a dose change names
its medication, an attendance names its session); and the shape of what it gives back."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from fhir.resources.R4B.fhirresourcemodel import FHIRResourceModel

from projections.record_index import EventRow


@dataclass(frozen=True)
class MedicationCourse:
    """What the rows say about one medication: its name, code, and its frequency from
    each version of the record on."""

    drug: str
    rxnorm: str
    frequencies: tuple[tuple[int, str], ...]

    def frequency_at(self, version: int) -> str | None:
        """The frequency the medication was taken at in that version of the record."""
        found = None
        for since, frequency in self.frequencies:
            if since > version:
                break
            found = frequency
        return found


@dataclass(frozen=True)
class SessionSlot:
    """When a scheduled session takes place, and what kind of session it is."""

    starts_at: datetime
    duration_minutes: int
    description: str

    @classmethod
    def scheduled(cls, payload: Mapping[str, Any]) -> SessionSlot:
        """The slot a SessionScheduled payload books."""
        return cls(
            datetime.fromisoformat(str(payload["starts_at"])),
            int(payload["duration_minutes"]),
            f"{payload.get('kind', 'standard')} {payload['modality']} session "
            f"({payload['mode']}, {payload['duration_minutes']} min)",
        )


@dataclass(frozen=True)
class RenderContext:
    """What earlier rows recorded that a later row only names by id."""

    medications: Mapping[UUID, MedicationCourse] = field(default_factory=dict)
    sessions: Mapping[UUID, SessionSlot] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Iterable[EventRow]) -> RenderContext:
        """The medications and sessions a patient's rows record, in version order."""
        names: dict[UUID, tuple[str, str]] = {}
        frequencies: dict[UUID, list[tuple[int, str]]] = {}
        sessions: dict[UUID, SessionSlot] = {}
        for row in sorted(rows, key=lambda r: r.version):
            p = row.payload
            if row.kind in ("MedicationStarted", "MedicationSwitched"):
                key = "medication_id" if row.kind == "MedicationStarted" else "to_medication_id"
                med = UUID(str(p[key]))
                names[med] = (str(p["drug"]), str(p["rxnorm"]))
                frequencies[med] = [(row.version, str(p["schedule"]["frequency"]))]
            elif row.kind == "DoseTimingChanged":
                med = UUID(str(p["medication_id"]))
                frequencies.setdefault(med, []).append(
                    (row.version, str(p["schedule"]["frequency"]))
                )
            elif row.kind == "SessionScheduled":
                sessions[UUID(str(p["session_id"]))] = SessionSlot.scheduled(p)
        medications = {
            med: MedicationCourse(drug, rxnorm, tuple(frequencies.get(med, ())))
            for med, (drug, rxnorm) in names.items()
        }
        return cls(medications, sessions)


# A renderer's answer: the resource's model, and its fields other than those every
# resource gets (resourceType, id, meta.security and the narrative).
Rendered = tuple[type[FHIRResourceModel], dict[str, Any]]
Renderer = Callable[[EventRow, RenderContext], Rendered]
