"""The board as a projection: per patient, what the rules say is or will be due, the open
alerts, the missed sessions and the waiting messages, kept as the patient's events arrive.

`board_of(rows)` is a pure function of a patient's index rows: the record index
(adapters.views) recomputes it for each patient an event arrives for, in the transaction
that stores the event and its tracking position, and a replay recomputes it from the rows
up to the position an access record names. It does not depend on the time it is computed
at: the rules are run as of a horizon (`HORIZON` after the latest time the rows hold) and
every unmet item is kept with its due times, so which items are due or overdue at a
reading time is read by comparing those times (`status_at`), never by running the rules
again. Met items and closed alerts never show on the board and are not kept.

Each item keeps what it was computed from: the policy facts of its input rows (data
class, author, SUD counseling flag, Part 2 label), the classes whose absence it reports,
and so its classes and Part 2 flag, so that a reader is shown it only if the policy
permits all of that, as the care-items view decides (`projections.role_views`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cached_property
from typing import Any, Literal
from uuid import UUID

from domain.history import demographics, messages, sessions
from domain.history.demographics import DETAILS
from domain.rules.care import Alert, DueItem
from domain.rules.monitoring import MONITORING, MonitoringTable
from domain.therapy import MISSED
from domain.vocabulary import DataClass
from projections import care, corrections
from projections.record_index import EventRow

# How far past the latest time in a patient's rows the rules are run: a recurring item
# opens within it without a new event. A board read later than a patient's horizon
# (a year with no event) recomputes that patient from the rules instead (`reading_at`).
HORIZON = timedelta(days=366)

Section = Literal["name", "alert", "due", "missed", "message"]
# The policy facts of one input row: data class, author, SUD counseling, Part 2.
PolicyFacts = tuple[str, str, bool, bool]


@dataclass(frozen=True)
class BoardItem:
    section: Section
    key: str
    shown: dict[str, Any]  # the item as a board answer renders it (a due item's status apart)
    facts: tuple[PolicyFacts, ...]  # distinct, sorted
    awaits: tuple[str, ...]  # classes whose absence it reports
    roles: tuple[str, ...] = ()  # the roles it is for (due items, alerts)
    waiting: tuple[str, ...] = ()  # who has yet to acknowledge (messages)
    due_from: datetime | None = None
    due_by: datetime | None = None

    # Worked out once per item (a stored board's items are read again and again).
    @cached_property
    def classes(self) -> tuple[str, ...]:
        return tuple(sorted({f[0] for f in self.facts} | set(self.awaits)))

    @cached_property
    def part2(self) -> bool:
        return any(f[3] for f in self.facts)


@dataclass(frozen=True)
class PatientBoard:
    patient_id: UUID
    position: int  # the last of the patient's rows it was computed from
    version: int  # that row's record version
    horizon: datetime
    # Every item kept, in order; or, read from the store for a reading time, only those
    # open by then (a due item that opens later shows nowhere: `status_at`).
    items: tuple[BoardItem, ...]


def item_json(i: BoardItem) -> str:
    """One item as the store keeps it (each in its own row: a read takes only the items
    open at its time)."""
    found = {
        "section": i.section,
        "key": i.key,
        "shown": i.shown,
        "facts": [list(f) for f in i.facts],
        "awaits": list(i.awaits),
        "roles": list(i.roles),
        "waiting": list(i.waiting),
        "due_from": i.due_from.isoformat() if i.due_from else None,
        "due_by": i.due_by.isoformat() if i.due_by else None,
    }
    return json.dumps(found, sort_keys=True, separators=(",", ":"))


def item_of(text: str) -> BoardItem:
    d = json.loads(text)
    return BoardItem(
        section=d["section"],
        key=d["key"],
        shown=d["shown"],
        facts=tuple((f[0], f[1], bool(f[2]), bool(f[3])) for f in d["facts"]),
        awaits=tuple(d["awaits"]),
        roles=tuple(d["roles"]),
        waiting=tuple(d["waiting"]),
        due_from=datetime.fromisoformat(d["due_from"]) if d["due_from"] else None,
        due_by=datetime.fromisoformat(d["due_by"]) if d["due_by"] else None,
    )


def _policy(rows: Sequence[EventRow]) -> tuple[PolicyFacts, ...]:
    return tuple(sorted({(r.data_class, r.author, r.sud_counseling, r.part2) for r in rows}))


# Times after this are a clock gone wrong (the write path keeps a clinical time at or before
# its recording time, and the recording time is the server's clock): they count as facts
# for the rules, but do not set the horizon, which would otherwise run the rules (and
# keep their recurring items) out to year 9999, or past the last representable date.
PLAUSIBLE_UNTIL = datetime(2200, 1, 1, tzinfo=UTC)


def horizon_of(rows: Sequence[EventRow]) -> datetime:
    times = [t for r in rows for t in (r.clinical_time, r.recorded_at) if t < PLAUSIBLE_UNTIL]
    latest = max(times) if times else PLAUSIBLE_UNTIL - HORIZON
    return min(latest + HORIZON, PLAUSIBLE_UNTIL)


def board_of(
    patient_id: UUID,
    rows: Sequence[EventRow],
    reading_at: datetime | None = None,
    zone: tzinfo | None = None,
    *,
    table: MonitoringTable = MONITORING,
    reassessment: bool = True,
) -> PatientBoard | None:
    """The patient's board as the rows leave it (None: no rows). Its horizon is the rows'
    (what the projection stores), or `HORIZON` after `reading_at` when that is later (a
    read past the stored board's horizon, and its replay). `zone` is the clinic's time
    zone the rules count days in; `table` and `reassessment`, the rules of the layout it
    is answered in (the index stores the current layout's: role_views.monitoring_table)."""
    if not rows:
        return None
    # The record as it stands: an entry marked in error counts for nothing, as in the views.
    rows = corrections.standing(list(rows), corrections.corrections(list(rows)))
    horizon = horizon_of(rows)
    if reading_at is not None and reading_at > horizon:
        horizon = min(reading_at, PLAUSIBLE_UNTIL) + HORIZON
    picture = care.picture(rows, horizon, zone, reassessment=reassessment, table=table)
    by_position = {r.position: r for r in rows}
    items: list[BoardItem] = []
    facts = care.facts_of(rows)
    details = demographics(facts)
    if details is not None and details.name:
        detail_rows = [r for r in rows if r.kind in DETAILS]
        items.append(BoardItem("name", "name", {"name": details.name}, _policy(detail_rows), ()))
    for a in picture.alerts:
        if a.open:
            items.append(_of_alert(a, by_position))
    for d in picture.due:
        if d.status != "met":
            items.append(_of_due(d, by_position))
    missed = [(s.outcome, s) for s in sessions(facts).values() if s.status == MISSED and s.outcome]
    missed.sort(key=lambda found: found[0].position)
    for outcome, s in missed:
        inputs = [r for r in rows if str(r.payload.get("session_id")) == s.session_id]
        missed_shown = {
            "session_id": s.session_id,
            "at": outcome.at.isoformat(),
            "reason": s.reason,
        }
        items.append(BoardItem("missed", s.session_id, missed_shown, _policy(inputs), ()))
    for m in messages(facts).values():
        if not m.waiting_for:
            continue
        inputs = [r for r in rows if str(r.payload.get("message_id")) == m.message_id]
        shown: dict[str, Any] = {
            "message_id": m.message_id,
            "from": m.sender,
            "to": m.to,
            "subject": m.subject,
            "sent": m.sent.at.isoformat(),
            "waiting_for": sorted(m.waiting_for),
        }
        items.append(
            BoardItem(
                "message",
                m.message_id,
                shown,
                _policy(inputs),
                (),
                waiting=tuple(sorted(m.waiting_for)),
            )
        )
    last = rows[-1]
    return PatientBoard(patient_id, last.position, last.version, horizon, tuple(items))


def _of_due(d: DueItem, by_position: dict[int, EventRow]) -> BoardItem:
    source = care.provenance(d, by_position)
    # As the care views render it, its status apart (read at each reading time).
    shown = {k: v for k, v in care.due_json(d).items() if k != "status"}
    return BoardItem(
        "due",
        d.key,
        shown,
        _policy(source.rows),
        tuple(sorted(c.value for c in d.awaits)),
        roles=tuple(r.value for r in d.for_roles),
        due_from=d.due_from,
        due_by=d.due_by,
    )


def _of_alert(a: Alert, by_position: dict[int, EventRow]) -> BoardItem:
    source = care.provenance(a, by_position)
    return BoardItem(
        "alert",
        a.key,
        care.alert_json(a),
        _policy(source.rows),
        tuple(sorted(c.value for c in a.awaits)),
        roles=tuple(r.value for r in a.for_roles),
    )


def status_at(item: BoardItem, now: datetime) -> str | None:
    """A due item's status at `now` ("due", "overdue"), or None while it has not opened."""
    assert item.due_from is not None and item.due_by is not None
    if item.due_from > now:
        return None
    return "overdue" if now > item.due_by else "due"


# The sections' urgency on a board page: alerts, then overdue, then due, then the rest.
URGENCY = {"alert": 0, "overdue": 1, "due": 2, "missed": 3, "message": 3}
SUD = DataClass.SUD.value
