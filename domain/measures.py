"""What is measured between visits: questionnaires, sleep, function, supporters' notes, and
vital signs (weight, BMI, blood pressure...), which are measured, not ordered from a lab."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from domain.errors import InvalidInput
from domain.events import Actor
from domain.instruments import INSTRUMENTS, InstrumentCode, check_answers
from domain.record import TREATING, RecordBase, RecordEvent
from domain.rules.scoring import SCORING
from domain.vocabulary import DataClass, Role, ShortText, Text

SELF_AND_TREATING = TREATING | {Role.PATIENT}


class QuestionnaireAnswered(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.MEASURE
    authors: ClassVar[frozenset[Role]] = SELF_AND_TREATING | {Role.PRIMARY_CARE}

    instrument: InstrumentCode
    instrument_version: ShortText
    answers: dict[str, int]
    # The scoring row (domain/rules/scoring.py) these answers are scored by, recorded when
    # they are; answers recorded before it was are scored by the first row. Left out of the
    # stored form when absent, so an older event reads back exactly as it was written.
    scoring_version: ShortText | None = Field(default=None, exclude_if=lambda v: v is None)

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


VITALS_AUTHORS = TREATING | {Role.PRIMARY_CARE, Role.PATIENT}

# Physiologically possible values for anyone from a young child to the largest adult: they
# refuse a slipped digit or a value in the wrong unit (mmHg typed as kPa, metres as cm),
# not an unusual patient.
Kilograms = Annotated[Decimal, Field(ge=2, le=400, decimal_places=2)]
Centimetres = Annotated[Decimal, Field(ge=40, le=250, decimal_places=1)]
BodyMassIndex = Annotated[Decimal, Field(ge=8, le=120, decimal_places=2)]
WaistCentimetres = Annotated[Decimal, Field(ge=30, le=250, decimal_places=1)]
Systolic = Annotated[int, Field(ge=50, le=300)]
Diastolic = Annotated[int, Field(ge=20, le=200)]
BeatsPerMinute = Annotated[int, Field(ge=20, le=250)]

VITAL_SIGNS = (
    "weight_kg",
    "height_cm",
    "bmi",
    "systolic_mmhg",
    "diastolic_mmhg",
    "heart_rate_bpm",
    "waist_cm",
)


class VitalsRecorded(RecordEvent):
    """Vital signs and body measurements taken at a visit or at home: metabolic monitoring
    on lithium or antipsychotics, blood pressure and pulse on stimulants. Any of them may
    be left out, but not all."""

    default_class: ClassVar[DataClass] = DataClass.MEASURE
    authors: ClassVar[frozenset[Role]] = VITALS_AUTHORS

    weight_kg: Kilograms | None = None
    height_cm: Centimetres | None = None
    bmi: BodyMassIndex | None = None
    systolic_mmhg: Systolic | None = None
    # Checked even when left out, so that a systolic pressure without it is refused.
    diastolic_mmhg: Diastolic | None = Field(default=None, validate_default=True)
    heart_rate_bpm: BeatsPerMinute | None = None
    waist_cm: WaistCentimetres | None = None

    @field_validator("diastolic_mmhg")
    @classmethod
    def _blood_pressure_is_a_pair(cls, value: int | None, info: ValidationInfo) -> int | None:
        if "systolic_mmhg" not in info.data:
            return value  # the systolic pressure was refused itself
        systolic = info.data["systolic_mmhg"]
        if systolic is None and value is not None:
            raise ValueError("is given without systolic_mmhg (blood pressure is both or neither)")
        if systolic is not None and value is None:
            raise ValueError("is required with systolic_mmhg (blood pressure is both or neither)")
        if systolic is not None and value is not None and value >= systolic:
            raise ValueError(f"must be below systolic_mmhg ({systolic})")
        return value

    @model_validator(mode="after")
    def _something_measured(self) -> VitalsRecorded:
        # record_vitals names the problem first; this guards every other way of making one.
        if all(getattr(self, name) is None for name in VITAL_SIGNS):
            raise ValueError(f"give at least one of {', '.join(VITAL_SIGNS)}")
        return self

    def apply(self, aggregate: Any) -> None:
        last = aggregate.state.weight
        if self.weight_kg is not None and (last is None or self.clinical_time >= last[0]):
            aggregate.state.weight = (self.clinical_time, self.weight_kg)

    def summary(self) -> str:
        shown = []
        if self.weight_kg is not None:
            shown.append(f"weight {self.weight_kg.normalize():f} kg")
        if self.height_cm is not None:
            shown.append(f"height {self.height_cm.normalize():f} cm")
        if self.bmi is not None:
            shown.append(f"BMI {self.bmi.normalize():f}")
        if self.systolic_mmhg is not None:
            shown.append(f"BP {self.systolic_mmhg}/{self.diastolic_mmhg} mmHg")
        if self.heart_rate_bpm is not None:
            shown.append(f"pulse {self.heart_rate_bpm}/min")
        if self.waist_cm is not None:
            shown.append(f"waist {self.waist_cm.normalize():f} cm")
        return f"vitals: {', '.join(shown)}"


class MeasuresSection(RecordBase):
    def answer_questionnaire(
        self,
        by: Actor,
        at: datetime,
        *,
        instrument: InstrumentCode | str,
        answers: Mapping[str, Any],
    ) -> None:
        if not isinstance(answers, Mapping):
            raise InvalidInput.single("answers", "must map item numbers to answers")
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
            scoring_version=SCORING[code].version,
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

    def record_vitals(
        self,
        by: Actor,
        at: datetime,
        *,
        weight_kg: Decimal | float | str | None = None,
        height_cm: Decimal | float | str | None = None,
        bmi: Decimal | float | str | None = None,
        systolic_mmhg: int | None = None,
        diastolic_mmhg: int | None = None,
        heart_rate_bpm: int | None = None,
        waist_cm: Decimal | float | str | None = None,
    ) -> None:
        """Record the vital signs measured at one time; at least one is required."""
        measured: dict[str, Any] = {
            "weight_kg": weight_kg,
            "height_cm": height_cm,
            "bmi": bmi,
            "systolic_mmhg": systolic_mmhg,
            "diastolic_mmhg": diastolic_mmhg,
            "heart_rate_bpm": heart_rate_bpm,
            "waist_cm": waist_cm,
        }
        if all(value is None for value in measured.values()):
            raise InvalidInput.single("vitals", f"give at least one of {', '.join(VITAL_SIGNS)}")
        self._record(VitalsRecorded, by, at, **measured)
