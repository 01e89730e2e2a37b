"""Monitoring of mood stabilizers: lithium (schedules and the toxicity alert), valproate
(schedules) and lamotrigine (the rash alert; its titration is domain/rules/titration.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.rules.monitoring.codes import (
    AT_SIX_MONTHS,
    BLOOD_COUNT,
    CALCIUM,
    CLOTTING,
    LAMOTRIGINE,
    LITHIUM,
    LITHIUM_LEVEL,
    LIVER,
    PLATELETS,
    PREGNANCY_TEST,
    PRESCRIBER,
    PRESCRIBER_AND_THERAPIST,
    RENAL,
    SIX_MONTHLY,
    THYROID,
    VALPROATE,
    VALPROATE_LEVEL,
    WEIGHT,
    YEARLY,
    _lab,
    _vitals,
)
from domain.rules.monitoring.rows import (
    BASELINE,
    ON_START,
    ON_START_OR_DOSE_CHANGE,
    Drugs,
    EffectAlertRule,
    InteractionRule,
    LevelAlertRule,
    MonitoringRule,
    Need,
    Phase,
    Population,
    RecordedCondition,
    Sooner,
    SoonerIf,
    Stable,
    StatusAlertRule,
    words,
)

LITHIUM_SOURCE = "clinical/monitoring.md, Lithium (NICE QS95, NHS SPS)"
LITHIUM_SPS = (
    "SPS lithium monitoring (sps.nhs.uk/monitorings/lithium-monitoring): at one week, "
    "weekly until levels stable, every 3 months for the first year, then every 3-6 "
    "months; at least 3-monthly at 65 and over, with interacting drugs, falling eGFR, "
    "poor adherence or a last level of 0.8 mmol/L or more"
)
LITHIUM_LEVEL_SOURCE = (
    LITHIUM_SPS + "; stable around the prescriber's target (LevelTargetSet), default "
    "0.6-0.8 mmol/L from monitoring.md (NICE; not read here)"
)
LITHIUM_TOXICITY_SOURCE = (
    "SPS lithium monitoring: toxicity at serum lithium of about 1.5 mmol/L and above; "
    "compared in mmol/L whatever unit was entered (domain.lab_units)"
)
LITHIUM_INTERACTION_SOURCE = (
    "SPS lithium monitoring (drugs that interact: at least 3-monthly) and NHS GGC routine "
    "lithium monitoring (NSAIDs, ACE inhibitors, angiotensin II antagonists, thiazides); "
    "the level within 7 days is this table's default, and the named sources (Australian "
    "Prescriber, bpac NZ) were not read"
)
LITHIUM_PREGNANCY_SOURCE = (
    "rule-audit.md, item 6 (lithium when pregnancy is planned or occurs): review; "
    "primary source not read"
)
VALPROATE_SOURCE = "clinical/monitoring.md, Valproate (NHS SPS)"
VALPROATE_SPS = (
    "SPS valproate monitoring: before starting BMI, clotting screen, FBC, LFT, platelets, "
    "pregnancy test; at 6 months then annually BMI, FBC, LFT"
)
VALPROATE_LFT_SOURCE = (
    "divalproex label, boxed warning (hepatotoxicity, usually in the first 6 months: serum "
    "liver tests before therapy and at frequent intervals thereafter) and SPS valproate "
    "(LFT until stable, at 6 months, then yearly); the label names no interval: monthly "
    "for the first 6 months is this table's choice"
)
VALPROATE_PREVENTION_SOURCE = (
    "MHRA Drug Safety Update (gov.uk), valproate Pregnancy Prevention Programme: at least "
    "annual specialist review with the Risk Acknowledgement Form signed, highly effective "
    "contraception; the form completed at initiation as the NPA's summary of the 2019 "
    "update gives it"
)
VALPROATE_LEVEL_SOURCE = (
    "valproate (Depakote) label, section 2.1: mania, trough 50-125 ug/mL "
    "(not read here: secondary sources only)"
)
LAMOTRIGINE_SOURCE = "clinical/monitoring.md, Lamotrigine (check against the label)"
LAMOTRIGINE_SKIN_SOURCE = (
    "lamotrigine label, boxed warning (serious rashes including Stevens-Johnson syndrome "
    "and toxic epidermal necrolysis; discontinue at the first sign of rash unless clearly "
    "not drug-related); the signs beyond rash (hives, blistering, mucosal lesions, fever "
    "with lymphadenopathy) from rule-audit.md, label section 5.1 not read"
)


def _lithium(rule_id: str, need: Need, *schedule: Phase, **more: Any) -> MonitoringRule:
    more.setdefault("source", LITHIUM_SPS)
    return MonitoringRule(rule_id, "1", LITHIUM, ON_START, need, schedule, PRESCRIBER, **more)


def _valproate(rule_id: str, need: Need, *schedule: Phase, **more: Any) -> MonitoringRule:
    more.setdefault("source", VALPROATE_SPS)
    return MonitoringRule(rule_id, "1", VALPROATE, ON_START, need, schedule, PRESCRIBER, **more)


# Drugs that raise lithium levels (by name: no RxNorm codes were checked).
LITHIUM_INTERACTING = Drugs(
    "NSAID, ACE inhibitor, angiotensin II antagonist or thiazide",
    frozenset(),
    words(
        "ibuprofen naproxen diclofenac celecoxib meloxicam indomethacin indometacin ketorolac "
        "etoricoxib piroxicam etodolac nabumetone ketoprofen mefenamic "
        "lisinopril enalapril ramipril captopril perindopril benazepril quinapril fosinopril "
        "trandolapril losartan valsartan candesartan irbesartan olmesartan telmisartan "
        "hydrochlorothiazide chlorthalidone chlortalidone bendroflumethiazide indapamide "
        "metolazone chlorothiazide"
    ),
)

MAY_BECOME_PREGNANT = Population(could_become_pregnant=True)
LITHIUM_TARGET = Stable(Decimal("0.6"), Decimal("0.8"), 2, "mmol/L", own_target=True)
UNDER_65 = Population(under_age=65, unknown_age=False)
AGED_65_AND_OVER = Population(at_least_age=65)
_LEVEL = _lab("lithium level (trough, 12 h after the dose)", LITHIUM_LEVEL)


def _lithium_level(
    rule_id: str, later: Phase, population: Population, version: str = "2", **more: Any
) -> MonitoringRule:
    return MonitoringRule(
        rule_id,
        version,
        LITHIUM,
        ON_START_OR_DOSE_CHANGE,
        _LEVEL,
        (
            Phase(7, every=7, early=2, until_stable=LITHIUM_TARGET, label="weekly until stable"),
            Phase(91, every=91, until=365, early=14, late=14, after="previous", label="3-monthly"),
            later,
        ),
        PRESCRIBER,
        more.pop("source", LITHIUM_LEVEL_SOURCE),
        population=population,
        **more,
    )


# The rows of view layout 3 (projections.role_views): kept as they were, so that answers
# given with them replay to their bytes. Layout 4's are LITHIUM_SCHEDULES, below.
LITHIUM_SCHEDULES_V3: tuple[MonitoringRule, ...] = (
    _lithium("lithium-renal", _lab("eGFR / U&E", RENAL), BASELINE, SIX_MONTHLY),
    _lithium("lithium-thyroid", _lab("thyroid function (TSH)", THYROID), BASELINE, SIX_MONTHLY),
    _lithium("lithium-calcium", _lab("calcium", CALCIUM), BASELINE, SIX_MONTHLY),
    _lithium("lithium-blood-count", _lab("full blood count", BLOOD_COUNT), BASELINE),
    _lithium("lithium-weight", _vitals("weight / BMI", WEIGHT), BASELINE, SIX_MONTHLY),
    _lithium(
        "lithium-pregnancy-test",
        _lab("pregnancy test", PREGNANCY_TEST),
        BASELINE,
        population=MAY_BECOME_PREGNANT,
        source=LITHIUM_SOURCE,
        checked=False,  # not in the SPS page read: the team's notes only
    ),
    # After the first year: 6-monthly under 65, 3-monthly at 65 and over (or age unknown).
    _lithium_level(
        "lithium-level",
        Phase(
            182,
            every=182,
            early=14,
            late=14,
            after="previous",
            label="6-monthly",
            sooner=Sooner(91, Decimal("0.8"), "mmol/L", "3-monthly (last level 0.8 or more)"),
        ),
        UNDER_65,
    ),
    _lithium_level(
        "lithium-level-65-and-over",
        Phase(91, every=91, early=14, late=14, after="previous", label="3-monthly (65 and over)"),
        AGED_65_AND_OVER,
    ),
)

# After the first year, at least 3-monthly (SPS) for the reasons the record can show: the
# level of 0.8 or more (above), then an interacting drug taken, an eGFR below 60, poor
# adherence, pregnancy. eGFR below 60 mL/min/1.73 m2 (CKD stage G3a and worse) stands for
# SPS's "falling eGFR"; adherence below 80% of prescribed doses over the latest record
# (within 91 days) for "poor adherence": both this table's definitions, not the source's.
LITHIUM_SOONER_SOURCE = (
    LITHIUM_SPS + "; the eGFR and adherence thresholds are this table's (house) definitions"
)
EGFR = frozenset({"98979-8", "62238-1", "33914-3"})
LITHIUM_SOONER = (
    SoonerIf(91, "interacting drug", "3-monthly (interacting drug)", drugs=LITHIUM_INTERACTING),
    SoonerIf(
        91,
        "renal decline",
        "3-monthly (eGFR below 60)",
        below=Decimal("60"),
        unit="mL/min/{1.73_m2}",
        loinc=EGFR,
    ),
    SoonerIf(
        91,
        "poor adherence",
        "3-monthly (poor adherence)",
        below=Decimal("0.8"),
        within_days=91,
    ),
    SoonerIf(91, "pregnancy", "3-monthly (pregnancy)"),
)
LITHIUM_LEVEL_AFTER_YEAR_1 = _lithium_level(
    "lithium-level",
    Phase(
        182,
        every=182,
        early=14,
        late=14,
        after="previous",
        label="6-monthly",
        sooner=Sooner(91, Decimal("0.8"), "mmol/L", "3-monthly (last level 0.8 or more)"),
        sooner_if=LITHIUM_SOONER,
    ),
    UNDER_65,
    version="3",
    source=LITHIUM_LEVEL_SOURCE + "; " + LITHIUM_SOONER_SOURCE,
    checked=False,
)

# Baseline ECG before lithium with cardiovascular disease or risk factors: the record's
# active conditions (ConditionRecorded, by the treating team or primary care) in ICD-10
# I00-I99 (diseases of the circulatory system, hypertension among them), E10-E14
# (diabetes), E78 (disorders of lipoprotein metabolism), E66 (obesity), F17 (nicotine
# dependence), Z82.4 (family history of ischaemic heart disease). The risk factors are
# this table's list: the sources name none.
CARDIOVASCULAR = RecordedCondition(
    "cardiovascular disease or risk factors",
    ("I", "E10", "E11", "E12", "E13", "E14", "E78", "E66", "F17", "Z82.4"),
)
# LOINC 11524-6 "EKG study", 34534-8 "12 lead EKG panel", 8601-7 "EKG impression" (the US
# Core clinical test codes value set and a FHIR example observation, read).
ECG = frozenset({"11524-6", "34534-8", "8601-7"})
LITHIUM_ECG_SOURCE = (
    "NICE CKS, Bipolar disorder: how should I monitor someone taking lithium (cks.nhs.uk, "
    "no longer maintained; citing NCCMH 2006 and NPSA 2009): with a risk factor for, or "
    "existing, cardiovascular disease, an ECG before treatment begins; SPS lithium "
    "monitoring and NICE CG185 not read; the conditions that count are this table's"
)
LITHIUM_ECG = _lithium(
    "lithium-ecg",
    _lab("baseline ECG (cardiovascular disease or risk factors)", ECG),
    BASELINE,
    source=LITHIUM_ECG_SOURCE,
    checked=False,
    condition=CARDIOVASCULAR,
)

LITHIUM_SCHEDULES: tuple[MonitoringRule, ...] = (
    *(r for r in LITHIUM_SCHEDULES_V3 if r.rule_id != "lithium-level"),
    LITHIUM_LEVEL_AFTER_YEAR_1,
    LITHIUM_ECG,
)

VALPROATE_SCHEDULES: tuple[MonitoringRule, ...] = (
    MonitoringRule(
        "valproate-liver",
        "2",
        VALPROATE,
        ON_START,
        _lab("LFT", LIVER),
        (
            BASELINE,
            Phase(30, every=30, until=182, early=7, late=7, label="monthly, months 1-6"),
            YEARLY,
        ),
        PRESCRIBER,
        VALPROATE_LFT_SOURCE,
    ),
    _valproate(
        "valproate-blood-count",
        _lab("full blood count with platelets", PLATELETS),
        BASELINE,
        AT_SIX_MONTHS,
        YEARLY,
    ),
    _valproate("valproate-clotting", _lab("clotting screen", CLOTTING), BASELINE),
    _valproate(
        "valproate-weight", _vitals("weight / BMI", WEIGHT), BASELINE, AT_SIX_MONTHS, YEARLY
    ),
    _valproate(
        "valproate-pregnancy-test",
        _lab("pregnancy test", PREGNANCY_TEST),
        BASELINE,
        population=MAY_BECOME_PREGNANT,
    ),
    MonitoringRule(
        "valproate-pregnancy-prevention",
        "1",
        VALPROATE,
        ON_START,
        Need(
            "review",
            "pregnancy prevention in place (risk acknowledged, highly effective contraception)",
            pregnancy_prevention=True,
        ),
        (BASELINE, YEARLY),
        PRESCRIBER,
        VALPROATE_PREVENTION_SOURCE,
        population=MAY_BECOME_PREGNANT,
    ),
    _valproate(
        "valproate-pregnancy-prevention-review",
        Need("review", "pregnancy prevention programme: specialist review"),
        YEARLY,
        population=MAY_BECOME_PREGNANT,
        source=VALPROATE_PREVENTION_SOURCE,
    ),
)

LITHIUM_TOXICITY = LevelAlertRule(
    "lithium-toxicity",
    "1",
    LITHIUM_LEVEL,
    "mmol/L",
    Decimal("1.5"),
    LITHIUM,
    "high",
    "lithium level at or above 1.5 mmol/L: toxicity",
    PRESCRIBER_AND_THERAPIST,
    LITHIUM_TOXICITY_SOURCE,
)

LITHIUM_INTERACTION = InteractionRule(
    "lithium-interaction",
    "1",
    LITHIUM,
    LITHIUM_INTERACTING,
    "moderate",
    "raises lithium levels: check the level, review the dose",
    _lab("lithium level brought forward (interacting drug)", LITHIUM_LEVEL),
    7,
    PRESCRIBER_AND_THERAPIST,
    LITHIUM_INTERACTION_SOURCE,
    checked=False,
)

PREGNANT_OR_PLANNING = frozenset({"pregnant", "planning pregnancy"})
LITHIUM_PREGNANCY = StatusAlertRule(
    "lithium-pregnancy",
    "1",
    LITHIUM,
    PREGNANT_OR_PLANNING,
    "high",
    "pregnancy planned or occurring on lithium: review the treatment",
    PRESCRIBER,
    LITHIUM_PREGNANCY_SOURCE,
    checked=False,
)
VALPROATE_PREGNANCY = StatusAlertRule(
    "valproate-pregnancy",
    "1",
    VALPROATE,
    PREGNANT_OR_PLANNING,
    "high",
    "pregnancy planned or occurring on valproate (contraindicated in bipolar disorder): "
    "review the treatment urgently",
    PRESCRIBER,
    "MHRA Drug Safety Update, April 2018 (use in pregnancy contraindicated for bipolar "
    "disorder), as the NHS NECSU summary quotes it; the update itself not read",
    checked=False,
)

VALPROATE_ABOVE_RANGE = LevelAlertRule(
    "valproate-above-range",
    "1",
    VALPROATE_LEVEL,
    "ug/mL",
    Decimal("125"),
    VALPROATE,
    "moderate",
    "valproate level above 125 ug/mL (above the range for mania): review the dose",
    PRESCRIBER,
    VALPROATE_LEVEL_SOURCE,
    checked=False,
    low_inclusive=False,
)

LAMOTRIGINE_RASH = EffectAlertRule(
    "lamotrigine-rash",
    "2",
    LAMOTRIGINE,
    words(
        "rash rashes hives urticaria blister blisters blistering peeling mucosal ulcers "
        "sores stevens johnson sjs necrolysis ten"
    ),
    "high",
    "rash or signs of SJS/TEN on lamotrigine: stop and review urgently",
    PRESCRIBER_AND_THERAPIST,
    LAMOTRIGINE_SKIN_SOURCE,
    checked=False,
    together=(
        frozenset({"fever", "lymphadenopathy"}),
        frozenset({"fever", "swollen", "glands"}),
        frozenset({"fever", "swollen", "nodes"}),
    ),
)
