"""Bodies of the consent use cases."""

from __future__ import annotations

from typing import Literal
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.consent import Purpose
from domain.vocabulary import DataClass, Text


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    clinical_time: AwareDatetime | None = None


class ConsentCreate(Body):
    consent_id: UUID = Field(default_factory=uuid4)
    recipient: str = Field(
        max_length=200,
        description="The directory entry the consent names: its entry_id (GET /directory).",
    )
    recipient_kind: Literal["user", "organisation"] | None = Field(
        default=None, description="Optional; when given, it must be the entry's kind."
    )
    data_classes: list[DataClass] = Field(min_length=1, max_length=len(DataClass))
    purpose: Purpose
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    until_end_of_treatment: bool = False
    part2: bool = False


class ConsentAmendment(Body):
    data_classes: list[DataClass] | None = Field(
        default=None, min_length=1, max_length=len(DataClass)
    )
    valid_until: AwareDatetime | None = None


class ConsentRevocation(Body):
    reason: Text


class RecipientResolution(Body):
    """The directory entry a consent stored before the directory meant."""

    recipient: str = Field(max_length=200, description="The entry's entry_id (GET /directory).")
