"""The demo loader tells the four stories of DESIGN.md through the clinic's own commands,
into a real SQLite store, and refuses to tell them twice."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import TypeVar

import pytest

from adapters.passwords import verify_password
from application.clinic import Clinic
from bootstrap import bootstrap, index_runner
from bootstrap.settings import Settings
from demo import DEMO_STEPS, DemoResult, demo_loaded, load_demo
from domain.careplan import FunctionalRecommendationMade, PhaseChanged
from domain.errors import Conflict, InvalidInput
from domain.events import Actor, now
from domain.instruments import InstrumentCode
from domain.labs import LabOrdered, LabResulted
from domain.measures import (
    FunctionalOutcomeRecorded,
    QuestionnaireAnswered,
    SleepLogged,
    SupporterObservationRecorded,
    VitalsRecorded,
)
from domain.medication import DoseChanged, MedicationEvent, MedicationStarted, MedicationStopped
from domain.messaging import MessageAcknowledged, MessageSent
from domain.record import RecordEvent
from domain.registration import CareTeamMemberAdded, CareTeamMemberRemoved, PatientRegistered
from domain.safety import LapseReported, RiskAssessed
from domain.therapy import (
    PsychotherapyNoteWritten,
    SessionAttended,
    SessionScheduled,
    TherapyTargetSet,
)
from domain.vocabulary import DataClass, Modality, Phase, Role, SessionKind, SessionMode
from projections.care import PatientOnBoard, board_entry
from tests.builders import demo_services, register_patient

PASSWORD = "demo-password-123"
DEPRESSION, BIPOLAR, OPIOID, STUDENT = "DEMO-1001", "DEMO-1002", "DEMO-1003", "DEMO-1004"

E = TypeVar("E", bound=RecordEvent)


@dataclass(frozen=True)
class Loaded:
    settings: Settings
    clinic: Clinic
    result: DemoResult
    progress: list[str]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("demo"))
    clinic = bootstrap(settings)
    progress: list[str] = []
    result = load_demo(demo_services(clinic), PASSWORD, progress.append)
    yield Loaded(settings, clinic, result, progress)
    clinic.close()


@pytest.fixture
def empty_clinic(tmp_path: Path) -> Iterator[Clinic]:
    clinic = bootstrap(Settings(data_dir=tmp_path))
    yield clinic
    clinic.close()


def timeline(loaded: Loaded, mrn: str) -> list[RecordEvent]:
    return loaded.clinic.patient_events(loaded.clinic.find_patient(mrn).id)


def of(events: Sequence[RecordEvent], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def total(answered: QuestionnaireAnswered) -> int:
    """Sum of the scored items (PHQ-9 item 10 is recorded but not scored)."""
    return sum(score for item, score in answered.answers.items() if item != "10")


def scores(events: Sequence[RecordEvent], instrument: InstrumentCode) -> list[int]:
    return [total(e) for e in of(events, QuestionnaireAnswered) if e.instrument == instrument]


def days_between(earlier: RecordEvent, later: RecordEvent) -> float:
    return (later.clinical_time - earlier.clinical_time) / timedelta(days=1)


# --- accounts and the load itself --------------------------------------------------------


def test_every_demo_account_exists_with_its_role(loaded: Loaded) -> None:
    clinic = loaded.clinic
    expected = {
        "therapist@demo": Role.THERAPIST,
        "prescriber@demo": Role.PRESCRIBER,
        "pcp@demo": Role.PRIMARY_CARE,
        "counselor@demo": Role.SCHOOL_COUNSELOR,
        "employer@demo": Role.EMPLOYER,
        "compliance@demo": Role.COMPLIANCE,
        "ava@demo": Role.PATIENT,
        "ben@demo": Role.PATIENT,
        "cara@demo": Role.PATIENT,
        "dev@demo": Role.PATIENT,
        "supporter@demo": Role.SUPPORTER,
    }
    assert set(loaded.result.users) == set(expected)
    for email, role in expected.items():
        user = clinic.find_user(email)
        assert user is not None, email
        assert user.role == role, email
        assert user.active


def test_patient_and_supporter_accounts_point_at_their_own_records(loaded: Loaded) -> None:
    clinic = loaded.clinic
    for email, mrn in (
        ("ava@demo", DEPRESSION),
        ("ben@demo", BIPOLAR),
        ("cara@demo", OPIOID),
        ("dev@demo", STUDENT),
        ("supporter@demo", BIPOLAR),
    ):
        assert clinic.user(email).patient_id == clinic.find_patient(mrn).id, email
    assert clinic.user("therapist@demo").patient_id is None


def test_every_account_shares_the_given_password(loaded: Loaded) -> None:
    hashes = {loaded.clinic.user(email).password_hash for email in loaded.result.users}
    assert len(hashes) == 1, "the password is hashed once and the hash reused"
    assert verify_password(PASSWORD, hashes.pop())


def test_the_result_lists_the_four_registered_patients(loaded: Loaded) -> None:
    assert [p.mrn for p in loaded.result.patients] == [DEPRESSION, BIPOLAR, OPIOID, STUDENT]
    for patient in loaded.result.patients:
        assert loaded.clinic.find_patient(patient.mrn).id == patient.patient_id
    assert loaded.result.position == loaded.clinic.position()


def test_progress_is_reported_once_per_step(loaded: Loaded) -> None:
    assert len(loaded.progress) == DEMO_STEPS
    assert all(label.strip() for label in loaded.progress)


def test_demo_loaded_tells_an_empty_store_from_a_loaded_one(
    loaded: Loaded, empty_clinic: Clinic
) -> None:
    assert demo_loaded(loaded.clinic)
    assert not demo_loaded(empty_clinic)


@pytest.mark.parametrize("mrn", [DEPRESSION, BIPOLAR, OPIOID, STUDENT])
def test_each_timeline_runs_in_clinical_time_order_and_ends_in_the_past(
    loaded: Loaded, mrn: str
) -> None:
    events = timeline(loaded, mrn)
    times = [e.clinical_time for e in events]
    assert times == sorted(times)
    assert all(e.clinical_time <= e.timestamp for e in events)
    assert times[-1] < now()
    assert now() - times[0] > timedelta(weeks=15), "each story spans several months"


@pytest.mark.parametrize("mrn", [DEPRESSION, BIPOLAR, OPIOID, STUDENT])
def test_every_author_is_a_demo_account_acting_in_its_own_role(loaded: Loaded, mrn: str) -> None:
    for event in timeline(loaded, mrn):
        actor: Actor = event.actor
        if actor.role == Role.SYSTEM:
            continue
        user = loaded.clinic.user(actor.user_id)
        assert user.role == actor.role, f"{actor.user_id} acted as {actor.role}"


def test_loading_twice_is_refused_and_appends_nothing(loaded: Loaded) -> None:
    before = loaded.clinic.position()
    with pytest.raises(Conflict, match="already loaded"):
        load_demo(demo_services(loaded.clinic), PASSWORD)
    assert loaded.clinic.position() == before


def test_a_store_holding_any_demo_patient_is_refused_before_anything_is_written(
    empty_clinic: Clinic,
) -> None:
    register_patient(
        empty_clinic,
        Actor.system("test"),
        mrn=OPIOID,
        given_name="Someone",
        family_name="Else",
        birth_date=date(1990, 1, 1),
        sex_at_birth="unknown",
    )
    before = empty_clinic.position()
    with pytest.raises(Conflict, match=OPIOID):
        load_demo(demo_services(empty_clinic), PASSWORD)
    assert empty_clinic.position() == before
    assert not demo_loaded(empty_clinic)


def test_a_short_password_is_refused_before_anything_is_written(empty_clinic: Clinic) -> None:
    with pytest.raises(InvalidInput, match="password"):
        load_demo(demo_services(empty_clinic), "short")
    assert empty_clinic.position() == 0


# --- story 1: recurrent major depression ---------------------------------------------------


def test_depression_phq9_falls_from_moderately_severe_to_remission(loaded: Loaded) -> None:
    phq9 = scores(timeline(loaded, DEPRESSION), InstrumentCode.PHQ9)
    assert len(phq9) >= 8, "PHQ-9 every two weeks"
    assert phq9[0] >= 15
    assert phq9[-1] < 5
    assert phq9[-2] < 5, "remission held on two consecutive measures"


def test_depression_baseline_item_9_is_answered_by_a_same_day_risk_assessment(
    loaded: Loaded,
) -> None:
    events = timeline(loaded, DEPRESSION)
    first = of(events, QuestionnaireAnswered)[0]
    assert first.answers["9"] >= 1
    assessment = of(events, RiskAssessed)[0]
    assert assessment.clinical_time.date() == first.clinical_time.date()


def test_sertraline_starts_at_25_mg_and_is_titrated_to_100_mg(loaded: Loaded) -> None:
    events = timeline(loaded, DEPRESSION)
    [start] = of(events, MedicationStarted)
    assert (start.drug, start.rxnorm, start.dose.amount) == ("sertraline", "36437", Decimal(25))
    assert [c.dose.amount for c in of(events, DoseChanged)] == [Decimal(50), Decimal(100)]
    side_effects = [e for e in of(events, MedicationEvent) if e.actor.role == Role.PATIENT]
    assert any("nausea" in e.summary() for e in side_effects)


def test_depression_moves_from_acute_through_stabilization_to_relapse_prevention(
    loaded: Loaded,
) -> None:
    phases = [e.phase for e in of(timeline(loaded, DEPRESSION), PhaseChanged)]
    assert phases == [Phase.ACUTE, Phase.STABILIZATION, Phase.RELAPSE_PREVENTION]


def test_the_therapists_message_to_the_prescriber_is_acknowledged(loaded: Loaded) -> None:
    events = timeline(loaded, DEPRESSION)
    insomnia, handoff = of(events, MessageSent)
    for message in (insomnia, handoff):
        assert message.actor.user_id == "therapist@demo"
        assert message.to == ["prescriber@demo"]
        assert message.regarding, "the message points at what it is about"
    assert "insomnia" in insomnia.subject.lower()
    [ack] = of(events, MessageAcknowledged)
    assert (ack.message_id, ack.actor.user_id) == (insomnia.message_id, "prescriber@demo")


def test_the_last_handoff_about_side_effects_was_sent_yesterday_and_waits(
    loaded: Loaded,
) -> None:
    events = timeline(loaded, DEPRESSION)
    handoff = of(events, MessageSent)[-1]
    assert "sertraline" in handoff.subject.lower()
    # Yesterday at 12:15 in the clinic's zone: at least 11 h 45 min ago (just after the
    # clinic's midnight), at most 35 h 45 min (just before the next).
    assert timedelta(hours=11, minutes=40) < now() - handoff.clinical_time < timedelta(hours=36)
    [side_effect] = [e for e in events if e.originator_version in handoff.regarding]
    assert side_effect.actor.user_id == "ava@demo"
    assert "libido" in side_effect.summary()


def test_depression_return_to_work_is_recommended_and_tracked_by_the_employer(
    loaded: Loaded,
) -> None:
    events = timeline(loaded, DEPRESSION)
    [recommendation] = of(events, FunctionalRecommendationMade)
    assert recommendation.setting == "work"
    shifts = [e for e in of(events, FunctionalOutcomeRecorded) if e.setting == "work"]
    assert len(shifts) >= 6
    assert all(e.actor.user_id == "employer@demo" for e in shifts)
    assert all(e.clinical_time > recommendation.clinical_time for e in shifts)
    assert shifts[-1].achieved == shifts[-1].expected == 5


def test_primary_care_and_the_psychotherapy_note_are_on_the_depression_record(
    loaded: Loaded,
) -> None:
    events = timeline(loaded, DEPRESSION)
    members = {e.user_id: e.role for e in of(events, CareTeamMemberAdded)}
    assert members["pcp@demo"] == Role.PRIMARY_CARE
    [note] = of(events, PsychotherapyNoteWritten)
    assert note.data_class == DataClass.PSYCHOTHERAPY_NOTE
    assert sum(isinstance(e, SessionAttended) for e in events) >= 10
    assert any(e.summary().startswith("session missed") for e in events)


# --- story 2: bipolar II ------------------------------------------------------------------


def lithium_levels(events: Sequence[RecordEvent]) -> list[LabResulted]:
    return [e for e in of(events, LabResulted) if e.loinc == "14334-7"]


def test_lithium_starts_only_after_baseline_labs_are_resulted(loaded: Loaded) -> None:
    events = timeline(loaded, BIPOLAR)
    [start] = of(events, MedicationStarted)
    assert (start.drug, start.rxnorm) == ("lithium carbonate", "42351")
    baseline = {e.loinc for e in of(events, LabResulted) if e.clinical_time < start.clinical_time}
    assert {"2160-0", "3016-3", "17861-6"} <= baseline
    [weighed] = [e for e in of(events, VitalsRecorded) if e.clinical_time < start.clinical_time]
    assert weighed.weight_kg is not None
    assert weighed.bmi is not None


def test_lithium_troughs_are_taken_early_then_weekly_until_two_stable_levels(
    loaded: Loaded,
) -> None:
    events = timeline(loaded, BIPOLAR)
    [start] = of(events, MedicationStarted)
    levels = lithium_levels(events)
    assert len(levels) >= 4
    assert 5 <= days_between(start, levels[0]) <= 7
    values = [level.value for level in levels]
    assert values[0] is not None and values[0] < Decimal("0.6")
    stable = [
        pair
        for pair in pairwise(values)
        if all(v is not None and Decimal("0.6") <= v <= Decimal("0.8") for v in pair)
    ]
    assert stable, "two consecutive levels within 0.6-0.8 mmol/L"
    assert all(level.unit is not None and level.unit.value == "mmol/L" for level in levels)


def test_bipolar_metabolic_monitoring_records_weight_and_bmi_over_time(loaded: Loaded) -> None:
    events = timeline(loaded, BIPOLAR)
    vitals = of(events, VitalsRecorded)
    assert len([v for v in vitals if v.weight_kg is not None]) >= 3
    assert len([v for v in vitals if v.bmi is not None]) >= 3
    assert all(v.actor.user_id == "prescriber@demo" for v in vitals)
    assert all(v.data_class == DataClass.MEASURE for v in vitals)
    # Vital signs are measured, not ordered: no lab order or result holds them any more.
    body_measures = {"29463-7", "39156-5", "8302-2", "8480-6", "8462-4", "8867-4"}
    assert not [e for e in of(events, LabOrdered) if e.loinc in body_measures]
    assert not [e for e in of(events, LabResulted) if e.loinc in body_measures]


def test_the_bipolar_rhythm_work_is_ipsrt(loaded: Loaded) -> None:
    events = timeline(loaded, BIPOLAR)
    targets = of(events, TherapyTargetSet)
    assert [t.modality for t in targets] == [Modality.INTERPERSONAL_SOCIAL_RHYTHM]
    modalities = [s.modality for s in of(events, SessionScheduled)]
    assert modalities[0] == Modality.PSYCHOEDUCATION
    assert Modality.INTERPERSONAL_SOCIAL_RHYTHM in modalities[1:]


def test_the_supporter_records_early_activation_cues(loaded: Loaded) -> None:
    events = timeline(loaded, BIPOLAR)
    observations = of(events, SupporterObservationRecorded)
    assert all(o.actor.user_id == "supporter@demo" for o in observations)
    raised = {o.cue for o in observations if o.change != "usual"}
    assert {"sleep", "speech-rate", "spending"} <= raised
    cue_positions = {o.originator_version for o in observations}
    alerts = [m for m in of(events, MessageSent) if set(m.regarding) & cue_positions]
    assert alerts, "the therapist tells the team about the cues"


def test_the_bipolar_patient_logs_sleep_and_answers_questionnaires(loaded: Loaded) -> None:
    events = timeline(loaded, BIPOLAR)
    sleep = of(events, SleepLogged)
    assert len(sleep) >= 20
    assert all(s.actor.user_id == "ben@demo" for s in sleep)
    assert min(s.hours_asleep for s in sleep) < 6, "the short nights of the activation"
    assert scores(events, InstrumentCode.PHQ9)
    assert scores(events, InstrumentCode.GAD7)


# --- story 3: opioid use disorder -----------------------------------------------------------


def test_buprenorphine_and_the_lapse_are_sud_records(loaded: Loaded) -> None:
    events = timeline(loaded, OPIOID)
    [start] = of(events, MedicationStarted)
    assert (start.drug, start.rxnorm, start.sud_treatment) == ("buprenorphine", "1819", True)
    # Part 2 records, each keeping its own class beside the label (42 CFR 2.31(a)(3)).
    assert (start.data_class, start.part2) == (DataClass.MEDICATION, True)
    assert all(
        (e.data_class, e.part2) == (DataClass.MEDICATION, True) for e in of(events, DoseChanged)
    )
    [lapse] = of(events, LapseReported)
    assert lapse.actor.user_id == "cara@demo"
    assert (lapse.data_class, lapse.part2) == (DataClass.SAFETY, True)


def test_the_oud_prescriber_treats_inside_a_part_2_program(loaded: Loaded) -> None:
    events = timeline(loaded, OPIOID)
    prescriber = next(e for e in of(events, CareTeamMemberAdded) if e.role == Role.PRESCRIBER)
    assert prescriber.part2_program
    by_clinicians = [e for e in events if e.actor.role in (Role.PRESCRIBER, Role.THERAPIST)]
    assert all(e.part2 for e in by_clinicians)
    assert DataClass.SUD not in {e.data_class for e in events}  # a label now, not a class
    [note] = of(events, PsychotherapyNoteWritten)
    assert note.sud_counseling


def test_urine_drug_tests_are_ordered_and_resulted_as_sud_records(loaded: Loaded) -> None:
    events = timeline(loaded, OPIOID)
    orders = of(events, LabOrdered)
    results = of(events, LabResulted)
    assert len(orders) == len(results) >= 12
    assert all((e.data_class, e.part2) == (DataClass.LAB, True) for e in [*orders, *results])
    assert all(r.value_text for r in results)
    assert any(r.loinc == "19295-5" and r.value_text == "negative" for r in results)


def test_a_lapse_brings_same_day_contact_risk_assessment_and_plan_adjustment(
    loaded: Loaded,
) -> None:
    events = timeline(loaded, OPIOID)
    [lapse] = of(events, LapseReported)
    same_day = [
        e for e in events if e.clinical_time.date() == lapse.clinical_time.date() and e != lapse
    ]
    [message] = [e for e in of(same_day, MessageSent) if lapse.originator_version in e.regarding]
    assert {"prescriber@demo", "cara@demo"} <= set(message.to)
    assert message.clinical_time > lapse.clinical_time
    assert of(same_day, RiskAssessed)
    [dose] = of(same_day, DoseChanged)
    assert dose.reason
    assert any(s.kind == SessionKind.ACUTE for s in of(same_day, SessionScheduled))
    [phase] = of(same_day, PhaseChanged)
    assert "weekly" in phase.reason
    later_sessions = [
        e for e in of(events, SessionAttended) if e.clinical_time > lapse.clinical_time
    ]
    assert len(later_sessions) >= 3, "weekly visits resume after the lapse"


def test_the_oud_patient_is_never_discharged(loaded: Loaded) -> None:
    events = timeline(loaded, OPIOID)
    assert not of(events, CareTeamMemberRemoved)
    assert not of(events, MedicationStopped)
    assert scores(events, InstrumentCode.AUDITC)


# --- story 4: anxious college student -------------------------------------------------------


def test_the_student_is_19(loaded: Loaded) -> None:
    [registered] = of(timeline(loaded, STUDENT), PatientRegistered)
    today = now().date()
    born = registered.birth_date
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    assert age == 19


def test_the_student_gad7_improves_over_the_semester(loaded: Loaded) -> None:
    gad7 = scores(timeline(loaded, STUDENT), InstrumentCode.GAD7)
    assert len(gad7) >= 6
    assert gad7[0] >= 15
    remission = next(n for n, score in enumerate(gad7) if score < 5)
    assert remission >= 6, "below 5 at the end of the first semester, not at once"
    assert all(score < 5 for score in gad7[remission : remission + 2]), "held into the break"
    assert gad7[-1] >= 10, "worry returns before the next semester's midterms"


def test_escitalopram_follows_the_under_25_rule(loaded: Loaded) -> None:
    events = timeline(loaded, STUDENT)
    [start] = of(events, MedicationStarted)
    assert (start.drug, start.rxnorm, start.dose.amount) == ("escitalopram", "321988", Decimal(5))
    change, latest = of(events, DoseChanged)
    assert (change.dose.amount, latest.dose.amount) == (Decimal(10), Decimal(15))
    prescriber_contacts = [
        e for e in of(events, SessionAttended) if e.actor.role == Role.PRESCRIBER
    ]
    questionnaires = [
        e
        for e in of(events, QuestionnaireAnswered)
        if e.instrument in (InstrumentCode.PHQ9, InstrumentCode.GAD7)
    ]
    for trigger in (start, change):
        assert any(0 < days_between(trigger, c) <= 7 for c in prescriber_contacts)
        assert any(0 < days_between(trigger, c) <= 28 for c in prescriber_contacts)
    # The latest increase is days old: its follow-up call and visit are booked, not yet held.
    assert timedelta(days=1) < now() - latest.clinical_time < timedelta(days=7)
    booked = [
        s.starts_at - latest.clinical_time
        for s in of(events, SessionScheduled)
        if s.actor.role == Role.PRESCRIBER and s.starts_at > latest.clinical_time
    ]
    assert any(timedelta(0) < wait <= timedelta(days=7) for wait in booked)
    assert any(timedelta(days=7) < wait <= timedelta(days=28) for wait in booked)
    for instrument in (InstrumentCode.PHQ9, InstrumentCode.GAD7):
        assert any(
            q.instrument == instrument and 28 <= days_between(start, q) <= 42
            for q in questionnaires
        ), instrument


def test_the_school_counselor_receives_functional_recommendations_only(loaded: Loaded) -> None:
    events = timeline(loaded, STUDENT)
    recommendations = of(events, FunctionalRecommendationMade)
    assert len(recommendations) >= 2
    assert {r.setting for r in recommendations} == {"school"}
    assert any("course load" in r.recommendation for r in recommendations)
    assert any("accommodation" in r.recommendation for r in recommendations)
    by_counselor = [e for e in events if e.actor.user_id == "counselor@demo"]
    assert {type(e) for e in by_counselor} <= {FunctionalOutcomeRecorded, MessageAcknowledged}
    recommendation_positions = {r.originator_version for r in recommendations}
    to_counselor = [m for m in of(events, MessageSent) if "counselor@demo" in m.to]
    assert to_counselor
    assert all(set(m.regarding) <= recommendation_positions for m in to_counselor)


def test_class_attendance_is_tracked_by_the_counselor_and_the_student(loaded: Loaded) -> None:
    attendance = [
        e
        for e in of(timeline(loaded, STUDENT), FunctionalOutcomeRecorded)
        if (e.setting, e.measure) == ("school", "attendance")
    ]
    authors = {e.actor.user_id for e in attendance}
    assert authors == {"counselor@demo", "dev@demo"}
    assert len(attendance) >= 5


def test_exam_check_ins_are_short_telehealth_sessions(loaded: Loaded) -> None:
    scheduled = of(timeline(loaded, STUDENT), SessionScheduled)
    check_ins = [
        s for s in scheduled if s.mode == SessionMode.TELEHEALTH and s.actor.role == Role.THERAPIST
    ]
    assert len(check_ins) >= 4
    assert any(s.kind == SessionKind.SKILLS and s.duration_minutes < 50 for s in check_ins)


# --- the board as the demo is loaded: current work that follows from the rules -------------

THERAPIST, PRESCRIBER = "therapist@demo", "prescriber@demo"
CLINICIANS = ((THERAPIST, Role.THERAPIST), (PRESCRIBER, Role.PRESCRIBER))


@pytest.fixture(scope="module")
def board(loaded: Loaded) -> dict[str, PatientOnBoard]:
    """Each demo patient's board entry, from the record index, as of now."""
    runner = index_runner(loaded.settings, loaded.clinic)
    runner.catch_up()
    at = now()
    return {
        p.mrn: board_entry(p.patient_id, runner.view.patient_events(p.patient_id), at)
        for p in loaded.result.patients
    }


