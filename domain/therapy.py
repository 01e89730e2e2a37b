"""Psychotherapy: sessions, notes, targets and homework.

Psychotherapy notes (45 CFR 164.501) are their own data class: kept apart from the
record, never merged into a progress note, and shared only under their own authorization.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from domain.errors import InvalidInput, RuleViolation
from domain.events import Actor
from domain.record import TREATING, RecordBase, RecordEvent, check_scheduled_time
from domain.vocabulary import (
    DataClass,
    Modality,
    Role,
    SessionKind,
    SessionMode,
    ShortText,
    Text,
)

SCHEDULED, ATTENDED, MISSED, CANCELLED = "scheduled", "attended", "missed", "cancelled"
# How early before its start a session may be marked attended or missed: a patient who
# arrives early is seen early, but nobody attends or misses a session an hour before it.
EARLY_OUTCOME = timedelta(minutes=15)


class SessionScheduled(RecordEvent):
    class_version: ClassVar[int] = 3
    default_class: ClassVar[DataClass] = DataClass.APPOINTMENT

    session_id: UUID
    # Timezone-aware: a session's start is compared with clinical times, which are.
    starts_at: AwareDatetime
    duration_minutes: int = Field(ge=5, le=240)
    mode: SessionMode
    kind: SessionKind = SessionKind.STANDARD
    modality: Modality

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version 1 had `telehealth: bool` and no session kind."""
        telehealth = state.pop("telehealth", False)
        state["mode"] = SessionMode.TELEHEALTH.value if telehealth else SessionMode.IN_PERSON.value
        state.setdefault("kind", SessionKind.STANDARD.value)

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """Version 2 accepted a start time without a UTC offset. Such a time was entered by
        the person scheduling, so it is read in the offset of their clinical time (the
        moment of scheduling), the best witness of their clock; UTC if even that has none."""
        starts_at = datetime.fromisoformat(str(state["starts_at"]))
        if starts_at.tzinfo is None:
            scheduled = datetime.fromisoformat(str(state["clinical_time"]))
            state["starts_at"] = starts_at.replace(tzinfo=scheduled.tzinfo or UTC).isoformat()

    def apply(self, aggregate: Any) -> None:
        aggregate.state.sessions[self.session_id] = SCHEDULED
        aggregate.state.session_starts[self.session_id] = self.starts_at
        aggregate.state.session_ends[self.session_id] = self.starts_at + timedelta(
            minutes=self.duration_minutes
        )

    def summary(self) -> str:
        return (
            f"{self.kind.value} {self.modality.value} session scheduled for "
            f"{self.starts_at:%Y-%m-%d %H:%M} ({self.mode.value}, {self.duration_minutes} min)"
        )


