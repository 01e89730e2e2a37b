"""Monitoring of antipsychotics: metabolic monitoring of the second-generation
antipsychotics (with the weight-gain review) and clozapine's neutrophil counts."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from domain.rules.monitoring.rows import (
    BASELINE,
    ON_START,
    LevelAlertRule,
    MonitoringRule,
    Need,
    Phase,
    WeightGainRule,
)
from domain.rules.monitoring.v1.codes import (
    BLOOD_PRESSURE,
    CLOZAPINE,
    FASTING_GLUCOSE,
    LIPIDS,
    NEUTROPHIL_COUNT,
    NEUTROPHILS,
    PRESCRIBER,
    PRESCRIBER_AND_THERAPIST,
    SECOND_GENERATION_ANTIPSYCHOTICS,
    WAIST,
    WEEK_12,
    WEIGHT,
    YEARLY,
    _lab,
    _vitals,
)

SGA_SOURCE = (
    "clinical/monitoring.md, Second-generation antipsychotics "
    "(ADA/APA consensus, Diabetes Care 2004;27:596)"
)
CLOZAPINE_SOURCE = "clinical/monitoring.md, Clozapine (prescribing information)"
CLOZAPINE_ANC_SOURCE = (
    "clozapine label, section 2 and boxed warning: ANC bands for the general population "
    "(as rule-audit.md gives them; the label not read here)"
)


def _sga(rule_id: str, need: Need, *schedule: Phase) -> MonitoringRule:
    return MonitoringRule(
        rule_id,
        "1",
        SECOND_GENERATION_ANTIPSYCHOTICS,
        ON_START,
        need,
        schedule,
        PRESCRIBER,
        SGA_SOURCE,
    )


SGA_SCHEDULES: tuple[MonitoringRule, ...] = (
    _sga(
        "sga-weight",
        _vitals("weight / BMI", WEIGHT),
        BASELINE,
        Phase(28, every=28, until=84, early=7, late=7, label="weeks 4, 8, 12"),
        Phase(91, every=91, early=14, late=14, after="previous", label="quarterly"),
    ),
    _sga(
        "sga-blood-pressure", _vitals("blood pressure", BLOOD_PRESSURE), BASELINE, WEEK_12, YEARLY
    ),
    _sga(
        "sga-glucose",
        _lab("fasting glucose (or HbA1c)", FASTING_GLUCOSE),
        BASELINE,
        WEEK_12,
        YEARLY,
    ),
    _sga(
        "sga-lipids",
        _lab("fasting lipids", LIPIDS),
        BASELINE,
        WEEK_12,
        Phase(1826, every=1826, early=60, late=60, label="every 5 years"),
    ),
    _sga("sga-waist", _vitals("waist circumference", WAIST), BASELINE, YEARLY),
)

CLOZAPINE_SCHEDULES: tuple[MonitoringRule, ...] = (
    MonitoringRule(
        "clozapine-neutrophils",
        "1",
        CLOZAPINE,
        ON_START,
        _lab("absolute neutrophil count", NEUTROPHILS),
        (
            BASELINE,
            Phase(7, every=7, until=182, early=2, late=2, label="weekly, months 0-6"),
            Phase(196, every=14, until=364, early=3, late=3, label="every 2 weeks, months 6-12"),
            Phase(394, every=30, early=5, late=5, label="monthly"),
        ),
        PRESCRIBER,
        CLOZAPINE_SOURCE,
    ),
)

SGA_WEIGHT_GAIN = WeightGainRule(
    "sga-weight-gain",
    "1",
    SECOND_GENERATION_ANTIPSYCHOTICS,
    Decimal("5"),
    "weight gain of 5% or more: consider switching",
    14,
    PRESCRIBER_AND_THERAPIST,
    SGA_SOURCE,
)


def _anc(
    band: str, low: str | None, below: str, severity: Literal["high", "moderate"], title: str
) -> LevelAlertRule:
    return LevelAlertRule(
        f"clozapine-anc-{band}",
        "1",
        NEUTROPHIL_COUNT,
        "/uL",
        Decimal(low) if low is not None else None,
        CLOZAPINE,
        severity,
        title,
        PRESCRIBER_AND_THERAPIST,
        CLOZAPINE_ANC_SOURCE,
        checked=False,
        below=Decimal(below),
        while_taking=True,
    )


# The general population's bands (the benign-ethnic-neutropenia pathway is not here yet).
CLOZAPINE_ANC: tuple[LevelAlertRule, ...] = (
    _anc(
        "mild",
        "1000",
        "1500",
        "moderate",
        "ANC 1000-1499/uL on clozapine, mild neutropenia: confirm within 24 h, "
        "ANC three times weekly",
    ),
    _anc(
        "moderate",
        "500",
        "1000",
        "high",
        "ANC 500-999/uL on clozapine, moderate neutropenia: interrupt, ANC daily",
    ),
    _anc(
        "severe",
        None,
        "500",
        "high",
        "ANC below 500/uL on clozapine, severe neutropenia: interrupt, haematology review",
    ),
)
