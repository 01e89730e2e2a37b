"""Doses and when they are taken: the value types a prescription, a titration plan and a
taper are written in, shared by the medication events (domain/medication.py) and the
titration rules (domain/rules/titration.py)."""

from __future__ import annotations

from datetime import date, time

from pydantic import Field

from domain.events import Value
from domain.vocabulary import DoseUnit, Frequency, PositiveAmount


class Dose(Value):
    amount: PositiveAmount
    unit: DoseUnit

    def __str__(self) -> str:
        return f"{self.amount.normalize():f} {self.unit.value}"


class Schedule(Value):
    frequency: Frequency
    times: list[time] = Field(default_factory=list, max_length=6)

    def __str__(self) -> str:
        at = f" at {', '.join(t.strftime('%H:%M') for t in self.times)}" if self.times else ""
        return f"{self.frequency.value}{at}"


class DoseStep(Value):
    on_or_after: date
    dose: Dose


def check_steps_in_order(steps: list[DoseStep]) -> list[DoseStep]:
    days = [s.on_or_after for s in steps]
    if days != sorted(days):
        raise ValueError("steps must be in date order")
    return steps
