"""Titration schedules as data: the lamotrigine label titration, the drugs that choose
its column (the regimen), and the daily dose in mg that the guard compares with it.

The guard itself is `MedicationSection.check_titration` (domain/medication_management.py),
which refuses a dose step above the schedule unless it is given an override reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Literal

from domain.dose import Dose
from domain.rules.care import RuleRef
from domain.vocabulary import DoseUnit, Frequency

Regimen = Literal["alone", "with valproate", "with an enzyme inducer"]


@dataclass(frozen=True)
class DrugNames:
    """Drugs by RxNorm ingredient code or by name (whole words, any case)."""

    rxnorm: frozenset[str]
    names: frozenset[str]

    def match(self, drug: str, rxnorm: str | None = None) -> bool:
        if rxnorm in self.rxnorm:
            return True
        return not self.names.isdisjoint(re.findall(r"[a-z]+", drug.lower()))


@dataclass(frozen=True)
class TitrationColumn:
    """The highest daily dose for each period of a schedule's weeks, for one regimen."""

    regimen: Regimen
    mg_per_day: tuple[Decimal, ...]
    checked: bool  # read in a primary source, or only in a secondary one


@dataclass(frozen=True)
class TitrationSchedule:
    """A label titration as data: periods of weeks since the start (1-based, inclusive)
    and, per regimen, the highest daily dose in each. After the last period the schedule
    no longer limits the dose."""

    rule_id: str
    version: str
    source: str
    drugs: DrugNames
    weeks: tuple[tuple[int, int], ...]
    columns: tuple[TitrationColumn, ...]

    def __post_init__(self) -> None:
        if any(len(c.mg_per_day) != len(self.weeks) for c in self.columns):
            raise ValueError("every column gives one dose per period of weeks")

    def matches(self, drug: str, rxnorm: str | None) -> bool:
        return self.drugs.match(drug, rxnorm)

    def maximum(self, regimen: Regimen, week: int) -> Decimal | None:
        column = next(c for c in self.columns if c.regimen == regimen)
        for (first, last), limit in zip(self.weeks, column.mg_per_day, strict=True):
            if first <= week <= last:
                return limit
        return None


def _mg(*amounts: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(a) for a in amounts)


# clinical/monitoring.md, "Lamotrigine (label titration, bipolar; check against the label)":
# every column is unchecked until read against the label itself.
LAMOTRIGINE_TITRATION = TitrationSchedule(
    rule_id="lamotrigine-titration",
    version="1",
    source="clinical/monitoring.md, Lamotrigine (label titration, bipolar; check against the label)",
    drugs=DrugNames(frozenset({"28439"}), frozenset({"lamotrigine"})),
    weeks=((1, 2), (3, 4), (5, 5), (6, 6)),
    columns=(
        TitrationColumn("alone", _mg("25", "50", "100", "200"), checked=False),
        # Weeks 1-2: 25 mg every other day, 12.5 mg/day on average.
        TitrationColumn("with valproate", _mg("12.5", "25", "50", "100"), checked=False),
        TitrationColumn("with an enzyme inducer", _mg("50", "100", "200", "300"), checked=False),
    ),
)
VALPROATE_NAMES = DrugNames(
    frozenset({"11118", "266856"}), frozenset({"valproate", "valproic", "divalproex"})
)
# Inducers of lamotrigine's glucuronidation the label names; by name only (no codes were
# checked), and not in monitoring.md: check against the label.
ENZYME_INDUCER_NAMES = DrugNames(
    frozenset(),
    frozenset(
        {"carbamazepine", "phenytoin", "phenobarbital", "primidone", "rifampin", "rifampicin"}
    ),
)


