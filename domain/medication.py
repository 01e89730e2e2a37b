"""Medication events: evaluation, starts, titration, changes, effects, stops, the
reconciliation of medications prescribed elsewhere, and the state they leave on the record.

The commands that record them, with their guards, are the record's medication section
(domain/medication_management.py). The events stay in this module, whose path is part of
their stored topics ("domain.medication:DoseChanged").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
)

from domain.dose import Dose, DoseStep, Schedule, check_steps_in_order
from domain.events import Value
from domain.record import TREATING, RecordEvent
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
Decision = Literal["confirmed", "changed", "discontinued"]


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
    route: str = "oral"
    # When it was stopped (its stop's clinical time, or the switch away from it).
    stopped_at: datetime | None = None


class DoseCheck(Value):
    """How a prescribed dose stood against the dose-range table when it was recorded
    (domain/rules/dose_ranges.py): the row, the amount and the usual maximum it was compared
    with, whether it was above that maximum (recorded only with an override reason) and the
    notes its reader must see (no range on file, no weight on record, no paediatric range)."""

    rule_id: ShortText
    version: ShortText
    amount: ShortText  # "300 mg/day"
    usual_max: ShortText | None = None
    above_usual_max: bool = False
    notes: list[ShortText] = Field(default_factory=list, max_length=10)

    def summary(self, override_reason: str | None) -> str:
        shown = []
        if self.above_usual_max:
            shown.append(
                f"above the usual maximum of {self.usual_max} ({self.rule_id} v{self.version}), "
                f"overridden: {override_reason}"
            )
        shown += self.notes
        return f" ({'; '.join(shown)})" if shown else ""


class OmitsNewFields(RecordEvent):
    """An event class that gained optional fields: left unset, they stay out of its JSON,
    so an event stored before them keeps its payload byte for byte (what views and their
    replays are built from)."""

    omitted_when_none: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit_new_fields(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for name in self.omitted_when_none:
            if name in data and data[name] is None:
                del data[name]
        return data


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


class MedicationEvent(OmitsNewFields):
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
    # Absent in events recorded before doses were checked against the dose-range table.
    dose_check: DoseCheck | None = None
    override_reason: Text | None = None
    # A restart that re-titrates (domain/rules/titration.py, LAMOTRIGINE_RESTART): how
    # long it was off, against how many half-lives. Absent otherwise, and in starts
    # recorded before it was asked.
    restarted_after: ShortText | None = None
    # Whether the first dose was above the titration's first step (recorded only with an
    # override reason).
    above_first_step: bool | None = None
    omitted_when_none: ClassVar[frozenset[str]] = frozenset(
        {"dose_check", "override_reason", "restarted_after", "above_first_step"}
    )

    def apply(self, aggregate: Any) -> None:
        aggregate.state.medications[self.medication_id] = MedicationState(
            self.drug,
            self.dose,
            ACTIVE,
            self.sud_treatment,
            self.rxnorm,
            self.clinical_time,
            self.schedule.frequency,
            self.route,
        )

    def summary(self) -> str:
        checked = self.dose_check.summary(self.override_reason) if self.dose_check else ""
        restart = ""
        if self.restarted_after is not None:
            restart = f" (restart after {self.restarted_after}: re-titrate from the first step"
            if self.above_first_step:
                restart += f"; above the first step, overridden: {self.override_reason}"
            restart += ")"
        return (
            f"started {self.drug} {self.dose} {self.schedule} for {self.indication}"
            f"{checked}{restart}"
        )


class TitrationPlanned(MedicationEvent):
    """A plan of dose steps: upwards (a titration; `direction` unset in plans recorded
    before it was asked, and in plans up), or downwards: a taper, with its reason, which
    puts the medication in its tapering status (the section's guards check that each step
    goes down)."""

    steps: list[DoseStep] = Field(min_length=1, max_length=20)
    direction: Literal["up", "down"] | None = None
    reason: Text | None = None
    omitted_when_none: ClassVar[frozenset[str]] = frozenset({"direction", "reason"})

    # A field validator, not a model one, so that the refusal names `steps`.
    _steps_in_order = field_validator("steps")(check_steps_in_order)

    def apply(self, aggregate: Any) -> None:
        if self.direction == "down":
            aggregate.state.medications[self.medication_id].status = TAPERING

    def summary(self) -> str:
        plan = ", ".join(f"{s.dose} from {s.on_or_after.isoformat()}" for s in self.steps)
        if self.direction == "down":
            return f"taper plan: {plan} ({self.reason})"
        return f"titration plan: {plan}"


class DoseChanged(MedicationEvent):
    # An order: only a prescriber records it. What a therapist or the patient hears the
    # patient takes is a DoseReported. (Stored dose changes a therapist documented, before
    # that was refused, still load: authorship is the command's check, not the event's.)
    authors: ClassVar[frozenset[Role]] = PRESCRIBERS

    dose: Dose
    reason: Text
    # Why a dose step beyond a titration schedule, or above the usual maximum, was taken
    # (check_titration, check_dose). Absent in events recorded before it was asked, and
    # when nothing was overridden.
    override_reason: Text | None = None
    dose_check: DoseCheck | None = None
    omitted_when_none: ClassVar[frozenset[str]] = frozenset({"dose_check"})

    def apply(self, aggregate: Any) -> None:
        aggregate.state.medications[self.medication_id].dose = self.dose

    def summary(self) -> str:
        if self.dose_check is not None and self.dose_check.above_usual_max:
            return f"dose changed to {self.dose}: {self.reason}" + self.dose_check.summary(
                self.override_reason
            )
        override = (
            f" (titration overridden: {self.override_reason})" if self.override_reason else ""
        )
        checked = self.dose_check.summary(None) if self.dose_check else ""
        return f"dose changed to {self.dose}: {self.reason}{override}{checked}"


class DoseTimingChanged(MedicationEvent):
    schedule: Schedule
    dose_per_administration: Dose | None = None
    reason: Text
    dose_check: DoseCheck | None = None
    override_reason: Text | None = None
    omitted_when_none: ClassVar[frozenset[str]] = frozenset({"dose_check", "override_reason"})

    def apply(self, aggregate: Any) -> None:
        aggregate.state.medications[self.medication_id].frequency = self.schedule.frequency

    def summary(self) -> str:
        split = f", {self.dose_per_administration} each" if self.dose_per_administration else ""
        checked = self.dose_check.summary(self.override_reason) if self.dose_check else ""
        return f"timing changed to {self.schedule}{split}: {self.reason}{checked}"


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
    dose_check: DoseCheck | None = None
    override_reason: Text | None = None
    # The new medication's route; none: the old one's (and in events recorded before it).
    route: Route | None = None
    omitted_when_none: ClassVar[frozenset[str]] = frozenset(
        {"dose_check", "override_reason", "route"}
    )

    def apply(self, aggregate: Any) -> None:
        old = aggregate.state.medications[self.medication_id]
        old.status = STOPPED
        old.stopped_at = self.clinical_time
        sud = old.sud if self.sud_treatment is None else self.sud_treatment
        aggregate.state.medications[self.to_medication_id] = MedicationState(
            self.drug,
            self.dose,
            ACTIVE,
            sud,
            self.rxnorm,
            self.clinical_time,
            self.schedule.frequency,
            self.route or old.route,
        )

    def summary(self) -> str:
        how = " with cross-taper" if self.cross_taper else ""
        checked = self.dose_check.summary(self.override_reason) if self.dose_check else ""
        return f"switched to {self.drug} {self.dose}{how}: {self.reason}{checked}"


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


class DoseReported(MedicationEvent):
    """What the patient is reported to take, as an observation: told to the therapist, or
    said by the patient. Not an order: it changes no dose on the record; a prescriber who
    agrees records a DoseChanged."""

    authors: ClassVar[frozenset[Role]] = TREATING | {Role.PATIENT, Role.PRIMARY_CARE}

    dose: Dose
    schedule: Schedule | None = None
    note: Text | None = None

    def summary(self) -> str:
        schedule = f" {self.schedule}" if self.schedule is not None else ""
        note = f": {self.note}" if self.note else ""
        return f"reported taking {self.dose}{schedule} (an observation, not an order){note}"


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
        stopped = aggregate.state.medications[self.medication_id]
        stopped.status, stopped.stopped_at = STOPPED, self.clinical_time

    def summary(self) -> str:
        return f"stopped: {self.reason}"


class ReconciledItem(Value):
    """A medication the patient reports taking from another prescriber (or over the counter),
    as reported, and the prescriber's decision on it: continued as reported, changed to
    `new_dose` and/or `new_schedule`, or discontinued. The section's guards check that the
    decision carries what it needs (check_reconciled_item)."""

    drug: ShortText
    rxnorm: RxNormCode | None = None
    dose: Dose
    schedule: Schedule
    prescribed_by: ShortText | None = None  # free text; none for an over-the-counter drug
    # Treatment for a substance-use disorder (methadone from an OTP): an SUD record.
    sud_treatment: bool = False
    decision: Decision
    new_dose: Dose | None = None
    new_schedule: Schedule | None = None
    reason: Text | None = None

    @property
    def key(self) -> str:
        """Which outside medication this is on the record: the same drug, however written."""
        return self.drug.casefold()

    def dose_after(self) -> Dose:
        """The dose the patient takes after the reconciliation (the reported one unless
        changed)."""
        if self.decision == "changed" and self.new_dose is not None:
            return self.new_dose
        return self.dose

    def schedule_after(self) -> Schedule:
        if self.decision == "changed" and self.new_schedule is not None:
            return self.new_schedule
        return self.schedule

    def summary(self) -> str:
        reported = f"{self.drug} {self.dose} {self.schedule}"
        if self.decision == "changed":
            to = " ".join(str(v) for v in (self.new_dose, self.new_schedule) if v is not None)
            return f"{reported} changed to {to}: {self.reason}"
        why = f": {self.reason}" if self.reason else ""
        return f"{reported} {self.decision}{why}"


class MedicationsReconciled(RecordEvent):
    """The prescriber obtained the patient's list of medications from other prescribers,
    compared it and decided on each (The Joint Commission NPSG.03.06.01)."""

    class_version: ClassVar[int] = 1
    default_class: ClassVar[DataClass] = DataClass.MEDICATION
    authors: ClassVar[frozenset[Role]] = PRESCRIBERS

    items: list[ReconciledItem] = Field(min_length=1, max_length=50)
    source: ShortText | None = None  # where the list came from: "patient interview", ...

    def apply(self, aggregate: Any) -> None:
        for item in self.items:
            aggregate.state.reconciled[item.key] = MedicationState(
                item.drug,
                item.dose_after(),
                STOPPED if item.decision == "discontinued" else ACTIVE,
                item.sud_treatment,
                item.rxnorm or "",
                None,  # started elsewhere, on a day the record does not know
                item.schedule_after().frequency,
            )

    def summary(self) -> str:
        source = f" ({self.source})" if self.source else ""
        listed = "; ".join(item.summary() for item in self.items)
        return f"medications reconciled{source}: {listed}"
