"""Safety: lapses and risk assessments. A lapse leads to contact and a plan adjustment,
never to discharge; nothing here closes a record because of a lapse."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field

from domain.errors import InvalidInput
from domain.events import Actor
from domain.record import TREATING, RecordBase, RecordEvent
from domain.vocabulary import DataClass, RiskLevel, Role, ShortText, Text


class LapseReported(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.SAFETY
    authors: ClassVar[frozenset[Role]] = TREATING | {Role.PATIENT}

    substance: ShortText
    occurred_on: date
    circumstances: Text

    def summary(self) -> str:
        return f"lapse reported ({self.substance}, {self.occurred_on.isoformat()})"


class RiskAssessed(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.SAFETY

    level: RiskLevel
    method: Literal["clinical-interview", "c-ssrs", "structured-tool"]
    factors: list[ShortText] = Field(default_factory=list, max_length=30)
    plan: Text

    def summary(self) -> str:
        return f"risk assessed: {self.level.value} ({self.method}); plan: {self.plan[:60]}"


class SafetySection(RecordBase):
    def report_lapse(
        self, by: Actor, at: datetime, *, substance: str, occurred_on: date, circumstances: str
    ) -> None:
        if occurred_on > at.date():
            raise InvalidInput.single("occurred_on", "is after the time of the report")
        # Inside a Part 2 program a lapse is SUD information whoever reports it.
        self._record(
            LapseReported,
            by,
            at,
            sud_context=self.in_part2_program(),
            substance=substance,
            occurred_on=occurred_on,
            circumstances=circumstances,
        )

    def assess_risk(
        self,
        by: Actor,
        at: datetime,
        *,
        level: RiskLevel,
        method: str,
        plan: str,
        factors: list[str] | None = None,
    ) -> None:
        self._record(
            RiskAssessed, by, at, level=level, method=method, plan=plan, factors=factors or []
        )
