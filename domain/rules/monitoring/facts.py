"""How the monitoring engine reads a patient's facts: the medications on the record and
their triggers, which facts meet a need, the decisions that answer a review, and the
numbers in results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.labs import LabResulted
from domain.measures import QuestionnaireAnswered, VitalsRecorded
from domain.medication import (
    DoseChanged,
    EvaluationRecorded,
    MedicationReassessed,
    MedicationStarted,
    MedicationStopped,
    MedicationSwitched,
)
from domain.messaging import MessageSent
from domain.rules.care import DueStatus, Fact
from domain.rules.monitoring.rows import Need, Trigger
from domain.therapy import SessionAttended
from domain.vocabulary import TREATING_ROLES

# Events that answer a review of a medication (or an alert about it).
MEDICATION_DECISIONS = frozenset(
    kind.__name__ for kind in (MedicationReassessed, MedicationSwitched, MedicationStopped)
)


@dataclass
class _Medication:
    medication_id: str
    drug: str
    rxnorm: str | None
    started: Fact
    triggers: list[tuple[Trigger, Fact]]
    stopped_at: datetime | None = None


def _medications(facts: Sequence[Fact]) -> dict[str, _Medication]:
    meds: dict[str, _Medication] = {}
    for fact in facts:
        p = fact.payload
        med = meds.get(str(p.get("medication_id")))
        if fact.kind == MedicationStarted.__name__:
            meds[str(p["medication_id"])] = _new_medication(str(p["medication_id"]), fact, "start")
        elif fact.kind == MedicationSwitched.__name__:
            if med is not None and med.stopped_at is None:
                med.stopped_at = fact.at
            to = str(p["to_medication_id"])
            meds[to] = _new_medication(to, fact, "switch-to")
        elif med is None or med.stopped_at is not None:
            continue
        elif fact.kind == DoseChanged.__name__:
            med.triggers.append(("dose-change", fact))
        elif fact.kind == MedicationStopped.__name__:
            med.stopped_at = fact.at
    return meds


def _new_medication(medication_id: str, fact: Fact, trigger: Trigger) -> _Medication:
    rxnorm = fact.payload.get("rxnorm")
    return _Medication(
        medication_id,
        str(fact.payload.get("drug", "")),
        None if rxnorm is None else str(rxnorm),
        fact,
        [(trigger, fact)],
    )


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