def work_for(entry: PatientOnBoard, role: Role) -> list[str]:
    """The rule ids of what is due or overdue for `role`."""
    return [d.rule.rule_id for d in [*entry.due, *entry.overdue] if role in d.for_roles]


def open_alerts_for(entry: PatientOnBoard, role: Role) -> list[str]:
    return [a.rule.rule_id for a in entry.alerts if role in a.for_roles]


def waiting_for(entry: PatientOnBoard, user: str) -> list[str]:
    return [m["subject"] for m in entry.unacknowledged if user in m["waiting_for"]]


@pytest.mark.parametrize(("user", "role"), CLINICIANS)
def test_each_treating_clinician_opens_a_board_with_current_work(
    board: dict[str, PatientOnBoard], user: str, role: Role
) -> None:
    caseload = [entry for entry in board.values() if user in entry.team]
    assert len(caseload) == 4
    assert len([e for e in caseload if work_for(e, role)]) >= 3
    assert any(open_alerts_for(e, role) for e in caseload)
    assert any(waiting_for(e, user) for e in caseload)
    assert any(e.missed_sessions for e in caseload)


def test_bens_trough_level_is_due_days_5_to_7_after_the_lithium_increase(
    loaded: Loaded, board: dict[str, PatientOnBoard]
) -> None:
    [trough] = [d for d in board[BIPOLAR].due if d.rule.rule_id == "lithium-level"]
    assert trough.for_roles == (Role.PRESCRIBER,)
    latest = of(timeline(loaded, BIPOLAR), DoseChanged)[-1]
    assert latest.dose.amount == Decimal(1200)
    assert 5 <= (now() - latest.clinical_time) / timedelta(days=1) <= 7
    assert trough.due_from <= now() <= trough.due_by
    assert not [d for d in board[BIPOLAR].overdue if d.rule.rule_id.startswith("lithium")]
    assert waiting_for(board[BIPOLAR], THERAPIST), "the prescriber's note about the trough"


