"""What a row of the monitoring table says: which drugs, on which trigger, need what, by when.

A row's schedule is a list of phases, each once or repeating:

    BASELINE                          the 30 days up to the trigger ("before the first dose")
    Phase(28, every=28, until=84)     weeks 4, 8 and 12 of treatment
    Phase(7, every=7, until_stable=)  weekly until results are stable...
    Phase(91, after="previous")       ...then counted from the stabilizing result
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from domain.record import RecordEvent
from domain.rules.care import DueKind, PatientContext, RuleRef
from domain.vocabulary import Role, luhn_check_digit

Trigger = Literal["start", "switch-to", "dose-change"]
ON_START: frozenset[Trigger] = frozenset({"start", "switch-to"})
ON_START_OR_DOSE_CHANGE: frozenset[Trigger] = ON_START | {"dose-change"}

_LOINC = re.compile(r"^([0-9]{1,7})-([0-9])$")


# A source that names only the team's notes was not read in a primary source: a row
# citing only these must say `checked=False` (tests/unit/test_monitoring.py holds every
# row of the current table to it).
TEAM_NOTES = ("clinical/", "rule-audit.md")


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
    # Names that, in the drug's name, make it another product: "buprenorphine/naloxone"
    # is not naloxone for overdose reversal.
    excluding: frozenset[str] = frozenset()

    def match(self, drug: str, rxnorm: str | None = None) -> bool:
        said = re.findall(r"[a-z]+", drug.lower())
        if not self.excluding.isdisjoint(said):
            return False
        if rxnorm is not None and rxnorm in self.rxnorm:
            return True
        return not self.names.isdisjoint(said)


@dataclass(frozen=True)
class Stable:
    """Results are stable after `count` consecutive values in [low, high] `unit`; with
    `own_target`, in the range a prescriber set for the medication (LevelTargetSet) when
    one was set before the result, [low, high] being the default."""

    low: Decimal
    high: Decimal
    count: int
    unit: str
    own_target: bool = False


@dataclass(frozen=True)
class Sooner:
    """A repeating phase's shorter interval: `every` days after an occurrence whose latest
    result was at or above `at_or_above` `unit` (lithium: 3-monthly after a level of
    0.8 mmol/L or more)."""

    every: int
    at_or_above: Decimal
    unit: str
    label: str


SoonerReason = Literal["interacting drug", "renal decline", "poor adherence", "pregnancy"]


@dataclass(frozen=True)
class SoonerIf:
    """A repeating phase's shorter interval for what the record shows by an occurrence's
    window end (lithium after year 1, SPS: at least 3-monthly with interacting drugs,
    renal decline, poor adherence, pregnancy): "interacting drug", a course of `drugs`
    taken then; "renal decline", the latest eGFR (`loinc`) below `below` `unit`;
    "poor adherence", the latest adherence record of the course within `within_days`
    with doses taken below `below` (a fraction) of those prescribed; "pregnancy", the
    latest pregnancy status "pregnant"."""

    every: int
    reason: SoonerReason
    label: str
    below: Decimal | None = None
    unit: str | None = None
    loinc: frozenset[str] = frozenset()
    drugs: Drugs | None = None
    within_days: int | None = None


@dataclass(frozen=True)
class RecordedCondition:
    """A row applies only when the record holds an active condition (ConditionRecorded,
    its latest status for the code) whose ICD-10 code starts with one of `icd10`."""

    label: str
    icd10: tuple[str, ...]

    def matches(self, code: str) -> bool:
        return code.upper().startswith(self.icd10)


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
    sooner: Sooner | None = None
    sooner_if: tuple[SoonerIf, ...] = ()

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
    a visit, contact or review is met by the events `_satisfies` names for its kind. With
    `events` or `started`, only an event of those kinds, or the start of a medication of
    `started`, meets it (a naloxone discussion, or a naloxone prescription)."""

    kind: DueKind
    title: str
    loinc: frozenset[str] = frozenset()
    vitals: tuple[tuple[str, ...], ...] = ()
    instrument: str | None = None
    # Met by a pregnancy-status observation saying prevention is in place (or that the
    # patient cannot become pregnant), not by a review.
    pregnancy_prevention: bool = False
    events: tuple[type[RecordEvent], ...] = ()
    started: Drugs | None = None

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
    at_least_age: int | None = None
    # Whether a row for an age applies when the age is not known (a row for the older,
    # more closely watched, does; the row it replaces for the younger need not).
    unknown_age: bool = True

    def applies(self, patient: PatientContext, on: date) -> bool:
        if self.could_become_pregnant and (patient.sex_at_birth or "").lower() == "male":
            return False
        age = patient.age_on(on)
        if age is None:
            return self.unknown_age
        if self.at_least_age is not None and age < self.at_least_age:
            return False
        return self.under_age is None or age < self.under_age


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
    # A new course of `drugs` started within this many days of the last one's stop
    # continues its monitoring (counted from the earlier start); after a longer gap the
    # monitoring restarts as new (clozapine: 30 days).
    resumes_within: int | None = None
    # Only for patients whose record holds this condition (lithium's baseline ECG with
    # cardiovascular disease or risk factors).
    condition: RecordedCondition | None = None

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


