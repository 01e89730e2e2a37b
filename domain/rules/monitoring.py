"""Medication monitoring as data: which drug, on which trigger, needs what, by when.

Each row of `MONITORING` reads as one line of clinical/monitoring.md: when a medication of
these drugs is started (or switched to, or its dose changed), this item is due (a lab with
these LOINC codes, a vital sign, a contact, a visit, a questionnaire, a review) in these
windows, for these roles, from this source, checked in a primary source or not. Windows
are days from the trigger and are defaults a clinic can configure by building its own table.

A row's schedule is a list of phases, each once or repeating:

    BASELINE                          the 30 days up to the trigger ("before the first dose")
    Phase(28, every=28, until=84)     weeks 4, 8 and 12 of treatment
    Phase(7, every=7, until_stable=)  weekly until results are stable...
    Phase(91, after="previous")       ...then counted from the stabilizing result

`monitoring_picture` replays a patient's facts against the table. An item is met by the
first fact that satisfies it at or after its window opens (a fact meets the most recent
window opened before it, so a late result does not hide a missed one); it is overdue once
`now` passes `due_by` unmet, otherwise due. A series shows what has opened plus the next
upcoming item; a stop or switch ends it (what was already due stays), and a new trigger of
the same row (a dose change) replaces what its predecessor had not yet opened. Thresholds
on results raise alerts or reviews (lithium toxicity, weight gain on an antipsychotic,
rash on lamotrigine).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from itertools import count
from typing import Any, Literal

from domain.labs import LabResulted
from domain.measures import QuestionnaireAnswered, VitalsRecorded
from domain.medication import (
    DoseChanged,
    EvaluationRecorded,
    MedicationReassessed,
    MedicationStarted,
    MedicationStopped,
    MedicationSwitched,
    SideEffectReported,
)
from domain.messaging import MessageSent
from domain.rules.care import Alert, DueItem, DueKind, DueStatus, Fact, PatientContext, RuleRef
from domain.therapy import SessionAttended
from domain.vocabulary import TREATING_ROLES, Role, luhn_check_digit

Trigger = Literal["start", "switch-to", "dose-change"]
ON_START: frozenset[Trigger] = frozenset({"start", "switch-to"})
ON_START_OR_DOSE_CHANGE: frozenset[Trigger] = ON_START | {"dose-change"}

# Events that answer a review of a medication (or an alert about it).
MEDICATION_DECISIONS = frozenset(
    kind.__name__ for kind in (MedicationReassessed, MedicationSwitched, MedicationStopped)
)
_LOINC = re.compile(r"^([0-9]{1,7})-([0-9])$")


def days(n: float) -> timedelta:
    return timedelta(days=n)


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


@dataclass(frozen=True)
class Drugs:
    """A drug family: RxNorm ingredient codes and names (whole words, any case), so that
    "lithium carbonate" and "buprenorphine/naloxone" match as well as their codes."""

    label: str
    rxnorm: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()

    def match(self, drug: str, rxnorm: str | None = None) -> bool:
        if rxnorm is not None and rxnorm in self.rxnorm:
            return True
        return not self.names.isdisjoint(re.findall(r"[a-z]+", drug.lower()))


@dataclass(frozen=True)
class Stable:
    """Results are stable after `count` consecutive values in [low, high] `unit`."""

    low: Decimal
    high: Decimal
    count: int
    unit: str


@dataclass(frozen=True)
class Phase:
    """Occurrences at `day` after the phase's reference, then every `every` days while the
    nominal day is at most `until` days after the medication's start. Each is due from
    `early` days before its nominal day to `late` days after. The reference is the trigger,
    or ("previous") where the previous phase ended: its last nominal day, or the result
    that made it stable."""

    day: int
    every: int | None = None
    until: int | None = None
    early: int = 0
    late: int = 0
    after: Literal["trigger", "previous"] = "trigger"
    until_stable: Stable | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if self.every is not None and self.every <= 0:
            raise ValueError("a phase repeats every one day or more")
        if self.until_stable is not None and self.every is None:
            raise ValueError("a phase that runs until results are stable must repeat")


# "Results up to 30 days before the trigger count as baseline"; due by the first dose.
BASELINE = Phase(0, early=30, label="baseline, before the first dose")


@dataclass(frozen=True)
class Need:
    """What is due, and what meets it: a lab result with one of `loinc`, vital signs with a
    value in every group of `vitals` (any field of a group), a questionnaire `instrument`;
    a visit, contact or review is met by the events `_satisfies` names for its kind."""

    kind: DueKind
    title: str
    loinc: frozenset[str] = frozenset()
    vitals: tuple[tuple[str, ...], ...] = ()
    instrument: str | None = None

    def __post_init__(self) -> None:
        for code in self.loinc:
            match = _LOINC.match(code)
            if not match or luhn_check_digit(match.group(1)) != int(match.group(2)):
                raise ValueError(f"'{code}' is not a LOINC code with a valid check digit")


@dataclass(frozen=True)
class Population:
    """Whom a row applies to, judged on the trigger's date. An unknown age counts as
    within `under_age` and an unknown sex as able to become pregnant: a reminder too many
    is safer than one missed."""

    under_age: int | None = None
    could_become_pregnant: bool = False

    def applies(self, patient: PatientContext, on: date) -> bool:
        if self.could_become_pregnant and (patient.sex_at_birth or "").lower() == "male":
            return False
        age = patient.age_on(on)
        return self.under_age is None or age is None or age < self.under_age


EVERYONE = Population()


@dataclass(frozen=True)
class MonitoringRule:
    rule_id: str
    version: str
    drugs: Drugs
    triggers: frozenset[Trigger]
    need: Need
    schedule: tuple[Phase, ...]
    for_roles: tuple[Role, ...]
    source: str
    checked: bool = True
    population: Population = EVERYONE

    @property
    def ref(self) -> RuleRef:
        return RuleRef(self.rule_id, self.version, self.source, self.checked)


@dataclass(frozen=True)
class WeightGainRule:
    """A weight at or above `percent` over the baseline weight raises a review."""

    rule_id: str
    version: str
    drugs: Drugs
    percent: Decimal
    title: str
    within_days: int
    for_roles: tuple[Role, ...]
    source: str
    checked: bool = True

    @property
    def ref(self) -> RuleRef:
        return RuleRef(self.rule_id, self.version, self.source, self.checked)


@dataclass(frozen=True)
class LevelAlertRule:
    """A result at or above a level raises an alert, closed by a later result below it or
    a prescriber's decision (dose change, stop, switch, reassessment) on `drugs`."""

    rule_id: str
    version: str
    loinc: frozenset[str]
    unit: str
    at_or_above: Decimal
    drugs: Drugs
    severity: Literal["high", "moderate"]
    title: str
    for_roles: tuple[Role, ...]
    source: str
    checked: bool = True

    @property
    def ref(self) -> RuleRef:
        return RuleRef(self.rule_id, self.version, self.source, self.checked)


