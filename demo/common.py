"""What every demo story shares: the demo people, a clock that keeps a story in clinical-time
order, and small builders for doses, questionnaires and lab tests.

Everything here is synthetic. Names, dates and results are invented for the demo.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from functools import partial
from typing import Any
from uuid import UUID, uuid4

from application.writer import CommandWriter
from domain.dose import Dose, Schedule
from domain.events import Actor, now
from domain.patient import PatientRecord
from domain.registration import patient_id_for
from domain.vocabulary import (
    DoseUnit,
    Frequency,
    LabUnit,
    Modality,
    Role,
    SessionKind,
    SessionMode,
)

Progress = Callable[[str], None]

# The demo clinic keeps standard time all year: a fixed offset keeps the demo free of
# time-zone data and of daylight-saving gaps.
CLINIC_TZ = timezone(timedelta(hours=-5))

RIVERSIDE = "Riverside Behavioral Health"
RECOVERY = "Riverside Recovery Program"  # a 42 CFR Part 2 program inside Riverside
MAPLE = "Maple Family Practice"
NORTHFIELD = "Northfield College Counseling"
HARBOR = "Harbor Logistics Occupational Health"
SELF = "self"
FAMILY = "family"

SYSTEM = Actor.system("demo")
THERAPIST = Actor(user_id="therapist@demo", role=Role.THERAPIST, organisation=RIVERSIDE)
PRESCRIBER = Actor(user_id="prescriber@demo", role=Role.PRESCRIBER, organisation=RIVERSIDE)
PCP = Actor(user_id="pcp@demo", role=Role.PRIMARY_CARE, organisation=MAPLE)
COUNSELOR = Actor(user_id="counselor@demo", role=Role.SCHOOL_COUNSELOR, organisation=NORTHFIELD)
EMPLOYER = Actor(user_id="employer@demo", role=Role.EMPLOYER, organisation=HARBOR)
COMPLIANCE = Actor(user_id="compliance@demo", role=Role.COMPLIANCE, organisation=RIVERSIDE)

# Staff accounts, in creation order (the first one marks the demo as loaded).
STAFF: tuple[tuple[Actor, str], ...] = (
    (THERAPIST, "Dr. Tess Alvarez, PsyD"),
    (PRESCRIBER, "Dr. Priya Raman, MD"),
    (PCP, "Dr. Paul Chen, MD"),
    (COUNSELOR, "Casey Morgan, LPC"),
    (EMPLOYER, "Erin Walsh, RN (occupational health)"),
    (COMPLIANCE, "Colm Byrne (compliance)"),
)


@dataclass(frozen=True)
class Story:
    """One demo patient: who they are, their accounts, and how their care unfolds."""

    title: str
    mrn: str
    email: str
    weeks_ago: int
    demographics: Callable[[], dict[str, Any]]
    # The story's state (ids shared between steps), made fresh for each load...
    narrative: Callable[[Chart], Any]
    # ...and its steps in order: a progress label and a method of that state.
    steps: tuple[tuple[str, Callable[[Any, PatientRecord], None]], ...]
    supporter: tuple[str, str] | None = None  # email, display name

    def tell(self, chart: Chart) -> None:
        narrative = self.narrative(chart)
        for label, step in self.steps:
            chart.step(label, partial(step, narrative))

    @property
    def patient_id(self) -> UUID:
        """The story's fixed id: the uuid5 of its MRN, as every patient's id was before
        registration drew random ones. The demo's MRNs are published (README) and its data
        synthetic, and its accounts, consents and tests name its patients before they are
        registered; every other registration gets a random id."""
        return patient_id_for(self.mrn)

    @property
    def display_name(self) -> str:
        names = self.demographics()
        return f"{names['given_name']} {names['family_name']}"


def patient_actor(email: str) -> Actor:
    return Actor(user_id=email, role=Role.PATIENT, organisation=SELF)


def supporter_actor(email: str) -> Actor:
    return Actor(user_id=email, role=Role.SUPPORTER, organisation=FAMILY)


def today() -> date:
    return now().astimezone(CLINIC_TZ).date()


class Chart:
    """One patient's story, written step by step in clinical-time order.

    `at(day, hour, minute)` is a moment counted from the story's first day (day 0); it
    refuses to go back in time or past the present, so a story cannot be told out of order.
    `step` runs a group of commands on the record through the write path (one commit per
    step) and then reports progress.
    """

    def __init__(
        self, writer: CommandWriter, patient_id: UUID, weeks_ago: int, progress: Progress | None
    ) -> None:
        self.writer = writer
        self.patient_id = patient_id
        self.origin = datetime.combine(today() - timedelta(weeks=weeks_ago), time(), CLINIC_TZ)
        self._last = self.origin
        self._progress = progress

    def at(self, day: int, hour: int, minute: int = 0) -> datetime:
        return self._checked(self.moment(day, hour, minute))

    def enrol(
        self,
        record: PatientRecord,
        clinicians: Sequence[tuple[Actor, str]],
        patient_email: str,
        part2_program: bool = False,
    ) -> None:
        """Day 0, 08:05: the clinicians join the care team (each with the organisation they
        treat in); 08:06: the patient joins it too, so they can record their own entries."""
        for actor, organisation in clinicians:
            record.add_team_member(
                SYSTEM,
                self.at(0, 8, 5),
                user_id=actor.user_id,
                role=actor.role,
                organisation=organisation,
                part2_program=part2_program,
            )
        record.add_team_member(
            SYSTEM, self.at(0, 8, 6), user_id=patient_email, role=Role.PATIENT, organisation=SELF
        )

    def earlier_today(self, hours: int) -> datetime:
        """About `hours` before the present, but on today's clinic date whatever the time
        the demo is loaded (at the latest halfway between midnight and now), to the minute:
        for what a clinician opening the board should find happened today."""
        current = now().astimezone(CLINIC_TZ)
        midnight = datetime.combine(current.date(), time(), CLINIC_TZ)
        moment = max(current - timedelta(hours=hours), midnight + (current - midnight) / 2)
        return self._checked(moment.replace(second=0, microsecond=0))

    def _checked(self, moment: datetime) -> datetime:
        if moment < self._last:
            raise ValueError(f"demo story out of order: {moment} is before {self._last}")
        if moment > now():
            raise ValueError(f"demo story runs into the future: {moment}")
        self._last = moment
        return moment

    def moment(self, day: int, hour: int, minute: int = 0) -> datetime:
        """A story moment without the clock check: for appointment times, which may lie
        ahead of the moment they are booked (and of the present)."""
        return self.origin + timedelta(days=day, hours=hour, minutes=minute)

    def day(self, day: int) -> date:
        """The calendar date of a story day (no clock check: dates name periods)."""
        return (self.origin + timedelta(days=day)).date()

    def step(self, label: str, write: Callable[[PatientRecord], None]) -> None:
        self.writer.write(self.patient_id, write)
        if self._progress is not None:
            self._progress(label)


def mg(amount: str | int) -> Dose:
    return Dose(amount=Decimal(amount), unit=DoseUnit.MG)


def schedule(frequency: Frequency, *times: time) -> Schedule:
    return Schedule(frequency=frequency, times=list(times))


def answers(*scores: int, item10: int | None = None) -> dict[str, int]:
    """Questionnaire answers by item number, from the first item on."""
    result = {str(n): score for n, score in enumerate(scores, start=1)}
    if item10 is not None:
        result["10"] = item10
    return result


@dataclass(frozen=True)
class LabTest:
    """A lab test as the demo orders it: LOINC code, name, unit and reference range."""

    loinc: str
    name: str
    unit: LabUnit | None = None
    low: str | None = None
    high: str | None = None


def order_lab(
    r: PatientRecord,
    by: Actor,
    at: datetime,
    test: LabTest,
    reason: str,
    due_by: date | None = None,
) -> UUID:
    order_id = uuid4()
    r.order_lab(
        by,
        at,
        order_id=order_id,
        loinc=test.loinc,
        test_name=test.name,
        reason=reason,
        due_by=due_by,
    )
    return order_id


def result_lab(
    r: PatientRecord,
    by: Actor,
    at: datetime,
    order_id: UUID,
    test: LabTest,
    value: str,
    comment: str | None = None,
) -> None:
    """File a result: numeric when the test has a unit, otherwise as text."""
    numeric = test.unit is not None
    r.record_lab_result(
        by,
        at,
        order_id=order_id,
        loinc=test.loinc,
        test_name=test.name,
        value=Decimal(value) if numeric else None,
        value_text=None if numeric else value,
        unit=test.unit,
        reference_low=Decimal(test.low) if test.low is not None else None,
        reference_high=Decimal(test.high) if test.high is not None else None,
        comment=comment,
    )


class Therapy:
    """A run of therapy sessions with one clinician: each session booked at the end of the
    one before. `attend` and `miss` close the session booked last and book the next."""

    def __init__(self, chart: Chart, by: Actor, modality: Modality, hour: int = 10) -> None:
        self.chart = chart
        self.by = by
        self.modality = modality
        self.hour = hour
        self._booked: tuple[UUID, int, int, int] | None = None  # id, day, hour, minutes

    def book(
        self,
        r: PatientRecord,
        at: datetime,
        day: int,
        *,
        hour: int | None = None,
        minutes: int = 50,
        mode: SessionMode = SessionMode.IN_PERSON,
        kind: SessionKind = SessionKind.STANDARD,
        modality: Modality | None = None,
    ) -> UUID:
        session_id = uuid4()
        start_hour = self.hour if hour is None else hour
        r.schedule_session(
            self.by,
            at,
            session_id=session_id,
            starts_at=self.chart.moment(day, start_hour),
            duration_minutes=minutes,
            mode=mode,
            kind=kind,
            modality=modality or self.modality,
        )
        self._booked = (session_id, day, start_hour, minutes)
        return session_id

    def _close(self) -> tuple[UUID, int, int, int]:
        if self._booked is None:
            raise ValueError("no session is booked")
        booked, self._booked = self._booked, None
        return booked

    def attend(
        self, r: PatientRecord, note: str, next_day: int | None = None, **next_session: Any
    ) -> UUID:
        """Attendance at the session's end, the progress note, then the next booking."""
        session_id, day, hour, minutes = self._close()
        r.record_attendance(self.by, self.chart.at(day, hour, minutes), session_id=session_id)
        r.write_progress_note(
            self.by,
            self.chart.at(day, hour, minutes + 5),
            text=note,
            session_id=session_id,
            modality=self.modality,
        )
        if next_day is not None:
            self.book(r, self.chart.at(day, hour, minutes + 8), next_day, **next_session)
        return session_id

    def cancel(self, r: PatientRecord, at: datetime, reason: str) -> None:
        """The clinician cancels the session booked last."""
        session_id, *_ = self._close()
        r.cancel_session(
            self.by, at, session_id=session_id, cancelled_by="clinician", reason=reason
        )

    def miss(
        self, r: PatientRecord, reason: str, next_day: int | None = None, **next_session: Any
    ) -> None:
        session_id, day, hour, _ = self._close()
        r.record_missed(self.by, self.chart.at(day, hour, 20), session_id=session_id, reason=reason)
        if next_day is not None:
            self.book(r, self.chart.at(day, hour, 25), next_day, **next_session)
