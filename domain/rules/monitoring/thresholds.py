"""Thresholds on results: the weight-gain review, and the alerts a level or a side effect
raises."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from domain.history import MedicationCourse
from domain.labs import LabResulted, shown
from domain.measures import VitalsRecorded
from domain.medication import DoseChanged, SideEffectReported
from domain.rules.care import Alert, DueItem, Fact, classes_of, positions
from domain.rules.monitoring.facts import (
    DECISION_CLASSES,
    MEDICATION_DECISIONS,
    _awaits,
    _decides,
    _level,
    _number,
    _satisfies,
    _status,
)
from domain.rules.monitoring.rows import (
    EffectAlertRule,
    LevelAlertRule,
    Need,
    WeightGainRule,
    days,
)

_REVIEW = Need("review", "review")


def _weight_gain(
    rule: WeightGainRule, med: MedicationCourse, facts: Sequence[Fact], now: datetime
) -> list[DueItem]:
    """One review, at the first weight `percent` over baseline while the medication is
    taken. Baseline: the last weight in the 30 days up to the start, else the first after."""
    start = med.started.at
    measured = [
        (f, _number(f.payload.get("weight_kg"))) for f in facts if f.kind == VitalsRecorded.__name__
    ]
    weights = sorted(((f, w) for f, w in measured if w is not None), key=lambda fw: fw[0].at)
    before = [fw for fw in weights if start - days(30) <= fw[0].at <= start]
    after = [fw for fw in weights if fw[0].at > start]
    baseline = before[-1] if before else (after[0] if after else None)
    if baseline is None:
        return []
    threshold = baseline[1] * (1 + rule.percent / 100)
    for fact, weight in after:
        if med.stopped_at is not None and fact.at > med.stopped_at:
            break
        if fact.at <= baseline[0].at or weight < threshold:
            continue
        meeting = min(
            (f for f in facts if f.at >= fact.at and _satisfies(_REVIEW, f, med.medication_id)),
            key=lambda f: f.at,
            default=None,
        )
        met_at = meeting.at if meeting is not None else None
        due_by = fact.at + days(rule.within_days)
        gain = (weight / baseline[1] - 1) * 100
        return [
            DueItem(
                key=f"{rule.rule_id}:{med.medication_id}:{fact.position}:0",
                kind="review",
                title=(
                    f"{med.drug}: {rule.title} ({baseline[1].normalize():f} to "
                    f"{weight.normalize():f} kg, +{gain:.1f}%)"
                ),
                for_roles=rule.for_roles,
                due_from=fact.at,
                due_by=due_by,
                status=_status(met_at, due_by, now),
                rule=rule.ref,
                met_at=met_at,
                anchor_position=fact.position,
                inputs=positions([*med.course_facts, *(f for f, _ in weights), meeting]),
                awaits=_awaits(_REVIEW) | classes_of(VitalsRecorded),
            )
        ]
    return []


def _level_alerts(
    rule: LevelAlertRule, facts: Sequence[Fact], medications: Mapping[str, MedicationCourse]
) -> list[Alert]:
    def level(fact: Fact) -> Decimal | None:
        p = fact.payload
        if fact.kind != LabResulted.__name__ or p.get("loinc") not in rule.loinc:
            return None
        return _level(p, rule.unit)

    def answers(fact: Fact) -> bool:
        value = level(fact)
        if value is not None:
            return not rule.contains(value)
        med = medications.get(str(fact.payload.get("medication_id")))
        decision = fact.kind in MEDICATION_DECISIONS or fact.kind == DoseChanged.__name__
        return decision and med is not None and rule.drugs.match(med.drug, med.rxnorm)

    def taking(fact: Fact) -> list[MedicationCourse]:
        return [
            m
            for m in medications.values()
            if rule.drugs.match(m.drug, m.rxnorm)
            and m.started.at <= fact.at
            and (m.stopped_at is None or fact.at <= m.stopped_at)
        ]

    alerts = []
    for fact in facts:
        value = level(fact)
        if value is None or not rule.contains(value):
            continue
        on = taking(fact) if rule.while_taking else []
        if rule.while_taking and not on:
            continue
        closing = min(
            (f for f in facts if f.position > fact.position and f.at >= fact.at and answers(f)),
            key=lambda f: f.at,
            default=None,
        )
        closed_at = closing.at if closing is not None else None
        # A decision closes it by being about one of `drugs`: its course was read too, as
        # the courses that made the result count are.
        course: list[Fact] = [f for m in on for f in m.course_facts]
        if closing is not None and level(closing) is None:
            decided = medications.get(str(closing.payload.get("medication_id")))
            course += decided.course_facts if decided is not None else []
        # As entered when that was the canonical unit (as titles always read); else the
        # converted value, and what was entered.
        entered, number = fact.payload.get("unit"), _number(fact.payload.get("value"))
        reading = f"{value.normalize():f} {rule.unit}"
        if entered != rule.unit and number is not None:
            reading = f"{shown(value)} {rule.unit}; entered as {number.normalize():f} {entered}"
        alerts.append(
            Alert(
                key=f"{rule.rule_id}:{fact.position}",
                severity=rule.severity,
                title=f"{rule.title} ({reading})",
                for_roles=rule.for_roles,
                raised_at=fact.at,
                rule=rule.ref,
                closed_at=closed_at,
                anchor_position=fact.position,
                inputs=positions([fact, closing, *course]),
                awaits=classes_of(LabResulted, DoseChanged) | DECISION_CLASSES,
            )
        )
    return alerts


def _effect_alerts(
    rule: EffectAlertRule, facts: Sequence[Fact], medications: Mapping[str, MedicationCourse]
) -> list[Alert]:
    alerts = []
    for fact in facts:
        med = medications.get(str(fact.payload.get("medication_id")))
        if fact.kind != SideEffectReported.__name__ or med is None:
            continue
        said = re.findall(r"[a-z]+", str(fact.payload.get("effect", "")).lower())
        if not rule.drugs.match(med.drug, med.rxnorm) or rule.words.isdisjoint(said):
            continue
        closing = min(
            (
                f
                for f in facts
                if f.position > fact.position and f.at >= fact.at and _decides(f, med.medication_id)
            ),
            key=lambda f: f.at,
            default=None,
        )
        closed_at = closing.at if closing is not None else None
        alerts.append(
            Alert(
                key=f"{rule.rule_id}:{fact.position}",
                severity=rule.severity,
                title=f"{med.drug}: {rule.title} ({fact.payload.get('effect')})",
                for_roles=rule.for_roles,
                raised_at=fact.at,
                rule=rule.ref,
                closed_at=closed_at,
                anchor_position=fact.position,
                inputs=positions([fact, closing, *med.course_facts]),
                awaits=DECISION_CLASSES,
            )
        )
    return alerts
