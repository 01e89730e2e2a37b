"""Restarts that re-titrate (domain/rules/titration.py, RestartRule): a course of the
rule's drug begun more than its half-lives after the previous one stopped puts a
re-titration on the prescriber's board, met by a titration plan (upwards) for the new
course. The write path refuses the restart's first dose above the first step unless an
override reason is given (MedicationSection.check_restart); this is the work it leaves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo

from domain.history import MedicationCourse
from domain.medication import MedicationStarted, MedicationSwitched, TitrationPlanned
from domain.record import kind_of
from domain.rules.care import DueItem, Fact, classes_of, end_of_day, positions
from domain.rules.monitoring.facts import _status
from domain.rules.monitoring.rows import days
from domain.rules.titration import (
    ENZYME_INDUCER_NAMES,
    VALPROATE_NAMES,
    Regimen,
    RestartRule,
)
from domain.vocabulary import Role


def _taken_at(course: MedicationCourse, at: datetime) -> bool:
    return course.started.at <= at and (course.stopped_at is None or course.stopped_at > at)


def _regimen(courses: Sequence[MedicationCourse], at: datetime) -> tuple[Regimen, list[Fact]]:
    """The titration column at `at` (valproate first, then an inducer, as the write path
    chooses it) and the courses that chose it."""
    taken = [c for c in courses if _taken_at(c, at)]
    valproate = [c for c in taken if VALPROATE_NAMES.match(c.drug, c.rxnorm)]
    if valproate:
        return "with valproate", [c.started for c in valproate]
    inducers = [c for c in taken if ENZYME_INDUCER_NAMES.match(c.drug, c.rxnorm)]
    if inducers:
        return "with an enzyme inducer", [c.started for c in inducers]
    return "alone", []


def restart_items(
    rule: RestartRule,
    facts: Sequence[Fact],
    medications: Mapping[str, MedicationCourse],
    now: datetime,
    zone: tzinfo | None = None,
) -> list[DueItem]:
    """A re-titration due for each course of the rule's drug that restarted it after more
    than its half-lives off; none for a course stopped before a plan was recorded."""
    courses = list(medications.values())
    items = []
    for med in courses:
        if not rule.drugs.match(med.drug, med.rxnorm):
            continue
        before = [
            c
            for c in courses
            if c is not med
            and rule.drugs.match(c.drug, c.rxnorm)
            and c.stopped is not None
            and c.stopped.position < med.started.position
        ]
        if not before:
            continue
        last = max(before, key=lambda c: c.stopped_at or c.started.at)
        assert last.stopped_at is not None
        regimen, chose = _regimen(courses, med.started.at)
        off = med.started.at - last.stopped_at
        if off <= rule.gap(regimen):
            continue
        plans = [
            f
            for f in facts
            if f.kind == kind_of(TitrationPlanned)
            and str(f.payload.get("medication_id")) == med.medication_id
            and f.payload.get("direction") != "down"
        ]
        met_at = plans[0].at if plans else None
        if met_at is None and med.stopped is not None:
            continue
        due_by = med.started.at + days(rule.plan_within_days)
        if zone is not None:
            due_by = end_of_day(due_by, zone)
        said = rule.off_for(regimen, off.total_seconds() / 86400)
        items.append(
            DueItem(
                key=f"{rule.rule_id}:{med.medication_id}:{med.started.position}",
                kind="review",
                title=(
                    f"{med.drug}: restarted after {said}: re-titrate from the first step "
                    "(a titration plan)"
                ),
                for_roles=(Role.PRESCRIBER,),
                due_from=med.started.at,
                due_by=due_by,
                status=_status(met_at, due_by, now),
                rule=rule.ref,
                met_at=met_at,
                anchor_position=med.started.position,
                inputs=positions([*med.course_facts, *last.course_facts, *chose, *plans]),
                awaits=classes_of(TitrationPlanned, MedicationStarted, MedicationSwitched),
            )
        )
    return items
