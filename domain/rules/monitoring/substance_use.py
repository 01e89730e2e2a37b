"""Monitoring of substance-use treatment: buprenorphine (urine drug tests at the start and
periodically after; visits), naloxone at the start and renewal of opioid use disorder
treatment, and naltrexone."""

from __future__ import annotations

from domain.prescribing_safety import NaloxoneDiscussed
from domain.rules.monitoring.codes import (
    BUPRENORPHINE,
    LIVER,
    NALTREXONE,
    PRESCRIBER,
    PRESCRIBER_AND_THERAPIST,
    URINE_DRUG_TEST,
    _lab,
)
from domain.rules.monitoring.rows import BASELINE, ON_START, Drugs, MonitoringRule, Need, Phase

BUPRENORPHINE_SOURCE = "clinical/monitoring.md, Buprenorphine (check against ASAM/TIP 63)"
URINE_TEST_SOURCE = (
    "ASAM, Appropriate Use of Drug Testing in Clinical Addiction Medicine (2017), as its "
    "Drug Testing Pocket Guide and ASAM's summary give it (read): testing at least weekly "
    "at the beginning of treatment, at least monthly when the patient is stable; more "
    "frequent in stabilization than in maintenance. Chosen: a baseline, weekly for the "
    "first 4 weeks, then monthly"
)
NALOXONE_SOURCE = (
    "FDA, 2020-07-23 (labeling of opioid use disorder medicines, read on fda.gov): discuss "
    "the availability of naloxone with patients and caregivers both when beginning and "
    "renewing treatment; consider prescribing it. Tandem records no renewals: every 90 days "
    "stands in for a renewal (the house's choice)"
)
NALTREXONE_SOURCE = "clinical/monitoring.md, Naltrexone"

METHADONE = Drugs("methadone", frozenset(), frozenset({"methadone"}))
# Opioid use disorder treatments the naloxone item is for: buprenorphine (any product)
# and methadone. Naltrexone is left out: it is also given for alcohol use disorder, which
# the table cannot tell apart.
OUD_TREATMENT = Drugs(
    "opioid use disorder treatment",
    BUPRENORPHINE.rxnorm,
    BUPRENORPHINE.names | METHADONE.names,
)
# A naloxone prescription: naloxone on its own, not buprenorphine/naloxone.
NALOXONE = Drugs("naloxone", frozenset(), frozenset({"naloxone"}), excluding=BUPRENORPHINE.names)

BUPRENORPHINE_SCHEDULES: tuple[MonitoringRule, ...] = (
    MonitoringRule(
        "buprenorphine-urine-drug-test",
        "2",
        BUPRENORPHINE,
        ON_START,
        _lab("urine drug test", URINE_DRUG_TEST),
        (
            BASELINE,
            Phase(7, every=7, until=28, early=6, label="weekly, first 4 weeks"),
            Phase(30, every=30, early=29, after="previous", label="monthly"),
        ),
        PRESCRIBER,
        URINE_TEST_SOURCE,
    ),
    MonitoringRule(
        "buprenorphine-visits",
        "1",
        BUPRENORPHINE,
        ON_START,
        Need("visit", "visit"),
        (
            Phase(7, every=7, until=28, early=6, label="weekly, first 4 weeks"),
            Phase(30, every=30, early=29, after="previous", label="monthly"),
        ),
        PRESCRIBER_AND_THERAPIST,
        BUPRENORPHINE_SOURCE,
        checked=False,
    ),
)

OUD_SCHEDULES: tuple[MonitoringRule, ...] = (
    MonitoringRule(
        "oud-naloxone",
        "1",
        OUD_TREATMENT,
        ON_START,
        Need(
            "review",
            "naloxone discussed or prescribed",
            events=(NaloxoneDiscussed,),
            started=NALOXONE,
        ),
        (
            Phase(0, early=30, late=7, label="at the start"),
            Phase(90, every=90, early=14, late=14, label="at renewal, every 90 days"),
        ),
        PRESCRIBER_AND_THERAPIST,
        NALOXONE_SOURCE,
    ),
)

NALTREXONE_SCHEDULES: tuple[MonitoringRule, ...] = (
    MonitoringRule(
        "naltrexone-liver",
        "1",
        NALTREXONE,
        ON_START,
        _lab("LFT", LIVER),
        (BASELINE,),
        PRESCRIBER,
        NALTREXONE_SOURCE,
        checked=False,  # the team's notes only
    ),
    MonitoringRule(
        "naltrexone-opioid-free",
        "1",
        NALTREXONE,
        ON_START,
        Need(
            "review",
            "confirm 7-10 days opioid-free (up to 2 weeks after buprenorphine or methadone)",
        ),
        (Phase(0, early=14, label="before the first dose"),),
        PRESCRIBER,
        NALTREXONE_SOURCE,
        checked=False,  # the team's notes only
    ),
)
