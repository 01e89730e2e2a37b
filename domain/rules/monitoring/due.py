"""Scheduled monitoring: the due items one row of the table makes of a medication's
triggers, and which facts met them."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from itertools import count

from domain.history import MedicationCourse
from domain.rules.care import DueItem, Fact, PatientContext, end_of_day, positions
from domain.rules.monitoring.facts import (
    _awaits,
    _conditions,
    _level,
    _number,
    _satisfies,
    _sooner_awaits,
    _sooner_because,
    _status,
    _targets,
    _triggers,
)
from domain.rules.monitoring.rows import EVERYONE, MonitoringRule, Phase, Stable, days
from domain.vocabulary import DataClass


@dataclass(frozen=True)
class _Occurrence:
    n: str
    due_from: datetime
    due_by: datetime
    label: str


def _scheduled(
    rule: MonitoringRule,
    med: MedicationCourse,
    facts: Sequence[Fact],
    patient: PatientContext,
    now: datetime,
    zone: tzinfo | None = None,
    resumed_from: MedicationCourse | None = None,
) -> list[DueItem]:
    """The row's due items for one medication. With the clinic's `zone`, each is due by the
    end of its last day there (local midnight); without one, at the trigger's time of day,
    the rule before the clinic had a zone (kept for replays of reads answered under it).
    `resumed_from`: the earlier course this one continues (rule.resumes_within), whose
    start the monitoring is counted from; what fell due before this course began was the
    earlier course's. A row for a condition (rule.condition) makes nothing unless the
    record holds it."""
    conditions = _conditions(rule.condition, facts) if rule.condition is not None else []
    if rule.condition is not None and not conditions:
        return []
    anchors = [
        fact
        for trigger, fact in _triggers(med)
        if trigger in rule.triggers and rule.population.applies(patient, fact.at.date())
    ]
    meeting = [f for f in facts if _satisfies(rule.need, f, med.medication_id)]
    targets = _targets(facts, med.medication_id) if _own_target(rule) else []
    # Read: the course, every fact that could meet the need, and the patient's details
    # when the row is for an age or a sex.
    inputs = positions([*med.course_facts, *meeting, *targets, *conditions])
    if resumed_from is not None:
        inputs |= positions(resumed_from.course_facts)
    awaits = _awaits(rule.need)
    if rule.condition is not None:
        awaits |= {DataClass.CARE_PLAN}
    for phase in rule.schedule:
        for sooner in phase.sooner_if:
            awaits |= _sooner_awaits(sooner)
    why: list[Fact] = []
    if rule.population != EVERYONE:
        inputs |= patient.sources
        awaits |= {DataClass.DEMOGRAPHICS}
    series_of = []
    for index, anchor in enumerate(anchors):
        # A later trigger of the same row replaces what this one had not yet opened.
        ends = [a.at for a in anchors[index + 1 : index + 2]]
        ends += [med.stopped_at] if med.stopped_at is not None else []
        end = min(ends, default=None)
        start, at = med.started.at, anchor.at
        if resumed_from is not None:
            start = resumed_from.started.at
            at = start if anchor is med.started else at
        series = sorted(
            (
                o
                for o in _occurrences(
                    rule, at, start, end, now, meeting, targets, (facts, med, why)
                )
                if resumed_from is None or o.due_by >= med.started.at
            ),
            key=lambda o: o.due_from,
        )
        series_of.append((anchor, series))
    # What made an occurrence sooner (an interacting drug, a low eGFR...) was read too.
    inputs |= positions(why)
    items = []
    for anchor, series in series_of:
        met = _met(series, meeting)
        for position, occurrence in enumerate(series):
            met_at = met.get(position)
            due_by = end_of_day(occurrence.due_by, zone) if zone is not None else occurrence.due_by
            title = f"{med.drug}: {rule.need.title}"
            items.append(
                DueItem(
                    key=f"{rule.rule_id}:{med.medication_id}:{anchor.position}:{occurrence.n}",
                    kind=rule.need.kind,
                    title=f"{title} ({occurrence.label})" if occurrence.label else title,
                    for_roles=rule.for_roles,
                    due_from=occurrence.due_from,
                    due_by=due_by,
                    status=_status(met_at, due_by, now),
                    rule=rule.ref,
                    met_at=met_at,
                    anchor_position=anchor.position,
                    inputs=inputs,
                    awaits=awaits,
                )
            )
    return items


def _occurrences(
    rule: MonitoringRule,
    anchor: datetime,
    start: datetime,
    end: datetime | None,
    now: datetime,
    results: Sequence[Fact],
    targets: Sequence[Fact] = (),
    record: tuple[Sequence[Fact], MedicationCourse, list[Fact]] | None = None,
) -> list[_Occurrence]:
    """What a trigger makes due: everything opened by `now`, then the next one; nothing
    that would open after `end` (a stop, a switch, the next trigger of the row)."""
    series: list[_Occurrence] = []
    previous = anchor
    for p, phase in enumerate(rule.schedule):
        base = anchor if phase.after == "trigger" else previous
        stable_at = None
        if phase.until_stable is not None:
            opens = base + days(phase.day - phase.early)
            stable_at = _stable_at(
                phase.until_stable, [r for r in results if r.at >= opens], targets
            )
        last = None
        for k in count():
            label = phase.label
            if last is None:
                nominal = base + days(phase.day)
            else:
                step, label = _step(phase, last, results, record)
                nominal = last + days(step)
            if phase.until is not None and nominal > start + days(phase.until):
                break
            due_from = nominal - days(phase.early)
            if stable_at is not None and due_from > stable_at:
                break
            if end is not None and due_from > end:
                return series
            series.append(_Occurrence(f"{p}.{k}", due_from, nominal + days(phase.late), label))
            last = nominal
            if due_from > now or phase.every is None:
                break
        if series and series[-1].due_from > now:
            return series
        if phase.until_stable is not None:
            if stable_at is None:
                return series
            previous = stable_at
        else:
            previous = last if last is not None else base
    return series


def _step(
    phase: Phase,
    last: datetime,
    results: Sequence[Fact],
    record: tuple[Sequence[Fact], MedicationCourse, list[Fact]] | None = None,
) -> tuple[int, str]:
    """The days to a repeating phase's next occurrence after the one due at `last`, and
    its label: `phase.sooner`'s when the latest result by then (within its window) was at
    or above its level, else the first of `phase.sooner_if` the record shows by then
    (the fact that shows it is added to `record`'s list, what the item was computed
    from)."""
    sooner = phase.sooner
    if sooner is not None:
        taken = [r for r in results if r.at <= last + days(phase.late)]
        latest = max(taken, key=lambda r: r.at, default=None)
        value = _level(latest.payload, sooner.unit) if latest is not None else None
        if value is not None and value >= sooner.at_or_above:
            return sooner.every, sooner.label
    if record is not None:
        facts, med, why = record
        for reason in phase.sooner_if:
            found = _sooner_because(reason, facts, med, last + days(phase.late))
            if found is not None:
                why.append(found)
                return reason.every, reason.label
    return phase.every or 0, phase.label


def _own_target(rule: MonitoringRule) -> bool:
    return any(p.until_stable is not None and p.until_stable.own_target for p in rule.schedule)


def _range(stable: Stable, fact: Fact, targets: Sequence[Fact]) -> tuple[Decimal, Decimal]:
    """The range a result counts as stable in: the prescriber's latest target set before
    it (with `own_target`), else the row's."""
    if stable.own_target:
        for target in reversed(targets):
            if target.position < fact.position and target.payload.get("unit") == stable.unit:
                low, high = _number(target.payload.get("low")), _number(target.payload.get("high"))
                if low is not None and high is not None:
                    return low, high
    return stable.low, stable.high


def _stable_at(
    stable: Stable, results: Sequence[Fact], targets: Sequence[Fact] = ()
) -> datetime | None:
    """When the `count`-th consecutive result in range was taken, if it was."""
    streak = 0
    for fact in sorted(results, key=lambda f: f.at):
        value = _level(fact.payload, stable.unit)
        low, high = _range(stable, fact, targets)
        if value is None:
            streak = 0
        elif low <= value <= high:
            streak += 1
            if streak == stable.count:
                return fact.at
        else:
            streak = 0
    return None


def _met(series: Sequence[_Occurrence], meeting: Sequence[Fact]) -> dict[int, datetime]:
    """Each fact meets the latest occurrence (of `series`, in the order they open) opened
    before it; an occurrence is met when its earliest such fact happened."""
    opened = [o.due_from for o in series]
    met: dict[int, datetime] = {}
    for fact in meeting:
        index = bisect_right(opened, fact.at) - 1
        if index >= 0 and (index not in met or fact.at < met[index]):
            met[index] = fact.at
    return met
