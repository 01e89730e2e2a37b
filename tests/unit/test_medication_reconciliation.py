"""Medication reconciliation: the medications a patient reports taking from other
prescribers, each confirmed, changed or discontinued by the prescriber."""

from __future__ import annotations

import copy
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.dose import Dose, Schedule
from domain.errors import InvalidInput, NotPermittedAuthor
from domain.medication import ACTIVE, STOPPED, MedicationsReconciled
from domain.patient import PatientRecord
from domain.vocabulary import DataClass, DoseUnit, Frequency
from tests.unit.builders import (
    PART2_PRESCRIBER,
    PRESCRIBER,
    THERAPIST,
    a_registered_record,
    assert_attributed,
    given,
    only_event,
    refused,
    with_medication,
)


def mg(amount: str) -> Dose:
    return Dose(amount=Decimal(amount), unit=DoseUnit.MG)


def reported(drug: str, decision: str, **details: Any) -> dict[str, Any]:
    """A medication as the patient reports it (50 mg once daily), with the decision on it."""
    return {
        "drug": drug,
        "dose": {"amount": "50", "unit": "mg"},
        "schedule": {"frequency": "once-daily"},
        "decision": decision,
        **details,
    }


SERTRALINE_FROM_PCP = reported("sertraline", "confirmed", rxnorm="36437", prescribed_by="Dr. Ng")
TRAZODONE_CHANGED = reported(
    "trazodone",
    "changed",
    rxnorm="10737",
    prescribed_by="Valley Urgent Care",
    new_dose={"amount": "25", "unit": "mg"},
    new_schedule={"frequency": "at-bedtime"},
    reason="morning sedation",
)
DIPHENHYDRAMINE_STOPPED = reported(
    "diphenhydramine",
    "discontinued",
    dose={"amount": "25", "unit": "mg"},
    schedule={"frequency": "as-needed"},
    reason="anticholinergic; use sleep hygiene instead",
)
METHADONE_FROM_OTP = reported(
    "methadone", "confirmed", rxnorm="6813", prescribed_by="Harbor OTP", sud_treatment=True
)


def test_a_prescriber_reconciles_what_other_prescribers_prescribe(
    record: PatientRecord, at: datetime
) -> None:
    record.reconcile_medications(
        PRESCRIBER,
        at,
        items=[SERTRALINE_FROM_PCP, TRAZODONE_CHANGED, DIPHENHYDRAMINE_STOPPED],
        source="patient interview and pharmacy fill history",
    )

    reconciled = only_event(record, MedicationsReconciled)
    assert_attributed(
        reconciled, actor=PRESCRIBER, data_class=DataClass.MEDICATION, clinical_time=at
    )
    assert [(i.drug, i.decision) for i in reconciled.items] == [
        ("sertraline", "confirmed"),
        ("trazodone", "changed"),
        ("diphenhydramine", "discontinued"),
    ]
    assert reconciled.items[0].prescribed_by == "Dr. Ng"
    assert reconciled.source == "patient interview and pharmacy fill history"
    assert "trazodone 50 mg once-daily changed to 25 mg at-bedtime" in reconciled.summary()


def test_the_record_shows_each_outside_medication_as_the_reconciliation_left_it(
    record: PatientRecord, at: datetime
) -> None:
    earlier = copy.deepcopy(record)
    record.reconcile_medications(
        PRESCRIBER, at, items=[SERTRALINE_FROM_PCP, TRAZODONE_CHANGED, DIPHENHYDRAMINE_STOPPED]
    )
    # The same state again, from the event alone applied to the record as it was before.
    (event,) = record.collect_events()
    event.mutate(earlier)

    for state in (record.state, earlier.state):
        outside = state.reconciled
        assert (outside["sertraline"].dose, outside["sertraline"].status) == (mg("50"), ACTIVE)
        trazodone = outside["trazodone"]
        assert (trazodone.dose, trazodone.frequency, trazodone.status) == (
            mg("25"),
            Frequency.AT_BEDTIME,
            ACTIVE,
        )
        assert outside["diphenhydramine"].status == STOPPED
        assert state.medications == {}  # prescribed elsewhere: not this record's medications


def test_a_later_reconciliation_updates_the_same_drug_however_it_is_written(
    at: datetime,
) -> None:
    record = a_registered_record()
    record.reconcile_medications(PRESCRIBER, at, items=[SERTRALINE_FROM_PCP])
    record = given(record)

    record.reconcile_medications(
        PRESCRIBER, at, items=[reported("Sertraline", "discontinued", reason="duplicate SSRI")]
    )

    only_event(record, MedicationsReconciled)
    assert list(record.state.reconciled) == ["sertraline"]
    assert record.state.reconciled["sertraline"].status == STOPPED


