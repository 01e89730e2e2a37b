"""Monitoring of mood stabilizers: lithium (schedules and the toxicity alert), valproate
(schedules) and lamotrigine (the rash alert; its titration is domain/rules/titration.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.rules.monitoring.rows import (
    BASELINE,
    ON_START,
    ON_START_OR_DOSE_CHANGE,
    EffectAlertRule,
    LevelAlertRule,
    MonitoringRule,
    Need,
    Phase,
    Population,
    Stable,
)
from domain.rules.monitoring.v1.codes import (
    AT_SIX_MONTHS,
    BLOOD_COUNT,
    CALCIUM,
    CLOTTING,
    LAMOTRIGINE,
    LITHIUM,
    LITHIUM_LEVEL,
    LIVER,
    PLATELETS,
    PREGNANCY_TEST,
    PRESCRIBER,
    PRESCRIBER_AND_THERAPIST,
    RENAL,
    SIX_MONTHLY,
    THYROID,
    VALPROATE,
    VALPROATE_LEVEL,
    WEIGHT,
    YEARLY,
    _lab,
    _vitals,
)

LITHIUM_SOURCE = "clinical/monitoring.md, Lithium (NICE QS95, NHS SPS)"
VALPROATE_SOURCE = "clinical/monitoring.md, Valproate (NHS SPS)"
VALPROATE_LEVEL_SOURCE = (
    "valproate (Depakote) label, section 2.1: mania, trough 50-125 ug/mL "
    "(not read here: secondary sources only)"
)
LAMOTRIGINE_SOURCE = "clinical/monitoring.md, Lamotrigine (check against the label)"


def _lithium(rule_id: str, need: Need, *schedule: Phase, **more: Any) -> MonitoringRule:
    return MonitoringRule(
        rule_id, "1", LITHIUM, ON_START, need, schedule, PRESCRIBER, LITHIUM_SOURCE, **more
    )


def _valproate(rule_id: str, need: Need, *schedule: Phase, **more: Any) -> MonitoringRule:
    return MonitoringRule(
        rule_id, "1", VALPROATE, ON_START, need, schedule, PRESCRIBER, VALPROATE_SOURCE, **more
    )


MAY_BECOME_PREGNANT = Population(could_become_pregnant=True)
LITHIUM_TARGET = Stable(Decimal("0.6"), Decimal("0.8"), 2, "mmol/L")

LITHIUM_SCHEDULES: tuple[MonitoringRule, ...] = (
    _lithium("lithium-renal", _lab("eGFR / U&E", RENAL), BASELINE, SIX_MONTHLY),
    _lithium("lithium-thyroid", _lab("thyroid function (TSH)", THYROID), BASELINE, SIX_MONTHLY),
    _lithium("lithium-calcium", _lab("calcium", CALCIUM), BASELINE, SIX_MONTHLY),
    _lithium("lithium-blood-count", _lab("full blood count", BLOOD_COUNT), BASELINE),
    _lithium("lithium-weight", _vitals("weight / BMI", WEIGHT), BASELINE, SIX_MONTHLY),
    _lithium(
        "lithium-pregnancy-test",
        _lab("pregnancy test", PREGNANCY_TEST),
        BASELINE,
        population=MAY_BECOME_PREGNANT,
    ),
    MonitoringRule(
        "lithium-level",
        "1",
        LITHIUM,
        ON_START_OR_DOSE_CHANGE,
        _lab("lithium level (trough, 12 h after the dose)", LITHIUM_LEVEL),
        (
            Phase(7, every=7, early=2, until_stable=LITHIUM_TARGET, label="weekly until stable"),
            Phase(91, every=91, until=365, early=14, late=14, after="previous", label="3-monthly"),
            Phase(182, every=182, early=14, late=14, after="previous", label="6-monthly"),
        ),
        PRESCRIBER,
        LITHIUM_SOURCE,
    ),
)

VALPROATE_SCHEDULES: tuple[MonitoringRule, ...] = (
    _valproate("valproate-liver", _lab("LFT", LIVER), BASELINE, AT_SIX_MONTHS, YEARLY),
    _valproate(
        "valproate-blood-count",
        _lab("full blood count with platelets", PLATELETS),
        BASELINE,
        AT_SIX_MONTHS,
        YEARLY,
    ),
    _valproate("valproate-clotting", _lab("clotting screen", CLOTTING), BASELINE),
    _valproate(
        "valproate-weight", _vitals("weight / BMI", WEIGHT), BASELINE, AT_SIX_MONTHS, YEARLY
    ),
    _valproate(
        "valproate-pregnancy-test",
        _lab("pregnancy test", PREGNANCY_TEST),
        BASELINE,
        population=MAY_BECOME_PREGNANT,
    ),
    _valproate(
        "valproate-pregnancy-prevention-review",
        Need("review", "pregnancy prevention programme: specialist review"),
        YEARLY,
        population=MAY_BECOME_PREGNANT,
    ),
)

LITHIUM_TOXICITY = LevelAlertRule(
    "lithium-toxicity",
    "1",
    LITHIUM_LEVEL,
    "mmol/L",
    Decimal("1.5"),
    LITHIUM,
    "high",
    "lithium level at or above 1.5 mmol/L: toxicity",
    PRESCRIBER_AND_THERAPIST,
    LITHIUM_SOURCE,
)

VALPROATE_ABOVE_RANGE = LevelAlertRule(
    "valproate-above-range",
    "1",
    VALPROATE_LEVEL,
    "ug/mL",
    Decimal("125"),
    VALPROATE,
    "moderate",
    "valproate level above 125 ug/mL (above the range for mania): review the dose",
    PRESCRIBER,
    VALPROATE_LEVEL_SOURCE,
    checked=False,
    low_inclusive=False,
)

LAMOTRIGINE_RASH = EffectAlertRule(
    "lamotrigine-rash",
    "1",
    LAMOTRIGINE,
    frozenset({"rash", "rashes"}),
    "high",
    "rash on lamotrigine: stop and review urgently",
    PRESCRIBER_AND_THERAPIST,
    LAMOTRIGINE_SOURCE,
    checked=False,
)