@dataclass(frozen=True)
class EffectAlertRule:
    """A side effect naming one of `words` on `drugs` raises an alert, closed by a stop,
    switch or reassessment of that medication."""

    rule_id: str
    version: str
    drugs: Drugs
    words: frozenset[str]
    severity: Literal["high", "moderate"]
    title: str
    for_roles: tuple[Role, ...]
    source: str
    checked: bool = True

    @property
    def ref(self) -> RuleRef:
        return RuleRef(self.rule_id, self.version, self.source, self.checked)


@dataclass(frozen=True)
class MonitoringTable:
    schedules: tuple[MonitoringRule, ...]
    weight_gain: tuple[WeightGainRule, ...] = ()
    level_alerts: tuple[LevelAlertRule, ...] = ()
    effect_alerts: tuple[EffectAlertRule, ...] = ()

    def __post_init__(self) -> None:
        ids = [ref.rule_id for ref in self.refs()]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"rule ids must be unique: {', '.join(duplicated)}")

    def refs(self) -> list[RuleRef]:
        rows: list[Any] = [*self.schedules, *self.weight_gain]
        rows += [*self.level_alerts, *self.effect_alerts]
        return [row.ref for row in rows]


# --- the table ----------------------------------------------------------------------------

LITHIUM = Drugs("lithium", frozenset({"6448", "42351"}), frozenset({"lithium"}))
VALPROATE = Drugs(
    "valproate", frozenset({"11118", "266856"}), frozenset({"valproate", "valproic", "divalproex"})
)
SECOND_GENERATION_ANTIPSYCHOTICS = Drugs(
    "second-generation antipsychotic",
    frozenset({"89013", "61381", "35636", "51272", "1040028", "2626"}),
    words(
        "aripiprazole olanzapine risperidone quetiapine lurasidone clozapine paliperidone "
        "ziprasidone asenapine brexpiprazole cariprazine iloperidone lumateperone"
    ),
)
CLOZAPINE = Drugs("clozapine", frozenset({"2626"}), frozenset({"clozapine"}))
STIMULANTS = Drugs(
    "stimulant",
    frozenset({"6901", "725"}),
    words(
        "methylphenidate dexmethylphenidate amphetamine dextroamphetamine lisdexamfetamine "
        "methamphetamine"
    ),
)
ATOMOXETINE = Drugs("atomoxetine", frozenset({"38400"}), frozenset({"atomoxetine"}))
SSRIS_AND_SNRIS = Drugs(
    "SSRI or SNRI",
    frozenset({"36437", "321988", "4493", "39786", "72625"}),
    words(
        "sertraline escitalopram citalopram fluoxetine paroxetine fluvoxamine venlafaxine "
        "desvenlafaxine duloxetine levomilnacipran"
    ),
)
BUPRENORPHINE = Drugs("buprenorphine", frozenset({"1819"}), frozenset({"buprenorphine"}))
NALTREXONE = Drugs("naltrexone", frozenset({"7243"}), frozenset({"naltrexone"}))
LAMOTRIGINE = Drugs("lamotrigine", frozenset({"28439"}), frozenset({"lamotrigine"}))

