"""The monitoring table as it stood before a change to its rows, kept so that a past read
of the care views is rebuilt with the rules it was answered with (a replay must rebuild
the very bytes it recorded; projections/role_views.py picks the table by the answer's
layout, VIEW_FORMAT).

`BEFORE_2026_12`: before the rule audit of 2026-12 (clinical/rule-audit.md), part B:
suicidality rows for SSRIs and SNRIs only, a baseline urine drug test only on
buprenorphine, and none of the rows it added (every antidepressant at every age,
atomoxetine under 18, the stimulant misuse assessment, naloxone, the combinations,
citalopram's QT limits, the PDMP check). Rows changed later are restored here the same
way: their previous version, by rule id.
"""

from __future__ import annotations

from dataclasses import replace

from domain.rules.monitoring.codes import SSRIS_AND_SNRIS
from domain.rules.monitoring.rows import BASELINE, MonitoringRule, MonitoringTable
from domain.rules.monitoring.table import MONITORING

_SSRI_SOURCE_V1 = (
    "clinical/monitoring.md, SSRIs / SNRIs (boxed warning under 25; configurable defaults)"
)
_BUPRENORPHINE_SOURCE_V1 = "clinical/monitoring.md, Buprenorphine (check against ASAM/TIP 63)"


def _as_before(rule: MonitoringRule) -> MonitoringRule:
    if rule.rule_id.startswith("ssri-under-25-"):
        return replace(rule, version="1", drugs=SSRIS_AND_SNRIS, source=_SSRI_SOURCE_V1)
    if rule.rule_id == "buprenorphine-urine-drug-test":
        return replace(
            rule,
            version="1",
            schedule=(BASELINE,),
            source=_BUPRENORPHINE_SOURCE_V1,
            checked=False,
        )
    return rule


ADDED_2026_12 = frozenset(
    {
        "antidepressant-contact",
        "antidepressant-early-visits",
        "atomoxetine-under-18-contact",
        "atomoxetine-under-18-visit",
        "stimulant-misuse-assessment",
        "oud-naloxone",
    }
)

BEFORE_2026_12 = MonitoringTable(
    tuple(_as_before(r) for r in MONITORING.schedules if r.rule_id not in ADDED_2026_12),
    weight_gain=MONITORING.weight_gain,
    level_alerts=MONITORING.level_alerts,
    effect_alerts=MONITORING.effect_alerts,
)
