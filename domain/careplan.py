"""The care plan: conditions, goals, functional targets and the phase of care."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal
from uuid import UUID

from domain.errors import InvalidInput, RuleViolation
from domain.events import Actor
from domain.medication import OmitsNewFields
from domain.record import TREATING, RecordBase, RecordEvent
from domain.vocabulary import (
    DataClass,
    ICD10Code,
    Phase,
    PositiveAmount,
    Role,
    ShortText,
    Text,
)

ConditionStatus = Literal["active", "remission", "resolved"]
Episode = Literal["first", "recurrent"]
EPISODES = ("first", "recurrent")
DEPRESSIVE = ("F32", "F33")  # ICD-10: depressive episode, recurrent depressive disorder
PregnancyStatus = Literal[
    "pregnant", "planning pregnancy", "not pregnant", "cannot become pregnant"
]
PRESCRIBER_ONLY = frozenset({Role.PRESCRIBER})


class ConditionRecorded(OmitsNewFields):
    default_class: ClassVar[DataClass] = DataClass.CARE_PLAN
    authors: ClassVar[frozenset[Role]] = TREATING | {Role.PRIMARY_CARE}

    icd10: ICD10Code
    description: ShortText
    status: ConditionStatus = "active"
    # A depressive condition's course: a first episode or recurrent illness (how long an
    # antidepressant is continued after remission: domain/rules/reassessment.py). Absent
    # in conditions recorded before it was asked, and when not stated.
    episode: Episode | None = None
    omitted_when_none: ClassVar[frozenset[str]] = frozenset({"episode"})

    def apply(self, aggregate: Any) -> None:
        aggregate.state.conditions[self.icd10] = self.status

    def summary(self) -> str:
        return f"condition {self.icd10} {self.description} ({self.status})"


class GoalSet(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.CARE_PLAN

    goal_id: UUID
    description: Text
    functional_target: ShortText | None = None

    def apply(self, aggregate: Any) -> None:
        aggregate.state.goals.add(self.goal_id)

    def summary(self) -> str:
        target = f" (target: {self.functional_target})" if self.functional_target else ""
        return f"goal: {self.description}{target}"


class PhaseChanged(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.CARE_PLAN

    phase: Phase
    reason: Text

    def apply(self, aggregate: Any) -> None:
        aggregate.state.phase = self.phase

    def summary(self) -> str:
        return f"phase of care: {self.phase.value} ({self.reason})"


class FunctionalRecommendationMade(RecordEvent):
    """What a school or employer may act on (e.g. reduced course load, return-to-work
    plan), without clinical detail: FERPA 34 CFR Part 99 makes it an education record."""

    default_class: ClassVar[DataClass] = DataClass.FUNCTIONAL
    authors: ClassVar[frozenset[Role]] = TREATING | {Role.PRIMARY_CARE}

    setting: Literal["school", "work", "home"]
    recommendation: Text
    valid_until: datetime | None = None

    def summary(self) -> str:
        return f"functional recommendation for {self.setting}: {self.recommendation}"


class NeutropeniaPathwayRecorded(RecordEvent):
    """Whether the patient's neutrophil counts follow the benign ethnic neutropenia (BEN)
    pathway, recorded by a prescriber: clozapine's ANC bands are then the BEN bands
    (normal at 1000/uL and above) rather than the general population's."""

    default_class: ClassVar[DataClass] = DataClass.CARE_PLAN
    authors: ClassVar[frozenset[Role]] = PRESCRIBER_ONLY

    benign_ethnic_neutropenia: bool
    basis: Text

    def summary(self) -> str:
        pathway = "benign ethnic neutropenia" if self.benign_ethnic_neutropenia else "general"
        return f"neutrophil count pathway: {pathway} ({self.basis})"


class PregnancyStatusRecorded(RecordEvent):
    """An observation of pregnancy status, and whether pregnancy prevention is in place
    (for valproate: the risk acknowledged and highly effective contraception)."""

    default_class: ClassVar[DataClass] = DataClass.CARE_PLAN
    authors: ClassVar[frozenset[Role]] = TREATING | {Role.PRIMARY_CARE}

    status: PregnancyStatus
    prevention_in_place: bool = False
    note: ShortText | None = None

    def summary(self) -> str:
        prevention = "; pregnancy prevention in place" if self.prevention_in_place else ""
        return f"pregnancy status: {self.status}{prevention}"


