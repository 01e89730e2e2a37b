"""The default monitoring table: every drug family's rows in one `MonitoringTable`. A
clinic that configures other windows builds its own table."""

from __future__ import annotations

from domain.rules.monitoring.adhd import ATOMOXETINE_SCHEDULES, STIMULANT_SCHEDULES
from domain.rules.monitoring.antidepressants import SSRI_SCHEDULES
from domain.rules.monitoring.antipsychotics import (
    CLOZAPINE_ANC,
    CLOZAPINE_SCHEDULES,
    SGA_SCHEDULES,
    SGA_WEIGHT_GAIN,
)
from domain.rules.monitoring.combinations import COMBINATIONS, DOSE_RISKS, PDMP_CHECKS
from domain.rules.monitoring.mood_stabilizers import (
    LAMOTRIGINE_RASH,
    LITHIUM_INTERACTION,
    LITHIUM_PREGNANCY,
    LITHIUM_SCHEDULES,
    LITHIUM_TOXICITY,
    VALPROATE_ABOVE_RANGE,
    VALPROATE_PREGNANCY,
    VALPROATE_SCHEDULES,
)
from domain.rules.monitoring.rows import MonitoringRule, MonitoringTable
from domain.rules.monitoring.substance_use import (
    BUPRENORPHINE_SCHEDULES,
    NALTREXONE_SCHEDULES,
    OUD_SCHEDULES,
)

SCHEDULES: tuple[MonitoringRule, ...] = (
    *LITHIUM_SCHEDULES,
    *VALPROATE_SCHEDULES,
    *SGA_SCHEDULES,
    *CLOZAPINE_SCHEDULES,
    *STIMULANT_SCHEDULES,
    *ATOMOXETINE_SCHEDULES,
    *SSRI_SCHEDULES,
    *BUPRENORPHINE_SCHEDULES,
    *OUD_SCHEDULES,
    *NALTREXONE_SCHEDULES,
)

MONITORING = MonitoringTable(
    SCHEDULES,
    weight_gain=(SGA_WEIGHT_GAIN,),
    level_alerts=(LITHIUM_TOXICITY, VALPROATE_ABOVE_RANGE, *CLOZAPINE_ANC),
    effect_alerts=(LAMOTRIGINE_RASH,),
    interactions=(LITHIUM_INTERACTION,),
    status_alerts=(LITHIUM_PREGNANCY, VALPROATE_PREGNANCY),
    combinations=COMBINATIONS,
    dose_alerts=DOSE_RISKS,
    checks=PDMP_CHECKS,
)
