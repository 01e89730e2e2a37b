"""Boundary cases generated from the rows of the prescribing rules (antidepressants,
ADHD medication, substance-use treatment, combinations, citalopram's QT limits, PDMP
states): every window's first and last moment, every age bound, every dose limit and
every state's interval, each just inside and just outside. A row added to these tables
is tested by being there; changing a bound fails here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from domain.prescribing_safety import PDMP_STATES, PrescriptionMonitoringChecked
from domain.record import kind_of
from domain.rules.care import Fact, PatientContext
from domain.rules.monitoring import MONITORING, MonitoringRule, monitoring_picture
from domain.rules.monitoring.adhd import ATOMOXETINE_SCHEDULES, STIMULANT_SCHEDULES
from domain.rules.monitoring.antidepressants import SSRI_SCHEDULES
from domain.rules.monitoring.combinations import (
    COMBINATIONS,
    DOSE_RISKS,
    PDMP_CHECKS,
    CombinationRule,
    DoseRiskRule,
)
from domain.rules.monitoring.substance_use import BUPRENORPHINE_SCHEDULES, OUD_SCHEDULES

START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
ROWS: tuple[MonitoringRule, ...] = (
    *SSRI_SCHEDULES,
    *STIMULANT_SCHEDULES,
    *ATOMOXETINE_SCHEDULES,
    *BUPRENORPHINE_SCHEDULES,
    *OUD_SCHEDULES,
)


@dataclass
class Record:
    facts: list[Fact] = field(default_factory=list)

    def add(self, kind: str, when: datetime, **payload: Any) -> Fact:
        fact = Fact(len(self.facts) + 1, kind, when, "p@riverside.example", "prescriber", payload)
        self.facts.append(fact)
        return fact

    def start(self, drug: str, when: datetime = START, amount: str = "25") -> str:
        medication_id = str(uuid4())
        self.add(
            "MedicationStarted",
            when,
            medication_id=medication_id,
            drug=drug,
            rxnorm="0",
            dose={"amount": amount, "unit": "mg"},
            schedule={"frequency": "once-daily", "times": []},
            route="oral",
            indication="x",
        )
        return medication_id


def a_drug(rule: MonitoringRule | CombinationRule | DoseRiskRule) -> str:
    drugs = rule.first if isinstance(rule, CombinationRule) else rule.drugs
    return sorted(drugs.names)[0]


def patient_for(rule: MonitoringRule) -> PatientContext:
    """A patient the row applies to on START (its youngest or oldest age bound)."""
    population = rule.population
    if population.under_age is not None:
        return PatientContext(date(START.year - population.under_age + 1, 6, 1), "female")
    if population.at_least_age is not None:
        return PatientContext(date(START.year - population.at_least_age - 1, 1, 1), "female")
    return PatientContext(date(1980, 1, 1), "female")


def first_items(rule: MonitoringRule, now: datetime) -> list[Any]:
    record = Record()
    record.start(a_drug(rule))
    items, _ = monitoring_picture(record.facts, patient_for(rule), now)
    return [i for i in items if i.rule.rule_id == rule.rule_id]


def trigger_phases() -> list[tuple[str, int, int, int]]:
    """(rule id, phase index, due_from day, due_by day) of each phase counted from the
    trigger: its first occurrence, and the second of one that repeats."""
    cases = []
    for rule in ROWS:
        for index, phase in enumerate(rule.schedule):
            if phase.after != "trigger":
                continue
            cases.append((rule.rule_id, index, phase.day - phase.early, phase.day + phase.late))
            if phase.every is not None and (
                phase.until is None or phase.day + phase.every <= phase.until
            ):
                nominal = phase.day + phase.every
                cases.append((rule.rule_id, index, nominal - phase.early, nominal + phase.late))
    return cases


@pytest.mark.parametrize(("rule_id", "phase", "opens", "closes"), trigger_phases())
def test_each_window_is_due_to_its_last_moment_and_overdue_just_after(
    rule_id: str, phase: int, opens: int, closes: int
) -> None:
    [rule] = [r for r in ROWS if r.rule_id == rule_id]
    due_from, due_by = START + timedelta(days=opens), START + timedelta(days=closes)

    def window(now: datetime) -> list[Any]:
        return [
            i
            for i in first_items(rule, now)
            if i.due_from == due_from
            and i.due_by == due_by
            and i.key.split(":")[-1][0] == str(phase)
        ]

    [at_close] = window(due_by)
    assert at_close.status == "due"
    [after] = window(due_by + HOUR)
    assert after.status == "overdue"


def population_bounds() -> list[tuple[str, str, int, bool]]:
    cases = []
    for rule in ROWS:
        if rule.population.under_age is not None:
            bound = rule.population.under_age
            cases += [
                (rule.rule_id, "under", bound - 1, True),
                (rule.rule_id, "under", bound, False),
            ]
        if rule.population.at_least_age is not None:
            bound = rule.population.at_least_age
            cases += [(rule.rule_id, "from", bound - 1, False), (rule.rule_id, "from", bound, True)]
    return cases


@pytest.mark.parametrize(("rule_id", "bound", "age", "applies"), population_bounds())
def test_each_age_bound_holds_on_the_trigger_day(
    rule_id: str, bound: str, age: int, applies: bool
) -> None:
    [rule] = [r for r in ROWS if r.rule_id == rule_id]
    record = Record()
    record.start(a_drug(rule))
    # Exactly `age` on START (the birthday is that day).
    patient = PatientContext(date(START.year - age, START.month, START.day), "female")
    items, _ = monitoring_picture(record.facts, patient, START)
    assert any(i.rule.rule_id == rule_id for i in items) is applies


def combination_cases() -> list[tuple[str, str, str]]:
    """Every drug of each side of a combination with the first of the other side."""
    cases = []
    for rule in COMBINATIONS:
        firsts, seconds = sorted(rule.first.names), sorted(rule.second.names)
        for name in firsts:
            partner = next(s for s in seconds if s != name and not rule.first.match(s))
            cases.append((rule.rule_id, name, partner))
        for name in seconds:
            if rule.first.match(name):
                continue
            cases.append((rule.rule_id, firsts[0], name))
    return cases


@pytest.mark.parametrize(("rule_id", "first", "second"), combination_cases())
def test_every_drug_of_a_combination_raises_its_alert_and_a_decision_closes_it(
    rule_id: str, first: str, second: str
) -> None:
    record = Record()
    record.start(first)
    later = record.start(second, START + timedelta(days=2))
    _, alerts = monitoring_picture(record.facts, PatientContext(None), START + timedelta(days=3))
    [alert] = [a for a in alerts if a.rule.rule_id == rule_id]
    assert alert.open and alert.raised_at == START + timedelta(days=2)

    record.add(
        "MedicationReassessed",
        START + timedelta(days=4),
        medication_id=later,
        assessment="x",
        decision="continue",
    )
    _, alerts = monitoring_picture(record.facts, PatientContext(None), START + timedelta(days=5))
    [closed] = [a for a in alerts if a.rule.rule_id == rule_id]
    assert closed.closed_at == START + timedelta(days=4)


def test_a_combination_is_not_raised_once_one_of_the_two_has_stopped() -> None:
    for rule in COMBINATIONS:
        record = Record()
        first = record.start(sorted(rule.first.names)[0])
        record.add("MedicationStopped", START + timedelta(days=1), medication_id=first, reason="x")
        partner = next(s for s in sorted(rule.second.names) if not rule.first.match(s))
        record.start(partner, START + timedelta(days=2))
        _, alerts = monitoring_picture(
            record.facts, PatientContext(None), START + timedelta(days=3)
        )
        assert [a for a in alerts if a.rule.rule_id == rule.rule_id] == []


def dose_cases() -> list[tuple[str, int, Decimal, bool]]:
    cases = []
    for rule in DOSE_RISKS:
        young, old = rule.older_than, rule.older_than + 1
        for age, limit in ((young, rule.above_mg_per_day), (old, rule.older_above_mg_per_day)):
            cases += [(rule.rule_id, age, limit, False), (rule.rule_id, age, limit + 1, True)]
    return cases


@pytest.mark.parametrize(("rule_id", "age", "mg", "alerts"), dose_cases())
def test_each_daily_limit_is_allowed_at_it_and_alerts_above_it(
    rule_id: str, age: int, mg: Decimal, alerts: bool
) -> None:
    [rule] = [r for r in DOSE_RISKS if r.rule_id == rule_id]
    record = Record()
    record.start(a_drug(rule), amount=str(mg))
    patient = PatientContext(date(START.year - age, START.month, START.day), "female")
    items, raised = monitoring_picture(record.facts, patient, START + HOUR)
    assert any(a.rule.rule_id == rule_id for a in raised) is alerts
    ecg = [i for i in items if i.rule.rule_id == rule_id]
    assert len(ecg) == (1 if alerts else 0)
    if ecg:
        assert ecg[0].due_by == START + timedelta(days=rule.need_within_days)


@pytest.mark.parametrize("prefix", [p for r in DOSE_RISKS for p in r.risk_icd10])
def test_each_risk_condition_raises_the_dose_risk_alert_at_a_dose_within_the_limit(
    prefix: str,
) -> None:
    for rule in DOSE_RISKS:
        record = Record()
        record.start(a_drug(rule), amount="10")
        code = prefix[:3] + "." + (prefix[3:] or "0")
        record.add("ConditionRecorded", START + HOUR, icd10=code, description="x", status="active")
        patient = PatientContext(date(1990, 1, 1), "female")
        _, raised = monitoring_picture(record.facts, patient, START + 2 * HOUR)
        assert [a.rule.rule_id for a in raised if a.rule.rule_id == rule.rule_id] == [rule.rule_id]


def pdmp_cases() -> list[tuple[str, str]]:
    return [(rule.rule_id, state) for rule in PDMP_CHECKS for state in PDMP_STATES]


@pytest.mark.parametrize(("rule_id", "state"), pdmp_cases())
def test_each_pdmp_states_window_before_the_start_and_its_renewal_interval(
    rule_id: str, state: str
) -> None:
    [rule] = [r for r in PDMP_CHECKS if r.rule_id == rule_id]
    row = PDMP_STATES[state]
    drug = sorted(rule.drugs.names)[0]
    check = kind_of(PrescriptionMonitoringChecked)

    def before_start(days_before: timedelta) -> Any:
        record = Record()
        record.add(check, START - days_before, state=state, findings="no-concerns")
        record.start(drug)
        items, _ = monitoring_picture(record.facts, PatientContext(None), START + HOUR)
        return [i for i in items if i.rule.rule_id == rule_id]

    first, renewal = before_start(timedelta(days=row.before_days))[:2]
    assert first.status == "met"
    assert renewal.due_by == START - timedelta(days=row.before_days) + timedelta(
        days=row.renew_days
    )
    too_early = before_start(timedelta(days=row.before_days) + HOUR)[0]
    assert too_early.status == "overdue"


def test_the_tables_rows_are_all_in_the_default_monitoring_table() -> None:
    ids = {ref.rule_id for ref in MONITORING.refs()}
    mine = [*ROWS, *COMBINATIONS, *DOSE_RISKS, *PDMP_CHECKS]
    assert {r.rule_id for r in mine} <= ids
