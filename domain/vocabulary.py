"""The words the care team uses, as closed sets and checked codes.

Codes are checked for form here (ICD-10-CM pattern, RxNorm digits, LOINC with its mod-10
check digit); whether a code exists in its terminology is a question for a terminology
server, which this system does not pretend to be.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints


class Role(StrEnum):
    THERAPIST = "therapist"
    PRESCRIBER = "prescriber"
    PRIMARY_CARE = "primary-care"
    SCHOOL_COUNSELOR = "school-counselor"
    EMPLOYER = "employer"
    PATIENT = "patient"
    SUPPORTER = "supporter"
    COMPLIANCE = "compliance"
    SYSTEM = "system"


TREATING_ROLES = frozenset({Role.THERAPIST, Role.PRESCRIBER})
CLINICIAN_ROLES = frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.PRIMARY_CARE})


class DataClass(StrEnum):
    """The security label every event carries (DESIGN.md, 'Data classes')."""

    DEMOGRAPHICS = "demographics"
    CARE_TEAM = "care-team"
    CARE_PLAN = "care-plan"
    APPOINTMENT = "appointment"
    PROGRESS_NOTE = "progress-note"
    PSYCHOTHERAPY_NOTE = "psychotherapy-note"
    MEDICATION = "medication"
    LAB = "lab"
    MEASURE = "measure"
    FUNCTIONAL = "functional"
    SAFETY = "safety"
    # In a consent: every kind of record a Part 2 program made (42 CFR 2.31(a)(3)). On a
    # stored event only before Part 2 became a label beside the class (RecordEvent.part2).
    SUD = "sud"
    MESSAGE = "message"
    CONSENT = "consent"
    ACCOUNT = "account"
    AUDIT = "audit"


class DoseUnit(StrEnum):
    MG = "mg"
    MCG = "mcg"
    G = "g"
    ML = "mL"
    MMOL = "mmol"
    UNIT = "unit"
    TABLET = "tablet"
    CAPSULE = "capsule"
    FILM = "film"
    PATCH = "patch"


class LabUnit(StrEnum):
    """UCUM units the clinic's labs report in."""

    MMOL_L = "mmol/L"
    MEQ_L = "meq/L"  # UCUM's code (case-sensitive): the milliequivalent is "meq"
    UMOL_L = "umol/L"
    MG_DL = "mg/dL"
    MG_L = "mg/L"
    G_L = "g/L"
    G_DL = "g/dL"
    NG_ML = "ng/mL"
    UG_ML = "ug/mL"
    PMOL_L = "pmol/L"
    MIU_L = "mIU/L"  # not a UCUM code: kept for results stored with it (now m[IU]/L)
    M_IU_L = "m[IU]/L"
    U_IU_ML = "u[IU]/mL"
    M_IU_ML = "m[IU]/mL"
    IU_L = "[IU]/L"
    U_L = "U/L"
    EGFR = "mL/min/{1.73_m2}"
    PER_UL = "/uL"
    THOUSAND_PER_UL = "10*3/uL"
    BILLION_PER_L = "10*9/L"
    PERCENT = "%"
    KG = "kg"
    KG_M2 = "kg/m2"
    CM = "cm"
    MM_HG = "mm[Hg]"
    PER_MIN = "/min"
    SECONDS = "s"
    RATIO = "{ratio}"
    INR = "{INR}"
    NONE = "1"


class Frequency(StrEnum):
    ONCE_DAILY = "once-daily"
    TWICE_DAILY = "twice-daily"
    THREE_TIMES_DAILY = "three-times-daily"
    FOUR_TIMES_DAILY = "four-times-daily"
    EVERY_MORNING = "every-morning"
    AT_BEDTIME = "at-bedtime"
    EVERY_OTHER_DAY = "every-other-day"
    WEEKLY = "weekly"
    EVERY_4_WEEKS = "every-4-weeks"
    AS_NEEDED = "as-needed"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    INTERSEX = "intersex"
    UNKNOWN = "unknown"


class TelehealthPreference(StrEnum):
    IN_PERSON = "in-person"
    TELEHEALTH = "telehealth"
    EITHER = "either"


class Phase(StrEnum):
    ACUTE = "acute"
    STABILIZATION = "stabilization"
    RELAPSE_PREVENTION = "relapse-prevention"
    MAINTENANCE = "maintenance"


class SessionMode(StrEnum):
    IN_PERSON = "in-person"
    TELEHEALTH = "telehealth"


class SessionKind(StrEnum):
    STANDARD = "standard"
    SKILLS = "skills"
    ACUTE = "acute"


class Modality(StrEnum):
    CBT = "cbt"
    DBT = "dbt"
    TRAUMA_FOCUSED = "trauma-focused"
    MOTIVATIONAL_INTERVIEWING = "motivational-interviewing"
    BEHAVIORAL_ACTIVATION = "behavioral-activation"
    MEDICATION_MANAGEMENT = "medication-management"
    PSYCHOEDUCATION = "psychoeducation"
    # Interpersonal and social rhythm therapy (IPSRT), for bipolar disorder.
    INTERPERSONAL_SOCIAL_RHYTHM = "interpersonal-social-rhythm"


class Severity(StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class RiskLevel(StrEnum):
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


# Any letter first: ICD-10-CM uses U for codes for special purposes (U07.1 COVID-19, U09.9
# post-COVID condition).
_ICD10 = re.compile(r"^[A-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$")
_RXNORM = re.compile(r"^[1-9][0-9]{0,8}$")
_LOINC = re.compile(r"^([0-9]{1,7})-([0-9])$")


def luhn_check_digit(number: str) -> int:
    """LOINC's mod-10 check digit: the Luhn digit of the number part."""
    total = 0
    for position, char in enumerate(reversed(number), start=1):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def _icd10(value: str) -> str:
    code = value.strip().upper()
    if not _ICD10.match(code):
        raise ValueError(
            f"'{value}' is not an ICD-10-CM code (letter, two characters, optional .suffix)"
        )
    return code


def _rxnorm(value: str) -> str:
    code = value.strip()
    if not _RXNORM.match(code):
        raise ValueError(f"'{value}' is not an RxNorm concept id (digits only)")
    return code


def _loinc(value: str) -> str:
    code = value.strip()
    match = _LOINC.match(code)
    if not match:
        raise ValueError(f"'{value}' is not a LOINC code (digits, hyphen, check digit)")
    if luhn_check_digit(match.group(1)) != int(match.group(2)):
        raise ValueError(f"'{value}' has a wrong LOINC check digit")
    return code


ICD10Code = Annotated[str, AfterValidator(_icd10)]
RxNormCode = Annotated[str, AfterValidator(_rxnorm)]
LoincCode = Annotated[str, AfterValidator(_loinc)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
PositiveAmount = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=4)]
