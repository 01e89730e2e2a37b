"""Corrections folded into a record's rows, in one place, before any view, chart or rule
reads them (domain.corrections records them).

`standing(rows)` is the record as the care team now reads it: an entry marked entered in
error is gone (from the medication list, the dose chart, outcomes, the rules and the
board), and an amended entry reads as amended (its replaced fields and its line). The
corrections' own rows stay (timelines list them). `marks(rows)` says, per corrected entry,
what a timeline shows beside it.

Rows without corrections come back as they are: a view built from a log with no
correction in it is byte for byte what it was before corrections existed, so replays of
reads made before stay exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from domain.corrections import (
    AMENDED,
    CORRECTION_KINDS,
    ENTERED_IN_ERROR,
    EntryAmended,
    EntryMarkedInError,
)
from domain.record import kind_of
from projections.record_index import EventRow

_ERRORED = kind_of(EntryMarkedInError)
_AMENDED = kind_of(EntryAmended)


@dataclass(frozen=True)
class Correction:
    """The last word on one entry: entered in error, or amended (with what replaced it)."""

    status: str
    reason: str
    by: str
    by_role: str
    position: int
    at: str
    changes: dict[str, Any]
    summary: str | None

    def mark(self) -> dict[str, Any]:
        """What a timeline shows beside the entry."""
        return {
            "status": self.status,
            "reason": self.reason,
            "by": self.by,
            "by_role": self.by_role,
            "position": self.position,
            "at": self.at,
        }


def corrections(rows: Sequence[EventRow]) -> dict[int, Correction]:
    """Per corrected entry (by record version), its standing correction: an error mark is
    final; of several amendments the latest stands, each on top of those before."""
    found: dict[int, Correction] = {}
    for r in rows:
        if r.kind not in CORRECTION_KINDS:
            continue
        version = int(r.payload["entry_version"])
        earlier = found.get(version)
        if earlier is not None and earlier.status == ENTERED_IN_ERROR:
            continue
        changes = dict(earlier.changes) if earlier is not None else {}
        if r.kind == _AMENDED:
            changes.update(r.payload["changes"])
        found[version] = Correction(
            status=ENTERED_IN_ERROR if r.kind == _ERRORED else AMENDED,
            reason=str(r.payload["reason"]),
            by=r.author,
            by_role=r.author_role,
            position=r.position,
            at=r.clinical_time_text,
            changes=changes,
            summary=r.payload.get("amended_summary")
            if r.kind == _AMENDED
            else (earlier.summary if earlier is not None else None),
        )
    return found


def amended(row: EventRow, correction: Correction) -> EventRow:
    """The entry as amended."""
    return replace(
        row,
        payload={**row.payload, **correction.changes},
        summary=correction.summary or row.summary,
    )


def standing(rows: list[EventRow], found: dict[int, Correction] | None = None) -> list[EventRow]:
    """The rows with errored entries left out and amended ones amended."""
    found = corrections(rows) if found is None else found
    if not found:
        return rows
    kept = []
    for r in rows:
        correction = found.get(r.version)
        if correction is None or r.kind in CORRECTION_KINDS:
            kept.append(r)
        elif correction.status == AMENDED:
            kept.append(amended(r, correction))
    return kept


def shown_in_timeline(
    rows: list[EventRow], found: dict[int, Correction], amend: bool = True
) -> list[tuple[EventRow, Correction | None]]:
    """A timeline's rows: each entry as it now stands (amended ones amended, unless
    `amend` is false: the events list shows each as recorded), errored ones kept (the page
    strikes them through), with the correction that marks it."""
    shown: list[tuple[EventRow, Correction | None]] = []
    for r in rows:
        correction = found.get(r.version) if r.kind not in CORRECTION_KINDS else None
        if amend and correction is not None and correction.status == AMENDED:
            shown.append((amended(r, correction), correction))
        else:
            shown.append((r, correction))
    return shown
