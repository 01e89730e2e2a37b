"""The care plan: conditions, goals, functional targets and the phase of care."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

from domain.errors import RuleViolation
from domain.events import Actor
from domain.record import TREATING, RecordBase, RecordEvent
from domain.vocabulary import DataClass, ICD10Code, Phase, Role, ShortText, Text

ConditionStatus = Literal["active", "remission", "resolved"]


class ConditionRecorded(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.CARE_PLAN
    authors: ClassVar[frozenset[Role]] = TREATING | {Role.PRIMARY_CARE}

    icd10: ICD10Code
    description: ShortText
    status: ConditionStatus = "active"

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


class CarePlanSection(RecordBase):
    def record_condition(
        self, by: Actor, at: datetime, *, icd10: str, description: str, status: str = "active"
    ) -> None:
        self._record(ConditionRecorded, by, at, icd10=icd10, description=description, status=status)

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
