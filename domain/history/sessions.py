"""Therapy sessions: each scheduled, then attended, missed or cancelled (one outcome each:
the record refuses a second)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from domain.record import kind_of
from domain.rules.care import Fact
from domain.therapy import (
    ATTENDED,
    CANCELLED,
    MISSED,
    SCHEDULED,
    SessionAttended,
    SessionCancelled,
    SessionMissed,
    SessionScheduled,
)

BOOKED = kind_of(SessionScheduled)
OUTCOMES = {
    kind_of(SessionAttended): ATTENDED,
    kind_of(SessionMissed): MISSED,
    kind_of(SessionCancelled): CANCELLED,
}


@dataclass
class Session:
    session_id: str
    scheduled: Fact | None = None  # None when the reader sees only the outcome
    outcome: Fact | None = None
    status: str = SCHEDULED  # scheduled, attended, missed or cancelled (domain.therapy)

    @classmethod
    def booked(cls, fact: Fact) -> Session:
        """The session a SessionScheduled fact books."""
        return cls(str(fact.payload["session_id"]), scheduled=fact)

    @property
    def open(self) -> bool:
        """Scheduled, and neither attended, missed nor cancelled yet."""
        return self.scheduled is not None and self.outcome is None

    @property
    def starts_at(self) -> datetime | None:
        if self.scheduled is None:
            return None
        return datetime.fromisoformat(str(self.scheduled.payload["starts_at"]))

    @property
    def duration_minutes(self) -> int | None:
        return None if self.scheduled is None else int(self.scheduled.payload["duration_minutes"])

    @property
    def mode(self) -> str | None:
        return None if self.scheduled is None else self.scheduled.payload.get("mode")

    @property
    def modality(self) -> str | None:
        return None if self.scheduled is None else self.scheduled.payload.get("modality")

    @property
    def kind(self) -> str:
        """The kind of session (standard, intake, ...; domain.vocabulary.SessionKind)."""
        payload = {} if self.scheduled is None else self.scheduled.payload
        return str(payload.get("kind", "standard"))

    @property
    def reason(self) -> str | None:
        """Why it was missed or cancelled, if the outcome says."""
        return None if self.outcome is None else self.outcome.payload.get("reason")


def sessions(facts: Iterable[Fact]) -> dict[str, Session]:
    """Every session the facts name, by session id, in the order they were first named."""
    found: dict[str, Session] = {}
    for fact in facts:
        if fact.kind == BOOKED:
            booked = Session.booked(fact)
            session = found.setdefault(booked.session_id, booked)
            session.scheduled = fact
        elif fact.kind in OUTCOMES:
            session_id = str(fact.payload["session_id"])
            session = found.setdefault(session_id, Session(session_id))
            session.outcome, session.status = fact, OUTCOMES[fact.kind]
    return found
