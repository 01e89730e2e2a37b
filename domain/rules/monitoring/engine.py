"""The monitoring engine: `monitoring_picture` replays a patient's facts against the table.

An item is met by the first fact that satisfies it at or after its window opens (a fact
meets the most recent window opened before it, so a late result does not hide a missed
one); it is overdue once `now` passes `due_by` unmet, otherwise due. A series shows what has
opened plus the next upcoming item; a stop or switch ends it (what was already due stays),
and a new trigger of the same row (a dose change) replaces what its predecessor had not yet
opened. Thresholds on results raise alerts or reviews (lithium toxicity, weight gain on an
antipsychotic, rash on lamotrigine); rules across medications raise alerts for
combinations and dose risks, and prescription-monitoring checks fall due (combinations.py);
a restart after a long gap puts a re-titration due (restarts.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo

from domain.history import MedicationCourse, medication_courses
from domain.rules.care import Alert, DueItem, Fact, PatientContext
from domain.rules.dose_ranges import override_alerts
from domain.rules.monitoring.combinations import (
    combination_alerts,
    dose_risk_picture,
    pdmp_items,
)
from domain.rules.monitoring.due import _scheduled
from domain.rules.monitoring.restarts import restart_items
from domain.rules.monitoring.rows import MonitoringRule, MonitoringTable, days
from domain.rules.monitoring.table import MONITORING
from domain.rules.monitoring.thresholds import (
    _effect_alerts,
    _interactions,
    _level_alerts,
    _level_follow_ups,
    _status_alerts,
    _weight_gain,
)


def monitoring_picture(
    facts: Sequence[Fact],
    patient: PatientContext,
    now: datetime,
    table: MonitoringTable = MONITORING,
    zone: tzinfo | None = None,
) -> tuple[list[DueItem], list[Alert]]:
    """The monitoring due items and alerts of one patient's record at `now`: for every
    medication on the record, each row of `table` its drug matches."""
    ordered = sorted(facts, key=lambda f: f.position)
    medications = medication_courses(ordered)
    items: list[DueItem] = []
    alerts: list[Alert] = []
    for med in medications.values():
        alerts += override_alerts(med)
        for rule in table.schedules:
            if rule.drugs.match(med.drug, med.rxnorm):
                earlier = _resumed_from(rule, med, medications.values())
                items += _scheduled(rule, med, ordered, patient, now, zone, earlier)
        for gain in table.weight_gain:
            if gain.drugs.match(med.drug, med.rxnorm):
                items += _weight_gain(gain, med, ordered, now)
    for level in table.level_alerts:
        alerts += _level_alerts(level, ordered, medications)
        items += _level_follow_ups(level, ordered, medications, now)
    for interaction in table.interactions:
        found, raised = _interactions(interaction, medications, ordered, now)
        items += found
        alerts += raised
    for status in table.status_alerts:
        alerts += _status_alerts(status, ordered, medications)
    for effect in table.effect_alerts:
        alerts += _effect_alerts(effect, ordered, medications)
    for combination in table.combinations:
        alerts += combination_alerts(combination, ordered, medications)
    for risk in table.dose_alerts:
        risk_items, risk_alerts = dose_risk_picture(risk, ordered, medications, patient, now)
        items, alerts = items + risk_items, alerts + risk_alerts
    for check in table.checks:
        items += pdmp_items(check, ordered, medications, now)
    for restart in table.restarts:
        items += restart_items(restart, ordered, medications, now, zone)
    items.sort(key=lambda i: (i.due_by, i.key))
    alerts.sort(key=lambda a: (a.raised_at, a.key))
    return items, alerts


def _resumed_from(
    rule: MonitoringRule, med: MedicationCourse, courses: Iterable[MedicationCourse]
) -> MedicationCourse | None:
    """The earlier course of the row's drugs that `med` continues: one stopped at most
    `resumes_within` days before `med` started (itself followed back the same way)."""
    if rule.resumes_within is None:
        return None
    found = None
    current = med
    while True:
        before = [
            c
            for c in courses
            if c is not current
            and rule.drugs.match(c.drug, c.rxnorm)
            and c.stopped_at is not None
            and c.stopped_at <= current.started.at
            and current.started.at - c.stopped_at <= days(rule.resumes_within)
        ]
        if not before:
            return found
        current = found = max(before, key=lambda c: c.stopped_at or c.started.at)
