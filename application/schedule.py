"""A clinician's schedule: the sessions of the patients on their care teams in a day or a
week, in the clinic's time zone.

Each caseload patient is read once, in one listing, through the one audited read as their
"appointments" view (the patient section and their sessions, as the decision permits): the
index keeps no sessions by time, so which patients have a session in the range is known only
from their reads, and a patient with none in it still costs one access record. A patient the
policy refuses is left out, as the patients list leaves them out. Sessions are then chosen
by their start in the range; those of the clinician's own day that overlap each other (a
double booking across patients, which no one patient's record can see) are marked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from uuid import UUID

from anyio import to_thread

from application.reading import ReadRequest, default_purpose, viewer_of
from application.services import Services
from domain.therapy import SCHEDULED
from domain.users import User
from projections.role_views import APPOINTMENTS

SPANS = {"day": 1, "week": 7}


@dataclass(frozen=True)
class Range:
    """The days shown: from `first` (a Monday for a week), `days` of them."""

    first: date
    days: int

    @classmethod
    def of(cls, day: date, span: str) -> Range:
        if span == "week":
            return cls(day - timedelta(days=day.weekday()), 7)
        return cls(day, 1)

    @property
    def dates(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]

    def bounds(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """The range's first and last moment (exclusive) in the clinic's zone."""
        start = datetime.combine(self.first, time.min, zone)
        end = datetime.combine(self.first + timedelta(days=self.days), time.min, zone)
        return start, end


@dataclass
class Booked:
    patient_id: UUID
    patient_name: str | None
    session_id: str
    starts_at: datetime  # in the clinic's zone
    duration_minutes: int
    mode: str | None
    kind: str
    modality: str | None
    status: str
    access_id: UUID
    overlaps: bool = False

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)


@dataclass
class Schedule:
    range: Range
    by_day: dict[date, list[Booked]] = field(default_factory=dict)
    patients_read: int = 0

    @property
    def count(self) -> int:
        return sum(len(day) for day in self.by_day.values())


def mark_overlaps(booked: list[Booked]) -> None:
    """Mark each open (scheduled) session that overlaps another open one: the clinician is
    booked twice at that time. Cancelled, attended and missed sessions hold no time."""
    open_ones = [b for b in booked if b.status == SCHEDULED]
    for i, one in enumerate(open_ones):
        for other in open_ones[i + 1 :]:
            if one.starts_at < other.ends_at and other.starts_at < one.ends_at:
                one.overlaps = other.overlaps = True


async def clinician_schedule(
    services: Services, user: User, day: date, span: str, zone: tzinfo
) -> Schedule:
    """The sessions of the reader's caseload starting in the day or week (Monday first) of
    `day` in `zone`, grouped by day, soonest first, with overlapping ones marked."""
    chosen = Range.of(day, span)
    start, end = chosen.bounds(zone)
    ids = [
        pid for pid, _ in await to_thread.run_sync(services.reader.index.view.caseload, user.email)
    ]
    viewer = viewer_of(user)
    reads = [ReadRequest(viewer, pid, APPOINTMENTS, default_purpose(user.role)) for pid in ids]
    answers = await services.reads.read_listing(reads, user.actor)
    schedule = Schedule(chosen, {d: [] for d in chosen.dates})
    for patient_id, answer in zip(ids, answers, strict=True):
        if answer is None:
            continue
        schedule.patients_read += 1
        body = answer.json()
        name = (body.get("patient") or {}).get("name")
        for s in body.get("sessions") or []:
            starts_at = datetime.fromisoformat(s["starts_at"]).astimezone(zone)
            if not start <= starts_at < end:
                continue
            schedule.by_day[starts_at.date()].append(
                Booked(
                    patient_id,
                    name,
                    s["session_id"],
                    starts_at,
                    int(s["duration_minutes"]),
                    s.get("mode"),
                    s.get("kind") or "standard",
                    s.get("modality"),
                    s["status"],
                    answer.access_id,
                )
            )
    for booked in schedule.by_day.values():
        booked.sort(key=lambda b: (b.starts_at, b.patient_name or ""))
        mark_overlaps(booked)
    return schedule
