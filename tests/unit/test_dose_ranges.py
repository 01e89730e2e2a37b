"""The dose-range table's rows, each tested at its boundaries (generated from the rows, so
no row or threshold goes untested), and the daily dose for every schedule the vocabulary
has."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.dose import Dose
from domain.errors import InvalidInput, RuleViolation
from domain.medication import MedicationStarted
from domain.patient import PatientRecord
from domain.rules.dose_ranges import (
    ADMINISTRATIONS_PER_DAY,
    CEILING_FACTOR,
    DOSE_RANGES,
    GENERIC_PER_DAY,
    DoseRange,
    daily_amount,
)
from domain.vocabulary import DoseUnit, Frequency
from tests.unit.builders import PRESCRIBER, a_registered_record, days_ago, given, refused

WEIGHT = Decimal(70)
FIXED = [r for r in DOSE_RANGES if r.usual_max is not None]
# A code no row names, so each row is found by its drug's name.
NO_CODE = "999999"


def record_for(row: DoseRange) -> PatientRecord:
    """A record on which `row` is the one that applies: the regimen's other drug started,
    and a weight for a mg/kg row."""
    record = a_registered_record()
    if row.regimen == "with valproate":
        record.start_medication(
            PRESCRIBER, days_ago(20), medication_id=uuid4(), **body("valproate", "500")
        )
    if row.regimen == "with an enzyme inducer":
        record.start_medication(
            PRESCRIBER, days_ago(20), medication_id=uuid4(), **body("carbamazepine", "400")
        )
    if row.basis == "per-kg":
        record.record_vitals(PRESCRIBER, days_ago(15), weight_kg=str(WEIGHT))
    return given(record)


def body(drug: str, amount: Any, unit: str = "mg", **more: Any) -> dict[str, Any]:
    return {
        "drug": drug,
        "rxnorm": NO_CODE,
        "dose": {"amount": str(amount), "unit": unit},
        "schedule": {"frequency": "once-daily"},
        "indication": "synthetic",
        **more,
    }


def maximum(row: DoseRange) -> Decimal:
    assert row.usual_max is not None
    return row.usual_max * WEIGHT if row.basis == "per-kg" else row.usual_max


def start(
    row: DoseRange, amount: Decimal, override: str | None = None, unit: str = "mg"
) -> PatientRecord:
    record = record_for(row)
    frequency = "every-4-weeks" if row.per_days == 28 else "once-daily"
    route = sorted(row.routes)[0] if row.routes else "oral"
    record.start_medication(
        PRESCRIBER,
        days_ago(1),
        medication_id=uuid4(),
        **body(
            sorted(row.drugs.names)[0],
            amount,
            unit,
            schedule={"frequency": frequency},
            route=route,
            override_reason=override,
        ),
    )
    return record


def started(record: PatientRecord) -> MedicationStarted:
    found = [e for e in record.collect_events() if isinstance(e, MedicationStarted)]
    return found[-1]


ids = [r.rule_id for r in FIXED]


@pytest.mark.parametrize("row", FIXED, ids=ids)
def test_at_the_usual_maximum_a_dose_is_accepted(row: DoseRange) -> None:
    check = started(start(row, maximum(row))).dose_check
    assert check is not None
    assert (check.rule_id, check.above_usual_max) == (row.rule_id, False)


@pytest.mark.parametrize("row", FIXED, ids=ids)
def test_just_above_the_usual_maximum_a_dose_needs_an_override(row: DoseRange) -> None:
    above = maximum(row) + Decimal("0.01")
    record = record_for(row)
    with refused(record, RuleViolation, field="dose") as refusal:
        frequency = "every-4-weeks" if row.per_days == 28 else "once-daily"
        route = sorted(row.routes)[0] if row.routes else "oral"
        record.start_medication(
            PRESCRIBER,
            days_ago(1),
            medication_id=uuid4(),
            **body(
                sorted(row.drugs.names)[0], above, schedule={"frequency": frequency}, route=route
            ),
        )
    assert row.rule_id in str(refusal.value)

    check = started(start(row, above, override="synthetic reason")).dose_check
    assert check is not None and check.above_usual_max


@pytest.mark.parametrize("row", FIXED, ids=ids)
def test_just_below_the_ceiling_an_override_still_records_it(row: DoseRange) -> None:
    below = maximum(row) * CEILING_FACTOR - Decimal("0.01")
    event = started(start(row, below, override="synthetic reason"))
    assert event.override_reason == "synthetic reason"


@pytest.mark.parametrize("row", FIXED, ids=ids)
def test_at_the_ceiling_a_dose_is_refused_with_no_override(row: DoseRange) -> None:
    with pytest.raises(InvalidInput) as refusal:
        start(row, maximum(row) * CEILING_FACTOR, override="synthetic reason")
    assert [e.field for e in refusal.value.errors] == ["dose.amount"]
    assert "no override" in str(refusal.value)


@pytest.mark.parametrize("row", DOSE_RANGES, ids=[r.rule_id for r in DOSE_RANGES])
def test_a_unit_the_row_does_not_name_is_refused_with_those_it_does(row: DoseRange) -> None:
    foreign = next(u for u in (DoseUnit.G, DoseUnit.TABLET) if u not in row.units)
    with pytest.raises(InvalidInput) as refusal:
        start(row, Decimal(1), override="x", unit=foreign.value)
    [error] = refusal.value.errors
    assert error.field == "dose.unit"
    assert ", ".join(sorted(u.value for u in row.units)) in error.reason


@pytest.mark.parametrize("row", [r for r in DOSE_RANGES if r.usual_max is None])
def test_a_drug_with_no_fixed_maximum_is_held_only_to_plausibility(row: DoseRange) -> None:
    limit = GENERIC_PER_DAY[DoseUnit.MG]
    check = started(start(row, limit)).dose_check
    assert check is not None and not check.above_usual_max and check.notes
    with pytest.raises(InvalidInput):
        start(row, limit + Decimal("0.01"))


def test_every_row_names_its_source_and_none_is_checked_until_its_label_is_read() -> None:
    assert all(r.source and "label" in r.source for r in DOSE_RANGES)
    assert [r.rule_id for r in DOSE_RANGES if r.checked] == []
    ids = [r.rule_id for r in DOSE_RANGES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("frequency", list(Frequency))
def test_every_schedule_of_the_vocabulary_gives_a_daily_dose(frequency: Frequency) -> None:
    days = {"every-other-day": 2, "weekly": 7, "every-4-weeks": 28}.get(frequency.value, 1)
    dose = Dose(amount=Decimal(56), unit=DoseUnit.MG)
    assert daily_amount(dose, frequency).amount == Decimal(56) / days
    each = Dose(amount=Decimal(10), unit=DoseUnit.MG)
    split = daily_amount(dose, frequency, each).amount
    assert split == Decimal(10) * ADMINISTRATIONS_PER_DAY[frequency] / days


def test_a_split_counts_each_administration_and_grams_read_as_milligrams() -> None:
    each = Dose(amount=Decimal("0.1"), unit=DoseUnit.G)
    total = daily_amount(each, Frequency.THREE_TIMES_DAILY, each)
    assert (total.amount, total.unit) == (Decimal(300), DoseUnit.MG)


def test_a_stored_start_from_before_dose_checks_keeps_its_payload() -> None:
    """No dose_check or override_reason key is added to an event that has none, so the
    JSON views are built from stays byte for byte."""
    record = a_registered_record()
    record.start_medication(
        PRESCRIBER, days_ago(1), medication_id=uuid4(), **body("sertraline", "50")
    )
    stored = started(record).model_dump(mode="json")
    del stored["dose_check"]
    loaded = MedicationStarted.model_validate(stored)
    assert "dose_check" not in loaded.model_dump(mode="json")
    assert "override_reason" not in loaded.model_dump(mode="json")
    assert loaded.summary() == "started sertraline 50 mg once-daily for synthetic"


def test_a_stored_dose_above_todays_maximum_still_loads() -> None:
    """Validation belongs to the command: an event stored before a row existed is never
    re-judged when the record is loaded."""
    record = a_registered_record()
    medication_id: UUID = uuid4()
    record.start_medication(
        PRESCRIBER, days_ago(1), medication_id=medication_id, **body("sertraline", "50")
    )
    stored = started(record).model_dump(mode="json")
    stored["dose"] = {"amount": "5000", "unit": "mg"}
    del stored["dose_check"]
    assert MedicationStarted.model_validate(stored).dose.amount == Decimal(5000)


def test_moving_a_dose_to_another_time_asks_for_no_new_reason_but_more_a_day_does() -> None:
    record = a_registered_record()
    medication_id = uuid4()
    weekly = body("fluoxetine", "90", schedule={"frequency": "weekly"})
    record.start_medication(PRESCRIBER, days_ago(10), medication_id=medication_id, **weekly)
    record = given(record)

    record.change_timing(
        PRESCRIBER,
        days_ago(5),
        medication_id=medication_id,
        schedule={"frequency": "every-4-weeks"},
        reason="less often",
    )
    with refused(record, RuleViolation, field="schedule"):
        record.change_timing(
            PRESCRIBER,
            days_ago(1),
            medication_id=medication_id,
            schedule={"frequency": "once-daily"},
            reason="90 mg every day is above 80 mg/day",
        )
