"""How the monitoring engine reads a patient's facts: the triggers of each medication
course (domain.history), which facts meet a need, the decisions that answer a review, and
the numbers in results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.careplan import (
    ConditionRecorded,
    LevelTargetSet,
    NeutropeniaPathwayRecorded,
    PregnancyStatusRecorded,
)
from domain.history import MedicationCourse, medication_courses
from domain.lab_units import ANALYTES, canonical
from domain.labs import LabResulted
from domain.measures import QuestionnaireAnswered, VitalsRecorded
from domain.medication import (
    AdherenceRecorded,
    EvaluationRecorded,
    MedicationReassessed,
    MedicationStarted,
    MedicationStopped,
    MedicationSwitched,
)
from domain.messaging import MessageSent
from domain.record import kinds
from domain.rules.care import DueStatus, Fact, classes_of
from domain.rules.monitoring.rows import Need, RecordedCondition, SoonerIf, Trigger, days
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
    if need.pregnancy_prevention:
        observed = fact.kind == PregnancyStatusRecorded.__name__
        return observed and (
            p.get("prevention_in_place") is True or p.get("status") == "cannot become pregnant"
        )
    if need.events or need.started is not None:
        if fact.kind in kinds(*need.events):
            return True
        started = need.started is not None and fact.kind == MedicationStarted.__name__
        return (
            started
            and need.started is not None
            and need.started.match(str(p.get("drug", "")), p.get("rxnorm"))
        )
    if need.kind == "lab":
        final = p.get("final", True) is not False
        is_result = fact.kind == LabResulted.__name__ and p.get("loinc") in need.loinc
        return is_result and final and _fits(p)
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
    if need.pregnancy_prevention:
        return classes_of(PregnancyStatusRecorded)
    if need.events or need.started is not None:
        started = classes_of(MedicationStarted) if need.started is not None else frozenset()
        return classes_of(*need.events) | started
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


def _canonical(payload: Mapping[str, Any]) -> tuple[Decimal, str] | None:
    """A result's value in its test's canonical unit: the one stored with it, or, for a
    result stored before canonical values were (not checked when it was entered), its
    value converted if its unit is one the test accepts. A test the unit table does not
    know keeps its value and unit as entered. None for a unit foreign to the test."""
    stored, unit = _number(payload.get("canonical_value")), payload.get("canonical_unit")
    if stored is not None and unit is not None:
        return stored, str(unit)
    loinc, number, entered = (
        str(payload.get("loinc")),
        _number(payload.get("value")),
        payload.get("unit"),
    )
    if number is None or entered is None:
        return None
    if loinc not in ANALYTES:
        return number, str(entered)
    converted = canonical(loinc, number, entered)
    return None if converted is None else (converted[0], converted[1].value)


def _level(payload: Mapping[str, Any], unit: str) -> Decimal | None:
    """A result's value in `unit`, when that is its test's canonical unit."""
    found = _canonical(payload)
    return found[0] if found is not None and found[1] == unit else None


def _fits(payload: Mapping[str, Any]) -> bool:
    """Whether a result can meet a need for its test: a number must be in a unit the test
    accepts (a level in a foreign unit does not clear a monitoring item, whenever it was
    stored); a result reported as text is a result of the test, as are those of tests the
    unit table does not know."""
    analyte = ANALYTES.get(str(payload.get("loinc")))
    if analyte is None or _number(payload.get("value")) is None:
        return True
    return not analyte.quantitative or _canonical(payload) is not None


def _targets(facts: Sequence[Fact], medication_id: str) -> list[Fact]:
    """The level targets a prescriber set for a medication, in order."""
    return [
        f
        for f in facts
        if f.kind == LevelTargetSet.__name__
        and str(f.payload.get("medication_id")) == medication_id
    ]


def _benign_neutropenia(facts: Sequence[Fact], before: Fact) -> Fact | None:
    """The pathway record in force at `before` if it puts the patient on the benign
    ethnic neutropenia pathway (the latest recorded before it)."""
    recorded = [
        f
        for f in facts
        if f.kind == NeutropeniaPathwayRecorded.__name__ and f.position < before.position
    ]
    latest = recorded[-1] if recorded else None
    if latest is None or latest.payload.get("benign_ethnic_neutropenia") is not True:
        return None
    return latest


def _pathway_records(facts: Sequence[Fact], before: Fact) -> list[Fact]:
    return [
        f
        for f in facts
        if f.kind == NeutropeniaPathwayRecorded.__name__ and f.position < before.position
    ]


def _conditions(condition: RecordedCondition, facts: Sequence[Fact]) -> list[Fact]:
    """The records of the condition's codes whose latest status is active (empty when the
    record holds none)."""
    latest: dict[str, Fact] = {}
    for fact in facts:
        code = str(fact.payload.get("icd10", ""))
        if fact.kind == ConditionRecorded.__name__ and condition.matches(code):
            latest[code.upper()] = fact
    return [f for f in latest.values() if f.payload.get("status", "active") == "active"]


def _sooner_because(
    sooner: SoonerIf, facts: Sequence[Fact], med: MedicationCourse, by: datetime
) -> Fact | None:
    """The fact that makes an occurrence whose window ends at `by` come sooner, if any."""
    known = [f for f in facts if f.at <= by]
    if sooner.reason == "interacting drug" and sooner.drugs is not None:
        for course in medication_courses(known).values():
            during = course.stopped_at is None or course.stopped_at > by
            other = course.medication_id != med.medication_id
            if during and other and sooner.drugs.match(course.drug, course.rxnorm):
                return course.started
        return None
    if sooner.reason == "renal decline" and sooner.below is not None:
        results = [
            f
            for f in known
            if f.kind == LabResulted.__name__
            and f.payload.get("loinc") in sooner.loinc
            and f.payload.get("final", True) is not False
            and sooner.unit is not None
            and _level(f.payload, sooner.unit) is not None
        ]
        latest = max(results, key=lambda f: f.at, default=None)
        value = _level(latest.payload, str(sooner.unit)) if latest is not None else None
        return latest if value is not None and value < sooner.below else None
    if sooner.reason == "poor adherence" and sooner.below is not None:
        since = by - days(sooner.within_days or 0)
        records = [
            f
            for f in known
            if f.kind == AdherenceRecorded.__name__
            and str(f.payload.get("medication_id")) == med.medication_id
            and f.at >= since
        ]
        latest = max(records, key=lambda f: f.at, default=None)
        if latest is None:
            return None
        prescribed = _number(latest.payload.get("doses_prescribed"))
        doses = _number(latest.payload.get("doses_taken"))
        if not prescribed or doses is None:
            return None
        return latest if doses / prescribed < sooner.below else None
    if sooner.reason == "pregnancy":
        statuses = [f for f in known if f.kind == PregnancyStatusRecorded.__name__]
        latest = max(statuses, key=lambda f: (f.at, f.position), default=None)
        return latest if latest is not None and latest.payload.get("status") == "pregnant" else None
    return None


def _sooner_awaits(sooner: SoonerIf) -> frozenset[DataClass]:
    """The classes of the events that would make an occurrence come sooner."""
    if sooner.reason == "interacting drug":
        return classes_of(MedicationStarted, MedicationSwitched)
    if sooner.reason == "renal decline":
        return classes_of(LabResulted)
    if sooner.reason == "poor adherence":
        return classes_of(AdherenceRecorded)
    return classes_of(PregnancyStatusRecorded)
