"""Questionnaire instruments as data: which items each has and what answers they take.

Only structure lives here (items and answer ranges, from clinical/instruments.md); scoring
rules build on these tables. Item keys are the item numbers as strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import FieldError


class InstrumentCode(StrEnum):
    PHQ9 = "phq-9"
    GAD7 = "gad-7"
    PCL5 = "pcl-5"
    AUDITC = "audit-c"
    ASRS = "asrs-v1.1-a"
    CSSRS = "c-ssrs-screener"
    PROMIS_SLEEP = "promis-sleep-8a"


@dataclass(frozen=True)
class Item:
    key: str
    low: int
    high: int
    required: bool = True


@dataclass(frozen=True)
class Instrument:
    code: InstrumentCode
    version: str
    name: str
    items: tuple[Item, ...]

    def item(self, key: str) -> Item | None:
        return next((i for i in self.items if i.key == key), None)


def _items(count: int, low: int, high: int) -> tuple[Item, ...]:
    return tuple(Item(str(n), low, high) for n in range(1, count + 1))


INSTRUMENTS: dict[InstrumentCode, Instrument] = {
    i.code: i
    for i in (
        # Item 10 (difficulty, LOINC 69722-7) is recorded but not scored, and optional.
        Instrument(
            InstrumentCode.PHQ9,
            "1",
            "Patient Health Questionnaire-9",
            (*_items(9, 0, 3), Item("10", 0, 3, required=False)),
        ),
        Instrument(InstrumentCode.GAD7, "1", "Generalized Anxiety Disorder-7", _items(7, 0, 3)),
        Instrument(InstrumentCode.PCL5, "1", "PTSD Checklist for DSM-5", _items(20, 0, 4)),
        Instrument(InstrumentCode.AUDITC, "1", "AUDIT-C", _items(3, 0, 4)),
        Instrument(
            InstrumentCode.ASRS, "1.1", "Adult ADHD Self-Report Scale, Part A", _items(6, 0, 4)
        ),
        # C-SSRS screener: yes (1) / no (0). Q3-Q5 are asked only when Q2 is yes; Q6 asks
        # about behaviour over the lifetime and, if yes, in the past three months.
        Instrument(
            InstrumentCode.CSSRS,
            "screener-recent",
            "Columbia Suicide Severity Rating Scale, screener",
            (
                Item("1", 0, 1),
                Item("2", 0, 1),
                Item("3", 0, 1, required=False),
                Item("4", 0, 1, required=False),
                Item("5", 0, 1, required=False),
                Item("6", 0, 1),
                Item("6-recent", 0, 1, required=False),
            ),
        ),
        Instrument(
            InstrumentCode.PROMIS_SLEEP, "8a", "PROMIS Sleep Disturbance 8a", _items(8, 1, 5)
        ),
    )
}


def check_answers(code: InstrumentCode, answers: Mapping[str, object]) -> list[FieldError]:
    """Every problem with a set of raw answers, each naming the item.

    The answers are raw (not yet parsed by the event), so each must be checked to be a
    whole number before its range is: "2", 2.0 and None are refused, and so are True and
    False, which Python counts as ints but no questionnaire does.
    """
    instrument = INSTRUMENTS[code]
    problems: list[FieldError] = []
    for key, value in answers.items():
        item = instrument.item(key)
        if item is None:
            problems.append(FieldError(f"answers.{key}", f"{instrument.name} has no item {key}"))
        elif isinstance(value, bool) or not isinstance(value, int):
            problems.append(FieldError(f"answers.{key}", "must be a whole number"))
        elif not item.low <= value <= item.high:
            problems.append(
                FieldError(f"answers.{key}", f"{value} is outside {item.low}-{item.high}")
            )
    for item in instrument.items:
        if item.required and item.key not in answers:
            problems.append(FieldError(f"answers.{item.key}", "is required"))
    if code == InstrumentCode.CSSRS:
        problems.extend(_cssrs_skip_logic(answers))
    return problems


def _cssrs_skip_logic(answers: Mapping[str, object]) -> list[FieldError]:
    problems: list[FieldError] = []
    if answers.get("2") == 0:
        problems.extend(
            FieldError(f"answers.{k}", "is asked only when item 2 is yes")
            for k in ("3", "4", "5")
            if k in answers
        )
    elif answers.get("2") == 1:
        problems.extend(
            FieldError(f"answers.{k}", "is required when item 2 is yes")
            for k in ("3", "4", "5")
            if k not in answers
        )
    if answers.get("6") == 1 and "6-recent" not in answers:
        problems.append(FieldError("answers.6-recent", "is required when item 6 is yes"))
    if answers.get("6") == 0 and "6-recent" in answers:
        problems.append(FieldError("answers.6-recent", "is asked only when item 6 is yes"))
    return problems
