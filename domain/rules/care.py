"""What the rules read and what they produce.

Rules read `Fact`s: one per event of a patient's record, in log order, with the event's
payload as stored (JSON values). They produce `DueItem`s (something the team must do by a
time: a lab, a contact, a visit, a questionnaire, a review) and `Alert`s (something that
needs attention now and stays open until the event that answers it is recorded).

Rules read the whole record, and each item says what it was computed from: `inputs`, the
positions of the facts it read, and `awaits`, the data classes of the events that would meet
or close it (an open or unmet item says none has been recorded). A reader is shown an item
only if they may see all of that (projections.care.provenance).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Literal

from domain.vocabulary import DataClass, Role

if TYPE_CHECKING:
    from domain.record import RecordEvent


def end_of_day(moment: datetime, zone: tzinfo | None) -> datetime:
    """The midnight that ends `moment`'s calendar day in the clinic's `zone` (aware, in that
    zone, so a daylight-saving change is the zone's business). With no zone: the day in
    the moment's own UTC offset, the rule before the clinic had a zone (kept for replays
    of reads answered under it)."""
    local = moment.astimezone(zone) if zone is not None else moment
    return datetime.combine(local.date() + timedelta(days=1), time(0), zone or moment.tzinfo)


DueKind = Literal["lab", "contact", "visit", "questionnaire", "review", "assessment", "vitals"]
DueStatus = Literal["due", "overdue", "met"]


@dataclass(frozen=True)
class Fact:
    position: int  # log position: the order of the record
    kind: str  # the event class's name: domain.record.kind_of(QuestionnaireAnswered)
    at: datetime  # clinical time
    author: str
    author_role: str
    payload: Mapping[str, Any]
    version: int = 0  # the event's place in the patient's record (0 where not known)


def positions(facts: Iterable[Fact | None]) -> frozenset[int]:
    """The log positions of the facts an item was computed from (None: a fact not found)."""
    return frozenset(f.position for f in facts if f is not None)


def classes_of(*event_classes: type[RecordEvent]) -> frozenset[DataClass]:
    """The data classes events of these kinds are recorded in, unless a Part 2 rule makes
    them SUD records (what an item's `awaits` names)."""
    return frozenset(c.default_class for c in event_classes)


@dataclass(frozen=True)
class PatientContext:
    birth_date: date | None
    sex_at_birth: str | None = None
    # The positions of the facts the details come from (an age or sex rule reads them).
    sources: frozenset[int] = field(default=frozenset(), compare=False)

    def age_on(self, day: date) -> int | None:
        if self.birth_date is None:
            return None
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


@dataclass(frozen=True)
class RuleRef:
    """Which rule, in which version, from which source, and whether that source was read
    in the primary literature ("checked") or only in a secondary one."""

    rule_id: str
    version: str
    source: str
    checked: bool


@dataclass(frozen=True)
class DueItem:
    key: str  # stable across evaluations: rule id + what it is anchored to
    kind: DueKind
    title: str
    for_roles: tuple[Role, ...]
    due_from: datetime
    due_by: datetime
    status: DueStatus
    rule: RuleRef
    met_at: datetime | None = None
    anchor_position: int | None = None  # the fact that created it
    # What it was computed from (see the module's docstring); not part of its identity.
    inputs: frozenset[int] = field(default=frozenset(), compare=False)
    awaits: frozenset[DataClass] = field(default=frozenset(), compare=False)


@dataclass(frozen=True)
class Alert:
    key: str
    severity: Literal["high", "moderate"]
    title: str
    for_roles: tuple[Role, ...]
    raised_at: datetime
    rule: RuleRef
    closed_at: datetime | None = None
    anchor_position: int | None = None
    # What it was computed from (see the module's docstring); not part of its identity.
    inputs: frozenset[int] = field(default=frozenset(), compare=False)
    awaits: frozenset[DataClass] = field(default=frozenset(), compare=False)

    @property
    def open(self) -> bool:
        return self.closed_at is None