class LevelTargetSet(RecordEvent):
    """A prescriber's target range for a medication's serum level (lithium in mmol/L):
    the monitoring rules count levels as stable around it rather than the default."""

    default_class: ClassVar[DataClass] = DataClass.MEDICATION
    authors: ClassVar[frozenset[Role]] = PRESCRIBER_ONLY

    medication_id: UUID
    low: PositiveAmount
    high: PositiveAmount
    unit: Literal["mmol/L"] = "mmol/L"
    reason: ShortText

    def summary(self) -> str:
        return (
            f"level target {self.low.normalize():f}-{self.high.normalize():f} {self.unit} "
            f"({self.reason})"
        )


class CarePlanSection(RecordBase):
    def set_level_target(
        self,
        by: Actor,
        at: datetime,
        *,
        medication_id: UUID,
        low: Decimal,
        high: Decimal,
        reason: str,
        unit: str = "mmol/L",
    ) -> None:
        if medication_id not in self.state.medications:
            raise RuleViolation(
                f"medication {medication_id} is not on this record",
                patient_id=self.id,
                field="medication_id",
            )
        if Decimal(str(low)) >= Decimal(str(high)):
            raise RuleViolation(
                f"the target's high ({high}) must be above its low ({low})",
                patient_id=self.id,
                field="high",
            )
        self._record(
            LevelTargetSet,
            by,
            at,
            medication_id=medication_id,
            low=low,
            high=high,
            unit=unit,
            reason=reason,
        )

    def record_neutropenia_pathway(
        self, by: Actor, at: datetime, *, benign_ethnic_neutropenia: bool, basis: str
    ) -> None:
        self._record(
            NeutropeniaPathwayRecorded,
            by,
            at,
            benign_ethnic_neutropenia=benign_ethnic_neutropenia,
            basis=basis,
        )

    def record_pregnancy_status(
        self,
        by: Actor,
        at: datetime,
        *,
        status: str,
        prevention_in_place: bool = False,
        note: str | None = None,
    ) -> None:
        self._record(
            PregnancyStatusRecorded,
            by,
            at,
            status=status,
            prevention_in_place=prevention_in_place,
            note=note,
        )

    def record_condition(
        self,
        by: Actor,
        at: datetime,
        *,
        icd10: str,
        description: str,
        status: str = "active",
        episode: str | None = None,
    ) -> None:
        if episode is not None:
            self.check_episode(str(icd10), episode)
        self._record(
            ConditionRecorded,
            by,
            at,
            icd10=icd10,
            description=description,
            status=status,
            episode=episode,
        )

    def check_episode(self, icd10: str, episode: str) -> None:
        """An episode is stated for a depressive condition only, and agrees with its code:
        ICD-10 F33 is recurrent depressive disorder, F32 a single episode."""
        code = icd10.upper()
        if not code.startswith(DEPRESSIVE):
            raise InvalidInput.single(
                "episode",
                f"is recorded for a depressive condition (ICD-10 F32 or F33), not {icd10}",
            )
        coded = "recurrent" if code.startswith("F33") else "first"
        if episode in EPISODES and episode != coded:
            raise InvalidInput.single(
                "episode",
                f"{icd10} is {'recurrent depressive disorder' if coded == 'recurrent' else 'a single depressive episode'}: "
                f"'{episode}' contradicts it (record the condition with "
                f"{'F32' if coded == 'recurrent' else 'F33'} instead)",
            )

    def set_goal(
        self,
        by: Actor,
        at: datetime,
        *,
        goal_id: UUID,
        description: str,
        functional_target: str | None = None,
    ) -> None:
        if goal_id in self.state.goals:
            raise RuleViolation(
                f"goal {goal_id} already exists", patient_id=self.id, field="goal_id"
            )
        self._record(
            GoalSet,
            by,
            at,
            goal_id=goal_id,
            description=description,
            functional_target=functional_target,
        )

    def change_phase(self, by: Actor, at: datetime, *, phase: Phase, reason: str) -> None:
        if self.state.phase == phase:
            raise RuleViolation(
                f"the plan is already in the {phase} phase", patient_id=self.id, field="phase"
            )
        self._record(PhaseChanged, by, at, phase=phase, reason=reason)

    def recommend_functional(
        self,
        by: Actor,
        at: datetime,
        *,
        setting: str,
        recommendation: str,
        valid_until: datetime | None = None,
    ) -> None:
        self._record(
            FunctionalRecommendationMade,
            by,
            at,
            setting=setting,
            recommendation=recommendation,
            valid_until=valid_until,
        )
