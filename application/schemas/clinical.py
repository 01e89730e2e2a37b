"""Bodies for recording clinical actions, one per command."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID, uuid4

from pydantic import AwareDatetime, Field

from application.schemas.base import CommandBody
from application.schemas.values import (
    ComorbidityIn,
    DoseIn,
    DoseStepIn,
    PriorTrialIn,
    ScheduleIn,
    Strict,
)
from domain.instruments import InstrumentCode
from domain.measures import Cue
from domain.vocabulary import (
    ICD10Code,
    LoincCode,
    Modality,
    Phase,
    PositiveAmount,
    RiskLevel,
    RxNormCode,
    SessionKind,
    SessionMode,
    Severity,
    ShortText,
    Text,
)


def new_id() -> UUID:
    return uuid4()


# --- care plan ---------------------------------------------------------------------------
class ConditionCreate(CommandBody):
    icd10: ICD10Code
    description: ShortText
    status: Literal["active", "remission", "resolved"] = "active"
    # For a depressive condition (F32, F33): a first episode or recurrent illness.
    episode: Literal["first", "recurrent"] | None = None


class NeutropeniaPathwayRecord(CommandBody):
    benign_ethnic_neutropenia: bool
    basis: Text


class PregnancyStatusRecord(CommandBody):
    status: Literal["pregnant", "planning pregnancy", "not pregnant", "cannot become pregnant"]
    prevention_in_place: bool = False
    note: ShortText | None = None


class LevelTargetCreate(CommandBody):
    medication_id: UUID
    low: PositiveAmount
    high: PositiveAmount
    unit: Literal["mmol/L"] = "mmol/L"
    reason: ShortText


class GoalCreate(CommandBody):
    goal_id: UUID = Field(default_factory=new_id)
    description: Text
    functional_target: ShortText | None = None


class PhaseChange(CommandBody):
    phase: Phase
    reason: Text


class FunctionalRecommendationCreate(CommandBody):
    setting: Literal["school", "work", "home"]
    recommendation: Text
    valid_until: AwareDatetime | None = None


# --- therapy -----------------------------------------------------------------------------
class SessionCreate(CommandBody):
    session_id: UUID = Field(default_factory=new_id)
    starts_at: AwareDatetime
    duration_minutes: int = Field(ge=5, le=240)
    mode: SessionMode
    modality: Modality
    kind: SessionKind = SessionKind.STANDARD


class SessionAttendance(CommandBody):
    pass


class SessionMiss(CommandBody):
    reason: ShortText | None = None


class SessionCancellation(CommandBody):
    cancelled_by: Literal["patient", "clinician"]
    reason: ShortText


class ProgressNoteCreate(CommandBody):
    text: Text
    session_id: UUID | None = None
    modality: Modality | None = None


class PsychotherapyNoteCreate(CommandBody):
    text: Text
    session_id: UUID | None = None


class TherapyTargetCreate(CommandBody):
    target_id: UUID = Field(default_factory=new_id)
    description: Text
    modality: Modality


class HomeworkCreate(CommandBody):
    homework_id: UUID = Field(default_factory=new_id)
    description: Text
    due: date | None = None


class HomeworkReview(CommandBody):
    completion: Literal["done", "partly", "not-done"]
    comment: Text | None = None


# --- medication --------------------------------------------------------------------------
class EvaluationCreate(CommandBody):
    symptom_history: Text
    comorbidities: list[ComorbidityIn] = Field(default_factory=list, max_length=50)
    prior_trials: list[PriorTrialIn] = Field(default_factory=list, max_length=50)
    family_history: Text | None = None
    preferences: Text | None = None


class MedicationCreate(CommandBody):
    medication_id: UUID = Field(default_factory=new_id)
    drug: ShortText
    rxnorm: RxNormCode
    dose: DoseIn
    schedule: ScheduleIn
    route: Literal[
        "oral", "sublingual", "transdermal", "intramuscular", "subcutaneous", "nasal"
    ] = "oral"
    indication: ShortText
    sud_treatment: bool = False
    # Why a dose above the usual adult maximum is prescribed (the dose-range table).
    override_reason: Text | None = None


class TitrationPlanCreate(CommandBody):
    """Dose steps up (a titration), or down: a taper, with its reason (prescribers only)."""

    steps: list[DoseStepIn] = Field(min_length=1, max_length=20)
    direction: Literal["up", "down"] | None = None
    reason: Text | None = None


class DoseChange(CommandBody):
    dose: DoseIn
    reason: Text
    override_reason: Text | None = None


class TimingChange(CommandBody):
    schedule: ScheduleIn
    reason: Text
    dose_per_administration: DoseIn | None = None
    override_reason: Text | None = None


class MedicationSwitch(CommandBody):
    to_medication_id: UUID = Field(default_factory=new_id)
    drug: ShortText
    rxnorm: RxNormCode
    dose: DoseIn
    schedule: ScheduleIn
    indication: ShortText
    cross_taper: bool = False
    reason: Text
    sud_treatment: bool | None = None
    override_reason: Text | None = None
    route: (
        Literal["oral", "sublingual", "transdermal", "intramuscular", "subcutaneous", "nasal"]
        | None
    ) = None


class DoseReport(CommandBody):
    """What the patient is reported to take: an observation, not an order."""

    dose: DoseIn
    schedule: ScheduleIn | None = None
    note: Text | None = None


class SideEffectCreate(CommandBody):
    effect: ShortText
    severity: Severity


class AdherenceCreate(CommandBody):
    period_days: int = Field(ge=1, le=90)
    doses_prescribed: int = Field(ge=0, le=10_000)
    doses_taken: int = Field(ge=0, le=10_000)


class ReassessmentCreate(CommandBody):
    assessment: Text
    decision: Literal["continue", "adjust", "taper", "stop", "switch"]


class NaloxoneDiscussion(CommandBody):
    outcome: Literal["has-naloxone", "prescribed-elsewhere", "declined", "discussed"]
    note: Text | None = None


class PrescriptionMonitoringCheck(CommandBody):
    # Two capitals (a US state or territory); unset: the clinic's TANDEM_PDMP_STATE.
    state: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    findings: Literal["no-concerns", "concerns"]
    note: Text | None = None


class TaperCreate(CommandBody):
    steps: list[DoseStepIn] = Field(min_length=1, max_length=20)
    reason: Text


class MedicationStop(CommandBody):
    reason: Text


class ReconciledItemIn(Strict):
    drug: ShortText
    rxnorm: RxNormCode | None = None
    dose: DoseIn
    schedule: ScheduleIn
    prescribed_by: ShortText | None = Field(default=None, examples=["Dr. Ng, Valley Primary Care"])
    sud_treatment: bool = False
    decision: Literal["confirmed", "changed", "discontinued"]
    new_dose: DoseIn | None = None
    new_schedule: ScheduleIn | None = None
    reason: Text | None = None


class MedicationReconciliationCreate(CommandBody):
    """The medications the patient reports taking from other prescribers, each with the
    prescriber's decision (the record refuses a change without its new dose or schedule, a
    change or discontinuation without its reason, and a drug listed twice)."""

    items: list[ReconciledItemIn] = Field(min_length=1, max_length=50)
    source: ShortText | None = Field(default=None, examples=["patient interview"])


# --- labs --------------------------------------------------------------------------------
class LabOrderCreate(CommandBody):
    order_id: UUID = Field(default_factory=new_id)
    loinc: LoincCode
    test_name: ShortText
    reason: Text
    due_by: date | None = None


class LabResultCreate(CommandBody):
    loinc: LoincCode
    test_name: ShortText
    value: Decimal | None = Field(default=None, max_digits=14, decimal_places=6)
    value_text: ShortText | None = None
    # A UCUM code; which ones fit is the test's (domain.lab_units), checked by the record so
    # that a refusal names the units this test accepts.
    unit: ShortText | None = Field(default=None, examples=["mmol/L"])
    reference_low: Decimal | None = Field(default=None, max_digits=14, decimal_places=6)
    reference_high: Decimal | None = Field(default=None, max_digits=14, decimal_places=6)
    final: bool = True
    comment: Text | None = None


# --- measures, safety, messages ----------------------------------------------------------
class QuestionnaireCreate(CommandBody):
    instrument: InstrumentCode
    answers: dict[str, int] = Field(max_length=30, examples=[{"1": 2, "2": 1}])


class SupporterObservationCreate(CommandBody):
    """An early-warning cue a supporter noticed (they were taught which in psychoeducation)."""

    cue: Cue
    change: Literal["less-than-usual", "usual", "more-than-usual", "much-more-than-usual"]
    observation: Text


class SleepLogCreate(CommandBody):
    night_of: date
    hours_asleep: Decimal = Field(ge=0, le=24, decimal_places=2)
    quality: int = Field(ge=1, le=5)
    bedtime: time | None = None
    wake_time: time | None = None


class VitalsCreate(CommandBody):
    weight_kg: Decimal | None = Field(default=None, gt=0, le=500, decimal_places=2)
    height_cm: Decimal | None = Field(default=None, gt=0, le=300, decimal_places=1)
    bmi: Decimal | None = Field(default=None, gt=0, le=150, decimal_places=1)
    systolic_mmhg: int | None = Field(default=None, gt=0, le=300)
    diastolic_mmhg: int | None = Field(default=None, gt=0, le=250)
    heart_rate_bpm: int | None = Field(default=None, gt=0, le=300)
    waist_cm: Decimal | None = Field(default=None, gt=0, le=300, decimal_places=1)


class FunctionalOutcomeCreate(CommandBody):
    setting: Literal["work", "school", "home", "social"]
    measure: Literal["attendance", "hours", "role-functioning"]
    period_start: date
    period_end: date
    achieved: int = Field(ge=0, le=100_000)
    expected: int = Field(ge=1, le=100_000)
    note: Text | None = None


class LapseCreate(CommandBody):
    substance: ShortText
    occurred_on: date
    circumstances: Text


class RiskAssessmentCreate(CommandBody):
    level: RiskLevel
    method: Literal["clinical-interview", "c-ssrs", "structured-tool"]
    factors: list[ShortText] = Field(default_factory=list, max_length=30)
    plan: Text


class MessageCreate(CommandBody):
    message_id: UUID = Field(default_factory=new_id)
    to: list[ShortText] = Field(min_length=1, max_length=20)
    subject: ShortText
    body: Text
    regarding: list[int] = Field(default_factory=list, max_length=20)


class MessageReply(CommandBody):
    """A reply: to everyone else on the message still on the team, under its subject."""

    reply_id: UUID = Field(default_factory=new_id)
    body: Text


class MessageAcknowledgement(CommandBody):
    pass


class EntryErrorCreate(CommandBody):
    """Mark one clinical entry (named by its record version) entered in error."""

    entry_version: int = Field(ge=1)
    reason: ShortText


class EntryAmendmentCreate(CommandBody):
    """Amend one clinical entry's free text (named by its record version)."""

    entry_version: int = Field(ge=1)
    reason: ShortText
    changes: dict[str, Any] = Field(min_length=1, max_length=10)
