"""The units each lab test the monitoring rules read may be reported in, and the one
canonical unit its results are compared in.

A result's unit must be one the test accepts (UCUM codes, case-sensitive: "meq/L", not
"mEq/L"); it is converted to the test's canonical unit by the units' UCUM definitions
(`UCUM`, checked against a UCUM parser by the tests) and, across mass and amount of
substance, the analyte's molar mass. The result
keeps the value and unit as entered beside the canonical value (domain.labs).

Tests the table does not know keep the lab vocabulary (LabUnit) and have no canonical
value. Panels and presence tests accept no unit: their results are text.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from domain.vocabulary import LabUnit as U

# Canonical values are kept to the places a result's value has (domain.labs).
PLACES = Decimal("0.000001")
MOLAR_MASS_SOURCE = "IUPAC standard atomic weights; molar mass of the compound's formula"


@dataclass(frozen=True)
class Analyte:
    """What one LOINC code measures: `units` it accepts (the canonical one first), and
    the molar mass (g/mol) that converts mass to amount of substance, with the
    analyte's charge for equivalents (1 mmol of Li+ is 1 meq)."""

    name: str
    units: tuple[U, ...] = ()
    molar_mass: Decimal | None = None
    valence: int = 1

    @property
    def canonical(self) -> U | None:
        return self.units[0] if self.units else None

    @property
    def quantitative(self) -> bool:
        return bool(self.units)

    def accepted(self) -> str:
        return ", ".join(u.value for u in self.units)


def _mass_or_moles(name: str, molar_mass: str, *units: U) -> Analyte:
    return Analyte(name, units, Decimal(molar_mass))


_TEXT = Analyte("a panel or a presence test")
_COUNT_PER_UL = (U.THOUSAND_PER_UL, U.BILLION_PER_L, U.PER_UL)
_EGFR = Analyte("eGFR", (U.EGFR,))
_LITHIUM = _mass_or_moles("lithium", "6.94", U.MMOL_L, U.MEQ_L, U.MG_DL)
_CHOLESTEROL = "386.65"

