"""Thresholds on results: the weight-gain review, and the alerts a level or a side effect
raises."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from domain.careplan import NeutropeniaPathwayRecorded, PregnancyStatusRecorded
from domain.history import MedicationCourse
from domain.labs import LabResulted, shown
from domain.measures import VitalsRecorded
from domain.medication import DoseChanged, SideEffectReported
from domain.rules.care import Alert, DueItem, Fact, classes_of, positions
from domain.rules.monitoring.facts import (
    DECISION_CLASSES,
    MEDICATION_DECISIONS,
    _awaits,
    _benign_neutropenia,
    _decides,
    _level,
    _number,
    _pathway_records,
    _satisfies,
    _status,
)
from domain.rules.monitoring.rows import (
    EffectAlertRule,
    InteractionRule,
    LevelAlertRule,
    Need,
    StatusAlertRule,
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
    for fact in _in_band(rule, facts):
        value = _result_level(rule, fact) or Decimal(0)
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
        course += _pathway_records(facts, fact) if rule.pathway is not None else []
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
                awaits=classes_of(LabResulted, DoseChanged) | DECISION_CLASSES | _pathway(rule),
            )
        )
    return alerts


def _pathway(rule: LevelAlertRule) -> frozenset[Any]:
    return classes_of(NeutropeniaPathwayRecorded) if rule.pathway is not None else frozenset()


def _result_level(rule: LevelAlertRule, fact: Fact) -> Decimal | None:
    p = fact.payload
    if fact.kind != LabResulted.__name__ or p.get("loinc") not in rule.loinc:
        return None
    return _level(p, rule.unit)


def _in_band(rule: LevelAlertRule, facts: Sequence[Fact]) -> list[Fact]:
    """The results in the rule's band, for the patients on its pathway."""
    found = []
    for fact in facts:
        value = _result_level(rule, fact)
        if value is None or not rule.contains(value):
            continue
        if rule.pathway is not None:
            benign = _benign_neutropenia(facts, fact) is not None
            if benign != (rule.pathway == "benign ethnic neutropenia"):
                continue
        found.append(fact)
    return found


def _level_follow_ups(
    rule: LevelAlertRule,
    facts: Sequence[Fact],
    medications: Mapping[str, MedicationCourse],
    now: datetime,
) -> list[DueItem]:
    """What a result in the band makes due (rule.follow_up): a repeat within the hours
    that confirm it, then the test every `every` days until a later result leaves the
    band; what has opened by `now`, and the next one."""
    follow = rule.follow_up
    if follow is None:
        return []
    items = []
    for fact in _in_band(rule, facts):
        courses = [
            m
            for m in medications.values()
            if rule.drugs.match(m.drug, m.rxnorm) and m.started.at <= fact.at
        ]
        if rule.while_taking and not any(
            m.stopped_at is None or fact.at <= m.stopped_at for m in courses
        ):
            continue
        later = [
            f
            for f in facts
            if f.position > fact.position and f.at >= fact.at and _result_level(rule, f) is not None
        ]
        left = next(
            (f for f in later if not rule.contains(_result_level(rule, f) or Decimal(0))), None
        )
        read = [fact, left, *(f for m in courses for f in m.course_facts)]
        read += _pathway_records(facts, fact) if rule.pathway is not None else []
        title = f"{follow.title} (after {rule.title.split(':')[0]})"
        windows: list[tuple[str, datetime, datetime, str]] = []
        if follow.confirm_hours is not None:
            windows.append(
                ("confirm", fact.at, fact.at + timedelta(hours=follow.confirm_hours), "confirm")
            )
        for k in count(1):
            due_from = fact.at + days(follow.every * (k - 1))
            if left is not None and due_from > left.at:
                break
            windows.append((str(k), due_from, fact.at + days(follow.every * k), follow.until))
            if due_from > now:
                break
        for n, due_from, due_by, label in windows:
            # The confirmation is met by the next result; each repeat by the first result
            # from its opening until the next repeat opens.
            closes = due_from + days(follow.every)
            met = next(
                (f for f in later if due_from <= f.at and (n == "confirm" or f.at < closes)),
                None,
            )
            met_at = met.at if met is not None else None
            name = "repeat within 24 h to confirm" if n == "confirm" else label
            items.append(
                DueItem(
                    key=f"{rule.rule_id}:follow-up:{fact.position}:{n}",
                    kind="lab",
                    title=f"{title}: {name}",
                    for_roles=rule.for_roles,
                    due_from=due_from,
                    due_by=due_by,
                    status=_status(met_at, due_by, now),
                    rule=rule.ref,
                    met_at=met_at,
                    anchor_position=fact.position,
                    inputs=positions([*read, met]),
                    awaits=classes_of(LabResulted) | _pathway(rule),
                )
            )
    return items


