"""Boundary cases generated from the monitoring table's rows: every threshold a row holds
(a stable range, an age, a weight gain, a level alert's band, the gap after which a
course restarts its monitoring, the overlap of a combination's two courses) is tried at,
just inside and just outside its bound, so
that moving a bound or making it exclusive fails a case. The rows are discovered from
`MONITORING`, not listed by hand: a row added to any table is tried the same way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.lab_units import ANALYTES
from domain.rules.care import PatientContext
from domain.rules.monitoring import (
    BASELINE,
    MONITORING,
    Drugs,
    LevelAlertRule,
    MonitoringRule,
    Population,
)
from tests.unit.test_monitoring import START, Chart, at


def _drug(drugs: Drugs) -> tuple[str, str]:
    """A drug the family matches by name (and one of its codes, if it has any)."""
    return sorted(drugs.names)[0], sorted(drugs.rxnorm)[0] if drugs.rxnorm else "0"


def _born(age: int) -> date:
    """A birth date giving `age` on START's date."""
    return date(START.year - age, START.month, START.day)


def _patient_for(population: Population) -> PatientContext:
    if population.at_least_age is not None:
        return PatientContext(_born(population.at_least_age + 1), "female")
    if population.under_age is not None:
        return PatientContext(_born(population.under_age - 5), "female")
    return PatientContext(_born(40), "female")


def _step(bound: Decimal) -> Decimal:
    """Just past a bound: two places beyond its own last place."""
    return Decimal(1).scaleb(bound.as_tuple().exponent - 2)  # type: ignore[operator]


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    rule: Any
    value: Any
    expected: bool


def _stable_cases() -> list[Case]:
    cases = []
    for rule in MONITORING.schedules:
        for index, phase in enumerate(rule.schedule):
            stable = phase.until_stable
            if stable is None or index + 1 >= len(rule.schedule):
                continue
            tries = [
                (stable.low, True),
                (stable.high, True),
                (stable.low - _step(stable.low), False),
                (stable.high + _step(stable.high), False),
            ]
            for value, expected in tries:
                name = f"{rule.rule_id}-stable-{value}"
                cases.append(Case(name, "stable", (rule, index), value, expected))
    return cases


def _age_cases() -> list[Case]:
    cases = []
    for rule in MONITORING.schedules:
        population = rule.population
        if population.at_least_age is not None:
            bound = population.at_least_age
            cases.append(Case(f"{rule.rule_id}-age-{bound}", "age", rule, bound, True))
            cases.append(Case(f"{rule.rule_id}-age-{bound - 1}", "age", rule, bound - 1, False))
        if population.under_age is not None:
            bound = population.under_age
            cases.append(Case(f"{rule.rule_id}-age-{bound - 1}", "age", rule, bound - 1, True))
            cases.append(Case(f"{rule.rule_id}-age-{bound}", "age", rule, bound, False))
    return cases


def _weight_cases() -> list[Case]:
    cases = []
    for rule in MONITORING.weight_gain:
        at_bound = Decimal(80) * (1 + rule.percent / 100)
        cases.append(Case(f"{rule.rule_id}-{at_bound}kg", "weight", rule, at_bound, True))
        under = at_bound - Decimal("0.01")
        cases.append(Case(f"{rule.rule_id}-{under}kg", "weight", rule, under, False))
    return cases


def _level_cases() -> list[Case]:
    cases = []
    for rule in MONITORING.level_alerts:
        low, high = rule.at_or_above, rule.below
        tries: list[tuple[Decimal, bool]] = []
        if low is not None:
            tries += [(low, rule.low_inclusive), (low - _step(low), False)]
            tries += [(low + _step(low), True)]
        if high is not None:
            tries += [(high, False), (high - _step(high), True)]
        for value, expected in tries:
            cases.append(Case(f"{rule.rule_id}-{value}", "level", rule, value, expected))
    return cases