ANALYTES: dict[str, Analyte] = {
    # Lithium: serum level, and the trough (12 h after the dose) code.
    "14334-7": _LITHIUM,
    "74806-1": _LITHIUM,
    # Valproate (valproic acid, C8H16O2): ug/mL is mg/L.
    "4086-5": _mass_or_moles("valproate", "144.21", U.UG_ML, U.MG_L, U.UMOL_L),
    # Renal: eGFR, creatinine (C4H7N3O) by mass and by amount of substance.
    "98979-8": _EGFR,
    "62238-1": _EGFR,
    "33914-3": _EGFR,
    "2160-0": _mass_or_moles("creatinine", "113.12", U.MG_DL, U.UMOL_L),
    "14682-9": _mass_or_moles("creatinine", "113.12", U.UMOL_L, U.MG_DL),
    "51990-0": _TEXT,
    "24323-8": _TEXT,
    # Thyroid: TSH in milli-international units per litre (= micro per millilitre).
    "3016-3": Analyte("TSH", (U.M_IU_L, U.U_IU_ML)),
    # Calcium (Ca2+: no equivalents accepted).
    "17861-6": _mass_or_moles("calcium", "40.078", U.MG_DL, U.MMOL_L),
    "2000-8": _mass_or_moles("calcium", "40.078", U.MMOL_L, U.MG_DL),
    # Blood counts.
    "58410-2": _TEXT,
    "57021-8": _TEXT,
    "6690-2": Analyte("leukocytes", _COUNT_PER_UL),
    "718-7": Analyte("hemoglobin", (U.G_DL, U.G_L)),
    "777-3": Analyte("platelets", _COUNT_PER_UL),
    # Absolute neutrophil count, compared in cells per microlitre as clozapine's label is.
    "751-8": Analyte("neutrophils", (U.PER_UL, U.THOUSAND_PER_UL, U.BILLION_PER_L)),
    "26499-4": Analyte("neutrophils", (U.PER_UL, U.THOUSAND_PER_UL, U.BILLION_PER_L)),
    "753-4": Analyte("neutrophils", (U.PER_UL, U.THOUSAND_PER_UL, U.BILLION_PER_L)),
    # Liver.
    "1742-6": Analyte("ALT", (U.U_L,)),
    "1920-8": Analyte("AST", (U.U_L,)),
    "24325-3": _TEXT,
    # Clotting: times in seconds; the INR is a pure number.
    "5902-2": Analyte("prothrombin time", (U.SECONDS,)),
    "6301-6": Analyte("INR", (U.INR, U.RATIO, U.NONE)),
    "34714-6": Analyte("INR", (U.INR, U.RATIO, U.NONE)),
    "14979-9": Analyte("aPTT", (U.SECONDS,)),
    "3173-2": Analyte("aPTT", (U.SECONDS,)),
    # Pregnancy: presence tests, and hCG by units per volume.
    "2106-3": _TEXT,
    "2118-8": _TEXT,
    # ECG: EKG study, 12 lead EKG panel, EKG impression (reported as text).
    "11524-6": Analyte("ECG"),
    "34534-8": Analyte("ECG"),
    "8601-7": Analyte("ECG"),
    "19080-1": Analyte("hCG", (U.M_IU_ML, U.IU_L)),
    "21198-7": Analyte("hCG beta", (U.M_IU_ML, U.IU_L)),
    # Glucose (C6H12O6) and HbA1c (NGSP %; IFCC mmol/mol is not a proportional unit).
    "1558-6": _mass_or_moles("glucose", "180.156", U.MG_DL, U.MMOL_L),
    "14771-0": _mass_or_moles("glucose", "180.156", U.MMOL_L, U.MG_DL),
    "2345-7": _mass_or_moles("glucose", "180.156", U.MG_DL, U.MMOL_L),
    "4548-4": Analyte("HbA1c", (U.PERCENT,)),
    # Lipids: cholesterol (C27H46O) for total, HDL and LDL; triglycerides as triolein.
    "2093-3": _mass_or_moles("cholesterol", _CHOLESTEROL, U.MG_DL, U.MMOL_L),
    "2085-9": _mass_or_moles("HDL cholesterol", _CHOLESTEROL, U.MG_DL, U.MMOL_L),
    "13457-7": _mass_or_moles("LDL cholesterol", _CHOLESTEROL, U.MG_DL, U.MMOL_L),
    "2089-1": _mass_or_moles("LDL cholesterol", _CHOLESTEROL, U.MG_DL, U.MMOL_L),
    "18262-6": _mass_or_moles("LDL cholesterol", _CHOLESTEROL, U.MG_DL, U.MMOL_L),
    "2571-8": _mass_or_moles("triglycerides", "885.7", U.MG_DL, U.MMOL_L),
    "57698-3": _TEXT,
    "24331-1": _TEXT,
    # The myocarditis watch on clozapine: cardiac troponin I and T, C-reactive protein.
    "10839-9": Analyte("troponin I", (U.NG_ML,)),
    "6598-7": Analyte("troponin T", (U.NG_ML,)),
    "1988-5": Analyte("C-reactive protein", (U.MG_L, U.MG_DL)),
    # Urine drug tests: presence.
    "19295-5": _TEXT,
    "3414-0": _TEXT,
    "93494-3": _TEXT,
    "58359-1": _TEXT,
}


# Spellings stored before the table, and the UCUM code each stands for: a stored result
# in one still converts (and meets its need); a new one is refused, naming the code.
LEGACY_SPELLINGS: dict[str, U] = {U.MIU_L.value: U.M_IU_L}


def ucum_code(unit: str) -> str:
    """The UCUM code of a unit as stored (a legacy spelling's code, or the unit itself)."""
    legacy = LEGACY_SPELLINGS.get(unit)
    return legacy.value if legacy is not None else unit