def test_a_reconciliation_leaves_the_records_own_medications_alone(at: datetime) -> None:
    record, medication_id = with_medication(a_registered_record())
    before = dict(record.state.medications)

    record.reconcile_medications(PRESCRIBER, at, items=[TRAZODONE_CHANGED])

    only_event(record, MedicationsReconciled)
    assert record.state.medications == before
    assert record.state.medications[medication_id].status == ACTIVE


def test_a_therapist_may_not_reconcile_medications(record: PatientRecord, at: datetime) -> None:
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.reconcile_medications(THERAPIST, at, items=[SERTRALINE_FROM_PCP])


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ([], "items"),
        ([SERTRALINE_FROM_PCP, reported("SERTRALINE", "confirmed")], "items.1.drug"),
        (
            [SERTRALINE_FROM_PCP, reported("Zoloft", "confirmed", rxnorm="36437")],
            "items.1.drug",
        ),
        ([reported("trazodone", "changed", reason="sedation")], "items.0.new_dose"),
        (
            [reported("trazodone", "changed", new_dose={"amount": "25", "unit": "mg"})],
            "items.0.reason",
        ),
        ([reported("diphenhydramine", "discontinued")], "items.0.reason"),
        (
            [reported("sertraline", "confirmed", new_dose={"amount": "100", "unit": "mg"})],
            "items.0.new_dose",
        ),
        (
            [
                reported(
                    "cetirizine",
                    "discontinued",
                    reason="not needed",
                    new_schedule={"frequency": "as-needed"},
                )
            ],
            "items.0.new_schedule",
        ),
        ([SERTRALINE_FROM_PCP, reported("lithium", "paused")], "items.1.decision"),
        ([reported("sertraline", "confirmed", rxnorm="RX36437")], "items.0.rxnorm"),
        (
            [reported("sertraline", "confirmed", dose={"amount": "-5", "unit": "mg"})],
            "items.0.dose.amount",
        ),
        ([{k: v for k, v in SERTRALINE_FROM_PCP.items() if k != "schedule"}], "items.0.schedule"),
        (
            [reported("trazodone", "changed", reason="x", new_dose={"amount": "1", "unit": "g"})],
            "items.0.new_dose.unit",
        ),
        (
            [
                reported(
                    "trazodone", "changed", reason="x", new_dose={"amount": "4000", "unit": "mg"}
                )
            ],
            "items.0.new_dose.amount",
        ),
    ],
    ids=[
        "empty list",
        "same drug twice",
        "same rxnorm twice",
        "change without new dose or schedule",
        "change without reason",
        "discontinuation without reason",
        "confirmation with a new dose",
        "discontinuation with a new schedule",
        "unknown decision",
        "malformed rxnorm",
        "negative dose",
        "no schedule",
        "a new dose in a unit foreign to the drug",
        "a new dose at ten times the maximum",
    ],
)
def test_a_malformed_reconciliation_is_refused_naming_the_field(
    record: PatientRecord, at: datetime, items: list[dict[str, Any]], field: str
) -> None:
    with refused(record, InvalidInput, field=field):
        record.reconcile_medications(PRESCRIBER, at, items=items)


def test_a_blank_source_is_refused(record: PatientRecord, at: datetime) -> None:
    with refused(record, InvalidInput, field="source"):
        record.reconcile_medications(PRESCRIBER, at, items=[SERTRALINE_FROM_PCP], source="  ")


def test_a_reconciliation_naming_sud_treatment_is_an_sud_record(
    record: PatientRecord, at: datetime
) -> None:
    record.reconcile_medications(PRESCRIBER, at, items=[SERTRALINE_FROM_PCP, METHADONE_FROM_OTP])

    assert only_event(record, MedicationsReconciled).part2
    assert record.state.reconciled["methadone"].sud


def test_a_part2_prescribers_reconciliation_is_an_sud_record(at: datetime) -> None:
    record = a_registered_record(part2=[PART2_PRESCRIBER])

    record.reconcile_medications(PART2_PRESCRIBER, at, items=[SERTRALINE_FROM_PCP])

    assert only_event(record, MedicationsReconciled).part2


def test_the_reported_schedule_is_kept_as_given(record: PatientRecord, at: datetime) -> None:
    item = reported(
        "melatonin", "confirmed", schedule={"frequency": "at-bedtime", "times": ["22:00"]}
    )

    record.reconcile_medications(PRESCRIBER, at, items=[item])

    schedule = only_event(record, MedicationsReconciled).items[0].schedule
    assert schedule == Schedule.model_validate({"frequency": "at-bedtime", "times": ["22:00"]})
