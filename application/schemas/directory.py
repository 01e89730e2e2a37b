"""Bodies and answers of the directory of recipients (domain/directory.py)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.vocabulary import Role


class RecipientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["user", "organisation"]
    name: str = Field(description="The organisation's name, or the person's name.")
    role: Role = Field(description="The role the recipient acts in (primary-care, ...).")
    email: str | None = Field(default=None, description="A user entry's sign-in email.")


class RecipientPublic(BaseModel):
    entry_id: UUID
    kind: Literal["user", "organisation"]
    name: str
    role: Role
    email: str | None


class DirectoryReceipt(BaseModel):
    """A registration's answer: the new entry's id (what a grant names) and the position
    the write reached."""

    entry_id: UUID
    version: int
    position: int