def unit_refusal(loinc: str, unit: Any) -> str | None:
    """Why `unit` does not fit the test `loinc` (None if it does, or the table does not
    know the test)."""
    analyte = ANALYTES.get(loinc)
    if analyte is None or unit is None:
        return None
    given = unit.value if isinstance(unit, U) else str(unit)
    if not analyte.quantitative:
        return f"LOINC {loinc} ({analyte.name}) reports no unit: give the result as value_text"
    if given in analyte.units:
        return None
    reason = f"'{given}' is not a unit of {analyte.name} (LOINC {loinc}): give one of "
    reason += analyte.accepted()
    if ucum_code(given) in analyte.units:
        return reason + f" ('{given}' is not a UCUM code: {ucum_code(given)})"
    near = [u.value for u in analyte.units if u.value.casefold() == given.casefold()]
    return reason + (f" (UCUM codes are case-sensitive: {near[0]})" if near else "")


def canonical(loinc: str, value: Any, unit: Any) -> tuple[Decimal, U] | None:
    """The value in the test's canonical unit, if the table knows the test and `unit`
    is one it accepts (None otherwise: nothing is guessed)."""
    analyte = ANALYTES.get(loinc)
    if analyte is None or analyte.canonical is None or value is None or unit is None:
        return None
    given = ucum_code(unit.value if isinstance(unit, U) else str(unit))
    if given not in analyte.units:
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    if not number.is_finite():
        return None
    converted = (number * factor(analyte, U(given))).quantize(PLACES)
    # Without trailing zeros nor an exponent: 1200, not 1200.000000 or 1.2E+3.
    whole = converted == converted.to_integral_value()
    return (converted.quantize(Decimal(1)) if whole else converted.normalize()), analyte.canonical


def factor(analyte: Analyte, unit: U) -> Decimal:
    """What one `unit` of `analyte` is in its canonical unit (exact decimal arithmetic)."""
    target = analyte.canonical
    if target is None or unit == target:
        return Decimal(1)
    (kind, scale), (goal, goal_scale) = UCUM[unit], UCUM[target]
    if unit == U.MEQ_L:
        scale /= analyte.valence  # 1 meq is 1/z mmol of an ion of charge z
    if kind != goal:
        if analyte.molar_mass is None or {kind, goal} != {"mass", "substance"}:
            raise ValueError(f"{unit} does not convert to {target} for {analyte.name}")
        scale = scale / analyte.molar_mass if kind == "mass" else scale * analyte.molar_mass
    return scale / goal_scale


def _d(text: str) -> Decimal:
    return Decimal(text)


# What each unit a test accepts is, in UCUM's terms: its kind of quantity and its size in
# a base unit of that kind (g/L, mol/L, [IU]/L, U/L, counts per L, s, or a pure number).
# Explicit rather than parsed at run time, so that the domain needs no UCUM library and
# conversions stay in decimal arithmetic; tests/unit/test_lab_units.py checks every entry
# against a UCUM parser (ucumvert).
UCUM: dict[U, tuple[str, Decimal]] = {
    U.MMOL_L: ("substance", _d("1e-3")),
    U.MEQ_L: ("substance", _d("1e-3")),
    U.UMOL_L: ("substance", _d("1e-6")),
    U.PMOL_L: ("substance", _d("1e-12")),
    U.MG_DL: ("mass", _d("1e-2")),
    U.MG_L: ("mass", _d("1e-3")),
    U.UG_ML: ("mass", _d("1e-3")),
    U.NG_ML: ("mass", _d("1e-6")),
    U.G_DL: ("mass", _d("10")),
    U.G_L: ("mass", _d("1")),
    U.M_IU_L: ("arbitrary", _d("1e-3")),
    U.U_IU_ML: ("arbitrary", _d("1e-3")),
    U.M_IU_ML: ("arbitrary", _d("1")),
    U.IU_L: ("arbitrary", _d("1")),
    U.U_L: ("catalytic", _d("1")),
    U.EGFR: ("flow per area", _d("1")),
    U.PER_UL: ("count", _d("1e6")),
    U.THOUSAND_PER_UL: ("count", _d("1e9")),
    U.BILLION_PER_L: ("count", _d("1e9")),
    U.PERCENT: ("fraction", _d("1e-2")),
    U.SECONDS: ("time", _d("1")),
    U.INR: ("number", _d("1")),
    U.RATIO: ("number", _d("1")),
    U.NONE: ("number", _d("1")),
}
