"""What is measured between visits: questionnaires, sleep, function, supporters' notes."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import Field

from domain.errors import InvalidInput
from domain.events import Actor
from domain.instruments import INSTRUMENTS, InstrumentCode, check_answers
from domain.record import TREATING, RecordBase, RecordEvent
from domain.vocabulary import DataClass, Role, ShortText, Text

SELF_AND_TREATING = TREATING | {Role.PATIENT}


class QuestionnaireAnswered(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.MEASURE
    authors: ClassVar[frozenset[Role]] = SELF_AND_TREATING | {Role.PRIMARY_CARE}

    instrument: InstrumentCode
    instrument_version: ShortText
    answers: dict[str, int]

    def summary(self) -> str:
        return f"{INSTRUMENTS[self.instrument].name} answered ({len(self.answers)} items)"


class SleepLogged(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.MEASURE
    authors: ClassVar[frozenset[Role]] = SELF_AND_TREATING

    night_of: date
    hours_asleep: Decimal = Field(ge=0, le=24, decimal_places=2)
    quality: int = Field(ge=1, le=5)
    bedtime: time | None = None
    wake_time: time | None = None

    def summary(self) -> str:
        return (
            f"sleep on {self.night_of.isoformat()}: {self.hours_asleep} h, quality {self.quality}/5"
        )


class FunctionalOutcomeRecorded(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.FUNCTIONAL
    authors: ClassVar[frozenset[Role]] = SELF_AND_TREATING | {
        Role.SCHOOL_COUNSELOR,
        Role.EMPLOYER,
        Role.PRIMARY_CARE,
    }
    part2_eligible: ClassVar[bool] = False

    setting: Literal["work", "school", "home", "social"]
    measure: Literal["attendance", "hours", "role-functioning"]
    period_start: date
    period_end: date
    achieved: int = Field(ge=0)
    expected: int = Field(ge=1)
    note: Text | None = None

    def summary(self) -> str:
        return (
            f"{self.setting} {self.measure}: {self.achieved}/{self.expected} "
            f"({self.period_start.isoformat()} to {self.period_end.isoformat()})"
        )


Cue = Literal["sleep", "speech-rate", "spending", "activity", "irritability", "mood", "other"]


class SupporterObservationRecorded(RecordEvent):
    """Early-warning cues a supporter was taught to watch for in psychoeducation."""

    default_class: ClassVar[DataClass] = DataClass.MEASURE
    authors: ClassVar[frozenset[Role]] = frozenset({Role.SUPPORTER})
    part2_eligible: ClassVar[bool] = False

    cue: Cue
    change: Literal["less-than-usual", "usual", "more-than-usual", "much-more-than-usual"]
    observation: Text

    def summary(self) -> str:
        return f"supporter noticed {self.cue}: {self.change} ({self.observation[:60]})"


class MeasuresSection(RecordBase):
    def answer_questionnaire(
        self,
        by: Actor,
        at: datetime,
        *,
        instrument: InstrumentCode | str,
        answers: dict[str, int],
    ) -> None:
        try:
            code = InstrumentCode(instrument)
        except ValueError:
            known = ", ".join(c.value for c in InstrumentCode)
            raise InvalidInput.single(
                "instrument", f"'{instrument}' is not one of: {known}"
            ) from None
        problems = check_answers(code, answers)
        if problems:
            raise InvalidInput(problems)
        self._record(
            QuestionnaireAnswered,
            by,
            at,
            instrument=code,
            instrument_version=INSTRUMENTS[code].version,
            answers=answers,
        )

    def log_sleep(
        self,
        by: Actor,
        at: datetime,
        *,
        night_of: date,
        hours_asleep: Decimal | float,
        quality: int,
        bedtime: time | None = None,
        wake_time: time | None = None,
    ) -> None:
        self._record(
            SleepLogged,
            by,
            at,
            night_of=night_of,
            hours_asleep=hours_asleep,
            quality=quality,
            bedtime=bedtime,
            wake_time=wake_time,
        )

    def record_functional_outcome(
        self,
        by: Actor,
        at: datetime,
        *,
        setting: str,
        measure: str,
        period_start: date,
        period_end: date,
        achieved: int,
        expected: int,
        note: str | None = None,
    ) -> None:
        if period_end < period_start:
            raise InvalidInput.single("period_end", "is before period_start")
        self._record(
            FunctionalOutcomeRecorded,
            by,
            at,
            setting=setting,
            measure=measure,
            period_start=period_start,
            period_end=period_end,
            achieved=achieved,
            expected=expected,
            note=note,
        )

    def record_supporter_observation(
        self, by: Actor, at: datetime, *, cue: str, change: str, observation: str
    ) -> None:
        self._record(
            SupporterObservationRecorded, by, at, cue=cue, change=change, observation=observation
        )
