"""What a user may learn about their own account."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel

from domain.users import User


class UserPublic(BaseModel):
    email: str
    display_name: str
    role: str
    organisation: str
    patient_id: UUID | None

    @classmethod
    def of(cls, user: User) -> UserPublic:
        return cls(
            email=user.email,
            display_name=user.display_name,
            role=user.role.value,
            organisation=user.organisation,
            patient_id=user.patient_id,
        )
