"""The monitoring engine: `monitoring_picture` replays a patient's facts against the table.

An item is met by the first fact that satisfies it at or after its window opens (a fact
meets the most recent window opened before it, so a late result does not hide a missed
one); it is overdue once `now` passes `due_by` unmet, otherwise due. A series shows what has
opened plus the next upcoming item; a stop or switch ends it (what was already due stays),
and a new trigger of the same row (a dose change) replaces what its predecessor had not yet
opened. Thresholds on results raise alerts or reviews (lithium toxicity, weight gain on an
antipsychotic, rash on lamotrigine); rules across medications raise alerts for
combinations and dose risks, and prescription-monitoring checks fall due (combinations.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.history import medication_courses
from domain.rules.care import Alert, DueItem, Fact, PatientContext
from domain.rules.dose_ranges import override_alerts
from domain.rules.monitoring.combinations import (
    combination_alerts,
    dose_risk_picture,
    pdmp_items,
)
from domain.rules.monitoring.due import _scheduled
from domain.rules.monitoring.rows import MonitoringTable
from domain.rules.monitoring.table import MONITORING
from domain.rules.monitoring.thresholds import _effect_alerts, _level_alerts, _weight_gain


def monitoring_picture(
    facts: Sequence[Fact],
    patient: PatientContext,
    now: datetime,
    table: MonitoringTable = MONITORING,
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
                items += _scheduled(rule, med, ordered, patient, now)
        for gain in table.weight_gain:
            if gain.drugs.match(med.drug, med.rxnorm):
                items += _weight_gain(gain, med, ordered, now)
    for level in table.level_alerts:
        alerts += _level_alerts(level, ordered, medications)
    for effect in table.effect_alerts:
        alerts += _effect_alerts(effect, ordered, medications)
    for combination in table.combinations:
        alerts += combination_alerts(combination, ordered, medications)
    for risk in table.dose_alerts:
        risk_items, risk_alerts = dose_risk_picture(risk, ordered, medications, patient, now)
        items, alerts = items + risk_items, alerts + risk_alerts
    for check in table.checks:
        items += pdmp_items(check, ordered, medications, now)
    items.sort(key=lambda i: (i.due_by, i.key))
    alerts.sort(key=lambda a: (a.raised_at, a.key))
    return items, alerts
