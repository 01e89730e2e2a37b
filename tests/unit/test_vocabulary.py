"""Codes checked for form: ICD-10-CM, RxNorm, LOINC (with its mod-10 check digit), amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from domain.vocabulary import ICD10Code, LoincCode, PositiveAmount, RxNormCode, luhn_check_digit

loinc = TypeAdapter(LoincCode)
icd10 = TypeAdapter(ICD10Code)
rxnorm = TypeAdapter(RxNormCode)
amount = TypeAdapter(PositiveAmount)

# Every LOINC code in clinical/instruments.md (panels, totals, items), all valid.
INSTRUMENT_LOINC_CODES = [
    "44249-1",  # PHQ-9 panel
    "44261-6",  # PHQ-9 total
    "44260-8",  # PHQ-9 item 9
    "69722-7",  # PHQ-9 item 10, difficulty
    "69737-5",  # GAD-7 panel
    "70274-6",  # GAD-7 total
    "101697-1",  # PCL-5 panel
    "101698-9",  # PCL-5 score (marked "check": the form is right, existence is not ours to say)
    "72109-2",  # AUDIT-C panel
    "75626-2",  # AUDIT-C total
]


@pytest.mark.parametrize("code", INSTRUMENT_LOINC_CODES)
def test_the_check_digit_of_each_instrument_loinc_code_is_right(code: str) -> None:
    number, check = code.split("-")

    assert luhn_check_digit(number) == int(check)
    assert loinc.validate_python(code) == code


def test_the_check_digit_follows_the_loinc_worked_example() -> None:
    # LOINC's user guide works 12345 through to check digit 5.
    assert luhn_check_digit("12345") == 5
    assert luhn_check_digit("0") == 0


@pytest.mark.parametrize(
    "code",
    [
        "44249-2",  # check digit off by one
        "44261-0",
        "44260-9",
        "69737-6",
        "101697-7",
        "44294-1",  # adjacent digits swapped: the mod-10 check catches it
        "44429-1",
        "4429-1",  # a digit dropped
    ],
)
def test_an_altered_loinc_code_fails_its_check_digit(code: str) -> None:
    number, check = code.split("-")
    assert luhn_check_digit(number) != int(check)

    with pytest.raises(ValidationError, match="wrong LOINC check digit"):
        loinc.validate_python(code)


@pytest.mark.parametrize(
    "code", ["44249", "44249-", "-1", "44249_1", "LA6568-5", "4424a-1", "12345678-9"]
)
def test_a_malformed_loinc_code_is_refused(code: str) -> None:
    with pytest.raises(ValidationError, match="is not a LOINC code"):
        loinc.validate_python(code)


def test_a_loinc_code_is_stripped_of_surrounding_space() -> None:
    assert loinc.validate_python(" 44249-1 ") == "44249-1"


@pytest.mark.parametrize(
    ("code", "normalised"),
    [
        ("F33.1", "F33.1"),
        ("f41.1", "F41.1"),
        (" F43.10 ", "F43.10"),
        ("F10.20", "F10.20"),
        ("F32.A", "F32.A"),
        ("Z63.0", "Z63.0"),
        ("C7B.00", "C7B.00"),
        ("T43.212A", "T43.212A"),
        ("F90", "F90"),
    ],
)
def test_a_well_formed_icd10_code_is_normalised_to_upper_case(code: str, normalised: str) -> None:
    assert icd10.validate_python(code) == normalised


@pytest.mark.parametrize(
    "code", ["F3", "33.1", "F33.", "F33.12345", "F331 ", "F3C.1", "F33-1", "1F3.1"]
)
def test_a_malformed_icd10_code_is_refused(code: str) -> None:
    with pytest.raises(ValidationError, match="is not an ICD-10-CM code"):
        icd10.validate_python(code)


@pytest.mark.parametrize("code", ["U07.1", "U09.9"])
def test_icd10_cm_u_codes_are_accepted(code: str) -> None:
    assert icd10.validate_python(code) == code


@pytest.mark.parametrize("code", ["36437", "1", "123456789"])
def test_a_well_formed_rxnorm_code_is_accepted(code: str) -> None:
    assert rxnorm.validate_python(code) == code


@pytest.mark.parametrize("code", ["036437", "RX36437", "36437.0", "", "1234567890", "-5"])
def test_a_malformed_rxnorm_code_is_refused(code: str) -> None:
    with pytest.raises(ValidationError, match="is not an RxNorm concept id"):
        rxnorm.validate_python(code)


@pytest.mark.parametrize("value", ["0.0001", "12.5", "99999999.9999"])
def test_a_positive_amount_is_accepted(value: str) -> None:
    assert amount.validate_python(value) == Decimal(value)


@pytest.mark.parametrize("value", ["0", "-0.5", "0.00001", "1000000000000"])
def test_a_zero_negative_or_over_precise_amount_is_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        amount.validate_python(value)
