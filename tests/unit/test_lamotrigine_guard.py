"""The lamotrigine titration guard: a dose step ahead of the label's schedule is refused
unless overridden with a reason (clinical/monitoring.md, 'Lamotrigine')."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.dose import Dose
from domain.errors import InvalidInput, NotPermittedAuthor, RuleViolation
from domain.medication import DoseChanged, MedicationStarted
from domain.patient import PatientRecord
from domain.rules.titration import LAMOTRIGINE_RESTART, LAMOTRIGINE_TITRATION, mg_per_day
from domain.vocabulary import DataClass, Frequency
from tests.unit.builders import (
    PRESCRIBER,
    SERTRALINE,
    SUPPORTER,
    THERAPIST,
    a_registered_record,
    days_ago,
    given,
    only_event,
    refused,
    with_medication,
)

LAMOTRIGINE: dict[str, Any] = {
    "drug": "lamotrigine",
    "rxnorm": "28439",
    "dose": {"amount": "25", "unit": "mg"},
    "schedule": {"frequency": "once-daily"},
    "indication": "bipolar II disorder, maintenance",
}
DIVALPROEX: dict[str, Any] = {
    "drug": "divalproex sodium",
    "rxnorm": "266856",
    "dose": {"amount": "750", "unit": "mg"},
    "schedule": {"frequency": "twice-daily"},
    "indication": "bipolar disorder",
}
CARBAMAZEPINE: dict[str, Any] = {
    "drug": "carbamazepine",
    "rxnorm": "2002",
    "dose": {"amount": "400", "unit": "mg"},
    "schedule": {"frequency": "twice-daily"},
    "indication": "epilepsy",
}


def mg(amount: str, unit: str = "mg") -> dict[str, str]:
    return {"amount": amount, "unit": unit}


def on_lamotrigine(
    started_days_ago: float, *, details: dict[str, Any] = LAMOTRIGINE, with_: Any = ()
) -> tuple[PatientRecord, UUID]:
    record = a_registered_record(at=days_ago(120))
    for other in with_:
        record, _ = with_medication(record, at=days_ago(100), details=other)
    return with_medication(record, at=days_ago(started_days_ago), details=details)


# --- the table ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("week", "alone", "with_valproate", "with_inducer"),
    [
        (1, "25", "12.5", "50"),
        (2, "25", "12.5", "50"),
        (3, "50", "25", "100"),
        (4, "50", "25", "100"),
        (5, "100", "50", "200"),
        (6, "200", "100", "300"),
    ],
)
def test_the_table_is_the_label_titration_for_bipolar_disorder(
    week: int, alone: str, with_valproate: str, with_inducer: str
) -> None:
    limits = [
        LAMOTRIGINE_TITRATION.maximum(regimen, week)
        for regimen in ("alone", "with valproate", "with an enzyme inducer")
    ]
    assert limits == [Decimal(alone), Decimal(with_valproate), Decimal(with_inducer)]


def test_the_table_ends_after_week_6_and_is_flagged_unchecked() -> None:
    assert LAMOTRIGINE_TITRATION.maximum("alone", 7) is None
    assert [c.checked for c in LAMOTRIGINE_TITRATION.columns] == [False, False, False]
    assert (LAMOTRIGINE_TITRATION.rule_id, LAMOTRIGINE_TITRATION.version) == (
        "lamotrigine-titration",
        "1",
    )


def test_a_daily_dose_counts_doses_taken_less_often_than_daily() -> None:
    dose = Dose.model_validate(mg("25"))
    assert mg_per_day(dose, Frequency.EVERY_OTHER_DAY) == Decimal("12.5")
    assert mg_per_day(dose, Frequency.TWICE_DAILY) == Decimal("25")
    assert mg_per_day(Dose.model_validate(mg("0.1", "g")), None) == Decimal("100")
    assert mg_per_day(Dose.model_validate(mg("1", "tablet")), None) is None


# --- the guard ----------------------------------------------------------------------------


def test_a_step_on_schedule_is_recorded() -> None:
    record, medication_id = on_lamotrigine(15.5)  # week 3: up to 50 mg/day alone

    record.change_dose(
        PRESCRIBER, days_ago(1), medication_id=medication_id, dose=mg("50"), reason="week 3"
    )

    changed = only_event(record, DoseChanged)
    assert changed.dose.amount == Decimal("50")
    assert changed.override_reason is None
    assert changed.data_class == DataClass.MEDICATION


def test_a_step_ahead_of_the_schedule_is_refused_naming_the_dose() -> None:
    record, medication_id = on_lamotrigine(10)  # week 2: up to 25 mg/day alone

    with refused(record, RuleViolation, field="dose") as refusal:
        record.change_dose(
            PRESCRIBER, days_ago(1), medication_id=medication_id, dose=mg("50"), reason="faster"
        )

    message = str(refusal.value)
    assert "week 2" in message and "25 mg/day alone" in message
    assert "lamotrigine-titration" in message and "override_reason" in message
    assert refusal.value.patient_id == record.id


def test_an_override_with_a_reason_is_recorded_on_the_event() -> None:
    record, medication_id = on_lamotrigine(10)
    why = "took lamotrigine 100 mg for 3 years until 2 weeks ago; restarting under supervision"

    record.change_dose(
        PRESCRIBER,
        days_ago(1),
        medication_id=medication_id,
        dose=mg("50"),
        reason="faster titration",
        override_reason=why,
    )

    changed = only_event(record, DoseChanged)
    assert changed.override_reason == why
    assert "titration overridden" in changed.summary()
    assert record.state.medications[medication_id].dose.amount == Decimal("50")


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_override_reason_is_no_reason(blank: str) -> None:
    record, medication_id = on_lamotrigine(10)
    with refused(record, RuleViolation, field="dose"):
        record.change_dose(
            PRESCRIBER,
            days_ago(1),
            medication_id=medication_id,
            dose=mg("50"),
            reason="faster",
            override_reason=blank,
        )


def test_a_blank_override_reason_on_a_step_on_schedule_records_none() -> None:
    record, medication_id = on_lamotrigine(15.5)
    record.change_dose(
        PRESCRIBER,
        days_ago(1),
        medication_id=medication_id,
        dose=mg("50"),
        reason="week 3",
        override_reason=" ",
    )
    assert only_event(record, DoseChanged).override_reason is None


def test_an_override_reason_that_is_not_text_is_refused_by_the_event() -> None:
    record, medication_id = on_lamotrigine(10)
    with refused(record, InvalidInput, field="override_reason"):
        record.change_dose(
            PRESCRIBER,
            days_ago(1),
            medication_id=medication_id,
            dose=mg("50"),
            reason="faster",
            override_reason=42,  # type: ignore[arg-type]
        )


def test_a_therapist_may_not_record_the_change_at_all() -> None:
    record, medication_id = on_lamotrigine(10)
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.change_dose(
            THERAPIST, days_ago(1), medication_id=medication_id, dose=mg("50"), reason="ordered"
        )


def test_who_may_record_is_decided_before_the_schedule() -> None:
    record, medication_id = on_lamotrigine(10)
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.change_dose(
            SUPPORTER, days_ago(1), medication_id=medication_id, dose=mg("50"), reason="x"
        )


def test_a_dose_in_grams_is_foreign_to_lamotrigine() -> None:
    record, medication_id = on_lamotrigine(3)
    with refused(record, InvalidInput, field="dose.unit"):
        record.change_dose(
            PRESCRIBER, days_ago(1), medication_id=medication_id, dose=mg("0.05", "g"), reason="x"
        )


def test_a_malformed_dose_is_refused_as_input_not_as_a_titration_step() -> None:
    record, medication_id = on_lamotrigine(3)
    with refused(record, InvalidInput, field="dose.amount"):
        record.change_dose(
            PRESCRIBER, days_ago(1), medication_id=medication_id, dose=mg("-5"), reason="x"
        )


def test_a_decrease_is_never_refused() -> None:
    record, medication_id = on_lamotrigine(3, details={**LAMOTRIGINE, "dose": mg("100")})
    record.change_dose(
        PRESCRIBER, days_ago(1), medication_id=medication_id, dose=mg("50"), reason="rash"
    )
    assert only_event(record, DoseChanged).dose.amount == Decimal("50")


def test_after_week_6_the_schedule_no_longer_limits_the_dose() -> None:
    record, medication_id = on_lamotrigine(50)  # week 8: 200 mg, the usual maximum
    record.change_dose(
        PRESCRIBER, days_ago(1), medication_id=medication_id, dose=mg("200"), reason="partial"
    )
    assert only_event(record, DoseChanged).dose.amount == Decimal("200")


def test_lamotrigine_is_recognised_by_name_as_well_as_by_code() -> None:
    details = {**LAMOTRIGINE, "drug": "Lamotrigine extended-release", "rxnorm": "1099870"}
    record, medication_id = on_lamotrigine(3, details=details)
    with refused(record, RuleViolation, field="dose"):
        record.change_dose(
            PRESCRIBER, days_ago(1), medication_id=medication_id, dose=mg("50"), reason="x"
        )


def test_other_drugs_are_not_held_to_the_lamotrigine_schedule() -> None:
    record, medication_id = with_medication(
        a_registered_record(), at=days_ago(3), details=SERTRALINE
    )
    record.change_dose(
        PRESCRIBER, days_ago(1), medication_id=medication_id, dose=mg("200"), reason="x"
    )
    assert only_event(record, DoseChanged).dose.amount == Decimal("200")


# --- the regimen the record shows ---------------------------------------------------------


def test_with_valproate_the_slower_column_applies() -> None:
    every_other_day = {**LAMOTRIGINE, "schedule": {"frequency": "every-other-day"}}
    record, medication_id = on_lamotrigine(10, details=every_other_day, with_=[DIVALPROEX])
    # 25 mg every other day is 12.5 mg/day; 25 mg daily in week 2 is twice the schedule.
    with refused(record, RuleViolation, field="dose") as refusal:
        record.change_dose(
            PRESCRIBER, days_ago(1), medication_id=medication_id, dose=mg("50"), reason="x"
        )
    assert "12.5 mg/day with valproate" in str(refusal.value)

    record, medication_id = on_lamotrigine(15.5, details=every_other_day, with_=[DIVALPROEX])
    record.change_dose(
        PRESCRIBER, days_ago(1), medication_id=medication_id, dose=mg("50"), reason="week 3"
    )
    assert only_event(record, DoseChanged).dose.amount == Decimal("50")


def test_a_change_of_timing_changes_how_the_dose_is_read() -> None:
    record, medication_id = on_lamotrigine(15.5, with_=[DIVALPROEX])  # week 3: 25 mg/day
    record.change_timing(
        PRESCRIBER,
        days_ago(2),
        medication_id=medication_id,
        schedule={"frequency": "every-other-day"},
        reason="with valproate: every other day",
    )
    record = given(record)
    with refused(record, RuleViolation, field="dose"):
        record.change_dose(  # 60 mg every other day is 30 mg/day
            PRESCRIBER, days_ago(1), medication_id=medication_id, dose=mg("60"), reason="x"
        )


def test_a_stopped_valproate_no_longer_slows_the_schedule() -> None:
    record = a_registered_record(at=days_ago(120))
    record, valproate = with_medication(record, at=days_ago(100), details=DIVALPROEX)
    record.stop_medication(PRESCRIBER, days_ago(20), medication_id=valproate, reason="tremor")
    record, medication_id = with_medication(given(record), at=days_ago(15.5), details=LAMOTRIGINE)

    record.change_dose(
        PRESCRIBER, days_ago(1), medication_id=medication_id, dose=mg("50"), reason="week 3"
    )

    assert only_event(record, DoseChanged).dose.amount == Decimal("50")


def test_with_an_enzyme_inducer_the_faster_column_applies() -> None:
    record, medication_id = on_lamotrigine(10, with_=[CARBAMAZEPINE])
    record.change_dose(
        PRESCRIBER, days_ago(1), medication_id=medication_id, dose=mg("50"), reason="week 2"
    )
    assert only_event(record, DoseChanged).dose.amount == Decimal("50")

    with refused(record, RuleViolation, field="dose") as refusal:
        record.change_dose(
            PRESCRIBER, days_ago(0.5), medication_id=medication_id, dose=mg("100"), reason="x"
        )
    assert "with an enzyme inducer" in str(refusal.value)


def test_a_switch_to_lamotrigine_starts_its_schedule_at_the_switch() -> None:
    record, old = with_medication(a_registered_record(at=days_ago(120)), at=days_ago(90))
    lamotrigine = uuid4()
    record.switch_medication(
        PRESCRIBER,
        days_ago(3),
        medication_id=old,
        to_medication_id=lamotrigine,
        **LAMOTRIGINE,
        reason="bipolar depression",
    )
    record = given(record)
    with refused(record, RuleViolation, field="dose"):
        record.change_dose(
            PRESCRIBER, days_ago(1), medication_id=lamotrigine, dose=mg("50"), reason="x"
        )


# --- stored events ------------------------------------------------------------------------


def test_a_dose_change_stored_before_override_reasons_still_loads() -> None:
    record, medication_id = on_lamotrigine(15.5)
    record.change_dose(
        PRESCRIBER, days_ago(1), medication_id=medication_id, dose=mg("50"), reason="week 3"
    )
    stored = only_event(record, DoseChanged).model_dump(mode="json")
    del stored["override_reason"]

    loaded = DoseChanged.model_validate(stored)

    assert loaded.override_reason is None
    assert loaded.summary() == "dose changed to 50 mg: week 3"


# --- a restart after more than 5 half-lives (generated from the rule's regimens) -----------

RESTART_CASES = [
    (regimen, over) for regimen, _ in LAMOTRIGINE_RESTART.half_life_hours for over in (False, True)
]


@pytest.mark.parametrize(
    ("regimen", "over"),
    RESTART_CASES,
    ids=[f"{r}-{'over' if o else 'at'}" for r, o in RESTART_CASES],
)
def test_a_restart_is_held_to_the_first_step_only_beyond_5_half_lives(
    regimen: str, over: bool
) -> None:
    """Restarted exactly 5 half-lives after the stop, the previous dose may be resumed;
    a minute later, a dose above the titration's first step is refused (naming `dose`)."""
    with_ = {"with valproate": (DIVALPROEX,), "with an enzyme inducer": (CARBAMAZEPINE,)}
    record, first = on_lamotrigine(90, with_=with_.get(regimen, ()))
    stopped = days_ago(40)
    record.stop_medication(PRESCRIBER, stopped, medication_id=first, reason="interrupted")
    given(record)
    at = (
        stopped + LAMOTRIGINE_RESTART.gap(regimen) + (timedelta(minutes=1) if over else timedelta())
    )
    above = LAMOTRIGINE_RESTART.first_step(regimen) * 2
    details = {**LAMOTRIGINE, "dose": mg(f"{above.normalize():f}")}
    if over:
        with refused(record, RuleViolation, field="dose") as info:
            record.start_medication(PRESCRIBER, at, medication_id=uuid4(), **details)
        assert "more than 5 half-lives" in str(info.value)
    else:
        record.start_medication(PRESCRIBER, at, medication_id=uuid4(), **details)
        assert only_event(record, MedicationStarted).restarted_after is None
