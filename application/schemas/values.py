"""Small value shapes shared by several request bodies."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.vocabulary import DoseUnit, Frequency, ICD10Code, RxNormCode, ShortText


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DoseIn(Strict):
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=4, examples=["50"])
    unit: DoseUnit


class ScheduleIn(Strict):
    frequency: Frequency
    times: list[time] = Field(default_factory=list, max_length=6)


class DoseStepIn(Strict):
    on_or_after: date
    dose: DoseIn


class ComorbidityIn(Strict):
    icd10: ICD10Code
    description: ShortText


class PriorTrialIn(Strict):
    drug: ShortText
    rxnorm: RxNormCode | None = None
    max_dose: DoseIn | None = None
    weeks: int = Field(ge=0, le=520)
    response: Literal["none", "partial", "full", "unknown"]
    stopped_because: ShortText | None = None