def _gap_cases() -> list[Case]:
    cases = []
    for rule in MONITORING.schedules:
        if rule.resumes_within is None:
            continue
        gap = rule.resumes_within
        cases.append(Case(f"{rule.rule_id}-gap-{gap}", "gap", rule, gap, True))
        cases.append(Case(f"{rule.rule_id}-gap-{gap + 1}", "gap", rule, gap + 1, False))
    return cases


def _sooner_cases() -> list[Case]:
    cases = []
    for rule in MONITORING.schedules:
        for index, phase in enumerate(rule.schedule):
            if phase.sooner is None:
                continue
            bound = phase.sooner.at_or_above
            for value, expected in ((bound, True), (bound - _step(bound), False)):
                name = f"{rule.rule_id}-sooner-{value}"
                cases.append(Case(name, "sooner", (rule, index), value, expected))
    return cases


def _sooner_if_cases() -> list[Case]:
    """A reason with a bound (an eGFR below 60, doses taken below 80%) is tried at the
    bound (not sooner: "below" is strict) and just under it (sooner)."""
    cases = []
    for rule in MONITORING.schedules:
        for index, phase in enumerate(rule.schedule):
            for reason in phase.sooner_if:
                if reason.below is None:
                    continue
                bound = reason.below
                for value, expected in ((bound, False), (bound - _step(bound), True)):
                    name = f"{rule.rule_id}-{reason.reason}-{value}".replace(" ", "-")
                    cases.append(Case(name, "sooner-if", (rule, index, reason), value, expected))
    return cases


def _condition_cases() -> list[Case]:
    """A row for a condition applies with a code under each of its ICD-10 prefixes, and
    not with a code outside them."""
    cases = []
    for rule in MONITORING.schedules:
        if rule.condition is None:
            continue
        for prefix in rule.condition.icd10:
            code = prefix if len(prefix) >= 3 else f"{prefix}10"
            cases.append(Case(f"{rule.rule_id}-{code}", "condition", rule, code, True))
        cases.append(Case(f"{rule.rule_id}-F31.81", "condition", rule, "F31.81", False))
    return cases


def _restart_cases() -> list[Case]:
    """A restart rule's gap, per regimen: a restart exactly its half-lives after the stop
    re-titrates nothing, a minute later it does."""
    cases = []
    for rule in MONITORING.restarts:
        for regimen, _ in rule.half_life_hours:
            for minutes, expected in ((0, False), (1, True)):
                name = f"{rule.rule_id}-{regimen}-{minutes}".replace(" ", "-")
                cases.append(Case(name, "restart", (rule, regimen), minutes, expected))
    return cases


def _overlap_cases() -> list[Case]:
    """A combination's two courses: the second started exactly when the first stopped is
    not taken with it, a minute before it is."""
    cases = []
    for rule in MONITORING.combinations:
        for minutes, expected in ((0, False), (-1, True)):
            cases.append(Case(f"{rule.rule_id}-{minutes}", "overlap", rule, minutes, expected))
    return cases


CASES = _stable_cases() + _age_cases() + _weight_cases() + _level_cases() + _gap_cases()
CASES += _sooner_cases() + _sooner_if_cases() + _condition_cases() + _restart_cases()
CASES += _overlap_cases()


def test_every_threshold_row_of_the_table_has_cases() -> None:
    """The generator reaches every row that holds a threshold."""
    covered = {
        c.rule[0].rule_id
        if c.kind in ("stable", "sooner", "sooner-if", "restart")
        else c.rule.rule_id
        for c in CASES
    }
    expected = {r.rule_id for r in MONITORING.level_alerts}
    expected |= {r.rule_id for r in MONITORING.weight_gain}
    for rule in MONITORING.schedules:
        if rule.resumes_within is not None or any(
            p.until_stable is not None for p in rule.schedule
        ):
            expected.add(rule.rule_id)
        if rule.population.at_least_age is not None or rule.population.under_age is not None:
            expected.add(rule.rule_id)
        if any(p.sooner is not None for p in rule.schedule):
            expected.add(rule.rule_id)
        if any(r.below is not None for p in rule.schedule for r in p.sooner_if):
            expected.add(rule.rule_id)
        if rule.condition is not None:
            expected.add(rule.rule_id)
    expected |= {r.rule_id for r in MONITORING.restarts}
    expected |= {r.rule_id for r in MONITORING.combinations}
    assert expected <= covered
    assert {"lithium-ecg", "lamotrigine-restart", "lamotrigine-estrogen-contraceptive"} <= covered
    assert {"lithium-level", "lithium-level-65-and-over", "clozapine-anc-mild"} <= covered


