"""Maps pydantic domain events to stored events and back, upcasting old versions.

The stored state is the event model's JSON dump plus `class_version` when above 1. On the
way back, `upcast_vN_vN+1` static methods of the event class bring the state up to the
class's current version before the model is built (and validated) again.
"""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel, ValidationError


def upcast(cls: type[Any], state: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored state up to the current version of its event class, in place."""
    from_version = int(state.pop("class_version", 1))
    to_version = int(getattr(cls, "class_version", 1))
    while from_version < to_version:
        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
        from_version += 1
    return state


class PydanticMapper(Mapper[UUID]):
    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        cls = type(domain_event)
        state = cast(BaseModel, domain_event).model_dump(mode="json")
        version = getattr(cls, "class_version", 1)
        if version > 1:
            state["class_version"] = version
        data = self.transcoder.encode(state)
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=get_topic(cls),
            state=data,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        data = stored_event.state
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        cls = resolve_topic(stored_event.topic)
        state = upcast(cls, self.transcoder.decode(data))
        try:
            return cast(DomainEventProtocol[UUID], cls(**state))
        except ValidationError as exc:
            msg = (
                f"stored event {stored_event.originator_id} v{stored_event.originator_version} "
                f"({stored_event.topic}) does not fit its class: {exc}"
            )
            raise MapperDeserialisationError(msg) from exc