# RxNorm codes monitoring.md took from public repositories only ("check in RxNav").
UNVERIFIED_RXNORM = frozenset({"51272", "1040028", "725", "6448", "42351", "1819"})

# LOINC codes that meet each kind of lab (an analyte, or a panel that reports it).
LITHIUM_LEVEL = frozenset({"14334-7"})
RENAL = frozenset({"98979-8", "62238-1", "33914-3", "2160-0", "14682-9", "51990-0", "24323-8"})
THYROID = frozenset({"3016-3"})
CALCIUM = frozenset({"17861-6", "2000-8", "51990-0", "24323-8"})
BLOOD_COUNT = frozenset({"58410-2", "57021-8", "6690-2", "718-7", "777-3"})
PLATELETS = frozenset({"58410-2", "57021-8", "777-3"})
LIVER = frozenset({"1742-6", "1920-8", "24325-3", "24323-8"})
CLOTTING = frozenset({"5902-2", "6301-6", "34714-6", "14979-9", "3173-2"})
PREGNANCY_TEST = frozenset({"2106-3", "2118-8", "19080-1", "21198-7"})
FASTING_GLUCOSE = frozenset({"1558-6", "14771-0", "2345-7", "4548-4"})
LIPIDS = frozenset(
    {"2093-3", "2571-8", "2085-9", "13457-7", "2089-1", "18262-6", "57698-3", "24331-1"}
)
NEUTROPHILS = frozenset({"751-8", "26499-4", "753-4", "57021-8"})
URINE_DRUG_TEST = frozenset({"19295-5", "3414-0", "93494-3", "58359-1"})

WEIGHT = (("weight_kg", "bmi"),)
BLOOD_PRESSURE = (("systolic_mmhg",),)
BLOOD_PRESSURE_AND_PULSE = (("systolic_mmhg",), ("heart_rate_bpm",))
WAIST = (("waist_cm",),)

PRESCRIBER = (Role.PRESCRIBER,)
PRESCRIBER_AND_THERAPIST = (Role.PRESCRIBER, Role.THERAPIST)

SIX_MONTHLY = Phase(182, every=182, early=14, late=14, label="every 6 months")
AT_SIX_MONTHS = Phase(182, early=14, late=14, label="at 6 months")
YEARLY = Phase(365, every=365, early=30, late=30, label="yearly")
WEEK_12 = Phase(84, early=7, late=14, label="week 12")

