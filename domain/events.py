"""Base types for every event Tandem records.

Events are frozen pydantic models: the model is the payload schema, validation happens when
the event is made, and the stored JSON is the model's own dump. Each event class declares
`class_version`; when a class changes shape it gains `upcast_vN_vN+1(state)` static methods
that the store applies to older stored payloads before the model is built.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import (
    BaseAggregate,
    CanInitAggregate,
    CanMutateAggregate,
    datetime_now_with_tzinfo,
)
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from domain.vocabulary import DataClass, Role, ShortText

# How far a clinical time may sit ahead of the moment it is recorded: clocks on two
# machines disagree by seconds, never by this much.
CLOCK_SKEW = timedelta(minutes=5)


class Value(BaseModel):
    """An immutable value object."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Actor(Value):
    """Who did it: the user, the role they acted in, and their organisation."""

    user_id: ShortText
    role: Role
    organisation: ShortText

    @classmethod
    def system(cls, name: str = "tandem") -> Actor:
        return cls(user_id=f"system:{name}", role=Role.SYSTEM, organisation="tandem")


class DomainEvent(Value):
    """Anything that happened, with its place in its aggregate's sequence."""

    class_version: ClassVar[int] = 1

    originator_id: UUID
    originator_version: int
    timestamp: AwareDatetime = Field(default_factory=datetime_now_with_tzinfo)
    event_id: UUID = Field(default_factory=uuid4)


class AttributedEvent(DomainEvent):
    """An event with its actor, its data class and its clinical time.

    `timestamp` is the recorded time (set by the store's clock); `clinical_time` is when
    it happened in the patient's care, which may be earlier (a late entry) but never later
    than the moment of recording.
    """

    actor: Actor
    data_class: DataClass
    clinical_time: AwareDatetime

    @field_validator("clinical_time")
    @classmethod
    def _clinical_time_not_in_future(cls, value: datetime, info: ValidationInfo) -> datetime:
        # Compared with the event's own recorded time, not the wall clock, so that
        # replaying an old event gives the same verdict it got when it was recorded.
        recorded = info.data.get("timestamp")
        if recorded is not None and value > recorded + CLOCK_SKEW:
            raise ValueError(
                f"is in the future ({value.isoformat()} is after the recording time "
                f"{recorded.isoformat()})"
            )
        return value


class Aggregate(BaseAggregate[UUID]):
    """Base of Tandem's aggregates: UUID ids and pydantic events."""

    @staticmethod
    def create_id(*_: Any, **__: Any) -> UUID:
        return uuid4()

    class Event(AttributedEvent, CanMutateAggregate[UUID]):
        """An event that changes an aggregate's state through `apply`."""

    class Created(Event, CanInitAggregate[UUID]):
        originator_topic: str


def now() -> datetime:
    """The recording clock (UTC, timezone-aware)."""
    return datetime_now_with_tzinfo()
