"""Dose ranges as data: for each drug the rules know, the usual adult maximum daily dose,
the units it is dosed in and where the number comes from; and the assessment a new dose
gets against its row (or, for a drug with no row, a generic plausibility bound).

The daily dose is the dose on its schedule (`daily_amount`): a dose taken every day is the
day's total, split over the day's administrations (a split of `each` is `each` times the
administrations); a dose taken every other day, weekly or every 4 weeks is what is taken
on each dosing day, averaged over its interval; an as-needed dose is the most taken in a
day. A row's maximum is per `per_days` days (28 for a 4-weekly injection).

Above a row's usual maximum a dose is refused unless an override reason is given (the
record's commands, domain/medication_management.py); at or above its ceiling (ten times
the maximum: a unit error, not a judgement) it is refused outright. Every row is
`checked=False` until the drug's label itself is read (clinical/dosing.md took the numbers
from the labels' section 2, but they were not read for this table).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from domain.dose import Dose
from domain.history import MedicationCourse
from domain.rules.care import Alert, RuleRef, positions
from domain.rules.titration import DrugNames, Regimen
from domain.vocabulary import DataClass, DoseUnit, Frequency, Role

Basis = Literal["fixed", "per-kg", "no-fixed-maximum"]
Verdict = Literal["within", "above-usual", "above-ceiling", "foreign-unit", "unchecked"]

ADULT_AGE = 18
CEILING_FACTOR = Decimal(10)
MASS_IN_MG = {DoseUnit.MG: Decimal(1), DoseUnit.G: Decimal(1000), DoseUnit.MCG: Decimal("0.001")}
# Days between dosing days; a schedule not named here is taken every day.
INTERVAL_DAYS = {
    Frequency.EVERY_OTHER_DAY: Decimal(2),
    Frequency.WEEKLY: Decimal(7),
    Frequency.EVERY_4_WEEKS: Decimal(28),
}
ADMINISTRATIONS_PER_DAY = {
    Frequency.ONCE_DAILY: 1,
    Frequency.TWICE_DAILY: 2,
    Frequency.THREE_TIMES_DAILY: 3,
    Frequency.FOUR_TIMES_DAILY: 4,
    Frequency.EVERY_MORNING: 1,
    Frequency.AT_BEDTIME: 1,
    Frequency.EVERY_OTHER_DAY: 1,
    Frequency.WEEKLY: 1,
    Frequency.EVERY_4_WEEKS: 1,
    Frequency.AS_NEEDED: 1,
}
LABEL = (
    "US prescribing information, section 2 (as summarised in clinical/dosing.md; label not read)"
)
# Drugs the monitoring tables name that dosing.md does not list: the label's figure as
# recalled, not read. Unchecked, and the first rows to read.
LABEL_NOT_IN_NOTES = (
    "US prescribing information, section 2 (not in clinical/dosing.md; label not read: "
    "check before relying on it)"
)


@dataclass(frozen=True)
class DoseRange:
    """One drug's (route's, regimen's) usual adult maximum: `usual_max` mg per `per_days`
    days (per kg of body weight when `basis` is per-kg; none when the drug has no fixed
    maximum). A dose in a unit outside `units` is refused."""

    rule_id: str
    version: str
    drugs: DrugNames
    units: frozenset[DoseUnit]
    usual_max: Decimal | None
    source: str
    checked: bool = False
    basis: Basis = "fixed"
    per_days: int = 1
    routes: frozenset[str] = frozenset()  # none: any route
    regimen: Regimen | None = None  # none: any regimen
    note: str = ""
    paediatric_max: Decimal | None = None  # none on file for any row yet

    def __post_init__(self) -> None:
        if (self.usual_max is None) != (self.basis == "no-fixed-maximum"):
            raise ValueError(f"{self.rule_id}: only a drug with no fixed maximum has none")

    @property
    def ref(self) -> RuleRef:
        return RuleRef(self.rule_id, self.version, self.source, self.checked)

    def applies(self, drug: str, rxnorm: str | None, route: str, regimen: Regimen) -> bool:
        if not self.drugs.match(drug, rxnorm):
            return False
        if self.routes and route not in self.routes:
            return False
        return self.regimen is None or self.regimen == regimen


def _names(rxnorm: str, *names: str) -> DrugNames:
    return DrugNames(frozenset({rxnorm}) if rxnorm else frozenset(), frozenset(names))


def _row(
    drug: str,
    rxnorm: str,
    usual_max: str,
    *names: str,
    note: str = "",
    source: str = LABEL,
    **more: object,
) -> DoseRange:
    return DoseRange(
        f"dose-range-{drug}",
        "1",
        _names(rxnorm, drug, *names),
        frozenset({DoseUnit.MG}),
        Decimal(usual_max),
        source,
        note=note,
        **more,  # type: ignore[arg-type]
    )


def _unread(drug: str, rxnorm: str, usual_max: str, note: str = "") -> DoseRange:
    return _row(drug, rxnorm, usual_max, note=note, source=LABEL_NOT_IN_NOTES)


MG = frozenset({DoseUnit.MG})
LAMOTRIGINE = _names("28439", "lamotrigine")
NALTREXONE = _names("7243", "naltrexone")

# RxNorm ingredient codes as the monitoring tables and rule-audit.md give them; every row
# also matches its drug by name (whole words, any case), so a code missing here is no gap.
DOSE_RANGES: tuple[DoseRange, ...] = (
    _row("sertraline", "36437", "200"),
    _row("escitalopram", "321988", "20", note="10 mg in older adults and hepatic impairment"),
    _row("citalopram", "2556", "40", note="20 mg over 60 years (QT warning)"),
    _row("fluoxetine", "4493", "80"),
    _unread("paroxetine", "32937", "60", note="50 mg in depression, 60 mg in OCD"),
    _unread("fluvoxamine", "42355", "300"),
    _unread("desvenlafaxine", "", "400", note="recommended 50 mg; up to 400 mg studied"),
    _unread("levomilnacipran", "", "120"),
    _row("bupropion", "", "450", note="450 mg is the XL maximum; SR 400 mg"),
    _row(
        "venlafaxine", "39786", "225", note="XR outpatients; IR up to 375 mg in severe depression"
    ),
    _row("duloxetine", "72625", "120"),
    _row("mirtazapine", "15996", "45"),
    _row("trazodone", "", "400", note="outpatients"),
    DoseRange(
        "dose-range-lithium",
        "1",
        _names("6448", "lithium"),
        frozenset({DoseUnit.MG, DoseUnit.MMOL, DoseUnit.ML}),
        None,
        LABEL,
        basis="no-fixed-maximum",
        note="level-guided: dosed by serum level, which the lithium level rules govern",
    ),
    DoseRange(
        "dose-range-lamotrigine",
        "1",
        LAMOTRIGINE,
        MG,
        Decimal(200),
        LABEL,
        regimen="alone",
        note="bipolar maintenance target",
    ),
    DoseRange(
        "dose-range-lamotrigine-with-valproate",
        "1",
        LAMOTRIGINE,
        MG,
        Decimal(100),
        LABEL,
        regimen="with valproate",
        note="bipolar maintenance target with valproate",
    ),
    DoseRange(
        "dose-range-lamotrigine-with-an-enzyme-inducer",
        "1",
        LAMOTRIGINE,
        MG,
        Decimal(400),
        LABEL,
        regimen="with an enzyme inducer",
        note="bipolar maintenance target with an enzyme inducer",
    ),
    DoseRange(
        "dose-range-valproate",
        "1",
        _names("11118", "valproate", "valproic", "divalproex"),
        MG,
        Decimal(60),
        LABEL,
        basis="per-kg",
        note="weight-based",
    ),
    _row("quetiapine", "", "800", note="schizophrenia, mania; 300 mg in bipolar depression"),
    _row("aripiprazole", "89013", "30", note="15 mg as adjunct in depression"),
    _row("olanzapine", "61381", "20"),
    _row("clozapine", "2626", "900"),
    _unread("risperidone", "35636", "16", note="schizophrenia; 6 mg in bipolar mania"),
    _unread("paliperidone", "", "12", note="oral extended-release"),
    _unread("lurasidone", "", "160", note="schizophrenia; 120 mg in bipolar depression"),
    _unread("ziprasidone", "", "160", note="oral, with food"),
    _unread("asenapine", "", "20", note="sublingual, 10 mg twice daily"),
    _unread("brexpiprazole", "1658314", "4", note="schizophrenia; 3 mg adjunct in depression"),
    _unread("cariprazine", "", "6"),
    _unread("iloperidone", "73178", "24"),
    _unread("lumateperone", "", "42"),
    _row(
        "buprenorphine",
        "",
        "24",
        note="sublingual; target usually 16 mg",
        routes=frozenset({"sublingual"}),
    ),
    DoseRange(
        "dose-range-methadone",
        "1",
        _names("", "methadone"),
        MG,
        None,
        LABEL,
        basis="no-fixed-maximum",
        note="no fixed label maximum; the first-day limits of 42 CFR 8.12 are not checked here",
    ),
    DoseRange(
        "dose-range-naltrexone-oral",
        "1",
        NALTREXONE,
        MG,
        Decimal(50),
        LABEL,
        routes=frozenset({"oral"}),
    ),
    DoseRange(
        "dose-range-naltrexone-extended-release",
        "1",
        NALTREXONE,
        MG,
        Decimal(380),
        LABEL,
        per_days=28,
        routes=frozenset({"intramuscular"}),
        note="380 mg IM every 4 weeks",
    ),
    _row("methylphenidate", "6901", "72", note="72 mg OROS; IR 60 mg"),
    _unread("dexmethylphenidate", "", "40", note="extended-release, adults; IR 20 mg"),
    _row(
        "amphetamine", "", "40", note="mixed amphetamine salts, ADHD: the label says rarely exceed"
    ),
    _unread("dextroamphetamine", "", "40"),
    _unread("methamphetamine", "", "25"),
    _row("lisdexamfetamine", "", "70"),
    _row("atomoxetine", "38400", "100"),
    _row("hydroxyzine", "", "400", note="anxiety: 100 mg four times daily"),
)

# For a drug without a row: the most of any unit a day that is plausible at all. Not a
# range, and not from a primary source: a net for unit errors (a house rule).
GENERIC = RuleRef(
    "dose-plausibility",
    "1",
    "house rule: no drug the clinic prescribes is given above 10 g (or 20 tablets, capsules "
    "or films, 4 patches, 500 mL, 1000 units or mmol) a day",
    False,
)
GENERIC_PER_DAY = {
    DoseUnit.MG: Decimal(10_000),
    DoseUnit.TABLET: Decimal(20),
    DoseUnit.CAPSULE: Decimal(20),
    DoseUnit.FILM: Decimal(20),
    DoseUnit.PATCH: Decimal(4),
    DoseUnit.ML: Decimal(500),
    DoseUnit.UNIT: Decimal(1000),
    DoseUnit.MMOL: Decimal(1000),
}


@dataclass(frozen=True)
class Patient:
    """What a dose range needs to know of the patient: age (years, on the dose's day) and
    the last recorded weight, each unknown as None."""

    age: int | None = None
    weight_kg: Decimal | None = None


@dataclass(frozen=True)
class Assessment:
    """A dose against its row: the daily amount (in the row's unit), the usual maximum and
    the ceiling it was compared with (per the row's `per_days`), the verdict and the notes
    a reader must see."""

    rule: RuleRef
    verdict: Verdict
    amount: Decimal | None  # per `per_days` days, in `unit`
    unit: str
    per_days: int
    usual_max: Decimal | None = None
    ceiling: Decimal | None = None
    notes: tuple[str, ...] = field(default=())
    accepted_units: tuple[str, ...] = ()

    @property
    def per(self) -> str:
        return "day" if self.per_days == 1 else f"{self.per_days} days"

    def shown(self, value: Decimal | None) -> str:
        return "-" if value is None else f"{_fmt(value)} {self.unit}/{self.per}"


def _fmt(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')).normalize():f}"


def daily_amount(dose: Dose, frequency: Frequency | None, each: Dose | None = None) -> Dose:
    """The average amount a day, in the dose's unit (mass in mg)."""
    given = each if each is not None else dose
    amount, unit = given.amount, given.unit
    if unit in MASS_IN_MG:
        amount, unit = amount * MASS_IN_MG[unit], DoseUnit.MG
    if each is not None and frequency is not None:
        amount *= ADMINISTRATIONS_PER_DAY[frequency]
    if frequency is not None:
        amount /= INTERVAL_DAYS.get(frequency, Decimal(1))
    return Dose.model_construct(amount=amount, unit=unit)


def row_for(drug: str, rxnorm: str | None, route: str, regimen: Regimen) -> DoseRange | None:
    return next((r for r in DOSE_RANGES if r.applies(drug, rxnorm, route, regimen)), None)


def knows(drug: str, rxnorm: str | None) -> bool:
    return any(r.drugs.match(drug, rxnorm) for r in DOSE_RANGES)


def assess(
    drug: str,
    rxnorm: str | None,
    route: str,
    regimen: Regimen,
    dose: Dose,
    frequency: Frequency | None,
    patient: Patient,
    each: Dose | None = None,
) -> Assessment:
    """How a dose on its schedule stands against the table."""
    row = row_for(drug, rxnorm, route, regimen)
    daily = daily_amount(dose, frequency, each)
    if row is None:
        return _generic(drug, route, daily, known=knows(drug, rxnorm))
    notes: list[str] = []
    units = tuple(sorted(u.value for u in row.units))
    if (each or dose).unit not in row.units:
        return Assessment(row.ref, "foreign-unit", None, "", row.per_days, accepted_units=units)
    amount = daily.amount * row.per_days
    unit = daily.unit.value
    if patient.age is not None and patient.age < ADULT_AGE and row.paediatric_max is None:
        notes.append(f"no paediatric range on file for {drug}: the adult maximum is the bound")
    if row.basis == "no-fixed-maximum":
        notes.append(f"{drug}: {row.note}")
    usual_max = row.usual_max
    if row.basis == "per-kg":
        if patient.weight_kg is None:
            notes.append(
                f"no weight on record: the maximum of {_fmt(row.usual_max or Decimal(0))} "
                f"mg/kg/day was not checked (record a weight)"
            )
            return _generic(drug, route, daily, known=True, rule=row.ref, notes=notes)
        usual_max = (row.usual_max or Decimal(0)) * patient.weight_kg
        notes.append(
            f"{_fmt(row.usual_max or Decimal(0))} mg/kg/day at {_fmt(patient.weight_kg)} kg"
        )
    if usual_max is None:
        return _generic(drug, route, daily, known=True, rule=row.ref, notes=notes)
    ceiling = usual_max * CEILING_FACTOR
    verdict: Verdict = "within"
    if amount >= ceiling:
        verdict = "above-ceiling"
    elif amount > usual_max:
        verdict = "above-usual"
    return Assessment(
        row.ref, verdict, amount, unit, row.per_days, usual_max, ceiling, tuple(notes), units
    )


def _generic(
    drug: str,
    route: str,
    daily: Dose,
    *,
    known: bool,
    rule: RuleRef = GENERIC,
    notes: list[str] | None = None,
) -> Assessment:
    """The plausibility bound alone: for a drug without a row (or whose row cannot say)."""
    shown = list(notes or [])
    if not known:
        shown.append(f"no range on file for {drug}: checked for plausibility only")
    elif rule == GENERIC:
        shown.append(f"no range on file for {drug} by the {route} route: plausibility only")
    ceiling = GENERIC_PER_DAY[daily.unit]
    verdict: Verdict = "above-ceiling" if daily.amount > ceiling else "unchecked"
    return Assessment(
        rule if verdict == "unchecked" else GENERIC,
        verdict,
        daily.amount,
        daily.unit.value,
        1,
        None,
        ceiling,
        tuple(shown),
    )


# --- the board: a dose above the usual maximum, recorded with an override reason ---------

OVERRIDE_ROLES = (Role.PRESCRIBER, Role.THERAPIST)


def override_alerts(med: MedicationCourse) -> list[Alert]:
    """Each dose of the course recorded above its usual maximum with an override reason,
    open until the course's next dose, schedule or end."""
    facts = sorted(med.course_facts, key=lambda f: f.position)
    rows = {r.rule_id: r for r in DOSE_RANGES}
    alerts = []
    for index, fact in enumerate(facts):
        check = fact.payload.get("dose_check") or {}
        if not check.get("above_usual_max"):
            continue
        # A switch's check is its new medication's; as the old course's end it is not.
        if fact is med.stopped:
            continue
        row = rows.get(str(check.get("rule_id")))
        rule = row.ref if row is not None else GENERIC
        closing = facts[index + 1] if index + 1 < len(facts) else None
        alerts.append(
            Alert(
                key=f"{rule.rule_id}:{med.medication_id}:{fact.position}",
                severity="moderate",
                title=(
                    f"{med.drug}: {check.get('amount')} above the usual maximum of "
                    f"{check.get('usual_max')}, overridden: {fact.payload.get('override_reason')}"
                ),
                for_roles=OVERRIDE_ROLES,
                raised_at=fact.at,
                rule=rule,
                closed_at=closing.at if closing is not None else None,
                anchor_position=fact.position,
                inputs=positions([fact, closing]),
                awaits=frozenset({DataClass.MEDICATION}),
            )
        )
    return alerts