LITHIUM_SOURCE = "clinical/monitoring.md, Lithium (NICE QS95, NHS SPS)"
VALPROATE_SOURCE = "clinical/monitoring.md, Valproate (NHS SPS)"
SGA_SOURCE = (
    "clinical/monitoring.md, Second-generation antipsychotics "
    "(ADA/APA consensus, Diabetes Care 2004;27:596)"
)
CLOZAPINE_SOURCE = "clinical/monitoring.md, Clozapine (prescribing information)"
STIMULANT_SOURCE = "clinical/monitoring.md, Stimulants (ADHD)"
ATOMOXETINE_SOURCE = (
    "atomoxetine prescribing information (blood pressure and pulse at baseline and after "
    "dose increases); not in clinical/monitoring.md"
)
SSRI_SOURCE = (
    "clinical/monitoring.md, SSRIs / SNRIs (boxed warning under 25; configurable defaults)"
)
BUPRENORPHINE_SOURCE = "clinical/monitoring.md, Buprenorphine (check against ASAM/TIP 63)"
NALTREXONE_SOURCE = "clinical/monitoring.md, Naltrexone"
LAMOTRIGINE_SOURCE = "clinical/monitoring.md, Lamotrigine (check against the label)"


def _lab(title: str, codes: frozenset[str]) -> Need:
    return Need("lab", title, loinc=codes)


def _vitals(title: str, groups: tuple[tuple[str, ...], ...]) -> Need:
    return Need("vitals", title, vitals=groups)


def _lithium(rule_id: str, need: Need, *schedule: Phase, **more: Any) -> MonitoringRule:
    return MonitoringRule(
        rule_id, "1", LITHIUM, ON_START, need, schedule, PRESCRIBER, LITHIUM_SOURCE, **more
    )


