"""Monitoring of ADHD medication: blood pressure and heart rate on stimulants and
atomoxetine; the stimulants' abuse and misuse assessment before prescribing and during
therapy (the 2023 class boxed warning); atomoxetine's suicidal-ideation watch in children
and adolescents (its boxed warning)."""

from __future__ import annotations

from domain.rules.monitoring.codes import (
    ATOMOXETINE,
    BLOOD_PRESSURE_AND_PULSE,
    PRESCRIBER,
    PRESCRIBER_AND_THERAPIST,
    STIMULANTS,
    _vitals,
)
from domain.rules.monitoring.rows import (
    ON_START,
    ON_START_OR_DOSE_CHANGE,
    MonitoringRule,
    Need,
    Phase,
    Population,
)

STIMULANT_SOURCE = "clinical/monitoring.md, Stimulants (ADHD)"
STIMULANT_MISUSE_SOURCE = (
    "CNS stimulant labels, boxed warning 'Abuse, Misuse, and Addiction' (10/2023; "
    "methamphetamine, dexmethylphenidate, methylphenidate labels read on openFDA): before "
    "prescribing, assess each patient's risk for abuse, misuse and addiction; reassess "
    "throughout treatment. Every 6 months is the house's interval (the label gives none)"
)
ATOMOXETINE_SOURCE = (
    "atomoxetine prescribing information (blood pressure and pulse at baseline and after "
    "dose increases); not in clinical/monitoring.md"
)
ATOMOXETINE_SUICIDALITY_SOURCE = (
    "atomoxetine label, boxed warning 'Suicidal ideation in children and adolescents' (read "
    "on openFDA): monitor closely for suicidality, clinical worsening or unusual changes in "
    "behavior, especially during the initial months and at dosage changes. Windows: as for "
    "antidepressants under 25"
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
        checked=False,  # the team's notes only
    ),
    # Met by the prescriber's evaluation or a reassessment of the medication.
    MonitoringRule(
        "stimulant-misuse-assessment",
        "1",
        STIMULANTS,
        ON_START,
        Need("assessment", "abuse, misuse and addiction risk assessed (boxed warning)"),
        (
            Phase(0, early=30, label="before prescribing"),
            Phase(182, every=182, early=14, late=14, label="every 6 months during therapy"),
        ),
        PRESCRIBER,
        STIMULANT_MISUSE_SOURCE,
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
    MonitoringRule(
        "atomoxetine-under-18-contact",
        "1",
        ATOMOXETINE,
        ON_START_OR_DOSE_CHANGE,
        Need("contact", "contact (under 18: suicidal ideation warning)"),
        (Phase(1, late=6, label="within 7 days"),),
        PRESCRIBER_AND_THERAPIST,
        ATOMOXETINE_SUICIDALITY_SOURCE,
        population=Population(under_age=18),
    ),
    MonitoringRule(
        "atomoxetine-under-18-visit",
        "1",
        ATOMOXETINE,
        ON_START_OR_DOSE_CHANGE,
        Need("visit", "visit (under 18: suicidal ideation warning)"),
        (Phase(1, late=27, label="within 4 weeks"),),
        PRESCRIBER_AND_THERAPIST,
        ATOMOXETINE_SUICIDALITY_SOURCE,
        population=Population(under_age=18),
    ),
)
