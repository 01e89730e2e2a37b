"""Monitoring of antidepressants: the suicidality boxed warning, for every antidepressant
(not only SSRIs and SNRIs). Under 25 the first week's contact, the month's visit and the
PHQ-9 at 4-6 weeks, as before; at every age a contact after the start and after every
dose change, and monthly visits over the first three months ("closely monitor all
antidepressant-treated patients", especially early and at dose changes)."""

from __future__ import annotations

from domain.rules.monitoring.codes import PRESCRIBER_AND_THERAPIST, SSRIS_AND_SNRIS
from domain.rules.monitoring.rows import (
    ON_START,
    ON_START_OR_DOSE_CHANGE,
    Drugs,
    MonitoringRule,
    Need,
    Phase,
    Population,
    words,
)

# Every antidepressant that carries the class boxed warning and that the vocabulary (the
# dose-range table, the demo) or the labels name: SSRIs and SNRIs, bupropion,
# mirtazapine, trazodone, nefazodone, vilazodone, vortioxetine, the tricyclics and
# tetracyclics, the MAOIs (selegiline as the transdermal antidepressant: oral selegiline
# for Parkinson's disease is matched too, a reminder too many), esketamine. RxNorm codes
# as rule-audit.md verified them (citalopram 2556, paroxetine 32937, fluvoxamine 42355,
# mirtazapine 15996, vortioxetine 1455099) beside the SSRI/SNRI codes already in use;
# the others are matched by name.
ANTIDEPRESSANTS = Drugs(
    "antidepressant",
    SSRIS_AND_SNRIS.rxnorm | frozenset({"2556", "32937", "42355", "15996", "1455099"}),
    SSRIS_AND_SNRIS.names
    | words(
        "bupropion mirtazapine trazodone nefazodone vilazodone vortioxetine milnacipran "
        "amitriptyline nortriptyline imipramine desipramine clomipramine doxepin protriptyline "
        "trimipramine amoxapine maprotiline phenelzine tranylcypromine isocarboxazid "
        "selegiline esketamine"
    ),
)

SSRI_SOURCE = (
    "antidepressant labels, boxed warning (citalopram, sertraline, trazodone, fluoxetine, "
    "desvenlafaxine labels read on openFDA: 'closely monitor all antidepressant-treated "
    "patients'; young adults under 25 at higher risk); the Medication Guide: 'very important "
    "when an antidepressant medicine is started or when the dose is changed' (clomipramine). "
    "Windows: configurable defaults from clinical/monitoring.md"
)
ALL_AGES_SOURCE = (
    "antidepressant labels, boxed warning: 'In patients of all ages who are started on "
    "antidepressant therapy, monitor closely' (fluoxetine, desvenlafaxine labels read on "
    "openFDA); Medication Guide: at the start and when the dose is changed (clomipramine). "
    "The label gives no interval: contact within 2 weeks and monthly visits for 3 months "
    "are the house's choice"
)


def _young_on_antidepressant(rule_id: str, need: Need, phase: Phase) -> MonitoringRule:
    # The rule ids keep their "ssri-" prefix so that the board's keys stay stable.
    return MonitoringRule(
        rule_id,
        "2",
        ANTIDEPRESSANTS,
        ON_START_OR_DOSE_CHANGE,
        need,
        (phase,),
        PRESCRIBER_AND_THERAPIST,
        SSRI_SOURCE,
        checked=False,  # the team's notes only
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
    # 25 and over (the under-25 rows above hold the younger): a contact after the start
    # and after every dose change, and monthly visits over the first three months.
    MonitoringRule(
        "antidepressant-contact",
        "1",
        ANTIDEPRESSANTS,
        ON_START_OR_DOSE_CHANGE,
        Need("contact", "contact (suicidality warning: start or dose change)"),
        (Phase(1, late=13, label="within 2 weeks"),),
        PRESCRIBER_AND_THERAPIST,
        ALL_AGES_SOURCE,
        population=Population(at_least_age=25),
    ),
    MonitoringRule(
        "antidepressant-early-visits",
        "1",
        ANTIDEPRESSANTS,
        ON_START,
        Need("visit", "visit (suicidality warning: first months)"),
        (Phase(28, every=28, until=84, early=7, late=7, label="monthly, first 3 months"),),
        PRESCRIBER_AND_THERAPIST,
        ALL_AGES_SOURCE,
        population=Population(at_least_age=25),
    ),
)