def _valproate(rule_id: str, need: Need, *schedule: Phase, **more: Any) -> MonitoringRule:
    return MonitoringRule(
        rule_id, "1", VALPROATE, ON_START, need, schedule, PRESCRIBER, VALPROATE_SOURCE, **more
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


MAY_BECOME_PREGNANT = Population(could_become_pregnant=True)
LITHIUM_TARGET = Stable(Decimal("0.6"), Decimal("0.8"), 2, "mmol/L")

SCHEDULES: tuple[MonitoringRule, ...] = (
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
    ),
    MonitoringRule(
        "lithium-level",
        "1",
        LITHIUM,
        ON_START_OR_DOSE_CHANGE,
        _lab("lithium level (trough, 12 h after the dose)", LITHIUM_LEVEL),
        (
            Phase(7, every=7, early=2, until_stable=LITHIUM_TARGET, label="weekly until stable"),
            Phase(91, every=91, until=365, early=14, late=14, after="previous", label="3-monthly"),
            Phase(182, every=182, early=14, late=14, after="previous", label="6-monthly"),
        ),
        PRESCRIBER,
        LITHIUM_SOURCE,
    ),
    _valproate("valproate-liver", _lab("LFT", LIVER), BASELINE, AT_SIX_MONTHS, YEARLY),
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
    _valproate(
        "valproate-pregnancy-prevention-review",
        Need("review", "pregnancy prevention programme: specialist review"),
        YEARLY,
        population=MAY_BECOME_PREGNANT,
    ),
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
    MonitoringRule(
        "clozapine-neutrophils",
        "1",
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
    ),
    MonitoringRule(
        "stimulant-vitals",
        "1",
        STIMULANTS,
        ON_START_OR_DOSE_CHANGE,
        _vitals("blood pressure and heart rate", BLOOD_PRESSURE_AND_PULSE),
        (Phase(0, early=7, late=7, label="at the start or dose change"),),
        PRESCRIBER,
        STIMULANT_SOURCE,
    ),
    MonitoringRule(
        "atomoxetine-vitals",
        "1",
        ATOMOXETINE,
        ON_START_OR_DOSE_CHANGE,
        _vitals("blood pressure and heart rate", BLOOD_PRESSURE_AND_PULSE),
        (Phase(0, early=7, late=7, label="at the start or dose change"),),
        PRESCRIBER,
        ATOMOXETINE_SOURCE,
        checked=False,
    ),
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

MONITORING = MonitoringTable(
    SCHEDULES,
    weight_gain=(
        WeightGainRule(
            "sga-weight-gain",
            "1",
            SECOND_GENERATION_ANTIPSYCHOTICS,
            Decimal("5"),
            "weight gain of 5% or more: consider switching",
            14,
            PRESCRIBER_AND_THERAPIST,
            SGA_SOURCE,
        ),
    ),
    level_alerts=(
        LevelAlertRule(
            "lithium-toxicity",
            "1",
            LITHIUM_LEVEL,
            "mmol/L",
            Decimal("1.5"),
            LITHIUM,
            "high",
            "lithium level at or above 1.5 mmol/L: toxicity",
            PRESCRIBER_AND_THERAPIST,
            LITHIUM_SOURCE,
        ),
    ),
    effect_alerts=(
        EffectAlertRule(
            "lamotrigine-rash",
            "1",
            LAMOTRIGINE,
            frozenset({"rash", "rashes"}),
            "high",
            "rash on lamotrigine: stop and review urgently",
            PRESCRIBER_AND_THERAPIST,
            LAMOTRIGINE_SOURCE,
            checked=False,
        ),
    ),
)


# --- the engine ---------------------------------------------------------------------------


@dataclass
class _Medication:
    medication_id: str
    drug: str
    rxnorm: str | None
    started: Fact
    triggers: list[tuple[Trigger, Fact]]
    stopped_at: datetime | None = None


@dataclass(frozen=True)
class _Occurrence:
    n: str
    due_from: datetime
    due_by: datetime
    label: str


def monitoring_picture(
    facts: Sequence[Fact],
    patient: PatientContext,
    now: datetime,
    table: MonitoringTable = MONITORING,
) -> tuple[list[DueItem], list[Alert]]:
    """The monitoring due items and alerts of one patient's record at `now`: for every
    medication on the record, each row of `table` its drug matches."""
    ordered = sorted(facts, key=lambda f: f.position)
    medications = _medications(ordered)
    items: list[DueItem] = []
    alerts: list[Alert] = []
    for med in medications.values():
        for rule in table.schedules:
            if rule.drugs.match(med.drug, med.rxnorm):
                items += _scheduled(rule, med, ordered, patient, now)
        for gain in table.weight_gain:
            if gain.drugs.match(med.drug, med.rxnorm):
                items += _weight_gain(gain, med, ordered, now)
    for level in table.level_alerts:
        alerts += _level_alerts(level, ordered, medications)
    for effect in table.effect_alerts:
        alerts += _effect_alerts(effect, ordered, medications)
    items.sort(key=lambda i: (i.due_by, i.key))
    alerts.sort(key=lambda a: (a.raised_at, a.key))
    return items, alerts


def _medications(facts: Sequence[Fact]) -> dict[str, _Medication]:
    meds: dict[str, _Medication] = {}
    for fact in facts:
        p = fact.payload
        med = meds.get(str(p.get("medication_id")))
        if fact.kind == MedicationStarted.__name__:
            meds[str(p["medication_id"])] = _new_medication(str(p["medication_id"]), fact, "start")
        elif fact.kind == MedicationSwitched.__name__:
            if med is not None and med.stopped_at is None:
                med.stopped_at = fact.at
            to = str(p["to_medication_id"])
            meds[to] = _new_medication(to, fact, "switch-to")
        elif med is None or med.stopped_at is not None:
            continue
        elif fact.kind == DoseChanged.__name__:
            med.triggers.append(("dose-change", fact))
        elif fact.kind == MedicationStopped.__name__:
            med.stopped_at = fact.at
    return meds


def _new_medication(medication_id: str, fact: Fact, trigger: Trigger) -> _Medication:
    rxnorm = fact.payload.get("rxnorm")
    return _Medication(
        medication_id,
        str(fact.payload.get("drug", "")),
        None if rxnorm is None else str(rxnorm),
        fact,
        [(trigger, fact)],
    )


def _scheduled(
    rule: MonitoringRule,
    med: _Medication,
    facts: Sequence[Fact],
    patient: PatientContext,
    now: datetime,
) -> list[DueItem]:
    anchors = [
        fact
        for trigger, fact in med.triggers
        if trigger in rule.triggers and rule.population.applies(patient, fact.at.date())
    ]
    meeting = [f for f in facts if _satisfies(rule.need, f, med.medication_id)]
    items = []
    for index, anchor in enumerate(anchors):
        # A later trigger of the same row replaces what this one had not yet opened.
        ends = [a.at for a in anchors[index + 1 : index + 2]]
        ends += [med.stopped_at] if med.stopped_at is not None else []
        end = min(ends, default=None)
        series = sorted(
            _occurrences(rule, anchor.at, med.started.at, end, now, meeting),
            key=lambda o: o.due_from,
        )
        met = _met(series, meeting)
        for position, occurrence in enumerate(series):
            met_at = met.get(position)
            title = f"{med.drug}: {rule.need.title}"
            items.append(
                DueItem(
                    key=f"{rule.rule_id}:{med.medication_id}:{anchor.position}:{occurrence.n}",
                    kind=rule.need.kind,
                    title=f"{title} ({occurrence.label})" if occurrence.label else title,
                    for_roles=rule.for_roles,
                    due_from=occurrence.due_from,
                    due_by=occurrence.due_by,
                    status=_status(met_at, occurrence.due_by, now),
                    rule=rule.ref,
                    met_at=met_at,
                    anchor_position=anchor.position,
                )
            )
    return items


def _occurrences(
    rule: MonitoringRule,
    anchor: datetime,
    start: datetime,
    end: datetime | None,
    now: datetime,
    results: Sequence[Fact],
) -> list[_Occurrence]:
    """What a trigger makes due: everything opened by `now`, then the next one; nothing
    that would open after `end` (a stop, a switch, the next trigger of the row)."""
    series: list[_Occurrence] = []
    previous = anchor
    for p, phase in enumerate(rule.schedule):
        base = anchor if phase.after == "trigger" else previous
        stable_at = None
        if phase.until_stable is not None:
            opens = base + days(phase.day - phase.early)
            stable_at = _stable_at(phase.until_stable, [r for r in results if r.at >= opens])
        last = None
        for k in count():
            nominal = base + days(phase.day + k * (phase.every or 0))
            if phase.until is not None and nominal > start + days(phase.until):
                break
            due_from = nominal - days(phase.early)
            if stable_at is not None and due_from > stable_at:
                break
            if end is not None and due_from > end:
                return series
            series.append(
                _Occurrence(f"{p}.{k}", due_from, nominal + days(phase.late), phase.label)
            )
            last = nominal
            if due_from > now or phase.every is None:
                break
        if series and series[-1].due_from > now:
            return series
        if phase.until_stable is not None:
            if stable_at is None:
                return series
            previous = stable_at
        else:
            previous = last if last is not None else base
    return series


def _stable_at(stable: Stable, results: Sequence[Fact]) -> datetime | None:
    """When the `count`-th consecutive result in range was taken, if it was."""
    streak = 0
    for fact in sorted(results, key=lambda f: f.at):
        value = _number(fact.payload.get("value"))
        if fact.payload.get("unit") != stable.unit or value is None:
            streak = 0
        elif stable.low <= value <= stable.high:
            streak += 1
            if streak == stable.count:
                return fact.at
        else:
            streak = 0
    return None


def _met(series: Sequence[_Occurrence], meeting: Sequence[Fact]) -> dict[int, datetime]:
    """Each fact meets the latest occurrence (of `series`, in the order they open) opened
    before it; an occurrence is met when its earliest such fact happened."""
    opened = [o.due_from for o in series]
    met: dict[int, datetime] = {}
    for fact in meeting:
        index = bisect_right(opened, fact.at) - 1
        if index >= 0 and (index not in met or fact.at < met[index]):
            met[index] = fact.at
    return met


def _satisfies(need: Need, fact: Fact, medication_id: str) -> bool:
    p = fact.payload
    if need.kind == "lab":
        final = p.get("final", True) is not False
        return fact.kind == LabResulted.__name__ and p.get("loinc") in need.loinc and final
    if need.kind == "vitals":
        return fact.kind == VitalsRecorded.__name__ and all(
            any(p.get(name) is not None for name in group) for group in need.vitals
        )
    if need.kind == "questionnaire":
        return (
            fact.kind == QuestionnaireAnswered.__name__ and p.get("instrument") == need.instrument
        )
    if need.kind == "visit":
        return fact.kind == SessionAttended.__name__
    if need.kind == "contact":
        by_clinician = fact.kind == MessageSent.__name__ and fact.author_role in TREATING_ROLES
        return by_clinician or fact.kind == SessionAttended.__name__
    # A review or assessment: the prescriber's evaluation, or a decision on the medication.
    return fact.kind == EvaluationRecorded.__name__ or _decides(fact, medication_id)


def _decides(fact: Fact, medication_id: str) -> bool:
    return fact.kind in MEDICATION_DECISIONS and str(fact.payload.get("medication_id")) == (
        medication_id
    )


def _status(met_at: datetime | None, due_by: datetime, now: datetime) -> DueStatus:
    if met_at is not None:
        return "met"
    return "overdue" if now > due_by else "due"


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


_REVIEW = Need("review", "review")


def _weight_gain(
    rule: WeightGainRule, med: _Medication, facts: Sequence[Fact], now: datetime
) -> list[DueItem]:
    """One review, at the first weight `percent` over baseline while the medication is
    taken. Baseline: the last weight in the 30 days up to the start, else the first after."""
    start = med.started.at
    measured = [
        (f, _number(f.payload.get("weight_kg"))) for f in facts if f.kind == VitalsRecorded.__name__
    ]
    weights = sorted(((f, w) for f, w in measured if w is not None), key=lambda fw: fw[0].at)
    before = [fw for fw in weights if start - days(30) <= fw[0].at <= start]
    after = [fw for fw in weights if fw[0].at > start]
    baseline = before[-1] if before else (after[0] if after else None)
    if baseline is None:
        return []
    threshold = baseline[1] * (1 + rule.percent / 100)
    for fact, weight in after:
        if med.stopped_at is not None and fact.at > med.stopped_at:
            break
        if fact.at <= baseline[0].at or weight < threshold:
            continue
        met_at = min(
            (f.at for f in facts if f.at >= fact.at and _satisfies(_REVIEW, f, med.medication_id)),
            default=None,
        )
        due_by = fact.at + days(rule.within_days)
        gain = (weight / baseline[1] - 1) * 100
        return [
            DueItem(
                key=f"{rule.rule_id}:{med.medication_id}:{fact.position}:0",
                kind="review",
                title=(
                    f"{med.drug}: {rule.title} ({baseline[1].normalize():f} to "
                    f"{weight.normalize():f} kg, +{gain:.1f}%)"
                ),
                for_roles=rule.for_roles,
                due_from=fact.at,
                due_by=due_by,
                status=_status(met_at, due_by, now),
                rule=rule.ref,
                met_at=met_at,
                anchor_position=fact.position,
            )
        ]
    return []


def _level_alerts(
    rule: LevelAlertRule, facts: Sequence[Fact], medications: Mapping[str, _Medication]
) -> list[Alert]:
    def level(fact: Fact) -> Decimal | None:
        p = fact.payload
        if fact.kind != LabResulted.__name__ or p.get("loinc") not in rule.loinc:
            return None
        return _number(p.get("value")) if p.get("unit") == rule.unit else None

    def answers(fact: Fact) -> bool:
        value = level(fact)
        if value is not None:
            return value < rule.at_or_above
        med = medications.get(str(fact.payload.get("medication_id")))
        decision = fact.kind in MEDICATION_DECISIONS or fact.kind == DoseChanged.__name__
        return decision and med is not None and rule.drugs.match(med.drug, med.rxnorm)

    alerts = []
    for fact in facts:
        value = level(fact)
        if value is None or value < rule.at_or_above:
            continue
        closed_at = min(
            (f.at for f in facts if f.position > fact.position and f.at >= fact.at and answers(f)),
            default=None,
        )
        alerts.append(
            Alert(
                key=f"{rule.rule_id}:{fact.position}",
                severity=rule.severity,
                title=f"{rule.title} ({value.normalize():f} {rule.unit})",
                for_roles=rule.for_roles,
                raised_at=fact.at,
                rule=rule.ref,
                closed_at=closed_at,
                anchor_position=fact.position,
            )
        )
    return alerts


def _effect_alerts(
    rule: EffectAlertRule, facts: Sequence[Fact], medications: Mapping[str, _Medication]
) -> list[Alert]:
    alerts = []
    for fact in facts:
        med = medications.get(str(fact.payload.get("medication_id")))
        if fact.kind != SideEffectReported.__name__ or med is None:
            continue
        said = re.findall(r"[a-z]+", str(fact.payload.get("effect", "")).lower())
        if not rule.drugs.match(med.drug, med.rxnorm) or rule.words.isdisjoint(said):
            continue
        closed_at = min(
            (
                f.at
                for f in facts
                if f.position > fact.position and f.at >= fact.at and _decides(f, med.medication_id)
            ),
            default=None,
        )
        alerts.append(
            Alert(
                key=f"{rule.rule_id}:{fact.position}",
                severity=rule.severity,
                title=f"{med.drug}: {rule.title} ({fact.payload.get('effect')})",
                for_roles=rule.for_roles,
                raised_at=fact.at,
                rule=rule.ref,
                closed_at=closed_at,
                anchor_position=fact.position,
            )
        )
    return alerts
