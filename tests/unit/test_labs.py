"""Laboratory orders and results."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from domain.errors import InvalidInput, NotPermittedAuthor, RuleViolation, UnknownReference
from domain.labs import OPEN, RESULTED, LabOrdered, LabResulted
from domain.patient import PatientRecord
from domain.vocabulary import DataClass, LabUnit
from tests.unit.builders import (
    PART2_PRESCRIBER,
    PATIENT,
    PRESCRIBER,
    PRIMARY_CARE,
    SYSTEM,
    THERAPIST,
    a_registered_record,
    assert_attributed,
    given,
    only_event,
    refused,
    with_lab_order,
)

LITHIUM: dict[str, Any] = {"loinc": "14334-7", "test_name": "lithium serum"}


def numeric(value: str = "0.8", **changes: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        **LITHIUM,
        "value": Decimal(value),
        "unit": "mmol/L",
        "reference_low": Decimal("0.6"),
        "reference_high": Decimal("1.0"),
    }
    result.update(changes)
    return result


# --- orders ---------------------------------------------------------------------------


def test_a_prescriber_orders_a_lab(record: PatientRecord, at: datetime) -> None:
    order_id = uuid4()

    record.order_lab(
        PRESCRIBER,
        at,
        order_id=order_id,
        loinc="14334-7",
        test_name="lithium serum",
        reason="level 5 days after dose change",
        due_by=date(2030, 1, 10),
    )

    ordered = only_event(record, LabOrdered)
    assert_attributed(ordered, actor=PRESCRIBER, data_class=DataClass.LAB, clinical_time=at)
    assert (ordered.order_id, ordered.loinc, ordered.test_name, ordered.due_by) == (
        order_id,
        "14334-7",
        "lithium serum",
        date(2030, 1, 10),
    )
    assert record.state.lab_orders == {order_id: OPEN}
    assert record.state.sud_orders == set()


def test_primary_care_on_the_team_may_order_a_lab(at: datetime) -> None:
    record = a_registered_record(others=[PRIMARY_CARE])

    record.order_lab(
        PRIMARY_CARE, at, order_id=uuid4(), loinc="4548-4", test_name="HbA1c", reason="metabolic"
    )

    assert only_event(record, LabOrdered).actor == PRIMARY_CARE


def test_a_therapist_may_not_order_a_lab(record: PatientRecord, at: datetime) -> None:
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.order_lab(
            THERAPIST, at, order_id=uuid4(), loinc="14334-7", test_name="lithium", reason="x"
        )


@pytest.mark.parametrize(
    ("loinc", "reason_says"),
    [
        ("14979", "not a LOINC code"),
        ("14979-", "not a LOINC code"),
        ("LP14979-9", "not a LOINC code"),
        ("14979-10", "not a LOINC code"),
        ("12345678-9", "not a LOINC code"),
        ("14979-8", "check digit"),
        ("44249-2", "check digit"),
    ],
)
def test_an_order_with_a_malformed_loinc_code_is_refused(
    record: PatientRecord, at: datetime, loinc: str, reason_says: str
) -> None:
    with refused(record, InvalidInput, field="loinc") as refusal:
        record.order_lab(PRESCRIBER, at, order_id=uuid4(), loinc=loinc, test_name="x", reason="x")
    assert reason_says in refusal.value.errors[0].reason


def test_an_order_id_cannot_be_used_twice(record: PatientRecord, at: datetime) -> None:
    record, order_id = with_lab_order(record)
    with refused(record, RuleViolation, field="order_id"):
        record.order_lab(
            PRESCRIBER, at, order_id=order_id, loinc="14334-7", test_name="x", reason="x"
        )


# --- results --------------------------------------------------------------------------


def test_a_numeric_result_is_filed_against_its_order(record: PatientRecord, at: datetime) -> None:
    record, order_id = with_lab_order(record)

    record.record_lab_result(PRESCRIBER, at, order_id=order_id, **numeric("1.3"))

    result = only_event(record, LabResulted)
    assert_attributed(result, actor=PRESCRIBER, data_class=DataClass.LAB, clinical_time=at)
    assert (result.order_id, result.loinc, result.value, result.unit) == (
        order_id,
        "14334-7",
        Decimal("1.3"),
        LabUnit.MMOL_L,
    )
    assert result.final is True
    assert result.interpretation == "high"
    assert record.state.lab_orders[order_id] == RESULTED


@pytest.mark.parametrize(
    ("value", "interpretation"), [("0.4", "low"), ("0.6", "normal"), ("1.0", "normal")]
)
def test_a_result_is_read_against_its_reference_range(
    record: PatientRecord, at: datetime, value: str, interpretation: str
) -> None:
    record, order_id = with_lab_order(record)

    record.record_lab_result(PRESCRIBER, at, order_id=order_id, **numeric(value))

    assert only_event(record, LabResulted).interpretation == interpretation


def test_the_lab_interface_files_a_text_result(record: PatientRecord, at: datetime) -> None:
    record, order_id = with_lab_order(record, loinc="19295-5")

    record.record_lab_result(
        SYSTEM,
        at,
        order_id=order_id,
        loinc="19295-5",
        test_name="opiates screen",
        value_text="negative",
    )

    result = only_event(record, LabResulted)
    assert_attributed(result, actor=SYSTEM, data_class=DataClass.LAB, clinical_time=at)
    assert (result.value, result.value_text, result.unit) == (None, "negative", None)
    assert result.interpretation is None


def test_a_preliminary_result_leaves_the_order_open_for_the_final_one(
    record: PatientRecord, at: datetime
) -> None:
    record, order_id = with_lab_order(record)
    record.record_lab_result(SYSTEM, at, order_id=order_id, **numeric("0.7"), final=False)
    assert record.state.lab_orders[order_id] == OPEN
    record = given(record)

    record.record_lab_result(SYSTEM, at, order_id=order_id, **numeric("0.75"))

    assert only_event(record, LabResulted).final is True
    assert record.state.lab_orders[order_id] == RESULTED


def test_an_order_with_its_final_result_takes_no_more_results(
    record: PatientRecord, at: datetime
) -> None:
    record, order_id = with_lab_order(record)
    record.record_lab_result(SYSTEM, at, order_id=order_id, **numeric())
    record = given(record)

    with refused(record, RuleViolation, field="order_id"):
        record.record_lab_result(SYSTEM, at, order_id=order_id, **numeric("0.9"))


def test_a_result_for_an_unknown_order_is_refused(record: PatientRecord, at: datetime) -> None:
    with refused(record, UnknownReference, field="order_id"):
        record.record_lab_result(SYSTEM, at, order_id=uuid4(), **numeric())


def test_the_patient_may_not_file_a_result(record: PatientRecord, at: datetime) -> None:
    record, order_id = with_lab_order(record)
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.record_lab_result(PATIENT, at, order_id=order_id, **numeric())


@pytest.mark.parametrize(
    ("result", "reason_says"),
    [
        ({**LITHIUM}, "either a numeric value or a value_text"),
        ({**numeric(), "value_text": "0.8"}, "either a numeric value or a value_text"),
        ({**numeric(), "unit": None}, "unit is required"),
        (numeric(reference_low=Decimal("1.2")), "reference_low is above reference_high"),
    ],
    ids=["neither value", "both values", "number without unit", "inverted range"],
)
def test_an_incoherent_result_is_refused(
    record: PatientRecord, at: datetime, result: dict[str, Any], reason_says: str
) -> None:
    record, order_id = with_lab_order(record)
    with refused(record, InvalidInput) as refusal:
        record.record_lab_result(SYSTEM, at, order_id=order_id, **result)
    assert reason_says in refusal.value.errors[0].reason
    assert record.state.lab_orders[order_id] == OPEN


@pytest.mark.parametrize(
    ("result", "fields"),
    [
        ({**LITHIUM}, {"value", "value_text"}),
        ({**numeric(), "value_text": "0.8"}, {"value", "value_text"}),
        ({**numeric(), "unit": None}, {"unit"}),
    ],
    ids=["neither value", "both values", "number without unit"],
)
def test_an_incoherent_result_names_the_field(
    record: PatientRecord, at: datetime, result: dict[str, Any], fields: set[str]
) -> None:
    record, order_id = with_lab_order(record)
    with refused(record, InvalidInput) as refusal:
        record.record_lab_result(SYSTEM, at, order_id=order_id, **result)
    assert {e.field for e in refusal.value.errors} <= fields


def test_an_inverted_reference_range_names_the_high_end(
    record: PatientRecord, at: datetime
) -> None:
    record, order_id = with_lab_order(record)
    with refused(record, InvalidInput, field="reference_high") as refusal:
        record.record_lab_result(
            SYSTEM, at, order_id=order_id, **numeric(reference_low=Decimal("1.2"))
        )
    assert [e.field for e in refusal.value.errors] == ["reference_high"]


def test_a_malformed_value_is_named_alone(record: PatientRecord, at: datetime) -> None:
    # The rules between fields are not checked against a value already refused.
    record, order_id = with_lab_order(record)
    with refused(record, InvalidInput) as refusal:
        record.record_lab_result(
            SYSTEM, at, order_id=order_id, **{**numeric(), "value": "abc", "reference_low": "x"}
        )
    assert [e.field for e in refusal.value.errors] == ["value", "reference_low"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"unit": "mEq/L"}, "unit"),
        ({"loinc": "14979-1"}, "loinc"),
        ({"value": Decimal("1.1234567")}, "value"),
    ],
)
def test_a_result_with_a_malformed_field_is_refused(
    record: PatientRecord, at: datetime, changes: dict[str, Any], field: str
) -> None:
    record, order_id = with_lab_order(record)
    with refused(record, InvalidInput, field=field):
        record.record_lab_result(SYSTEM, at, order_id=order_id, **numeric(**changes))


# --- units ----------------------------------------------------------------------------


def test_a_result_keeps_its_unit_beside_the_canonical_value(
    record: PatientRecord, at: datetime
) -> None:
    record, order_id = with_lab_order(record)
    record.record_lab_result(
        PRESCRIBER, at, order_id=order_id, **numeric("1.6", unit="mg/dL", reference_low=None)
    )
    result = only_event(record, LabResulted)
    assert (result.value, result.unit) == (Decimal("1.6"), LabUnit.MG_DL)
    assert (result.canonical_value, result.canonical_unit) == (Decimal("2.305476"), LabUnit.MMOL_L)
    assert "1.6 mg/dL (= 2.3 mmol/L)" in result.summary()


def test_a_result_in_the_canonical_unit_reads_as_before(
    record: PatientRecord, at: datetime
) -> None:
    record, order_id = with_lab_order(record)
    record.record_lab_result(PRESCRIBER, at, order_id=order_id, **numeric("0.8"))
    result = only_event(record, LabResulted)
    assert (result.canonical_value, result.canonical_unit) == (Decimal("0.8"), LabUnit.MMOL_L)
    assert result.summary() == "lab result: lithium serum 0.8 mmol/L"


@pytest.mark.parametrize(
    ("unit", "said"),
    [
        ("mg", "give one of mmol/L, meq/L, mg/dL"),
        ("g/L", "'g/L' is not a unit of lithium (LOINC 14334-7)"),
        ("mEq/L", "case-sensitive: meq/L"),
    ],
)
def test_a_unit_foreign_to_the_test_is_refused_naming_those_it_accepts(
    record: PatientRecord, at: datetime, unit: str, said: str
) -> None:
    record, order_id = with_lab_order(record)
    with refused(record, InvalidInput, field="unit") as refusal:
        record.record_lab_result(PRESCRIBER, at, order_id=order_id, **numeric(unit=unit))
    assert said in str(refusal.value)
    assert record.state.lab_orders[order_id] == OPEN


@pytest.mark.parametrize("field", ["canonical_value", "canonical_unit"])
def test_the_canonical_value_is_computed_never_given(
    record: PatientRecord, at: datetime, field: str
) -> None:
    record, order_id = with_lab_order(record)
    with refused(record, InvalidInput, field=field):
        record.record_lab_result(PRESCRIBER, at, order_id=order_id, **numeric(**{field: "9"}))


def test_a_result_stored_before_the_unit_table_loads_and_dumps_as_it_did() -> None:
    # As the store rebuilds it: no canonical value, a unit the test no longer accepts.
    stored = LabResulted(
        originator_id=uuid4(),
        originator_version=2,
        timestamp=datetime(2030, 1, 1, tzinfo=UTC),
        actor=PRESCRIBER,
        data_class=DataClass.LAB,
        clinical_time=datetime(2030, 1, 1, tzinfo=UTC),
        order_id=uuid4(),
        **numeric("12", unit="mg/L", reference_low=None, reference_high=None),
    )
    dumped = stored.model_dump(mode="json")
    assert "canonical_value" not in dumped and "canonical_unit" not in dumped
    assert stored.summary() == "lab result: lithium serum 12 mg/L"


# --- SUD ------------------------------------------------------------------------------


def test_a_result_inherits_sud_from_an_order_by_a_part2_program(at: datetime) -> None:
    record = a_registered_record(part2=[PART2_PRESCRIBER])
    record, order_id = with_lab_order(record, by=PART2_PRESCRIBER, loinc="19295-5")
    assert record.state.sud_orders == {order_id}

    record.record_lab_result(
        SYSTEM, at, order_id=order_id, loinc="19295-5", test_name="opiates", value_text="negative"
    )

    assert only_event(record, LabResulted).part2


def test_a_result_inherits_sud_from_an_order_made_in_sud_treatment(
    record: PatientRecord, at: datetime
) -> None:
    record.order_lab(
        PRESCRIBER,
        at,
        order_id=(order_id := uuid4()),
        loinc="19295-5",
        test_name="opiates screen",
        reason="buprenorphine monitoring",
        sud_context=True,
    )
    assert only_event(record, LabOrdered).part2

    record.record_lab_result(
        PRESCRIBER,
        at,
        order_id=order_id,
        loinc="19295-5",
        test_name="opiates",
        value_text="negative",
    )

    assert only_event(record, LabResulted).part2


def test_a_result_on_an_ordinary_order_stays_a_lab_record_on_a_part2_record(
    at: datetime,
) -> None:
    record = a_registered_record(part2=[PART2_PRESCRIBER])
    record, order_id = with_lab_order(record, by=PRESCRIBER)

    record.record_lab_result(SYSTEM, at, order_id=order_id, **numeric())

    assert only_event(record, LabResulted).data_class == DataClass.LAB
