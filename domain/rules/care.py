"""What the rules read and what they produce.

Rules read `Fact`s: one per event of a patient's record, in log order, with the event's
payload as stored (JSON values). They produce `DueItem`s (something the team must do by a
time: a lab, a contact, a visit, a questionnaire, a review) and `Alert`s (something that
needs attention now and stays open until the event that answers it is recorded).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from domain.vocabulary import Role

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


@dataclass(frozen=True)
class PatientContext:
    birth_date: date | None
    sex_at_birth: str | None = None

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

    @property
    def open(self) -> bool:
        return self.closed_at is None