def _stable(case: Case) -> bool:
    rule, index = case.rule
    stable = rule.schedule[index].until_stable
    chart = Chart()
    chart.start(_drug(rule.drugs))
    loinc = sorted(rule.need.loinc)[0]
    for day in (7, 14):
        chart.lab(loinc, day, f"{case.value}", stable.unit)
    after = rule.schedule[index + 1].label
    found = chart.items(20, rule.rule_id, _patient_for(rule.population))
    return any(i.title.endswith(f"({after})") for i in found)


def _applies_at_age(case: Case) -> bool:
    rule: MonitoringRule = case.rule
    chart = Chart()
    chart.start(_drug(rule.drugs))
    patient = PatientContext(_born(case.value), "female")
    return bool(chart.items(1, rule.rule_id, patient))


def _weight(case: Case) -> bool:
    chart = Chart()
    chart.vitals(-1, weight_kg="80")
    chart.start(_drug(case.rule.drugs))
    chart.vitals(30, weight_kg=f"{case.value}")
    return bool(chart.items(31, case.rule.rule_id))


def _level(case: Case) -> bool:
    rule: LevelAlertRule = case.rule
    chart = Chart()
    if rule.pathway == "benign ethnic neutropenia":
        chart.add("NeutropeniaPathwayRecorded", -2, benign_ethnic_neutropenia=True, basis="x")
    chart.start(_drug(rule.drugs))
    loinc = sorted(rule.loinc)[0]
    assert ANALYTES[loinc].canonical is not None
    chart.lab(loinc, 3, f"{case.value}", rule.unit)
    return any(a.rule.rule_id == rule.rule_id for a in chart.picture(4)[1])


def _continues(case: Case) -> bool:
    """Whether the second course continues the first's monitoring (no new baseline)."""
    rule: MonitoringRule = case.rule
    chart = Chart()
    first = chart.start(_drug(rule.drugs))
    chart.stop(first, 400)
    second = chart.start(_drug(rule.drugs), 400 + case.value)
    # Continued, a series that had ended (the myocarditis watch's four weeks) shows nothing.
    found = [i for i in chart.items(401 + case.value, rule.rule_id) if f":{second}:" in i.key]
    return not any(i.title.endswith(f"({BASELINE.label})") for i in found)


def _sooner(case: Case) -> bool:
    """Whether a result at `value` in a phase's occurrence makes its next one sooner: the
    phase's first occurrence is found with results that keep every earlier phase going
    (the stable range's low end), the value is taken on its nominal day."""
    rule, index = case.rule
    phase = rule.schedule[index]
    assert phase.sooner is not None
    patient = _patient_for(rule.population)
    loinc = sorted(rule.need.loinc)[0]
    chart = Chart()
    chart.start(_drug(rule.drugs))
    for earlier in rule.schedule[:index]:
        if earlier.until_stable is not None:
            for day in (7, 14):
                chart.lab(loinc, day, f"{earlier.until_stable.low}", earlier.until_stable.unit)
    far = 3000
    first = next(
        i for i in chart.items(far, rule.rule_id, patient) if i.title.endswith(f"({phase.label})")
    )
    nominal = (first.due_by - at(0)).days - phase.late
    chart.lab(loinc, nominal, f"{case.value}", phase.sooner.unit)
    after = [i for i in chart.items(far, rule.rule_id, patient) if i.due_from > first.due_from]
    return bool(after) and after[0].title.endswith(f"({phase.sooner.label})")