def test_a_phq9_item_9_answered_today_leaves_an_alert_and_a_same_day_assessment_open(
    loaded: Loaded, board: dict[str, PatientOnBoard]
) -> None:
    for mrn in (STUDENT, BIPOLAR):
        entry = board[mrn]
        [alert] = [a for a in entry.alerts if a.rule.rule_id == "phq9-item9"]
        assert alert.severity == "high"
        assert set(alert.for_roles) == {Role.THERAPIST, Role.PRESCRIBER}
        assert now() - alert.raised_at < timedelta(hours=24)
        [assessment] = [d for d in entry.due if d.rule.rule_id == "phq9-item9"]
        assert assessment.kind == "assessment"
        answered = of(timeline(loaded, mrn), QuestionnaireAnswered)[-1]
        assert answered.instrument == InstrumentCode.PHQ9
        assert answered.answers["9"] == 1
        assert answered.clinical_time == alert.raised_at
        assessed = of(timeline(loaded, mrn), RiskAssessed)
        assert all(a.clinical_time < alert.raised_at for a in assessed), "not yet assessed"


def test_devs_increase_makes_the_under_25_contact_and_visit_due(
    board: dict[str, PatientOnBoard],
) -> None:
    due = {d.rule.rule_id: d for d in board[STUDENT].due}
    for rule_id in ("ssri-under-25-contact", "ssri-under-25-visit"):
        assert set(due[rule_id].for_roles) == {Role.THERAPIST, Role.PRESCRIBER}
        assert due[rule_id].due_from <= now() <= due[rule_id].due_by
    assert due["ssri-under-25-contact"].due_by - now() < timedelta(days=7)
    upcoming = [d.rule.rule_id for d in board[STUDENT].upcoming]
    assert "ssri-under-25-phq9" in upcoming


def test_caras_monthly_visit_is_due_after_a_recently_missed_session(
    board: dict[str, PatientOnBoard],
) -> None:
    entry = board[OPIOID]
    assert "buprenorphine-visits" in [d.rule.rule_id for d in entry.due]
    [missed] = entry.missed_sessions
    assert now() - datetime.fromisoformat(missed["at"]) < timedelta(days=14)
    assert not entry.alerts
    assert not entry.unacknowledged, "the team has read the message about the missed visit"


def test_the_handoff_about_ava_waits_for_the_prescriber(board: dict[str, PatientOnBoard]) -> None:
    entry = board[DEPRESSION]
    assert waiting_for(entry, PRESCRIBER)
    assert not waiting_for(entry, THERAPIST)
    assert not entry.due and not entry.overdue and not entry.alerts, "Ava is in remission"
