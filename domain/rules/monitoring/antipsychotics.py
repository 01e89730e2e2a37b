"""Monitoring of antipsychotics: metabolic monitoring of the second-generation
antipsychotics (with the weight-gain review) and clozapine's neutrophil counts."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from domain.rules.monitoring.codes import (
    BLOOD_PRESSURE,
    CLOZAPINE,
    CRP,
    FASTING_GLUCOSE,
    LIPIDS,
    NEUTROPHIL_COUNT,
    NEUTROPHILS,
    PRESCRIBER,
    PRESCRIBER_AND_THERAPIST,
    SECOND_GENERATION_ANTIPSYCHOTICS,
    TROPONIN,
    WAIST,
    WEEK_12,
    WEIGHT,
    YEARLY,
    _lab,
    _vitals,
)
from domain.rules.monitoring.rows import (
    BASELINE,
    ON_START,
    FollowUp,
    LevelAlertRule,
    MonitoringRule,
    Need,
    Pathway,
    Phase,
    WeightGainRule,
)

SGA_SOURCE = (
    "clinical/monitoring.md, Second-generation antipsychotics "
    "(ADA/APA consensus, Diabetes Care 2004;27:596)"
)
CLOZAPINE_SOURCE = (
    "clozapine label (Clozaril PI), ANC monitoring table for the general population, as "
    "reproduced in PMC9243911 Table 6: weekly to 6 months, every 2 weeks to 12 months, "
    "then monthly; interrupted 30 days or less: continue as before, longer: as a new patient"
)
CLOZAPINE_ANC_SOURCE = (
    "clozapine label (Clozaril PI), ANC table for the general population, as reproduced in "
    "PMC9243911 Table 6 (confirm any ANC below 1500/uL within 24 h)"
)
CLOZAPINE_BEN_SOURCE = (
    "clozapine label (Clozaril PI), ANC table for benign ethnic neutropenia, as reproduced "
    "in PMC9243911 Table 7 (normal BEN range 1000/uL and above; confirm any initial ANC "
    "below 1000/uL within 24 h)"
)
CLOZAPINE_MYOCARDITIS_SOURCE = (
    "Ronaldson et al., Aust N Z J Psychiatry 2011;45(6):458-65 (PubMed 21524186, abstract "
    "read): baseline troponin and CRP, then on days 7, 14, 21 and 28; not in the US label, "
    "whose boxed warning names myocarditis; troponin and CRP LOINC codes not verified"
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
        checked=False,  # the ADA/APA consensus not read: the team's notes only
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


def _myocarditis(rule_id: str, need: Need) -> MonitoringRule:
    return MonitoringRule(
        rule_id,
        "1",
        CLOZAPINE,
        ON_START,
        need,
        (BASELINE, Phase(7, every=7, until=28, early=1, late=1, label="days 7, 14, 21, 28")),
        PRESCRIBER,
        CLOZAPINE_MYOCARDITIS_SOURCE,
        checked=False,
        resumes_within=30,
    )


CLOZAPINE_SCHEDULES: tuple[MonitoringRule, ...] = (
    MonitoringRule(
        "clozapine-neutrophils",
        "2",
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
        resumes_within=30,
    ),
    _myocarditis("clozapine-troponin", _lab("troponin (myocarditis watch)", TROPONIN)),
    _myocarditis("clozapine-crp", _lab("C-reactive protein (myocarditis watch)", CRP)),
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
    checked=False,
)


def _anc(
    band: str,
    low: str | None,
    below: str,
    severity: Literal["high", "moderate"],
    title: str,
    follow_up: FollowUp,
    pathway: Pathway = "general",
) -> LevelAlertRule:
    benign = pathway == "benign ethnic neutropenia"
    return LevelAlertRule(
        f"clozapine-anc-{band}",
        "2",
        NEUTROPHIL_COUNT,
        "/uL",
        Decimal(low) if low is not None else None,
        CLOZAPINE,
        severity,
        title,
        PRESCRIBER_AND_THERAPIST,
        CLOZAPINE_BEN_SOURCE if benign else CLOZAPINE_ANC_SOURCE,
        below=Decimal(below),
        while_taking=True,
        pathway=pathway,
        follow_up=follow_up,
    )


_THREE_TIMES_WEEKLY = 7 / 3
_BEN: Pathway = "benign ethnic neutropenia"

# The general population's bands and, for a patient a prescriber has put on the benign
# ethnic neutropenia pathway, the BEN bands (PMC9243911 Tables 6 and 7).
CLOZAPINE_ANC: tuple[LevelAlertRule, ...] = (
    _anc(
        "mild",
        "1000",
        "1500",
        "moderate",
        "ANC 1000-1499/uL on clozapine, mild neutropenia: confirm within 24 h, continue "
        "treatment, ANC three times weekly until 1500/uL or more",
        FollowUp("ANC", _THREE_TIMES_WEEKLY, "three times weekly until 1500/uL or more"),
    ),
    _anc(
        "moderate",
        "500",
        "1000",
        "high",
        "ANC 500-999/uL on clozapine, moderate neutropenia: interrupt treatment, "
        "haematology consultation, ANC daily until 1000/uL or more",
        FollowUp("ANC", 1, "daily until 1000/uL or more"),
    ),
    _anc(
        "severe",
        None,
        "500",
        "high",
        "ANC below 500/uL on clozapine, severe neutropenia: stop, haematology consultation, "
        "do not rechallenge unless the benefits outweigh the risks; ANC daily",
        FollowUp("ANC", 1, "daily until 1000/uL or more"),
    ),
    _anc(
        "ben-neutropenia",
        "500",
        "1000",
        "high",
        "ANC 500-999/uL on clozapine with benign ethnic neutropenia: confirm within 24 h, "
        "haematology consultation, continue treatment, ANC three times weekly",
        FollowUp("ANC", _THREE_TIMES_WEEKLY, "three times weekly until 1000/uL or baseline"),
        _BEN,
    ),
    _anc(
        "ben-severe",
        None,
        "500",
        "high",
        "ANC below 500/uL on clozapine with benign ethnic neutropenia: interrupt, "
        "haematology consultation, do not rechallenge unless the benefits outweigh the "
        "risks; ANC daily",
        FollowUp("ANC", 1, "daily until 500/uL or more"),
        _BEN,
    ),
)
