"""Medication management: evaluation, starts, titration, changes, effects, stops."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import Field, ValidationError, ValidationInfo, field_validator

from domain.dose import Dose, DoseStep, Schedule, check_steps_in_order
from domain.errors import RuleViolation
from domain.events import Actor, Value
from domain.record import TREATING, RecordBase, RecordEvent, parsed_flag, refuse_reserved
from domain.rules.titration import (
    ENZYME_INDUCER_NAMES,
    LAMOTRIGINE_TITRATION,
    VALPROATE_NAMES,
    Regimen,
    mg_per_day,
)
from domain.vocabulary import (
    DataClass,
    Frequency,
    ICD10Code,
    Role,
    RxNormCode,
    Severity,
    ShortText,
    Text,
)

PRESCRIBERS = frozenset({Role.PRESCRIBER})
ACTIVE, STOPPED, TAPERING = "active", "stopped", "tapering"
Route = Literal["oral", "sublingual", "nasal", "transdermal", "intramuscular", "subcutaneous"]


class PriorTrial(Value):
    drug: ShortText
    rxnorm: RxNormCode | None = None
    max_dose: Dose | None = None
    weeks: int = Field(ge=0, le=520)
    response: Literal["none", "partial", "full", "unknown"]
    stopped_because: ShortText | None = None


class Comorbidity(Value):
    icd10: ICD10Code
    description: ShortText


@dataclass
class MedicationState:
    drug: str
    dose: Dose
    status: str
    sud: bool
    rxnorm: str = ""
    started_at: datetime | None = None
    frequency: Frequency | None = None


class EvaluationRecorded(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.PROGRESS_NOTE
    authors: ClassVar[frozenset[Role]] = PRESCRIBERS

    symptom_history: Text
    comorbidities: list[Comorbidity] = Field(default_factory=list)
    prior_trials: list[PriorTrial] = Field(default_factory=list)
    family_history: Text | None = None
    preferences: Text | None = None

    def summary(self) -> str:
        return (
            f"medication evaluation: {len(self.comorbidities)} comorbidities, "
            f"{len(self.prior_trials)} prior trials"
        )


class MedicationEvent(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.MEDICATION
    authors: ClassVar[frozenset[Role]] = PRESCRIBERS

    medication_id: UUID


class MedicationStarted(MedicationEvent):
    drug: ShortText
    rxnorm: RxNormCode
    dose: Dose
    schedule: Schedule
    route: Route = "oral"
    indication: ShortText
    # Prescribed as treatment for a substance-use disorder: its record is an SUD record.
    sud_treatment: bool = False

    def apply(self, aggregate: Any) -> None:
        aggregate.state.medications[self.medication_id] = MedicationState(
            self.drug,
            self.dose,
            ACTIVE,
            self.sud_treatment,
            self.rxnorm,
            self.clinical_time,
            self.schedule.frequency,
        )

    def summary(self) -> str:
        return f"started {self.drug} {self.dose} {self.schedule} for {self.indication}"


class TitrationPlanned(MedicationEvent):
    steps: list[DoseStep] = Field(min_length=1, max_length=20)

    # A field validator, not a model one, so that the refusal names `steps`.
    _steps_in_order = field_validator("steps")(check_steps_in_order)

    def summary(self) -> str:
        plan = ", ".join(f"{s.dose} from {s.on_or_after.isoformat()}" for s in self.steps)
        return f"titration plan: {plan}"


class DoseChanged(MedicationEvent):
    # In collaborative care the therapist (as care manager) may document a dose change
    # the prescriber ordered; the event names who recorded it.
    authors: ClassVar[frozenset[Role]] = PRESCRIBERS | {Role.THERAPIST}

    dose: Dose
    reason: Text
    # Why a dose step beyond a titration schedule was taken (check_titration). Absent in
    # events recorded before it was asked, and when no schedule was overridden.
    override_reason: Text | None = None

    def apply(self, aggregate: Any) -> None:
        aggregate.state.medications[self.medication_id].dose = self.dose

    def summary(self) -> str:
        override = (
            f" (titration overridden: {self.override_reason})" if self.override_reason else ""
        )
        return f"dose changed to {self.dose}: {self.reason}{override}"


class DoseTimingChanged(MedicationEvent):
    schedule: Schedule
    dose_per_administration: Dose | None = None
    reason: Text

    def apply(self, aggregate: Any) -> None:
        aggregate.state.medications[self.medication_id].frequency = self.schedule.frequency

    def summary(self) -> str:
        split = f", {self.dose_per_administration} each" if self.dose_per_administration else ""
        return f"timing changed to {self.schedule}{split}: {self.reason}"


class MedicationSwitched(MedicationEvent):
    """From `medication_id` to a new medication, `to_medication_id`."""

    to_medication_id: UUID
    drug: ShortText
    rxnorm: RxNormCode
    dose: Dose
    schedule: Schedule
    indication: ShortText
    cross_taper: bool = False
    reason: Text
    # Whether the new medication treats a substance-use disorder. None only in events
    # recorded before it was asked, when the new medication always followed the old one.
    sud_treatment: bool | None = None

    def apply(self, aggregate: Any) -> None:
        old = aggregate.state.medications[self.medication_id]
        old.status = STOPPED
        sud = old.sud if self.sud_treatment is None else self.sud_treatment
        aggregate.state.medications[self.to_medication_id] = MedicationState(
            self.drug,
            self.dose,
            ACTIVE,
            sud,
            self.rxnorm,
            self.clinical_time,
            self.schedule.frequency,
        )

    def summary(self) -> str:
        how = " with cross-taper" if self.cross_taper else ""
        return f"switched to {self.drug} {self.dose}{how}: {self.reason}"


class SideEffectReported(MedicationEvent):
    authors: ClassVar[frozenset[Role]] = TREATING | {Role.PATIENT, Role.PRIMARY_CARE}

    effect: ShortText
    severity: Severity

    def summary(self) -> str:
        return f"side effect: {self.effect} ({self.severity.value})"


class AdherenceRecorded(MedicationEvent):
    authors: ClassVar[frozenset[Role]] = TREATING | {Role.PATIENT}

    period_days: int = Field(ge=1, le=90)
    doses_prescribed: int = Field(ge=0)
    doses_taken: int = Field(ge=0)

    @field_validator("doses_taken")
    @classmethod
    def _taken_within_prescribed(cls, value: int, info: ValidationInfo) -> int:
        # Absent when doses_prescribed was itself refused: that error is reported already.
        prescribed = info.data.get("doses_prescribed")
        if prescribed is not None and value > prescribed:
            raise ValueError(f"doses_taken cannot exceed doses_prescribed ({prescribed})")
        return value

    def summary(self) -> str:
        return f"adherence: {self.doses_taken}/{self.doses_prescribed} doses over {self.period_days} days"


class MedicationReassessed(MedicationEvent):
    assessment: Text
    decision: Literal["continue", "adjust", "taper", "stop", "switch"]

    def summary(self) -> str:
        return f"reassessed: {self.decision} ({self.assessment[:60]})"


class TaperStarted(MedicationEvent):
    steps: list[DoseStep] = Field(min_length=1, max_length=20)
    reason: Text

    _steps_in_order = field_validator("steps")(check_steps_in_order)

    def apply(self, aggregate: Any) -> None:
        aggregate.state.medications[self.medication_id].status = TAPERING

    def summary(self) -> str:
        return f"taper started over {len(self.steps)} steps: {self.reason}"


class MedicationStopped(MedicationEvent):
    reason: Text

    def apply(self, aggregate: Any) -> None:
        aggregate.state.medications[self.medication_id].status = STOPPED

    def summary(self) -> str:
        return f"stopped: {self.reason}"


class MedicationSection(RecordBase):
    def record_evaluation(self, by: Actor, at: datetime, **evaluation: Any) -> None:
        refuse_reserved(evaluation)
        self._record(EvaluationRecorded, by, at, **evaluation)

    def check_medication_known(self, medication_id: UUID) -> MedicationState:
        self.check_known("medication", medication_id, self.state.medications, "medication_id")
        med: MedicationState = self.state.medications[medication_id]
        return med

    def check_medication_current(self, medication_id: UUID) -> MedicationState:
        med = self.check_medication_known(medication_id)
        if med.status == STOPPED:
            raise RuleViolation(
                f"medication {medication_id} ({med.drug}) has been stopped",
                patient_id=self.id,
                field="medication_id",
            )
        return med

    def start_medication(
        self, by: Actor, at: datetime, *, medication_id: UUID, **details: Any
    ) -> None:
        refuse_reserved(details)
        if medication_id in self.state.medications:
            raise RuleViolation(
                f"medication {medication_id} already exists",
                patient_id=self.id,
                field="medication_id",
            )
        # The data class follows the flag as the event will read it ("false" is False), not
        # the truthiness of whatever the caller sent.
        sud = parsed_flag("sud_treatment", details.pop("sud_treatment", False))
        self._record(
            MedicationStarted,
            by,
            at,
            medication_id=medication_id,
            sud_context=sud,
            sud_treatment=sud,
            **details,
        )

    def _on_medication(
        self,
        event_class: type[MedicationEvent],
        by: Actor,
        at: datetime,
        medication_id: UUID,
        *,
        even_if_stopped: bool = False,
        **fields: Any,
    ) -> None:
        if even_if_stopped:
            med = self.check_medication_known(medication_id)
        else:
            med = self.check_medication_current(medication_id)
        self._record(
            event_class, by, at, medication_id=medication_id, sud_context=med.sud, **fields
        )

    def plan_titration(
        self, by: Actor, at: datetime, *, medication_id: UUID, steps: list[Any]
    ) -> None:
        self._on_medication(TitrationPlanned, by, at, medication_id, steps=steps)

    def change_dose(
        self,
        by: Actor,
        at: datetime,
        *,
        medication_id: UUID,
        dose: Any,
        reason: str,
        override_reason: str | None = None,
    ) -> None:
        """Change a medication's daily dose. A step beyond its titration schedule is refused
        unless `override_reason` says why, which the event records."""
        med = self.check_medication_current(medication_id)
        self.check_may_author(DoseChanged, by)
        # A blank reason is no reason; anything else goes to the event, which checks it.
        blank = isinstance(override_reason, str) and not override_reason.strip()
        override = None if blank else override_reason
        if override is None:
            self.check_titration(med, at, dose)
        self._on_medication(
            DoseChanged,
            by,
            at,
            medication_id,
            dose=dose,
            reason=reason,
            override_reason=override,
        )

    def check_titration(self, med: MedicationState, at: datetime, dose: Any) -> None:
        """A lamotrigine dose increase may not go above its titration schedule's maximum
        for the weeks since the start (for the regimen the record shows)."""
        schedule = LAMOTRIGINE_TITRATION
        if not schedule.matches(med.drug, med.rxnorm) or med.started_at is None:
            return
        # A clinical time without an offset cannot be compared; the event refuses it anyway.
        if not isinstance(at, datetime) or at.tzinfo is None:
            return
        try:
            new = dose if isinstance(dose, Dose) else Dose.model_validate(dose)
        except ValidationError:
            return  # the event refuses it, naming the field
        daily, before = mg_per_day(new, med.frequency), mg_per_day(med.dose, med.frequency)
        if daily is None or before is None or daily <= before:
            return
        week = max((at - med.started_at).days, 0) // 7 + 1
        regimen = self.lamotrigine_regimen()
        limit = schedule.maximum(regimen, week)
        if limit is not None and daily > limit:
            raise RuleViolation(
                f"{med.drug} {daily.normalize():f} mg/day in week {week} is above the "
                f"titration maximum of {limit.normalize():f} mg/day {regimen} "
                f"({schedule.rule_id} v{schedule.version}); give override_reason to proceed",
                patient_id=self.id,
                field="dose",
            )

    def lamotrigine_regimen(self) -> Regimen:
        """Which column of the titration table applies: valproate first (the label's
        order), then an enzyme inducer, from the medications the record shows current."""
        current = [m for m in self.state.medications.values() if m.status != STOPPED]
        if any(VALPROATE_NAMES.match(m.drug, m.rxnorm) for m in current):
            return "with valproate"
        if any(ENZYME_INDUCER_NAMES.match(m.drug, m.rxnorm) for m in current):
            return "with an enzyme inducer"
        return "alone"

    def change_timing(
        self,
        by: Actor,
        at: datetime,
        *,
        medication_id: UUID,
        schedule: Any,
        reason: str,
        dose_per_administration: Any = None,
    ) -> None:
        self._on_medication(
            DoseTimingChanged,
            by,
            at,
            medication_id,
            schedule=schedule,
            reason=reason,
            dose_per_administration=dose_per_administration,
        )

    def switch_medication(
        self,
        by: Actor,
        at: datetime,
        *,
        medication_id: UUID,
        to_medication_id: UUID,
        sud_treatment: Any = None,
        **details: Any,
    ) -> None:
        """Stop `medication_id` and start `to_medication_id` in one event. The new
        medication treats a substance-use disorder if `sud_treatment` says so, and by
        default when the old one did."""
        refuse_reserved(details)
        if to_medication_id in self.state.medications:
            raise RuleViolation(
                f"medication {to_medication_id} already exists",
                patient_id=self.id,
                field="to_medication_id",
            )
        old = self.check_medication_current(medication_id)
        new_sud = old.sud if sud_treatment is None else parsed_flag("sud_treatment", sud_treatment)
        # The switch names both medications, so it is an SUD record if either is SUD
        # treatment (42 CFR 2.11).
        self._record(
            MedicationSwitched,
            by,
            at,
            medication_id=medication_id,
            sud_context=old.sud or new_sud,
            to_medication_id=to_medication_id,
            sud_treatment=new_sud,
            **details,
        )

    def report_side_effect(
        self, by: Actor, at: datetime, *, medication_id: UUID, effect: str, severity: Severity
    ) -> None:
        # Also after a stop: withdrawal and discontinuation symptoms are reported then.
        self._on_medication(
            SideEffectReported,
            by,
            at,
            medication_id,
            even_if_stopped=True,
            effect=effect,
            severity=severity,
        )

    def record_adherence(
        self,
        by: Actor,
        at: datetime,
        *,
        medication_id: UUID,
        period_days: int,
        doses_prescribed: int,
        doses_taken: int,
    ) -> None:
        self._on_medication(
            AdherenceRecorded,
            by,
            at,
            medication_id,
            # A period may end at or after the stop (doses taken before it, or despite it).
            even_if_stopped=True,
            period_days=period_days,
            doses_prescribed=doses_prescribed,
            doses_taken=doses_taken,
        )

    def reassess_medication(
        self, by: Actor, at: datetime, *, medication_id: UUID, assessment: str, decision: str
    ) -> None:
        self._on_medication(
            MedicationReassessed, by, at, medication_id, assessment=assessment, decision=decision
        )

    def start_taper(
        self, by: Actor, at: datetime, *, medication_id: UUID, steps: list[Any], reason: str
    ) -> None:
        self._on_medication(TaperStarted, by, at, medication_id, steps=steps, reason=reason)

    def stop_medication(self, by: Actor, at: datetime, *, medication_id: UUID, reason: str) -> None:
        self._on_medication(MedicationStopped, by, at, medication_id, reason=reason)
