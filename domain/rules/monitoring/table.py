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
from domain.rules.monitoring.combinations import (
    COMBINATIONS,
    COMBINATIONS_V4,
    DOSE_RISKS,
    PDMP_CHECKS,
)
from domain.rules.monitoring.mood_stabilizers import (
    LAMOTRIGINE_RASH,
    LITHIUM_INTERACTION,
    LITHIUM_PREGNANCY,
    LITHIUM_SCHEDULES,
    LITHIUM_SCHEDULES_V3,
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
from domain.rules.titration import LAMOTRIGINE_RESTART

_OTHER_SCHEDULES: tuple[MonitoringRule, ...] = (
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
SCHEDULES: tuple[MonitoringRule, ...] = (*LITHIUM_SCHEDULES, *_OTHER_SCHEDULES)

MONITORING = MonitoringTable(
    SCHEDULES,
    weight_gain=(SGA_WEIGHT_GAIN,),
    level_alerts=(LITHIUM_TOXICITY, VALPROATE_ABOVE_RANGE, *CLOZAPINE_ANC),
    effect_alerts=(LAMOTRIGINE_RASH,),
    interactions=(LITHIUM_INTERACTION,),
    status_alerts=(LITHIUM_PREGNANCY, VALPROATE_PREGNANCY),
    combinations=COMBINATIONS_V4,
    dose_alerts=DOSE_RISKS,
    checks=PDMP_CHECKS,
    restarts=(LAMOTRIGINE_RESTART,),
)

# The table of view layout 3 (projections.role_views): without the rows layout 4 added
# (lithium's baseline ECG, its sooner levels after year 1 for interacting drugs, renal
# decline, poor adherence and pregnancy, lamotrigine's re-titration on a restart, the
# alert for lamotrigine with an estrogen-containing contraceptive), so that answers given
# with it replay to their bytes.
MONITORING_V3 = MonitoringTable(
    (*LITHIUM_SCHEDULES_V3, *_OTHER_SCHEDULES),
    weight_gain=MONITORING.weight_gain,
    level_alerts=MONITORING.level_alerts,
    effect_alerts=MONITORING.effect_alerts,
    interactions=MONITORING.interactions,
    status_alerts=MONITORING.status_alerts,
    combinations=COMBINATIONS,
    dose_alerts=MONITORING.dose_alerts,
    checks=MONITORING.checks,
)