Pathway = Literal["general", "benign ethnic neutropenia"]


@dataclass(frozen=True)
class FollowUp:
    """What a result in a level alert's band makes due: a repeat within `confirm_hours`
    to confirm it (if given), then the test every `every` days until a later result
    leaves the band (`until` says where it should rise to)."""

    title: str
    every: float
    until: str
    confirm_hours: int | None = 24


@dataclass(frozen=True)
class LevelAlertRule:
    """A result in a band of levels raises an alert: at or above `at_or_above` (above it,
    when `low_inclusive` is false) and, if `below` is given, under `below`; compared in
    `unit`, the canonical unit of its tests (domain.lab_units), whatever unit was entered.
    The alert closes on a later result outside the band or a prescriber's decision (dose
    change, stop, switch, reassessment) on `drugs`. With `while_taking`, only a result
    taken while one of `drugs` was being taken raises it."""

    rule_id: str
    version: str
    loinc: frozenset[str]
    unit: str
    at_or_above: Decimal | None
    drugs: Drugs
    severity: Literal["high", "moderate"]
    title: str
    for_roles: tuple[Role, ...]
    source: str
    checked: bool = True
    below: Decimal | None = None
    low_inclusive: bool = True
    while_taking: bool = False
    # Only for patients on this neutrophil pathway (recorded by a prescriber); None: all.
    pathway: Pathway | None = None
    follow_up: FollowUp | None = None

    def __post_init__(self) -> None:
        if self.at_or_above is None and self.below is None:
            raise ValueError("a level alert needs a lower or an upper bound")
        low, high = self.at_or_above, self.below
        if low is not None and high is not None and low >= high:
            raise ValueError("a level alert's band is empty")

    def contains(self, value: Decimal) -> bool:
        low = self.at_or_above
        if low is not None and (value < low or (value == low and not self.low_inclusive)):
            return False
        return self.below is None or value < self.below

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
    # Signs that count only together (fever with swollen lymph nodes), any one group.
    together: tuple[frozenset[str], ...] = ()

    def names(self, said: frozenset[str]) -> bool:
        return not self.words.isdisjoint(said) or any(group <= said for group in self.together)

    @property
    def ref(self) -> RuleRef:
        return RuleRef(self.rule_id, self.version, self.source, self.checked)


@dataclass(frozen=True)
class InteractionRule:
    """A course of `with_drugs` taken at the same time as `drugs` raises an alert (closed
    by a prescriber's decision on either) and brings `need` forward: due within
    `within_days` of the day both were first taken together."""

    rule_id: str
    version: str
    drugs: Drugs
    with_drugs: Drugs
    severity: Literal["high", "moderate"]
    title: str
    need: Need
    within_days: int
    for_roles: tuple[Role, ...]
    source: str
    checked: bool = True

    @property
    def ref(self) -> RuleRef:
        return RuleRef(self.rule_id, self.version, self.source, self.checked)


@dataclass(frozen=True)
class StatusAlertRule:
    """A pregnancy status among `statuses` recorded while `drugs` are taken (or `drugs`
    started after it) raises an alert for a review, closed by a decision on the drug or a
    later status outside `statuses`."""

    rule_id: str
    version: str
    drugs: Drugs
    statuses: frozenset[str]
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
    interactions: tuple[InteractionRule, ...] = ()
    status_alerts: tuple[StatusAlertRule, ...] = ()
    # Rules across a patient's medications and record (domain/rules/monitoring/
    # combinations.py): drug combinations, dose-and-risk alerts, prescription-monitoring
    # checks. Each has a `ref`.
    combinations: tuple[Any, ...] = ()
    dose_alerts: tuple[Any, ...] = ()
    checks: tuple[Any, ...] = ()
    # Restarts that re-titrate (domain/rules/titration.py's RestartRule): lamotrigine
    # after more than 5 half-lives off.
    restarts: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        ids = [ref.rule_id for ref in self.refs()]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"rule ids must be unique: {', '.join(duplicated)}")

    def refs(self) -> list[RuleRef]:
        rows: list[Any] = [*self.schedules, *self.weight_gain]
        rows += [*self.level_alerts, *self.effect_alerts]
        rows += [*self.interactions, *self.status_alerts]
        rows += [*self.combinations, *self.dose_alerts, *self.checks, *self.restarts]
        return [row.ref for row in rows]
