"""Monitoring of antidepressants: SSRIs and SNRIs under 25 (the suicidality warning)."""

from __future__ import annotations

from domain.rules.monitoring.rows import (
    ON_START_OR_DOSE_CHANGE,
    MonitoringRule,
    Need,
    Phase,
    Population,
)
from domain.rules.monitoring.v1.codes import PRESCRIBER_AND_THERAPIST, SSRIS_AND_SNRIS

SSRI_SOURCE = (
    "clinical/monitoring.md, SSRIs / SNRIs (boxed warning under 25; configurable defaults)"
)


def _young_on_antidepressant(rule_id: str, need: Need, phase: Phase) -> MonitoringRule:
    return MonitoringRule(
        rule_id,
        "1",
        SSRIS_AND_SNRIS,
        ON_START_OR_DOSE_CHANGE,
        need,
        (phase,),
        PRESCRIBER_AND_THERAPIST,
        SSRI_SOURCE,
        population=Population(under_age=25),
    )


SSRI_SCHEDULES: tuple[MonitoringRule, ...] = (
    # From the next day: the visit at which it was prescribed is not the follow-up.
    _young_on_antidepressant(
        "ssri-under-25-contact",
        Need("contact", "contact (under 25: suicidality warning)"),
        Phase(1, late=6, label="within 7 days"),
    ),
    _young_on_antidepressant(
        "ssri-under-25-visit",
        Need("visit", "visit (under 25: suicidality warning)"),
        Phase(1, late=27, label="within 4 weeks"),
    ),
    _young_on_antidepressant(
        "ssri-under-25-phq9",
        Need("questionnaire", "PHQ-9 (under 25: suicidality warning)", instrument="phq-9"),
        Phase(28, late=14, label="at 4-6 weeks"),
    ),
)
