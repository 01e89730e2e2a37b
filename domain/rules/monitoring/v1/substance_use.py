"""Monitoring of substance-use treatment: buprenorphine and naltrexone."""

from __future__ import annotations

from domain.rules.monitoring.rows import BASELINE, ON_START, MonitoringRule, Need, Phase
from domain.rules.monitoring.v1.codes import (
    BUPRENORPHINE,
    LIVER,
    NALTREXONE,
    PRESCRIBER,
    PRESCRIBER_AND_THERAPIST,
    URINE_DRUG_TEST,
    _lab,
)

BUPRENORPHINE_SOURCE = "clinical/monitoring.md, Buprenorphine (check against ASAM/TIP 63)"
NALTREXONE_SOURCE = "clinical/monitoring.md, Naltrexone"

BUPRENORPHINE_SCHEDULES: tuple[MonitoringRule, ...] = (
    MonitoringRule(
        "buprenorphine-urine-drug-test",
        "1",
        BUPRENORPHINE,
        ON_START,
        _lab("urine drug test", URINE_DRUG_TEST),
        (BASELINE,),
        PRESCRIBER,
        BUPRENORPHINE_SOURCE,
        checked=False,
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
    ),
)
