"""Medication management: evaluation, starts, titration, changes, effects, tapers, stops."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from domain.dose import Dose
from domain.errors import (
    InvalidInput,
    NotPermittedAuthor,
    RuleViolation,
    UnknownReference,
)
from domain.events import Actor
from domain.medication import (
    ACTIVE,
    STOPPED,
    TAPERING,
    AdherenceRecorded,
    DoseChanged,
    DoseReported,
    DoseTimingChanged,
    EvaluationRecorded,
    MedicationReassessed,
    MedicationStarted,
    MedicationStopped,
    MedicationSwitched,
    SideEffectReported,
    TaperStarted,
    TitrationPlanned,
)
from domain.patient import PatientRecord
from domain.vocabulary import DataClass, DoseUnit, Frequency, Role, Severity
from tests.unit.builders import (
    BUPRENORPHINE,
    PART2_PRESCRIBER,
    PATIENT,
    PRESCRIBER,
    SERTRALINE,
    SUPPORTER,
    THERAPIST,
    a_registered_record,
    assert_attributed,
    days_ago,
    given,
    only_event,
    recorded,
    refused,
    with_medication,
)


def mg(amount: str) -> Dose:
    return Dose(amount=Decimal(amount), unit=DoseUnit.MG)


# --- evaluation -----------------------------------------------------------------------


def test_a_prescriber_records_an_evaluation(record: PatientRecord, at: datetime) -> None:
    record.record_evaluation(
        PRESCRIBER,
        at,
        symptom_history="Low mood and anhedonia for 3 months; second episode.",
        comorbidities=[{"icd10": "f41.1", "description": "Generalized anxiety disorder"}],
        prior_trials=[
            {
                "drug": "fluoxetine",
                "rxnorm": "4493",
                "max_dose": {"amount": "20", "unit": "mg"},
                "weeks": 6,
                "response": "partial",
                "stopped_because": "insomnia",
            }
        ],
        preferences="Prefers once-daily dosing; concerned about weight gain.",
    )

    evaluation = only_event(record, EvaluationRecorded)
    assert_attributed(
        evaluation, actor=PRESCRIBER, data_class=DataClass.PROGRESS_NOTE, clinical_time=at
    )
    assert evaluation.comorbidities[0].icd10 == "F41.1"
    trial = evaluation.prior_trials[0]
    assert (trial.drug, trial.rxnorm, trial.max_dose, trial.weeks, trial.response) == (
        "fluoxetine",
        "4493",
        mg("20"),
        6,
        "partial",
    )
    assert evaluation.family_history is None


def test_an_evaluation_needs_a_symptom_history(record: PatientRecord, at: datetime) -> None:
    with refused(record, InvalidInput, field="symptom_history") as refusal:
        record.record_evaluation(PRESCRIBER, at, preferences="none")
    assert refusal.value.errors[0].reason == "is required"


def test_a_prior_trial_with_a_malformed_rxnorm_code_is_refused(
    record: PatientRecord, at: datetime
) -> None:
    with refused(record, InvalidInput, field="prior_trials.0.rxnorm"):
        record.record_evaluation(
            PRESCRIBER,
            at,
            symptom_history="x",
            prior_trials=[
                {"drug": "fluoxetine", "rxnorm": "RX4493", "weeks": 6, "response": "none"}
            ],
        )


def test_a_therapist_may_not_record_a_medication_evaluation(
    record: PatientRecord, at: datetime
) -> None:
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.record_evaluation(THERAPIST, at, symptom_history="x")


# --- starting -------------------------------------------------------------------------


def test_a_prescriber_starts_a_medication(record: PatientRecord, at: datetime) -> None:
    medication_id = uuid4()

    record.start_medication(PRESCRIBER, at, medication_id=medication_id, **SERTRALINE)

    started = only_event(record, MedicationStarted)
    assert_attributed(started, actor=PRESCRIBER, data_class=DataClass.MEDICATION, clinical_time=at)
    assert started.medication_id == medication_id
    assert (started.drug, started.rxnorm, started.route) == ("sertraline", "36437", "oral")
    assert started.dose == mg("25")
    assert started.schedule.frequency == Frequency.ONCE_DAILY
    assert started.schedule.times == [time(8, 0)]
    assert started.indication == "major depressive disorder, recurrent"
    assert started.sud_treatment is False
    medication = record.state.medications[medication_id]
    assert (medication.drug, medication.dose, medication.status, medication.sud) == (
        "sertraline",
        mg("25"),
        ACTIVE,
        False,
    )


def test_a_nasal_medication_is_started(record: PatientRecord, at: datetime) -> None:
    esketamine = {
        "drug": "esketamine",
        "rxnorm": "2119365",
        "dose": {"amount": "56", "unit": "mg"},
        "schedule": {"frequency": "weekly"},
        "route": "nasal",
        "indication": "treatment-resistant depression",
    }

    record.start_medication(PRESCRIBER, at, medication_id=uuid4(), **esketamine)

    assert only_event(record, MedicationStarted).route == "nasal"


def test_starting_a_medication_requires_an_indication(record: PatientRecord, at: datetime) -> None:
    details = {k: v for k, v in SERTRALINE.items() if k != "indication"}
    with refused(record, InvalidInput, field="indication") as refusal:
        record.start_medication(PRESCRIBER, at, medication_id=uuid4(), **details)
    assert refusal.value.errors == [refusal.value.errors[0]]
    assert refusal.value.errors[0].reason == "is required"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"dose": {"amount": "0", "unit": "mg"}}, "dose.amount"),
        ({"dose": {"amount": "-25", "unit": "mg"}}, "dose.amount"),
        ({"dose": {"amount": "25", "unit": "drops"}}, "dose.unit"),
        ({"dose": {"amount": "0.00001", "unit": "mg"}}, "dose.amount"),
        ({"rxnorm": "36437a"}, "rxnorm"),
        ({"rxnorm": "036437"}, "rxnorm"),
        ({"schedule": {"frequency": "hourly"}}, "schedule.frequency"),
        ({"route": "inhaled"}, "route"),
        ({"drug": ""}, "drug"),
    ],
)
def test_starting_a_medication_refuses_a_malformed_field(
    record: PatientRecord, at: datetime, changes: dict[str, Any], field: str
) -> None:
    with refused(record, InvalidInput, field=field):
        record.start_medication(PRESCRIBER, at, medication_id=uuid4(), **{**SERTRALINE, **changes})


def test_a_therapist_may_not_start_a_medication(record: PatientRecord, at: datetime) -> None:
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.start_medication(THERAPIST, at, medication_id=uuid4(), **SERTRALINE)


def test_a_medication_id_cannot_be_started_twice(record: PatientRecord, at: datetime) -> None:
    record, medication_id = with_medication(record)
    with refused(record, RuleViolation, field="medication_id"):
        record.start_medication(PRESCRIBER, at, medication_id=medication_id, **SERTRALINE)


def test_a_medication_for_a_substance_use_disorder_is_an_sud_record(
    record: PatientRecord, at: datetime
) -> None:
    medication_id = uuid4()

    record.start_medication(PRESCRIBER, at, medication_id=medication_id, **BUPRENORPHINE)

    started = only_event(record, MedicationStarted)
    assert started.sud_treatment is True
    assert started.part2
    assert started.route == "sublingual"
    assert record.state.medications[medication_id].sud is True


@pytest.mark.parametrize(
    "command",
    [
        lambda r, m, at: r.change_dose(
            PRESCRIBER, at, medication_id=m, dose=mg("12"), reason="induction complete"
        ),
        lambda r, m, at: r.report_side_effect(
            PATIENT, at, medication_id=m, effect="constipation", severity=Severity.MILD
        ),
        lambda r, m, at: r.record_adherence(
            THERAPIST, at, medication_id=m, period_days=7, doses_prescribed=7, doses_taken=7
        ),
        lambda r, m, at: r.stop_medication(PRESCRIBER, at, medication_id=m, reason="completed"),
    ],
    ids=["dose change", "patient's side effect", "therapist's adherence note", "stop"],
)
def test_every_event_about_an_sud_medication_is_an_sud_record(
    record: PatientRecord, at: datetime, command: Any
) -> None:
    record, medication_id = with_medication(record, details=BUPRENORPHINE)

    command(record, medication_id, at)

    [event] = recorded(record)
    assert event.part2


@pytest.mark.parametrize("flag", ["false", "no", "0", 0])
def test_a_sud_flag_that_says_no_is_not_an_sud_record(
    record: PatientRecord, at: datetime, flag: Any
) -> None:
    medication_id = uuid4()

    record.start_medication(
        PRESCRIBER, at, medication_id=medication_id, **{**SERTRALINE, "sud_treatment": flag}
    )

    started = only_event(record, MedicationStarted)
    assert (started.sud_treatment, started.data_class) == (False, DataClass.MEDICATION)
    assert record.state.medications[medication_id].sud is False


@pytest.mark.parametrize("flag", ["true", "yes", 1])
def test_a_sud_flag_that_says_yes_is_an_sud_record(
    record: PatientRecord, at: datetime, flag: Any
) -> None:
    record.start_medication(
        PRESCRIBER, at, medication_id=uuid4(), **{**BUPRENORPHINE, "sud_treatment": flag}
    )

    started = only_event(record, MedicationStarted)
    assert (started.sud_treatment, started.part2) == (True, True)


@pytest.mark.parametrize("flag", ["maybe", 2, None, [True]])
def test_a_sud_flag_that_is_not_yes_or_no_is_refused(
    record: PatientRecord, at: datetime, flag: Any
) -> None:
    with refused(record, InvalidInput, field="sud_treatment"):
        record.start_medication(
            PRESCRIBER, at, medication_id=uuid4(), **{**SERTRALINE, "sud_treatment": flag}
        )


def test_a_part2_prescribers_antidepressant_is_an_sud_record(at: datetime) -> None:
    record = a_registered_record(part2=[PART2_PRESCRIBER])

    record.start_medication(PART2_PRESCRIBER, at, medication_id=uuid4(), **SERTRALINE)

    started = only_event(record, MedicationStarted)
    assert started.sud_treatment is False
    assert started.part2


# --- titration and dose changes -------------------------------------------------------


def test_a_titration_plan_is_recorded_in_date_order(record: PatientRecord, at: datetime) -> None:
    record, medication_id = with_medication(record)
    steps = [
        {"on_or_after": date(2030, 1, 8), "dose": {"amount": "50", "unit": "mg"}},
        {"on_or_after": date(2030, 1, 22), "dose": {"amount": "100", "unit": "mg"}},
    ]

    record.plan_titration(PRESCRIBER, at, medication_id=medication_id, steps=steps)

    plan = only_event(record, TitrationPlanned)
    assert_attributed(plan, actor=PRESCRIBER, data_class=DataClass.MEDICATION, clinical_time=at)
    assert [(s.on_or_after, s.dose) for s in plan.steps] == [
        (date(2030, 1, 8), mg("50")),
        (date(2030, 1, 22), mg("100")),
    ]


def test_a_titration_plan_out_of_date_order_is_refused(record: PatientRecord, at: datetime) -> None:
    record, medication_id = with_medication(record)
    steps = [
        {"on_or_after": date(2030, 1, 22), "dose": {"amount": "100", "unit": "mg"}},
        {"on_or_after": date(2030, 1, 8), "dose": {"amount": "50", "unit": "mg"}},
    ]
    with refused(record, InvalidInput) as refusal:
        record.plan_titration(PRESCRIBER, at, medication_id=medication_id, steps=steps)
    assert "date order" in refusal.value.errors[0].reason


def test_a_titration_plan_out_of_date_order_names_the_steps(
    record: PatientRecord, at: datetime
) -> None:
    record, medication_id = with_medication(record)
    steps = [
        {"on_or_after": date(2030, 1, 22), "dose": {"amount": "100", "unit": "mg"}},
        {"on_or_after": date(2030, 1, 8), "dose": {"amount": "50", "unit": "mg"}},
    ]
    with refused(record, InvalidInput, field="steps"):
        record.plan_titration(PRESCRIBER, at, medication_id=medication_id, steps=steps)


def test_a_taper_out_of_date_order_names_the_steps(record: PatientRecord, at: datetime) -> None:
    record, medication_id = with_medication(record)
    steps = [
        {"on_or_after": date(2030, 2, 15), "dose": {"amount": "20", "unit": "mg"}},
        {"on_or_after": date(2030, 2, 1), "dose": {"amount": "12.5", "unit": "mg"}},
    ]
    with refused(record, InvalidInput, field="steps") as refusal:
        record.start_taper(PRESCRIBER, at, medication_id=medication_id, steps=steps, reason="x")
    assert "date order" in refusal.value.errors[0].reason


def test_a_taper_whose_step_goes_up_is_refused_by_its_step(
    record: PatientRecord, at: datetime
) -> None:
    record, medication_id = with_medication(record)
    steps = [
        {"on_or_after": date(2030, 2, 1), "dose": {"amount": "12.5", "unit": "mg"}},
        {"on_or_after": date(2030, 2, 15), "dose": {"amount": "20", "unit": "mg"}},
    ]
    with refused(record, InvalidInput, field="steps.1.dose") as refusal:
        record.start_taper(PRESCRIBER, at, medication_id=medication_id, steps=steps, reason="x")
    assert "a taper goes down" in refusal.value.errors[0].reason


def test_an_empty_titration_plan_is_refused(record: PatientRecord, at: datetime) -> None:
    record, medication_id = with_medication(record)
    with refused(record, InvalidInput, field="steps"):
        record.plan_titration(PRESCRIBER, at, medication_id=medication_id, steps=[])


def test_the_dose_is_changed(record: PatientRecord, at: datetime) -> None:
    record, medication_id = with_medication(record)

    record.change_dose(
        PRESCRIBER, at, medication_id=medication_id, dose=mg("50"), reason="partial response"
    )

    changed = only_event(record, DoseChanged)
    assert_attributed(changed, actor=PRESCRIBER, data_class=DataClass.MEDICATION, clinical_time=at)
    assert (changed.medication_id, changed.dose, changed.reason) == (
        medication_id,
        mg("50"),
        "partial response",
    )
    assert record.state.medications[medication_id].dose == mg("50")


@pytest.mark.parametrize(
    ("dose", "field"),
    [
        ({"amount": "0", "unit": "mg"}, "dose.amount"),
        ({"amount": "-50", "unit": "mg"}, "dose.amount"),
        ({"amount": "50", "unit": "milligrams"}, "dose.unit"),
        ({"amount": "50"}, "dose.unit"),
    ],
    ids=["zero", "negative", "unknown unit", "no unit"],
)
def test_a_dose_change_to_a_malformed_dose_is_refused(
    record: PatientRecord, at: datetime, dose: dict[str, str], field: str
) -> None:
    record, medication_id = with_medication(record)
    with refused(record, InvalidInput, field=field):
        record.change_dose(PRESCRIBER, at, medication_id=medication_id, dose=dose, reason="x")
    assert record.state.medications[medication_id].dose == mg("25")


def test_a_dose_change_for_an_unknown_medication_is_refused(
    record: PatientRecord, at: datetime
) -> None:
    with refused(record, UnknownReference, field="medication_id") as refusal:
        record.change_dose(PRESCRIBER, at, medication_id=uuid4(), dose=mg("50"), reason="x")
    assert refusal.value.patient_id == record.id


def test_a_therapist_records_what_the_patient_reports_taking_not_an_order(
    record: PatientRecord, at: datetime
) -> None:
    record, medication_id = with_medication(record)
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.change_dose(
            THERAPIST, at, medication_id=medication_id, dose=mg("50"), reason="ordered by Dr L"
        )

    record.report_dose_taken(
        THERAPIST, at, medication_id=medication_id, dose=mg("50"), note="says Dr L raised it"
    )

    reported = only_event(record, DoseReported)
    assert_attributed(reported, actor=THERAPIST, data_class=DataClass.MEDICATION, clinical_time=at)
    assert "not an order" in reported.summary()
    assert record.state.medications[medication_id].dose != mg("50")  # the order stands


def test_the_patient_reports_what_they_take(record: PatientRecord, at: datetime) -> None:
    record, medication_id = with_medication(record)
    record.report_dose_taken(PATIENT, at, medication_id=medication_id, dose=mg("25"))
    assert only_event(record, DoseReported).actor == PATIENT


@pytest.mark.parametrize("author", [PATIENT, SUPPORTER])
def test_only_the_treating_team_changes_a_dose(
    record: PatientRecord, at: datetime, author: Actor
) -> None:
    record, medication_id = with_medication(record)
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.change_dose(author, at, medication_id=medication_id, dose=mg("50"), reason="x")


@pytest.mark.parametrize(
    "command",
    [
        lambda r, m, at: r.plan_titration(
            THERAPIST,
            at,
            medication_id=m,
            steps=[{"on_or_after": date(2030, 1, 1), "dose": {"amount": "50", "unit": "mg"}}],
        ),
        lambda r, m, at: r.change_timing(
            THERAPIST, at, medication_id=m, schedule={"frequency": "weekly"}, reason="x"
        ),
        lambda r, m, at: r.switch_medication(
            THERAPIST, at, medication_id=m, to_medication_id=uuid4(), **SERTRALINE, reason="x"
        ),
        lambda r, m, at: r.reassess_medication(
            THERAPIST, at, medication_id=m, assessment="x", decision="stop"
        ),
        lambda r, m, at: r.start_taper(
            THERAPIST,
            at,
            medication_id=m,
            steps=[{"on_or_after": date(2030, 1, 1), "dose": {"amount": "12.5", "unit": "mg"}}],
            reason="x",
        ),
        lambda r, m, at: r.stop_medication(THERAPIST, at, medication_id=m, reason="x"),
    ],
    ids=["titration", "timing", "switch", "reassess", "taper", "stop"],
)
def test_a_therapist_may_not_make_prescribing_decisions(
    record: PatientRecord, at: datetime, command: Any
) -> None:
    record, medication_id = with_medication(record)
    with refused(record, NotPermittedAuthor, field="actor.role"):
        command(record, medication_id, at)


def test_the_dose_is_split_across_the_day(record: PatientRecord, at: datetime) -> None:
    record, medication_id = with_medication(record)

    record.change_timing(
        PRESCRIBER,
        at,
        medication_id=medication_id,
        schedule={"frequency": "twice-daily", "times": ["08:00", "20:00"]},
        dose_per_administration={"amount": "12.5", "unit": "mg"},
        reason="nausea with the single morning dose",
    )

    changed = only_event(record, DoseTimingChanged)
    assert_attributed(changed, actor=PRESCRIBER, data_class=DataClass.MEDICATION, clinical_time=at)
    assert changed.schedule.frequency == Frequency.TWICE_DAILY
    assert changed.schedule.times == [time(8, 0), time(20, 0)]
    assert changed.dose_per_administration == mg("12.5")


def test_a_schedule_has_at_most_six_times(record: PatientRecord, at: datetime) -> None:
    record, medication_id = with_medication(record)
    with refused(record, InvalidInput, field="schedule.times"):
        record.change_timing(
            PRESCRIBER,
            at,
            medication_id=medication_id,
            schedule={"frequency": "as-needed", "times": [f"{h:02d}:00" for h in range(7)]},
            reason="x",
        )


# --- switches -------------------------------------------------------------------------


def test_a_switch_stops_the_old_medication_and_starts_the_new(
    record: PatientRecord, at: datetime
) -> None:
    record, medication_id = with_medication(record)
    to_medication_id = uuid4()

    record.switch_medication(
        PRESCRIBER,
        at,
        medication_id=medication_id,
        to_medication_id=to_medication_id,
        drug="escitalopram",
        rxnorm="321988",
        dose={"amount": "10", "unit": "mg"},
        schedule={"frequency": "once-daily"},
        indication="major depressive disorder, recurrent",
        cross_taper=True,
        reason="no response after 8 weeks at 150 mg",
    )

    switched = only_event(record, MedicationSwitched)
    assert_attributed(switched, actor=PRESCRIBER, data_class=DataClass.MEDICATION, clinical_time=at)
    assert (switched.medication_id, switched.to_medication_id) == (medication_id, to_medication_id)
    assert (switched.drug, switched.dose, switched.cross_taper) == ("escitalopram", mg("10"), True)
    assert record.state.medications[medication_id].status == STOPPED
    new = record.state.medications[to_medication_id]
    assert (new.drug, new.dose, new.status, new.sud) == ("escitalopram", mg("10"), ACTIVE, False)


def test_a_medication_switched_from_sud_treatment_stays_sud(
    record: PatientRecord, at: datetime
) -> None:
    record, medication_id = with_medication(record, details=BUPRENORPHINE)
    to_medication_id = uuid4()
    record.switch_medication(
        PRESCRIBER,
        at,
        medication_id=medication_id,
        to_medication_id=to_medication_id,
        drug="buprenorphine extended-release injection",
        rxnorm="1996189",
        route="subcutaneous",
        dose={"amount": "300", "unit": "mg"},
        schedule={"frequency": "every-4-weeks"},
        indication="opioid use disorder",
        reason="daily sublingual dosing missed often",
    )
    assert only_event(record, MedicationSwitched).part2

    record.change_dose(
        PRESCRIBER, at, medication_id=to_medication_id, dose=mg("100"), reason="maintenance"
    )

    assert only_event(record, DoseChanged).part2


ESCITALOPRAM: dict[str, Any] = {
    "drug": "escitalopram",
    "rxnorm": "321988",
    "dose": {"amount": "10", "unit": "mg"},
    "schedule": {"frequency": "once-daily"},
    "indication": "major depressive disorder, recurrent",
}


def test_a_switch_to_sud_treatment_makes_the_new_medication_sud(
    record: PatientRecord, at: datetime
) -> None:
    record, medication_id = with_medication(record)
    to_medication_id = uuid4()

    record.switch_medication(
        PRESCRIBER,
        at,
        medication_id=medication_id,
        to_medication_id=to_medication_id,
        **{k: v for k, v in BUPRENORPHINE.items() if k != "route"},
        reason="opioid use disorder diagnosed; sertraline no longer needed",
    )

    switched = only_event(record, MedicationSwitched)
    assert (switched.sud_treatment, switched.part2) == (True, True)
    assert record.state.medications[to_medication_id].sud is True
    assert record.state.medications[medication_id].sud is False


def test_a_switch_from_sud_treatment_to_other_treatment_is_sud_but_what_follows_is_not(
    record: PatientRecord, at: datetime
) -> None:
    record, medication_id = with_medication(record, details=BUPRENORPHINE)
    to_medication_id = uuid4()

    record.switch_medication(
        PRESCRIBER,
        at,
        medication_id=medication_id,
        to_medication_id=to_medication_id,
        **ESCITALOPRAM,
        sud_treatment="false",
        reason="taper off buprenorphine completed elsewhere; depression remains",
    )

    # The switch names the buprenorphine, so it stays an SUD record...
    switched = only_event(record, MedicationSwitched)
    assert (switched.sud_treatment, switched.part2) == (False, True)
    # ...but the escitalopram is ordinary treatment from now on.
    record.change_dose(
        PRESCRIBER, at, medication_id=to_medication_id, dose=mg("15"), reason="partial response"
    )
    assert only_event(record, DoseChanged).data_class == DataClass.MEDICATION


def test_a_switch_records_that_the_new_medication_follows_the_old_by_default(
    record: PatientRecord, at: datetime
) -> None:
    record, medication_id = with_medication(record)
    record.switch_medication(
        PRESCRIBER,
        at,
        medication_id=medication_id,
        to_medication_id=uuid4(),
        **ESCITALOPRAM,
        reason="x",
    )
    assert only_event(record, MedicationSwitched).sud_treatment is False


def test_a_switch_with_a_malformed_sud_flag_is_refused(record: PatientRecord, at: datetime) -> None:
    record, medication_id = with_medication(record)
    with refused(record, InvalidInput, field="sud_treatment"):
        record.switch_medication(
            PRESCRIBER,
            at,
            medication_id=medication_id,
            to_medication_id=uuid4(),
            **ESCITALOPRAM,
            sud_treatment="maybe",
            reason="x",
        )


def test_a_switch_recorded_before_the_flag_existed_follows_the_old_medication(
    record: PatientRecord, at: datetime
) -> None:
    record, medication_id = with_medication(record, details=BUPRENORPHINE)
    to_medication_id = uuid4()
    legacy = MedicationSwitched(
        originator_id=record.id,
        originator_version=record.version + 1,
        actor=PRESCRIBER,
        data_class=DataClass.SUD,
        clinical_time=at,
        medication_id=medication_id,
        to_medication_id=to_medication_id,
        drug="buprenorphine extended-release injection",
        rxnorm="1996189",
        dose=mg("300"),
        schedule={"frequency": "weekly"},
        indication="opioid use disorder",
        reason="x",
    )

    legacy.mutate(record)

    assert legacy.sud_treatment is None
    assert record.state.medications[to_medication_id].sud is True


def test_a_switch_to_an_existing_medication_id_is_refused(
    record: PatientRecord, at: datetime
) -> None:
    record, first = with_medication(record)
    record, second = with_medication(record)
    with refused(record, RuleViolation, field="to_medication_id"):
        record.switch_medication(
            PRESCRIBER, at, medication_id=first, to_medication_id=second, **SERTRALINE, reason="x"
        )


# --- effects, adherence, reassessment -------------------------------------------------


def test_the_patient_reports_a_side_effect(record: PatientRecord, at: datetime) -> None:
    record, medication_id = with_medication(record)

    record.report_side_effect(
        PATIENT,
        at,
        medication_id=medication_id,
        effect="nausea in the morning",
        severity=Severity.MILD,
    )

    effect = only_event(record, SideEffectReported)
    assert_attributed(effect, actor=PATIENT, data_class=DataClass.MEDICATION, clinical_time=at)
    assert (effect.effect, effect.severity) == ("nausea in the morning", Severity.MILD)


def test_a_side_effect_has_a_known_severity(record: PatientRecord, at: datetime) -> None:
    record, medication_id = with_medication(record)
    with refused(record, InvalidInput, field="severity"):
        record.report_side_effect(
            PATIENT,
            at,
            medication_id=medication_id,
            effect="x",
            severity="unbearable",  # type: ignore[arg-type]
        )


def test_a_supporter_may_not_report_a_side_effect(record: PatientRecord, at: datetime) -> None:
    record, medication_id = with_medication(record)
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.report_side_effect(
            SUPPORTER, at, medication_id=medication_id, effect="x", severity=Severity.MILD
        )


def test_the_patient_records_adherence(record: PatientRecord, at: datetime) -> None:
    record, medication_id = with_medication(record)

    record.record_adherence(
        PATIENT, at, medication_id=medication_id, period_days=7, doses_prescribed=7, doses_taken=5
    )

    adherence = only_event(record, AdherenceRecorded)
    assert_attributed(adherence, actor=PATIENT, data_class=DataClass.MEDICATION, clinical_time=at)
    assert (adherence.period_days, adherence.doses_prescribed, adherence.doses_taken) == (7, 7, 5)


def test_more_doses_taken_than_prescribed_is_refused(record: PatientRecord, at: datetime) -> None:
    record, medication_id = with_medication(record)
    with refused(record, InvalidInput) as refusal:
        record.record_adherence(
            PATIENT,
            at,
            medication_id=medication_id,
            period_days=7,
            doses_prescribed=7,
            doses_taken=8,
        )
    assert "doses_taken" in refusal.value.errors[0].reason


def test_more_doses_taken_than_prescribed_names_doses_taken(
    record: PatientRecord, at: datetime
) -> None:
    record, medication_id = with_medication(record)
    with refused(record, InvalidInput, field="doses_taken"):
        record.record_adherence(
            PATIENT,
            at,
            medication_id=medication_id,
            period_days=7,
            doses_prescribed=7,
            doses_taken=8,
        )


def test_an_adherence_period_is_one_to_ninety_days(record: PatientRecord, at: datetime) -> None:
    record, medication_id = with_medication(record)
    with refused(record, InvalidInput, field="period_days"):
        record.record_adherence(
            PATIENT,
            at,
            medication_id=medication_id,
            period_days=91,
            doses_prescribed=0,
            doses_taken=0,
        )


def test_a_medication_is_reassessed(record: PatientRecord, at: datetime) -> None:
    record, medication_id = with_medication(record)

    record.reassess_medication(
        PRESCRIBER,
        at,
        medication_id=medication_id,
        assessment="PHQ-9 from 18 to 9 at week 8",
        decision="continue",
    )

    reassessed = only_event(record, MedicationReassessed)
    assert_attributed(
        reassessed, actor=PRESCRIBER, data_class=DataClass.MEDICATION, clinical_time=at
    )
    assert reassessed.decision == "continue"


def test_a_reassessment_decision_is_one_of_the_known_decisions(
    record: PatientRecord, at: datetime
) -> None:
    record, medication_id = with_medication(record)
    with refused(record, InvalidInput, field="decision"):
        record.reassess_medication(
            PRESCRIBER, at, medication_id=medication_id, assessment="x", decision="wait"
        )


# --- tapers and stops -----------------------------------------------------------------


def test_a_taper_puts_the_medication_in_taper_and_it_may_still_change(
    record: PatientRecord, at: datetime
) -> None:
    record, medication_id = with_medication(record)

    record.start_taper(
        PRESCRIBER,
        at,
        medication_id=medication_id,
        steps=[{"on_or_after": date(2030, 2, 1), "dose": {"amount": "12.5", "unit": "mg"}}],
        reason="remission for 9 months",
    )

    taper = only_event(record, TaperStarted)
    assert_attributed(taper, actor=PRESCRIBER, data_class=DataClass.MEDICATION, clinical_time=at)
    assert [s.dose for s in taper.steps] == [mg("12.5")]
    assert record.state.medications[medication_id].status == TAPERING

    record.change_dose(
        PRESCRIBER, at, medication_id=medication_id, dose=mg("12.5"), reason="step 1"
    )

    assert only_event(record, DoseChanged).dose == mg("12.5")


def test_a_medication_is_stopped(record: PatientRecord, at: datetime) -> None:
    record, medication_id = with_medication(record)

    record.stop_medication(PRESCRIBER, at, medication_id=medication_id, reason="taper completed")

    stopped = only_event(record, MedicationStopped)
    assert_attributed(stopped, actor=PRESCRIBER, data_class=DataClass.MEDICATION, clinical_time=at)
    assert (stopped.medication_id, stopped.reason) == (medication_id, "taper completed")
    assert record.state.medications[medication_id].status == STOPPED


@pytest.mark.parametrize(
    "command",
    [
        lambda r, m, at: r.change_dose(PRESCRIBER, at, medication_id=m, dose=mg("50"), reason="x"),
        lambda r, m, at: r.stop_medication(PRESCRIBER, at, medication_id=m, reason="again"),
        lambda r, m, at: r.plan_titration(
            PRESCRIBER,
            at,
            medication_id=m,
            steps=[{"on_or_after": date(2030, 1, 1), "dose": {"amount": "50", "unit": "mg"}}],
        ),
        lambda r, m, at: r.reassess_medication(
            PRESCRIBER, at, medication_id=m, assessment="x", decision="continue"
        ),
        lambda r, m, at: r.change_timing(
            PRESCRIBER, at, medication_id=m, schedule={"frequency": "weekly"}, reason="x"
        ),
        lambda r, m, at: r.start_taper(
            PRESCRIBER,
            at,
            medication_id=m,
            steps=[{"on_or_after": date(2030, 1, 1), "dose": {"amount": "12.5", "unit": "mg"}}],
            reason="x",
        ),
        lambda r, m, at: r.switch_medication(
            PRESCRIBER, at, medication_id=m, to_medication_id=uuid4(), **ESCITALOPRAM, reason="x"
        ),
    ],
    ids=[
        "dose change",
        "second stop",
        "titration",
        "reassessment",
        "timing",
        "taper",
        "switch",
    ],
)
def test_a_stopped_medication_refuses_further_changes(
    record: PatientRecord, at: datetime, command: Any
) -> None:
    record, medication_id = with_medication(record)
    record.stop_medication(PRESCRIBER, at, medication_id=medication_id, reason="ineffective")
    record = given(record)

    with refused(record, RuleViolation, field="medication_id") as refusal:
        command(record, medication_id, at)
    assert "stopped" in str(refusal.value)
    assert record.state.medications[medication_id].dose == mg("25")


def test_withdrawal_symptoms_are_reported_after_a_stop(record: PatientRecord, at: datetime) -> None:
    record, medication_id = with_medication(record, details=BUPRENORPHINE)
    record.stop_medication(PRESCRIBER, days_ago(5), medication_id=medication_id, reason="x")
    record = given(record)

    record.report_side_effect(
        PATIENT,
        at,
        medication_id=medication_id,
        effect="dizziness and 'brain zaps' since stopping",
        severity=Severity.MODERATE,
    )

    effect = only_event(record, SideEffectReported)
    assert (effect.medication_id, effect.severity) == (medication_id, Severity.MODERATE)
    # Still about an SUD medication after its stop, so still an SUD record.
    assert effect.part2
    assert record.state.medications[medication_id].status == STOPPED


def test_adherence_up_to_a_stop_is_recorded_after_it(record: PatientRecord, at: datetime) -> None:
    record, medication_id = with_medication(record)
    record.stop_medication(PRESCRIBER, days_ago(5), medication_id=medication_id, reason="x")
    record = given(record)

    record.record_adherence(
        PATIENT, at, medication_id=medication_id, period_days=14, doses_prescribed=9, doses_taken=9
    )

    assert only_event(record, AdherenceRecorded).doses_taken == 9
    assert record.state.medications[medication_id].status == STOPPED


def test_a_stopped_medication_still_refuses_malformed_side_effects(
    record: PatientRecord, at: datetime
) -> None:
    record, medication_id = with_medication(record)
    record.stop_medication(PRESCRIBER, at, medication_id=medication_id, reason="x")
    record = given(record)
    with refused(record, InvalidInput, field="severity"):
        record.report_side_effect(
            PATIENT, at, medication_id=medication_id, effect="x", severity="unbearable"
        )


@pytest.mark.parametrize(
    "command",
    [
        lambda r, m, at: r.plan_titration(PRESCRIBER, at, medication_id=m, steps=[]),
        lambda r, m, at: r.change_timing(
            PRESCRIBER, at, medication_id=m, schedule={"frequency": "weekly"}, reason="x"
        ),
        lambda r, m, at: r.switch_medication(
            PRESCRIBER, at, medication_id=m, to_medication_id=uuid4(), **SERTRALINE, reason="x"
        ),
        lambda r, m, at: r.report_side_effect(
            PATIENT, at, medication_id=m, effect="x", severity=Severity.MILD
        ),
        lambda r, m, at: r.record_adherence(
            PATIENT, at, medication_id=m, period_days=1, doses_prescribed=1, doses_taken=1
        ),
        lambda r, m, at: r.reassess_medication(
            PRESCRIBER, at, medication_id=m, assessment="x", decision="stop"
        ),
        lambda r, m, at: r.start_taper(PRESCRIBER, at, medication_id=m, steps=[], reason="x"),
        lambda r, m, at: r.stop_medication(PRESCRIBER, at, medication_id=m, reason="x"),
    ],
    ids=["titration", "timing", "switch", "side effect", "adherence", "reassess", "taper", "stop"],
)
def test_every_medication_command_refuses_an_unknown_medication(
    record: PatientRecord, at: datetime, command: Any
) -> None:
    with refused(record, UnknownReference, field="medication_id"):
        command(record, uuid4(), at)


def test_the_authorship_table_gives_orders_to_prescribers_and_reports_to_the_team() -> None:
    """Orders (start, dose change, timing, titration, switch, taper, stop) are the
    prescriber's alone; what the patient takes is reported by the patient or a clinician."""
    orders = (
        MedicationStarted,
        DoseChanged,
        DoseTimingChanged,
        TitrationPlanned,
        MedicationSwitched,
        TaperStarted,
        MedicationStopped,
    )
    assert {c.__name__: c.authors for c in orders} == {
        c.__name__: frozenset({Role.PRESCRIBER}) for c in orders
    }
    assert {Role.THERAPIST, Role.PATIENT, Role.PRESCRIBER} <= DoseReported.authors
    assert Role.SUPPORTER not in DoseReported.authors