class SessionAttended(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.APPOINTMENT

    session_id: UUID

    def apply(self, aggregate: Any) -> None:
        aggregate.state.sessions[self.session_id] = ATTENDED

    def summary(self) -> str:
        return "session attended"


class SessionMissed(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.APPOINTMENT

    session_id: UUID
    reason: ShortText | None = None

    def apply(self, aggregate: Any) -> None:
        aggregate.state.sessions[self.session_id] = MISSED

    def summary(self) -> str:
        return f"session missed{': ' + self.reason if self.reason else ''}"


class SessionCancelled(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.APPOINTMENT
    authors: ClassVar[frozenset[Role]] = TREATING | {Role.PATIENT}

    session_id: UUID
    cancelled_by: Literal["patient", "clinician"]
    reason: ShortText

    def apply(self, aggregate: Any) -> None:
        aggregate.state.sessions[self.session_id] = CANCELLED

    def summary(self) -> str:
        return f"session cancelled by {self.cancelled_by}: {self.reason}"


class ProgressNoteWritten(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.PROGRESS_NOTE

    session_id: UUID | None = None
    modality: Modality | None = None
    text: Text

    def summary(self) -> str:
        return f"progress note: {self.text[:80]}"


class PsychotherapyNoteWritten(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.PSYCHOTHERAPY_NOTE
    authors: ClassVar[frozenset[Role]] = frozenset({Role.THERAPIST})

    session_id: UUID | None = None
    text: Text
    # Written inside a 42 CFR Part 2 program: an SUD counseling note, which needs its
    # own consent just as a psychotherapy note does.
    sud_counseling: bool = False

    def summary(self) -> str:
        return "psychotherapy note (kept apart; content not shown in timelines)"


class TherapyTargetSet(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.CARE_PLAN

    target_id: UUID
    description: Text
    modality: Modality

    def apply(self, aggregate: Any) -> None:
        aggregate.state.targets.add(self.target_id)

    def summary(self) -> str:
        return f"therapy target ({self.modality.value}): {self.description}"


class HomeworkAssigned(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.CARE_PLAN

    homework_id: UUID
    description: Text
    due: date | None = None

    def apply(self, aggregate: Any) -> None:
        aggregate.state.homework.add(self.homework_id)

    def summary(self) -> str:
        return f"homework: {self.description}"


class HomeworkReviewed(RecordEvent):
    default_class: ClassVar[DataClass] = DataClass.CARE_PLAN
    authors: ClassVar[frozenset[Role]] = TREATING | {Role.PATIENT}

    homework_id: UUID
    completion: Literal["done", "partly", "not-done"]
    comment: Text | None = None

    def summary(self) -> str:
        return f"homework reviewed: {self.completion}"


class TherapySection(RecordBase):
    def schedule_session(
        self,
        by: Actor,
        at: datetime,
        *,
        session_id: UUID,
        starts_at: datetime,
        duration_minutes: int,
        mode: SessionMode,
        modality: Modality,
        kind: SessionKind = SessionKind.STANDARD,
    ) -> None:
        if session_id in self.state.sessions:
            raise RuleViolation(
                f"session {session_id} is already scheduled", patient_id=self.id, field="session_id"
            )
        check_scheduled_time(at, starts_at, "starts_at")
        self.check_not_double_booked(starts_at, duration_minutes)
        self._record(
            SessionScheduled,
            by,
            at,
            session_id=session_id,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            mode=mode,
            kind=kind,
            modality=modality,
        )

    def check_not_double_booked(self, starts_at: datetime, duration_minutes: int) -> None:
        """A session may not overlap another open session of the same patient (scheduled,
        not yet attended, missed or cancelled). One that merely touches another (ends as
        the other starts) is not an overlap. A clinician booked for two patients at once is
        not this record's to see: the schedule page warns of it."""
        if not isinstance(starts_at, datetime) or starts_at.tzinfo is None:
            return  # the event refuses it with its own reason
        if not isinstance(duration_minutes, int):
            return
        ends_at = starts_at + timedelta(minutes=duration_minutes)
        clashes = sorted(
            other_start
            for session_id, status in self.state.sessions.items()
            if status == SCHEDULED
            and (other_start := self.state.session_starts.get(session_id)) is not None
            and (other_end := self.state.session_ends.get(session_id)) is not None
            and starts_at < other_end
            and other_start < ends_at
        )
        if clashes:
            raise RuleViolation(
                f"overlaps the session already scheduled at {clashes[0].isoformat()}",
                patient_id=self.id,
                field="starts_at",
            )

    def check_session_open(self, session_id: UUID) -> None:
        self.check_known("session", session_id, self.state.sessions, "session_id")
        status = self.state.sessions[session_id]
        if status != SCHEDULED:
            raise RuleViolation(
                f"session {session_id} is already {status}", patient_id=self.id, field="session_id"
            )

    def check_session_started(self, session_id: UUID, at: datetime) -> None:
        """An outcome (attended, missed) cannot be recorded for a time well before the
        session starts."""
        starts_at = self.state.session_starts.get(session_id)
        # A clinical time without an offset cannot be compared; the event refuses it anyway.
        if starts_at is None or not isinstance(at, datetime) or at.tzinfo is None:
            return
        if at < starts_at - EARLY_OUTCOME:
            raise InvalidInput.single(
                "clinical_time",
                f"is before the session starts ({at.isoformat()} is more than "
                f"{EARLY_OUTCOME.seconds // 60} minutes before {starts_at.isoformat()})",
            )

    def record_attendance(self, by: Actor, at: datetime, *, session_id: UUID) -> None:
        self.check_session_open(session_id)
        self.check_session_started(session_id, at)
        self._record(SessionAttended, by, at, session_id=session_id)

    def record_missed(
        self, by: Actor, at: datetime, *, session_id: UUID, reason: str | None = None
    ) -> None:
        self.check_session_open(session_id)
        self.check_session_started(session_id, at)
        self._record(SessionMissed, by, at, session_id=session_id, reason=reason)

    def cancel_session(
        self, by: Actor, at: datetime, *, session_id: UUID, cancelled_by: str, reason: str
    ) -> None:
        self.check_session_open(session_id)
        self._record(
            SessionCancelled,
            by,
            at,
            session_id=session_id,
            cancelled_by=cancelled_by,
            reason=reason,
        )

    def write_progress_note(
        self,
        by: Actor,
        at: datetime,
        *,
        text: str,
        session_id: UUID | None = None,
        modality: Modality | None = None,
    ) -> None:
        if session_id is not None:
            self.check_known("session", session_id, self.state.sessions, "session_id")
        self._record(
            ProgressNoteWritten, by, at, session_id=session_id, modality=modality, text=text
        )

    def write_psychotherapy_note(
        self, by: Actor, at: datetime, *, text: str, session_id: UUID | None = None
    ) -> None:
        if session_id is not None:
            self.check_known("session", session_id, self.state.sessions, "session_id")
        member = self.state.team.get(by.user_id)
        self._record(
            PsychotherapyNoteWritten,
            by,
            at,
            session_id=session_id,
            text=text,
            sud_counseling=bool(member and member.part2_program),
        )

    def set_therapy_target(
        self, by: Actor, at: datetime, *, target_id: UUID, description: str, modality: Modality
    ) -> None:
        if target_id in self.state.targets:
            raise RuleViolation(
                f"target {target_id} already exists", patient_id=self.id, field="target_id"
            )
        self._record(
            TherapyTargetSet,
            by,
            at,
            target_id=target_id,
            description=description,
            modality=modality,
        )

    def assign_homework(
        self,
        by: Actor,
        at: datetime,
        *,
        homework_id: UUID,
        description: str,
        due: date | None = None,
    ) -> None:
        if homework_id in self.state.homework:
            raise RuleViolation(
                f"homework {homework_id} already exists", patient_id=self.id, field="homework_id"
            )
        self._record(
            HomeworkAssigned, by, at, homework_id=homework_id, description=description, due=due
        )

    def review_homework(
        self,
        by: Actor,
        at: datetime,
        *,
        homework_id: UUID,
        completion: str,
        comment: str | None = None,
    ) -> None:
        self.check_known("homework", homework_id, self.state.homework, "homework_id")
        self._record(
            HomeworkReviewed,
            by,
            at,
            homework_id=homework_id,
            completion=completion,
            comment=comment,
        )