@dataclass(frozen=True)
class RestartRule:
    """A restart after more than `half_lives` elimination half-lives off the drug follows
    the initial dosing again: a new course whose first dose is above the titration's first
    step is refused unless an override reason is given, and a re-titration (a titration
    plan for the new course) falls due for the prescriber within `plan_within_days`. The
    half-life depends on the regimen (hours, per regimen)."""

    rule_id: str
    version: str
    source: str
    checked: bool
    drugs: DrugNames
    titration: TitrationSchedule
    half_life_hours: tuple[tuple[Regimen, Decimal], ...]
    half_lives: int = 5
    plan_within_days: int = 7

    def half_life(self, regimen: Regimen) -> Decimal:
        return dict(self.half_life_hours)[regimen]

    def gap(self, regimen: Regimen) -> timedelta:
        """How long off the drug a restart may be without re-titrating."""
        return timedelta(hours=float(self.half_life(regimen) * self.half_lives))

    def first_step(self, regimen: Regimen) -> Decimal:
        """The titration's first-step maximum (mg/day) for the regimen."""
        found = self.titration.maximum(regimen, 1)
        assert found is not None
        return found

    def off_for(self, regimen: Regimen, days_off: float) -> str:
        """What the record says of a restart that re-titrates."""
        hours = self.half_life(regimen).normalize()
        return (
            f"{days_off:.1f} days off (more than {self.half_lives} half-lives of {hours:f} h, "
            f"{regimen})"
        )

    @property
    def ref(self) -> RuleRef:
        return RuleRef(self.rule_id, self.version, self.source, self.checked)


# Lamotrigine label, section 2.1 ("Restarting therapy": after more than 5 half-lives off,
# the initial dosing recommendations are followed) and section 12.3, Table 14 (mean
# elimination half-life, multiple doses: 25.4 h with no other medications, 70.3 h with
# valproate, healthy volunteers). Both read in copies of the label's text (recallguide.org
# for 2.1, medlibrary.org for Table 14). The copy of Table 14 read stopped before its rows
# for enzyme inducers: 12.6 h (multiple doses, with an inducer) is as a secondary source
# quotes that row, and is the shortest, most cautious figure. Hence unchecked.
LAMOTRIGINE_RESTART = RestartRule(
    rule_id="lamotrigine-restart",
    version="1",
    source=(
        "lamotrigine label 2.1 (restarting after more than 5 half-lives: initial dosing) "
        "and 12.3 Table 14 (half-life 25.4 h alone, 70.3 h with valproate, multiple doses), "
        "read in copies of the label; 12.6 h with an enzyme inducer from a secondary "
        "quotation of Table 14, not read; the plan within 7 days is this table's choice"
    ),
    checked=False,
    drugs=LAMOTRIGINE_TITRATION.drugs,
    titration=LAMOTRIGINE_TITRATION,
    half_life_hours=(
        ("alone", Decimal("25.4")),
        ("with valproate", Decimal("70.3")),
        ("with an enzyme inducer", Decimal("12.6")),
    ),
)

_MILLIGRAMS = {DoseUnit.MG: Decimal(1), DoseUnit.G: Decimal(1000), DoseUnit.MCG: Decimal("0.001")}
# A dose is the day's total, split over the day's administrations; a dose taken less often
# than daily is what is taken on each dosing day.
_DAYS_PER_DOSE = {
    Frequency.EVERY_OTHER_DAY: Decimal(2),
    Frequency.WEEKLY: Decimal(7),
    Frequency.EVERY_4_WEEKS: Decimal(28),
}


def mg_per_day(dose: Dose, frequency: Frequency | None) -> Decimal | None:
    """The average daily dose in mg, if the dose is in a unit of mass."""
    per_mg = _MILLIGRAMS.get(dose.unit)
    if per_mg is None:
        return None
    days = _DAYS_PER_DOSE.get(frequency, Decimal(1)) if frequency is not None else Decimal(1)
    return dose.amount * per_mg / days


def first_step_not_down(
    current: Dose, steps: list[Dose], frequency: Frequency | None
) -> tuple[int, Dose] | None:
    """A taper goes down: each step's daily dose below the one before it (the first below
    the current dose), compared in mg a day, or as amounts in one unit. The first step
    that does not (its index and the dose it had to be below), or None."""
    before = current
    for index, step in enumerate(steps):
        low, high = mg_per_day(step, frequency), mg_per_day(before, frequency)
        if low is None or high is None:
            if step.unit != before.unit:
                return index, before  # doses in units that cannot be compared
            low, high = step.amount, before.amount
        if low >= high:
            return index, before
        before = step
    return None
