"""Monitoring of ADHD medication: blood pressure and heart rate on stimulants and
atomoxetine."""

from __future__ import annotations

from domain.rules.monitoring.rows import ON_START_OR_DOSE_CHANGE, MonitoringRule, Phase
from domain.rules.monitoring.v1.codes import (
    ATOMOXETINE,
    BLOOD_PRESSURE_AND_PULSE,
    PRESCRIBER,
    STIMULANTS,
    _vitals,
)

STIMULANT_SOURCE = "clinical/monitoring.md, Stimulants (ADHD)"
ATOMOXETINE_SOURCE = (
    "atomoxetine prescribing information (blood pressure and pulse at baseline and after "
    "dose increases); not in clinical/monitoring.md"
)

STIMULANT_SCHEDULES: tuple[MonitoringRule, ...] = (
    MonitoringRule(
        "stimulant-vitals",
        "1",
        STIMULANTS,
        ON_START_OR_DOSE_CHANGE,
        _vitals("blood pressure and heart rate", BLOOD_PRESSURE_AND_PULSE),
        (Phase(0, early=7, late=7, label="at the start or dose change"),),
        PRESCRIBER,
        STIMULANT_SOURCE,
    ),
)

ATOMOXETINE_SCHEDULES: tuple[MonitoringRule, ...] = (
    MonitoringRule(
        "atomoxetine-vitals",
        "1",
        ATOMOXETINE,
        ON_START_OR_DOSE_CHANGE,
        _vitals("blood pressure and heart rate", BLOOD_PRESSURE_AND_PULSE),
        (Phase(0, early=7, late=7, label="at the start or dose change"),),
        PRESCRIBER,
        ATOMOXETINE_SOURCE,
        checked=False,
    ),
)
