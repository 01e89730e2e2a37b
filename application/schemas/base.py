"""What every recording request carries, and what every write answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict

from domain.events import now


class CommandBody(BaseModel):
    """Fields every recording request may carry."""

    model_config = ConfigDict(extra="forbid")

    clinical_time: AwareDatetime | None = None

    def at(self) -> datetime:
        return self.clinical_time or now()

    def fields(self, *exclude: str) -> dict[str, Any]:
        return self.model_dump(exclude={"clinical_time", *exclude})


class CommandReceipt(BaseModel):
    """A write's answer: durable when sent. `position` is the log position the write
    reached (give it as `min_position` to read your own write)."""

    patient_id: UUID
    version: int
    position: int
    created_id: UUID | None = None