def _sooner_if(case: Case) -> bool:
    """Whether a value at `case.value` (an eGFR, or the fraction of doses taken) recorded
    before a phase's first occurrence makes the next one come sooner for its reason."""
    rule, index, reason = case.rule
    phase = rule.schedule[index]
    patient = _patient_for(rule.population)
    loinc = sorted(rule.need.loinc)[0]
    chart = Chart()
    medication = chart.start(_drug(rule.drugs))
    for earlier in rule.schedule[:index]:
        if earlier.until_stable is not None:
            for day in (7, 14):
                chart.lab(loinc, day, f"{earlier.until_stable.low}", earlier.until_stable.unit)
    far = 3000
    first = next(
        i for i in chart.items(far, rule.rule_id, patient) if i.title.endswith(f"({phase.label})")
    )
    nominal = (first.due_by - at(0)).days - phase.late
    if reason.reason == "renal decline":
        chart.lab(sorted(reason.loinc)[0], nominal - 5, f"{case.value}", str(reason.unit))
    else:
        prescribed = 1000
        chart.add(
            "AdherenceRecorded",
            nominal - 5,
            medication_id=medication,
            period_days=30,
            doses_prescribed=prescribed,
            doses_taken=int(case.value * prescribed),
        )
    chart.lab(loinc, nominal, f"{phase.until_stable.low if phase.until_stable else '0.7'}")
    after = [i for i in chart.items(far, rule.rule_id, patient) if i.due_from > first.due_from]
    return bool(after) and after[0].title.endswith(f"({reason.label})")


def _condition(case: Case) -> bool:
    rule: MonitoringRule = case.rule
    chart = Chart()
    chart.add("ConditionRecorded", -10, icd10=case.value, description="x", status="active")
    chart.start(_drug(rule.drugs))
    return bool(chart.items(1, rule.rule_id, _patient_for(rule.population)))


def _restart(case: Case) -> bool:
    """Whether a restart `case.value` minutes past the rule's gap puts a re-titration due
    (with the regimen's co-medication taken throughout)."""
    rule, regimen = case.rule
    chart = Chart()
    other = {"with valproate": "valproate", "with an enzyme inducer": "carbamazepine"}
    if regimen in other:
        chart.start((other[regimen], "0"), day=-30)
    first = chart.start(_drug(Drugs("", rule.drugs.rxnorm, rule.drugs.names)))
    chart.stop(first, 20)
    gap = rule.gap(regimen).total_seconds() / 86400 + case.value / 1440
    chart.start(_drug(Drugs("", rule.drugs.rxnorm, rule.drugs.names)), day=20 + gap)
    return bool(chart.items(40, rule.rule_id))


def _overlap(case: Case) -> bool:
    """Whether the combination alerts with its second drug started `case.value` minutes
    after the first drug's stop."""
    rule = case.rule
    chart = Chart()
    first = chart.start(_drug(rule.first))
    chart.stop(first, 20)
    chart.start(_drug(rule.second), day=20 + case.value / 1440)
    return any(a.rule.rule_id == rule.rule_id for a in chart.picture(40)[1])


CHECKS = {
    "overlap": _overlap,
    "restart": _restart,
    "sooner-if": _sooner_if,
    "condition": _condition,
    "sooner": _sooner,
    "stable": _stable,
    "age": _applies_at_age,
    "weight": _weight,
    "level": _level,
    "gap": _continues,
}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_bound_holds_exactly_where_the_row_puts_it(case: Case) -> None:
    assert CHECKS[case.kind](case) is case.expected


def test_a_moved_or_exclusive_bound_would_fail_a_case() -> None:
    """The cases pin the bound itself: with lithium's stable range exclusive, the case at
    0.6 (and at 0.8) would say not stable."""
    at_bounds = [c for c in CASES if c.kind == "stable" and c.expected]
    rules = {c.rule[0].rule_id for c in at_bounds}
    assert {"lithium-level", "lithium-level-65-and-over"} <= rules
    for case in at_bounds:
        stable = case.rule[0].schedule[case.rule[1]].until_stable
        assert case.value in (stable.low, stable.high)
    assert at(0) == START
