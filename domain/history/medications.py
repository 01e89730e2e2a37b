"""Medication courses: each medication on the record from the event that began it (a start,
or a switch to it) to the one that ended it (a stop, or a switch away), with its doses and
schedules over time, its side effects and its adherence."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.medication import (
    ACTIVE,
    STOPPED,
    TAPERING,
    AdherenceRecorded,
    DoseChanged,
    DoseTimingChanged,
    MedicationStarted,
    MedicationStopped,
    MedicationSwitched,
    SideEffectReported,
    TaperStarted,
    TitrationPlanned,
)
from domain.record import kind_of
from domain.rules.care import Fact

STARTED, SWITCHED = kind_of(MedicationStarted), kind_of(MedicationSwitched)
DOSE, TIMING, TAPER = kind_of(DoseChanged), kind_of(DoseTimingChanged), kind_of(TaperStarted)
PLAN = kind_of(TitrationPlanned)
STOP, SIDE_EFFECT, ADHERENCE = (
    kind_of(MedicationStopped),
    kind_of(SideEffectReported),
    kind_of(AdherenceRecorded),
)


@dataclass(frozen=True)
class DoseStep:
    """A dose from a fact on: the course's first dose, or a dose change."""

    fact: Fact
    dose: Mapping[str, Any]
    reason: Any  # the indication for a course's first dose, else the change's reason


@dataclass
class MedicationCourse:
    medication_id: str
    drug: str
    rxnorm: str | None
    started: Fact  # the MedicationStarted, or the MedicationSwitched that began it
    dose: Mapping[str, Any]  # as it now stands
    schedule: Mapping[str, Any]  # as it now stands
    switched_from: str | None = None
    status: str = ACTIVE  # active, tapering or stopped (domain.medication)
    doses: list[DoseStep] = field(default_factory=list)
    schedules: list[tuple[Fact, Mapping[str, Any]]] = field(default_factory=list)
    side_effects: list[Fact] = field(default_factory=list)
    adherence: list[Fact] = field(default_factory=list)
    stopped: Fact | None = None  # the MedicationStopped, or the switch away
    stop_reason: Any = None
    switched_to: str | None = None

    @property
    def stopped_at(self) -> datetime | None:
        return None if self.stopped is None else self.stopped.at

    @property
    def course_facts(self) -> list[Fact]:
        """The facts that make the course what it is: its start, doses, schedules and end
        (what a rule about the medication reads)."""
        found = [self.started, *(s.fact for s in self.doses), *(f for f, _ in self.schedules)]
        return found + ([self.stopped] if self.stopped is not None else [])


def medication_courses(facts: Iterable[Fact]) -> dict[str, MedicationCourse]:
    """Every course the facts begin, by medication id, in the order they began."""
    courses: dict[str, MedicationCourse] = {}
    for fact in facts:
        p = fact.payload
        if fact.kind == STARTED:
            course = _begun(str(p["medication_id"]), fact)
            courses[course.medication_id] = course
            continue
        if fact.kind == SWITCHED:
            old = courses.get(str(p["medication_id"]))
            if old is not None:
                old.status, old.stopped, old.stop_reason = STOPPED, fact, p.get("reason")
                old.switched_to = str(p["to_medication_id"])
            course = _begun(str(p["to_medication_id"]), fact, str(p["medication_id"]))
            courses[course.medication_id] = course
            continue
        found = courses.get(str(p.get("medication_id")))
        if found is not None:
            _follow(found, fact)
    return courses


def _begun(medication_id: str, fact: Fact, switched_from: str | None = None) -> MedicationCourse:
    p = fact.payload
    rxnorm = p.get("rxnorm")
    course = MedicationCourse(
        medication_id,
        str(p.get("drug", "")),
        None if rxnorm is None else str(rxnorm),
        fact,
        p.get("dose") or {},
        p.get("schedule") or {},
        switched_from,
    )
    course.doses.append(DoseStep(fact, course.dose, p.get("indication") or p.get("reason")))
    course.schedules.append((fact, course.schedule))
    return course


def _follow(course: MedicationCourse, fact: Fact) -> None:
    """A later fact about a course the facts began."""
    p = fact.payload
    if fact.kind == DOSE:
        course.dose = p["dose"]
        course.doses.append(DoseStep(fact, course.dose, p.get("reason")))
    elif fact.kind == TIMING:
        course.schedule = p["schedule"]
        course.schedules.append((fact, course.schedule))
    elif fact.kind == TAPER or (fact.kind == PLAN and p.get("direction") == "down"):
        course.status = TAPERING  # a taper: a plan downwards, or a TaperStarted
    elif fact.kind == STOP:
        course.status, course.stopped, course.stop_reason = STOPPED, fact, p.get("reason")
    elif fact.kind == SIDE_EFFECT:
        course.side_effects.append(fact)
    elif fact.kind == ADHERENCE:
        course.adherence.append(fact)
