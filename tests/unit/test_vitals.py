"""Vital signs: weight, height, BMI, blood pressure, pulse and waist, measured not ordered."""

from __future__ import annotations

import copy
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import InvalidInput, NotPermittedAuthor
from domain.measures import VitalsRecorded
from domain.patient import PatientRecord
from domain.vocabulary import DataClass
from tests.unit.builders import (
    PART2_COUNSELOR,
    PATIENT,
    PRESCRIBER,
    PRIMARY_CARE,
    SCHOOL_COUNSELOR,
    SUPPORTER,
    THERAPIST,
    a_registered_record,
    assert_attributed,
    only_event,
    refused,
)


def test_a_prescriber_records_weight_and_bmi(record: PatientRecord, at: datetime) -> None:
    record.record_vitals(PRESCRIBER, at, weight_kg=Decimal("84.2"), bmi=Decimal("26.0"))

    vitals = only_event(record, VitalsRecorded)
    assert_attributed(vitals, actor=PRESCRIBER, data_class=DataClass.MEASURE, clinical_time=at)
    assert (vitals.weight_kg, vitals.bmi) == (Decimal("84.2"), Decimal("26.0"))
    assert (vitals.systolic_mmhg, vitals.diastolic_mmhg, vitals.heart_rate_bpm) == (None,) * 3
    assert vitals.summary() == "vitals: weight 84.2 kg, BMI 26"


def test_every_vital_sign_is_recorded_together(record: PatientRecord, at: datetime) -> None:
    record.record_vitals(
        THERAPIST,
        at,
        weight_kg="70.5",
        height_cm="172.5",
        bmi="23.69",
        systolic_mmhg=118,
        diastolic_mmhg=76,
        heart_rate_bpm=64,
        waist_cm="81",
    )

    vitals = only_event(record, VitalsRecorded)
    assert (vitals.height_cm, vitals.waist_cm) == (Decimal("172.5"), Decimal("81"))
    assert (vitals.systolic_mmhg, vitals.diastolic_mmhg, vitals.heart_rate_bpm) == (118, 76, 64)
    assert vitals.summary() == (
        "vitals: weight 70.5 kg, height 172.5 cm, BMI 23.69, BP 118/76 mmHg, pulse 64/min, "
        "waist 81 cm"
    )


@pytest.mark.parametrize("author", [PATIENT, PRIMARY_CARE])
def test_the_patient_and_primary_care_record_vitals(at: datetime, author: Any) -> None:
    record = a_registered_record(others=[PRIMARY_CARE])

    record.record_vitals(author, at, systolic_mmhg=132, diastolic_mmhg=84, heart_rate_bpm=88)

    assert only_event(record, VitalsRecorded).actor == author


@pytest.mark.parametrize("author", [SUPPORTER, SCHOOL_COUNSELOR])
def test_a_supporter_or_school_counselor_may_not_record_vitals(at: datetime, author: Any) -> None:
    record = a_registered_record(others=[SCHOOL_COUNSELOR])
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.record_vitals(author, at, weight_kg="60")


def test_vitals_taken_in_a_part2_program_are_sud_records(at: datetime) -> None:
    record = a_registered_record(part2=[PART2_COUNSELOR])

    record.record_vitals(PART2_COUNSELOR, at, heart_rate_bpm=104)

    assert only_event(record, VitalsRecorded).part2


def test_vitals_without_any_measurement_are_refused(record: PatientRecord, at: datetime) -> None:
    with refused(record, InvalidInput, field="vitals") as refusal:
        record.record_vitals(THERAPIST, at)
    assert "weight_kg" in refusal.value.errors[0].reason


@pytest.mark.parametrize(
    ("measured", "field"),
    [
        ({"weight_kg": "0"}, "weight_kg"),
        ({"weight_kg": "-70"}, "weight_kg"),
        ({"weight_kg": "401"}, "weight_kg"),
        ({"weight_kg": "70.125"}, "weight_kg"),
        ({"height_cm": "1.72"}, "height_cm"),
        ({"height_cm": "251"}, "height_cm"),
        ({"bmi": "0"}, "bmi"),
        ({"bmi": "121"}, "bmi"),
        ({"heart_rate_bpm": 0}, "heart_rate_bpm"),
        ({"heart_rate_bpm": 251}, "heart_rate_bpm"),
        ({"heart_rate_bpm": 72.5}, "heart_rate_bpm"),
        ({"waist_cm": "-1"}, "waist_cm"),
        ({"systolic_mmhg": 0, "diastolic_mmhg": 80}, "systolic_mmhg"),
        ({"systolic_mmhg": 301, "diastolic_mmhg": 80}, "systolic_mmhg"),
        ({"systolic_mmhg": 120, "diastolic_mmhg": 19}, "diastolic_mmhg"),
        ({"weight_kg": "heavy"}, "weight_kg"),
    ],
)
def test_a_vital_sign_out_of_its_range_is_refused(
    record: PatientRecord, at: datetime, measured: dict[str, Any], field: str
) -> None:
    with refused(record, InvalidInput, field=field) as refusal:
        record.record_vitals(THERAPIST, at, **measured)
    assert [e.field for e in refusal.value.errors] == [field]


@pytest.mark.parametrize(
    ("pressure", "says"),
    [
        ({"systolic_mmhg": 120}, "is required with systolic_mmhg"),
        ({"diastolic_mmhg": 80}, "is given without systolic_mmhg"),
        ({"systolic_mmhg": 80, "diastolic_mmhg": 80}, "must be below systolic_mmhg"),
        ({"systolic_mmhg": 80, "diastolic_mmhg": 120}, "must be below systolic_mmhg"),
    ],
    ids=["systolic alone", "diastolic alone", "equal", "inverted"],
)
def test_blood_pressure_is_a_pair_with_the_diastolic_below_the_systolic(
    record: PatientRecord, at: datetime, pressure: dict[str, int], says: str
) -> None:
    with refused(record, InvalidInput, field="diastolic_mmhg") as refusal:
        record.record_vitals(THERAPIST, at, weight_kg="70", **pressure)
    assert says in refusal.value.errors[0].reason


def test_an_event_without_any_measurement_cannot_be_made(at: datetime) -> None:
    record = a_registered_record()
    with pytest.raises(ValueError, match="at least one of"):
        VitalsRecorded(
            originator_id=record.id,
            originator_version=record.version + 1,
            actor=PRESCRIBER,
            data_class=DataClass.MEASURE,
            clinical_time=at,
        )


def test_vitals_change_only_the_latest_weight_and_read_back_from_their_json(
    record: PatientRecord, at: datetime
) -> None:
    before = copy.deepcopy(record.state)
    record.record_vitals(PRESCRIBER, at, weight_kg="84.2", bmi="26.0")

    [vitals] = record.collect_events()

    assert record.state.weight == (at, Decimal("84.2"))  # what a mg/kg dose range reads
    record.state.weight = None
    assert record.state == before
    assert isinstance(vitals, VitalsRecorded)
    assert VitalsRecorded.model_validate(vitals.model_dump(mode="json")) == vitals
