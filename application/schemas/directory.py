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


class RecipientRemoval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(description="Why the entry leaves the directory (kept in the log).")


class BrokerCredential(BaseModel):
    """A recipient's credential on the Kafka broker, answered once when it is issued: the
    password is kept nowhere (the broker holds a salted hash of it), so it is given to the
    recipient now, or a new one is issued later (which ends this one)."""

    username: str
    password: str
    mechanism: str = Field(description="SASL mechanism, over TLS (SASL_SSL).")
    topic: str = Field(description="The only topic the credential may read.")
    group: str = Field(description="The only consumer group the credential may join.")


class DirectoryReceipt(BaseModel):
    """A registration's answer: the new entry's id (what a grant names) and the position
    the write reached; with a broker configured, the entry's broker credential (once)."""

    entry_id: UUID
    version: int
    position: int
    broker_credential: BrokerCredential | None = None
