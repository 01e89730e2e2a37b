"""The unit table of the lab tests the rules read: every unit a UCUM code, every factor
what a UCUM parser (ucumvert) makes of it, every test one the monitoring rules use."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

import pytest

from domain.lab_units import ANALYTES, UCUM, Analyte, canonical, factor, unit_refusal
from domain.rules.monitoring import MONITORING
from domain.vocabulary import LabUnit, luhn_check_digit

PAIRS = [(loinc, a, u) for loinc, a in ANALYTES.items() for u in a.units]


@cache
def ucum() -> Any:
    from ucumvert import PintUcumRegistry

    return PintUcumRegistry()


def parsed(unit: LabUnit) -> Any:
    # ucumvert reads a bare annotation ({INR}) as no unit at all; UCUM makes it unity.
    return ucum().from_ucum("1" if unit.value.startswith("{") else unit.value)


def test_every_test_the_rules_read_has_units_and_every_code_is_a_loinc_code() -> None:
    read = {c for rule in MONITORING.schedules if rule.need.kind == "lab" for c in rule.need.loinc}
    read |= {c for rule in MONITORING.level_alerts for c in rule.loinc}
    assert read <= set(ANALYTES)
    for code in ANALYTES:
        number, check = code.split("-")
        assert luhn_check_digit(number) == int(check), code


def test_each_alert_compares_in_the_canonical_unit_of_every_test_it_reads() -> None:
    for rule in MONITORING.level_alerts:
        assert {str(ANALYTES[code].canonical) for code in rule.loinc} == {rule.unit}, rule.rule_id


@pytest.mark.parametrize("unit", sorted(UCUM, key=str), ids=str)
def test_every_unit_in_the_table_is_a_ucum_code(unit: LabUnit) -> None:
    parsed(unit)  # raises on a code UCUM does not define


@pytest.mark.parametrize(("loinc", "analyte", "unit"), PAIRS, ids=[f"{c}-{u}" for c, _, u in PAIRS])
def test_each_factor_is_what_ucum_makes_of_the_unit(
    loinc: str, analyte: Analyte, unit: LabUnit
) -> None:
    assert analyte.canonical is not None
    quantity = 1 * parsed(unit)
    goal = parsed(analyte.canonical)
    if quantity.dimensionality != goal.dimensionality:
        assert analyte.molar_mass is not None
        per_mole = float(analyte.molar_mass) * ucum().from_ucum("g/mol")
        has_mass = "[mass]" in quantity.dimensionality
        quantity = quantity / per_mole if has_mass else quantity * per_mole
    expected = quantity.to(goal).magnitude / (analyte.valence if unit == LabUnit.MEQ_L else 1)
    assert float(factor(analyte, unit)) == pytest.approx(expected, rel=1e-9)


def test_the_conversions_the_clinic_relies_on() -> None:
    # Lithium 6.94 g/mol: 1 mg/dL = 1.441 mmol/L; mEq/L = mmol/L for Li+.
    assert canonical("14334-7", "1.6", "mg/dL") == (Decimal("2.305476"), LabUnit.MMOL_L)
    assert canonical("14334-7", "1.6", "meq/L") == (Decimal("1.6"), LabUnit.MMOL_L)
    # Valproate 144.21 g/mol; ug/mL = mg/L.
    assert canonical("4086-5", "100", "mg/L") == (Decimal("100"), LabUnit.UG_ML)
    assert canonical("4086-5", "700", "umol/L") == (Decimal("100.947"), LabUnit.UG_ML)
    # ANC: 10*3/uL is a thousand per microlitre.
    assert canonical("751-8", "1.2", "10*3/uL") == (Decimal("1200"), LabUnit.PER_UL)
    assert canonical("751-8", "1200", "/uL") == (Decimal("1200"), LabUnit.PER_UL)
    assert canonical("751-8", "1.2", "10*9/L") == (Decimal("1200"), LabUnit.PER_UL)


def test_a_calcium_ion_counts_two_equivalents_per_mole() -> None:
    calcium = Analyte("calcium", (LabUnit.MMOL_L, LabUnit.MEQ_L), Decimal("40.078"), valence=2)
    assert factor(calcium, LabUnit.MEQ_L) == Decimal("0.5")


@pytest.mark.parametrize(
    ("loinc", "unit", "said"),
    [
        ("14334-7", "mg", "give one of mmol/L, meq/L, mg/dL"),
        ("14334-7", "mEq/L", "UCUM codes are case-sensitive: meq/L"),
        ("14334-7", "mg/L", "'mg/L' is not a unit of lithium (LOINC 14334-7)"),
        ("751-8", "g/L", "give one of /uL, 10*3/uL, 10*9/L"),
        ("58410-2", "g/L", "reports no unit: give the result as value_text"),
    ],
)
def test_a_unit_foreign_to_the_test_is_named_with_those_it_accepts(
    loinc: str, unit: str, said: str
) -> None:
    assert said in (unit_refusal(loinc, unit) or "")
    assert canonical(loinc, "1", unit) is None


def test_a_test_the_table_does_not_know_keeps_its_unit_and_gets_no_canonical_value() -> None:
    assert unit_refusal("2823-3", "mmol/L") is None
    assert canonical("2823-3", "4.0", "mmol/L") is None
