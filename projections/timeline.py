"""A patient's timeline: their record's events as lines a clinician can read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from domain.record import RecordEvent


@dataclass(frozen=True)
class TimelineEntry:
    version: int
    clinical_time: datetime
    recorded_at: datetime
    actor: str
    role: str
    organisation: str
    data_class: str
    kind: str
    summary: str


def timeline(events: Iterable[RecordEvent]) -> list[TimelineEntry]:
    """Entries in the record's own order (the order they were recorded)."""
    return [
        TimelineEntry(
            version=e.originator_version,
            clinical_time=e.clinical_time,
            recorded_at=e.timestamp,
            actor=e.actor.user_id,
            role=e.actor.role.value,
            organisation=e.actor.organisation,
            data_class=e.data_class.value,
            kind=type(e).__name__,
            summary=e.summary(),
        )
        for e in events
    ]
