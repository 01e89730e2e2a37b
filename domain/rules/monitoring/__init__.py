"""Medication monitoring as data: which drug, on which trigger, needs what, by when.

Each row of `MONITORING` reads as one line of clinical/monitoring.md: when a medication of
these drugs is started (or switched to, or its dose changed), this item is due (a lab with
these LOINC codes, a vital sign, a contact, a visit, a questionnaire, a review) in these
windows, for these roles, from this source, checked in a primary source or not. Windows
are days from the trigger and are defaults a clinic can configure by building its own table.

    rows.py                 what a row says: drugs, triggers, needs, phases, populations
    codes.py                drug families, LOINC and vital-sign codes, roles, shared phases
    mood_stabilizers.py     lithium, valproate, lamotrigine
    antipsychotics.py       second-generation antipsychotics, clozapine
    adhd.py                 stimulants (vitals, misuse assessment), atomoxetine
    antidepressants.py      every antidepressant (the suicidality warning)
    substance_use.py        buprenorphine, naloxone with OUD treatment, naltrexone
    combinations.py         drug combinations, citalopram's QT limits, PDMP checks
    restarts.py             re-titration after a restart (lamotrigine, titration.py's rule)
    v1/                     rule version 1, frozen, to rebuild answers of view layouts 1-2
    table.py                `MONITORING`, the default table of all of them (layout 4), and
                            `MONITORING_V3`, layout 3's, without the rows layout 4 added
    engine.py               `monitoring_picture`, with facts.py, due.py and thresholds.py
"""

from __future__ import annotations

from domain.rules.monitoring.adhd import ATOMOXETINE_SOURCE, STIMULANT_SOURCE
from domain.rules.monitoring.antidepressants import SSRI_SOURCE
from domain.rules.monitoring.antipsychotics import CLOZAPINE_SOURCE, SGA_SOURCE
from domain.rules.monitoring.codes import (
    AT_SIX_MONTHS,
    ATOMOXETINE,
    BLOOD_COUNT,
    BLOOD_PRESSURE,
    BLOOD_PRESSURE_AND_PULSE,
    BUPRENORPHINE,
    CALCIUM,
    CLOTTING,
    CLOZAPINE,
    FASTING_GLUCOSE,
    LAMOTRIGINE,
    LIPIDS,
    LITHIUM,
    LITHIUM_LEVEL,
    LIVER,
    NALTREXONE,
    NEUTROPHILS,
    PLATELETS,
    PREGNANCY_TEST,
    PRESCRIBER,
    PRESCRIBER_AND_THERAPIST,
    RENAL,
    SECOND_GENERATION_ANTIPSYCHOTICS,
    SIX_MONTHLY,
    SSRIS_AND_SNRIS,
    STIMULANTS,
    THYROID,
    UNVERIFIED_RXNORM,
    URINE_DRUG_TEST,
    VALPROATE,
    WAIST,
    WEEK_12,
    WEIGHT,
    YEARLY,
)
from domain.rules.monitoring.engine import monitoring_picture
from domain.rules.monitoring.facts import MEDICATION_DECISIONS
from domain.rules.monitoring.mood_stabilizers import (
    LAMOTRIGINE_SOURCE,
    LITHIUM_SOURCE,
    LITHIUM_TARGET,
    MAY_BECOME_PREGNANT,
    VALPROATE_SOURCE,
)
from domain.rules.monitoring.rows import (
    BASELINE,
    EVERYONE,
    ON_START,
    ON_START_OR_DOSE_CHANGE,
    Drugs,
    EffectAlertRule,
    LevelAlertRule,
    MonitoringRule,
    MonitoringTable,
    Need,
    Phase,
    Population,
    Sooner,
    Stable,
    Trigger,
    WeightGainRule,
    days,
    words,
)
from domain.rules.monitoring.substance_use import BUPRENORPHINE_SOURCE, NALTREXONE_SOURCE
from domain.rules.monitoring.table import MONITORING, SCHEDULES

__all__ = [
    "ATOMOXETINE",
    "ATOMOXETINE_SOURCE",
    "AT_SIX_MONTHS",
    "BASELINE",
    "BLOOD_COUNT",
    "BLOOD_PRESSURE",
    "BLOOD_PRESSURE_AND_PULSE",
    "BUPRENORPHINE",
    "BUPRENORPHINE_SOURCE",
    "CALCIUM",
    "CLOTTING",
    "CLOZAPINE",
    "CLOZAPINE_SOURCE",
    "EVERYONE",
    "FASTING_GLUCOSE",
    "LAMOTRIGINE",
    "LAMOTRIGINE_SOURCE",
    "LIPIDS",
    "LITHIUM",
    "LITHIUM_LEVEL",
    "LITHIUM_SOURCE",
    "LITHIUM_TARGET",
    "LIVER",
    "MAY_BECOME_PREGNANT",
    "MEDICATION_DECISIONS",
    "MONITORING",
    "NALTREXONE",
    "NALTREXONE_SOURCE",
    "NEUTROPHILS",
    "ON_START",
    "ON_START_OR_DOSE_CHANGE",
    "PLATELETS",
    "PREGNANCY_TEST",
    "PRESCRIBER",
    "PRESCRIBER_AND_THERAPIST",
    "RENAL",
    "SCHEDULES",
    "SECOND_GENERATION_ANTIPSYCHOTICS",
    "SGA_SOURCE",
    "SIX_MONTHLY",
    "SSRIS_AND_SNRIS",
    "SSRI_SOURCE",
    "STIMULANTS",
    "STIMULANT_SOURCE",
    "THYROID",
    "UNVERIFIED_RXNORM",
    "URINE_DRUG_TEST",
    "VALPROATE",
    "VALPROATE_SOURCE",
    "WAIST",
    "WEEK_12",
    "WEIGHT",
    "YEARLY",
    "Drugs",
    "EffectAlertRule",
    "LevelAlertRule",
    "MonitoringRule",
    "MonitoringTable",
    "Need",
    "Phase",
    "Population",
    "Sooner",
    "Stable",
    "Trigger",
    "WeightGainRule",
    "days",
    "monitoring_picture",
    "words",
]
