"""The code systems and code tables of the FHIR export: LOINC, RxNorm, UCUM and HL7 v3
codes, this system's own codes where no standard one is known, and the security labels
each data class carries (clinical/privacy.md, "FHIR vocabulary for export").

Codes not read in a source are not invented. Every LOINC code here is checked against its
check digit on import; tests/integration/test_fhir.py checks the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from domain.instruments import InstrumentCode
from domain.vocabulary import DataClass, luhn_check_digit

# --- code systems -------------------------------------------------------------------------

LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
URI = "urn:ietf:rfc:3986"
V3_CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
V3_PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_ACTION = "http://terminology.hl7.org/CodeSystem/consentaction"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"

# This system's own identifiers and codes, for what no standard vocabulary names.
TANDEM = "https://tandem.example/fhir"
USER_ID = f"{TANDEM}/sid/user-id"
DATA_CLASS_CODES = f"{TANDEM}/CodeSystem/data-class"
CONSENT_PURPOSE_CODES = f"{TANDEM}/CodeSystem/consent-purpose"
FUNCTIONAL_MEASURE_CODES = f"{TANDEM}/CodeSystem/functional-measure"
SAFETY_CODES = f"{TANDEM}/CodeSystem/safety"
LOCAL_QUESTIONNAIRE = f"{TANDEM}/Questionnaire"

# The namespace of resource ids: the same event or consent always gets the same id.
RESOURCE_IDS = uuid5(NAMESPACE_URL, TANDEM)


def _checked_loinc(code: str) -> str:
    number, check = code.split("-")
    if luhn_check_digit(number) != int(check):
        raise ValueError(f"LOINC {code} has a wrong check digit")
    return code


# --- LOINC ---------------------------------------------------------------------------------

# Vital signs (FHIR vital-signs profile codes); the panel holds several at once.
VITALS_PANEL = _checked_loinc("85353-1")
BLOOD_PRESSURE_PANEL = _checked_loinc("85354-9")
SYSTOLIC = _checked_loinc("8480-6")
DIASTOLIC = _checked_loinc("8462-4")
# payload field -> (LOINC, display, UCUM unit)
VITAL_CODES: dict[str, tuple[str, str, str]] = {
    "weight_kg": (_checked_loinc("29463-7"), "Body weight", "kg"),
    "height_cm": (_checked_loinc("8302-2"), "Body height", "cm"),
    "bmi": (_checked_loinc("39156-5"), "Body mass index (BMI) [Ratio]", "kg/m2"),
    "systolic_mmhg": (SYSTOLIC, "Systolic blood pressure", "mm[Hg]"),
    "diastolic_mmhg": (DIASTOLIC, "Diastolic blood pressure", "mm[Hg]"),
    "heart_rate_bpm": (_checked_loinc("8867-4"), "Heart rate", "/min"),
    "waist_cm": (
        _checked_loinc("8280-0"),
        "Waist Circumference at umbilicus by Tape measure",
        "cm",
    ),
}
PROGRESS_NOTE = _checked_loinc("11506-3")
RELEASE_OF_INFORMATION = _checked_loinc("64292-6")

# clinical/instruments.md. PCL-5's panel code is marked "check" there (secondary sources
# only; verify before an export relies on it), so it is not used: PCL-5, and the
# instruments without a LOINC panel, get this system's own canonical URL.
QUESTIONNAIRE_PANELS: dict[InstrumentCode, str] = {
    InstrumentCode.PHQ9: _checked_loinc("44249-1"),
    InstrumentCode.GAD7: _checked_loinc("69737-5"),
    InstrumentCode.AUDITC: _checked_loinc("72109-2"),
}
# PHQ-9 items 1-9: score -> LOINC answer (clinical/instruments.md). Item 10 (difficulty)
# has other answers, not listed there, so it stays a number.
PHQ9_ANSWERS: dict[int, tuple[str, str]] = {
    0: ("LA6568-5", "Not at all"),
    1: ("LA6569-3", "Several days"),
    2: ("LA6570-1", "More than half the days"),
    3: ("LA6571-9", "Nearly every day"),
}
PHQ9_CODED_ITEMS = frozenset(str(n) for n in range(1, 10))

# --- lab interpretation --------------------------------------------------------------------

# A lab flag -> v3-ObservationInterpretation (code, display).
INTERPRETATION_FLAGS: dict[str, tuple[str, str]] = {
    "low": ("L", "Low"),
    "normal": ("N", "Normal"),
    "high": ("H", "High"),
}

# --- doses and timing ----------------------------------------------------------------------

# Dose units as UCUM: mcg is "ug" in UCUM, and counted forms are annotations. "unit" does
# not say which unit (international, enzyme...), so it gets no UCUM code.
DOSE_UCUM: dict[str, str] = {
    "mg": "mg",
    "mcg": "ug",
    "g": "g",
    "mL": "mL",
    "mmol": "mmol",
    "tablet": "{tablet}",
    "capsule": "{capsule}",
    "film": "{film}",
    "patch": "{patch}",
}
# Frequency -> Timing.repeat. The domain's dose is the day's total for frequencies of
# several administrations a day (domain.medication.mg_per_day), and what is taken on each
# dosing day otherwise: only in the latter is it a dose per administration.
TIMING: dict[str, dict[str, Any]] = {
    "once-daily": {"frequency": 1, "period": 1, "periodUnit": "d"},
    "twice-daily": {"frequency": 2, "period": 1, "periodUnit": "d"},
    "three-times-daily": {"frequency": 3, "period": 1, "periodUnit": "d"},
    "four-times-daily": {"frequency": 4, "period": 1, "periodUnit": "d"},
    "every-morning": {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["MORN"]},
    "at-bedtime": {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["HS"]},
    "every-other-day": {"frequency": 1, "period": 2, "periodUnit": "d"},
    "weekly": {"frequency": 1, "period": 1, "periodUnit": "wk"},
    "every-4-weeks": {"frequency": 1, "period": 4, "periodUnit": "wk"},
}
ONE_ADMINISTRATION_PER_DOSING_DAY = frozenset(
    {"once-daily", "every-morning", "at-bedtime", "every-other-day", "weekly", "every-4-weeks"}
)

# --- consent -------------------------------------------------------------------------------

# Consent purposes as v3-ActReason purposes of use. Care coordination is treatment under
# HIPAA ("provision, coordination, or management of health care", 45 CFR 164.501); the
# purposes no v3 code names keep this system's own code.
PURPOSE_OF_USE: dict[str, tuple[str, str]] = {
    "treatment": ("TREAT", "treatment"),
    "care-coordination": ("TREAT", "treatment"),
    "payment": ("HPAYMT", "healthcare payment"),
    "operations": ("HOPERAT", "healthcare operations"),
}
HIPAA_AUTHORIZATION = "https://www.ecfr.gov/current/title-45/section-164.508"
PART2_CONSENT = "https://www.ecfr.gov/current/title-42/section-2.31"

# --- security labels -----------------------------------------------------------------------

RESTRICTED: Mapping[str, str] = {
    "system": V3_CONFIDENTIALITY,
    "code": "R",
    "display": "restricted",
}
PSYCHOTHERAPY_NOTE_LABEL: Mapping[str, str] = {
    "system": V3_ACT_CODE,
    "code": "PSYTHPN",
    "display": "psychotherapy note information sensitivity",
}
PART2_LABEL: Mapping[str, str] = {
    "system": V3_ACT_CODE,
    "code": "42CFRPart2",
    "display": "42 CFR Part2",
}
# What a 42 CFR Part 2 record carries: no redisclosure without consent (NORDSCLCD) is the
# 2.32 notice as a label.
PART2_LABELS: tuple[Mapping[str, str], ...] = (
    {
        "system": V3_ACT_CODE,
        "code": "SUD",
        "display": "substance use disorder information sensitivity",
    },
    {"system": V3_ACT_CODE, "code": "ETH", "display": "substance abuse information sensitivity"},
    PART2_LABEL,
    {
        "system": V3_ACT_CODE,
        "code": "NORDSCLCD",
        "display": "no redisclosure without consent directive",
    },
)


def security_labels(data_class: str, *, part2: bool = False) -> list[dict[str, str]]:
    """meta.security for a record event of `data_class`, a Part 2 record (42 CFR Part 2)
    or not (an SUD counseling note is a psychotherapy note made in a Part 2 program: it
    carries both sets of labels)."""
    labels = [dict(RESTRICTED)]
    if data_class == DataClass.PSYCHOTHERAPY_NOTE:
        labels.append(dict(PSYCHOTHERAPY_NOTE_LABEL))
    if data_class == DataClass.SUD or part2:
        labels.extend(dict(label) for label in PART2_LABELS)
    return labels
