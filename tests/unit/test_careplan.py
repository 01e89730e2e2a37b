"""The care plan: conditions, goals, the phase of care and functional recommendations."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

import pytest

from domain.careplan import (
    ConditionRecorded,
    FunctionalRecommendationMade,
    GoalSet,
    PhaseChanged,
)
from domain.errors import InvalidInput, NotPermittedAuthor, RuleViolation
from domain.patient import PatientRecord
from domain.vocabulary import DataClass, Phase
from tests.unit.builders import (
    PART2_COUNSELOR,
    PATIENT,
    PRESCRIBER,
    PRIMARY_CARE,
    THERAPIST,
    a_registered_record,
    assert_attributed,
    given,
    only_event,
    refused,
)


def test_a_prescriber_records_a_condition_with_its_icd10_code(
    record: PatientRecord, at: datetime
) -> None:
    record.record_condition(
        PRESCRIBER,
        at,
        icd10=" f33.1 ",
        description="Major depressive disorder, recurrent, moderate",
    )

    condition = only_event(record, ConditionRecorded)
    assert_attributed(condition, actor=PRESCRIBER, data_class=DataClass.CARE_PLAN, clinical_time=at)
    assert (condition.icd10, condition.status) == ("F33.1", "active")
    assert record.state.conditions == {"F33.1": "active"}


def test_a_condition_in_remission_updates_its_status(record: PatientRecord, at: datetime) -> None:
    record.record_condition(THERAPIST, at, icd10="F33.1", description="MDD")
    record = given(record)

    record.record_condition(THERAPIST, at, icd10="F33.1", description="MDD", status="remission")

    assert only_event(record, ConditionRecorded).status == "remission"
    assert record.state.conditions == {"F33.1": "remission"}


def test_primary_care_on_the_team_may_record_a_condition(at: datetime) -> None:
    record = a_registered_record(others=[PRIMARY_CARE])

    record.record_condition(PRIMARY_CARE, at, icd10="E11.9", description="Type 2 diabetes")

    assert only_event(record, ConditionRecorded).actor == PRIMARY_CARE


@pytest.mark.parametrize("code", ["F3", "332.1", "F33.", "F33.12345", "F33-1", "FF3.1"])
def test_a_malformed_icd10_code_is_refused(record: PatientRecord, at: datetime, code: str) -> None:
    with refused(record, InvalidInput, field="icd10") as refusal:
        record.record_condition(PRESCRIBER, at, icd10=code, description="x")
    assert "ICD-10" in refusal.value.errors[0].reason


def test_a_condition_status_is_one_of_active_remission_resolved(
    record: PatientRecord, at: datetime
) -> None:
    with refused(record, InvalidInput, field="status"):
        record.record_condition(PRESCRIBER, at, icd10="F41.1", description="GAD", status="cured")


def test_the_patient_may_not_record_a_condition(record: PatientRecord, at: datetime) -> None:
    with refused(record, NotPermittedAuthor, field="actor.role"):
        record.record_condition(PATIENT, at, icd10="F41.1", description="GAD")


def test_a_goal_is_set_with_a_functional_target(record: PatientRecord, at: datetime) -> None:
    goal_id = uuid4()

    record.set_goal(
        THERAPIST,
        at,
        goal_id=goal_id,
        description="Return to work",
        functional_target="four full days a week",
    )

    goal = only_event(record, GoalSet)
    assert_attributed(goal, actor=THERAPIST, data_class=DataClass.CARE_PLAN, clinical_time=at)
    assert (goal.goal_id, goal.description, goal.functional_target) == (
        goal_id,
        "Return to work",
        "four full days a week",
    )
    assert record.state.goals == {goal_id}


def test_a_goal_cannot_be_set_twice(record: PatientRecord, at: datetime) -> None:
    goal_id = uuid4()
    record.set_goal(THERAPIST, at, goal_id=goal_id, description="Return to work")
    record = given(record)

    with refused(record, RuleViolation, field="goal_id"):
        record.set_goal(PRESCRIBER, at, goal_id=goal_id, description="Sleep 7 hours")


def test_the_phase_of_care_changes(record: PatientRecord, at: datetime) -> None:
    record.change_phase(PRESCRIBER, at, phase=Phase.ACUTE, reason="PHQ-9 of 19 at intake")
    record = given(record)

    record.change_phase(
        THERAPIST, at, phase=Phase.RELAPSE_PREVENTION, reason="remission for 8 weeks"
    )

    changed = only_event(record, PhaseChanged)
    assert_attributed(changed, actor=THERAPIST, data_class=DataClass.CARE_PLAN, clinical_time=at)
    assert (changed.phase, changed.reason) == (Phase.RELAPSE_PREVENTION, "remission for 8 weeks")
    assert record.state.phase == Phase.RELAPSE_PREVENTION


def test_the_plan_cannot_move_to_the_phase_it_is_in(record: PatientRecord, at: datetime) -> None:
    record.change_phase(PRESCRIBER, at, phase=Phase.ACUTE, reason="intake")
    record = given(record)

    with refused(record, RuleViolation, field="phase"):
        record.change_phase(PRESCRIBER, at, phase=Phase.ACUTE, reason="again")


def test_an_unknown_phase_is_refused(record: PatientRecord, at: datetime) -> None:
    with refused(record, InvalidInput, field="phase"):
        record.change_phase(PRESCRIBER, at, phase="recovery", reason="x")  # type: ignore[arg-type]


def test_a_functional_recommendation_is_its_own_class(record: PatientRecord, at: datetime) -> None:
    record.recommend_functional(
        THERAPIST, at, setting="school", recommendation="Reduced course load this semester"
    )

    made = only_event(record, FunctionalRecommendationMade)
    assert_attributed(made, actor=THERAPIST, data_class=DataClass.FUNCTIONAL, clinical_time=at)
    assert (made.setting, made.recommendation, made.valid_until) == (
        "school",
        "Reduced course load this semester",
        None,
    )


def test_a_functional_recommendation_by_a_part2_counselor_is_sud(
    part2_record: PatientRecord, at: datetime
) -> None:
    part2_record.recommend_functional(
        PART2_COUNSELOR, at, setting="work", recommendation="Time off for daily dosing visits"
    )

    assert only_event(part2_record, FunctionalRecommendationMade).part2


def test_a_functional_recommendation_names_a_known_setting(
    record: PatientRecord, at: datetime
) -> None:
    with refused(record, InvalidInput, field="setting"):
        record.recommend_functional(THERAPIST, at, setting="gym", recommendation="x")
