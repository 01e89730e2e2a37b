"""How the monitoring engine reads a patient's facts: the triggers of each medication
course (domain.history), which facts meet a need, the decisions that answer a review, and
the numbers in results."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.history import MedicationCourse
from domain.labs import LabResulted
from domain.measures import QuestionnaireAnswered, VitalsRecorded
from domain.medication import (
    EvaluationRecorded,
    MedicationReassessed,
    MedicationStopped,
    MedicationSwitched,
)
from domain.messaging import MessageSent
from domain.rules.care import DueStatus, Fact, classes_of
from domain.rules.monitoring.rows import Need, Trigger
from domain.therapy import SessionAttended
from domain.vocabulary import TREATING_ROLES, DataClass

# Events that answer a review of a medication (or an alert about it).
MEDICATION_DECISIONS = frozenset(
    kind.__name__ for kind in (MedicationReassessed, MedicationSwitched, MedicationStopped)
)
DECISION_CLASSES = classes_of(MedicationReassessed, MedicationSwitched, MedicationStopped)


def _triggers(med: MedicationCourse) -> list[tuple[Trigger, Fact]]:
    """What starts a monitoring series of a medication: its start (or the switch to it),
    and each dose change before it stopped."""
    began: Trigger = "start" if med.switched_from is None else "switch-to"
    changes = [
        step.fact
        for step in med.doses[1:]
        if med.stopped is None or step.fact.position < med.stopped.position
    ]
    return [(began, med.started), *(("dose-change", fact) for fact in changes)]


def _satisfies(need: Need, fact: Fact, medication_id: str) -> bool:
    p = fact.payload
    if need.kind == "lab":
        final = p.get("final", True) is not False
        return fact.kind == LabResulted.__name__ and p.get("loinc") in need.loinc and final
    if need.kind == "vitals":
        return fact.kind == VitalsRecorded.__name__ and all(
            any(p.get(name) is not None for name in group) for group in need.vitals
        )
    if need.kind == "questionnaire":
        return (
            fact.kind == QuestionnaireAnswered.__name__ and p.get("instrument") == need.instrument
        )
    if need.kind == "visit":
        return fact.kind == SessionAttended.__name__
    if need.kind == "contact":
        by_clinician = fact.kind == MessageSent.__name__ and fact.author_role in TREATING_ROLES
        return by_clinician or fact.kind == SessionAttended.__name__
    # A review or assessment: the prescriber's evaluation, or a decision on the medication.
    return fact.kind == EvaluationRecorded.__name__ or _decides(fact, medication_id)


def _awaits(need: Need) -> frozenset[DataClass]:
    """The classes of the events that would meet `need` (as `_satisfies` reads them)."""
    if need.kind == "lab":
        return classes_of(LabResulted)
    if need.kind == "vitals":
        return classes_of(VitalsRecorded)
    if need.kind == "questionnaire":
        return classes_of(QuestionnaireAnswered)
    if need.kind == "visit":
        return classes_of(SessionAttended)
    if need.kind == "contact":
        return classes_of(MessageSent, SessionAttended)
    return classes_of(EvaluationRecorded) | DECISION_CLASSES


def _decides(fact: Fact, medication_id: str) -> bool:
    return fact.kind in MEDICATION_DECISIONS and str(fact.payload.get("medication_id")) == (
        medication_id
    )


def _status(met_at: datetime | None, due_by: datetime, now: datetime) -> DueStatus:
    if met_at is not None:
        return "met"
    return "overdue" if now > due_by else "due"


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