def _effect_alerts(
    rule: EffectAlertRule, facts: Sequence[Fact], medications: Mapping[str, MedicationCourse]
) -> list[Alert]:
    alerts = []
    for fact in facts:
        med = medications.get(str(fact.payload.get("medication_id")))
        if fact.kind != SideEffectReported.__name__ or med is None:
            continue
        said = frozenset(re.findall(r"[a-z]+", str(fact.payload.get("effect", "")).lower()))
        if not rule.drugs.match(med.drug, med.rxnorm) or not rule.names(said):
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


def _together(a: MedicationCourse, b: MedicationCourse) -> datetime | None:
    """When two courses were first taken at the same time, if they were."""
    start = max(a.started.at, b.started.at)
    ends = [m.stopped_at for m in (a, b) if m.stopped_at is not None]
    return None if ends and min(ends) < start else start


def _interactions(
    rule: InteractionRule, medications: Mapping[str, MedicationCourse], facts: Sequence[Fact],
    now: datetime,
) -> tuple[list[DueItem], list[Alert]]:  # fmt: skip
    """For each course of `drugs` taken with a course of `with_drugs`: an alert, closed by
    a decision on either, and the need due within `within_days` of their overlap."""
    items: list[DueItem] = []
    alerts: list[Alert] = []
    courses = list(medications.values())
    for med in (m for m in courses if rule.drugs.match(m.drug, m.rxnorm)):
        for other in (m for m in courses if rule.with_drugs.match(m.drug, m.rxnorm)):
            if other.medication_id == med.medication_id:
                continue
            since = _together(med, other)
            if since is None:
                continue
            anchor = max((med.started, other.started), key=lambda f: f.at)
            closing = min(
                (
                    f
                    for f in facts
                    if f.position > anchor.position
                    and (_decides(f, med.medication_id) or _decides(f, other.medication_id))
                ),
                key=lambda f: f.at,
                default=None,
            )
            read = [*med.course_facts, *other.course_facts]
            alerts.append(
                Alert(
                    key=f"{rule.rule_id}:{med.medication_id}:{other.medication_id}",
                    severity=rule.severity,
                    title=f"{med.drug} with {other.drug}: {rule.title}",
                    for_roles=rule.for_roles,
                    raised_at=since,
                    rule=rule.ref,
                    closed_at=closing.at if closing is not None else None,
                    anchor_position=anchor.position,
                    inputs=positions([*read, closing]),
                    awaits=DECISION_CLASSES,
                )
            )
            due_by = since + days(rule.within_days)
            met = min(
                (f for f in facts if f.at >= since and _satisfies(rule.need, f, med.medication_id)),
                key=lambda f: f.at,
                default=None,
            )
            items.append(
                DueItem(
                    key=f"{rule.rule_id}:{med.medication_id}:{other.medication_id}:0",
                    kind=rule.need.kind,
                    title=f"{med.drug}: {rule.need.title} (with {other.drug})",
                    for_roles=rule.for_roles,
                    due_from=since,
                    due_by=due_by,
                    status=_status(met.at if met else None, due_by, now),
                    rule=rule.ref,
                    met_at=met.at if met else None,
                    anchor_position=anchor.position,
                    inputs=positions([*read, met]),
                    awaits=_awaits(rule.need),
                )
            )
    return items, alerts


def _status_alerts(
    rule: StatusAlertRule, facts: Sequence[Fact], medications: Mapping[str, MedicationCourse]
) -> list[Alert]:
    """A pregnancy status among `statuses` while one of `drugs` is taken: an alert at the
    later of the two, closed by a decision on the drug or a later status outside them."""
    statuses = [f for f in facts if f.kind == PregnancyStatusRecorded.__name__]
    alerts = []
    for fact in statuses:
        if fact.payload.get("status") not in rule.statuses:
            continue
        after = [f for f in statuses if f.position > fact.position]
        ends = next((f for f in after if f.payload.get("status") not in rule.statuses), None)
        for med in medications.values():
            if not rule.drugs.match(med.drug, med.rxnorm):
                continue
            if med.stopped_at is not None and med.stopped_at < fact.at:
                continue
            if ends is not None and med.started.at >= ends.at:
                continue
            anchor = max((fact, med.started), key=lambda f: f.position)
            closing = min(
                (
                    f
                    for f in facts
                    if f.position > anchor.position and _decides(f, med.medication_id)
                ),
                key=lambda f: f.at,
                default=ends if ends is not None and ends.position > anchor.position else None,
            )
            alerts.append(
                Alert(
                    key=f"{rule.rule_id}:{fact.position}:{med.medication_id}",
                    severity=rule.severity,
                    title=f"{med.drug}: {rule.title} ({fact.payload.get('status')})",
                    for_roles=rule.for_roles,
                    raised_at=max(fact.at, med.started.at),
                    rule=rule.ref,
                    closed_at=closing.at if closing is not None else None,
                    anchor_position=anchor.position,
                    inputs=positions([fact, closing, *med.course_facts]),
                    awaits=DECISION_CLASSES | classes_of(PregnancyStatusRecorded),
                )
            )
    return alerts
