"""User accounts, event-sourced like everything else.

A user's id follows from their normalised email, so an email can be taken once only (a
second registration collides in the store) and sign-in finds the account without an index.
Only a password hash is ever stored (Argon2, made by the adapter that owns hashing).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from pydantic import Field

from domain.errors import RuleViolation
from domain.events import Actor, Aggregate
from domain.record import refused_fields
from domain.vocabulary import DataClass, Role, ShortText

_USERS = uuid5(NAMESPACE_URL, "https://tandem.example/users")
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"
# Accounts that act for one patient, and so must name them.
NAMES_A_PATIENT = frozenset({Role.PATIENT, Role.SUPPORTER})


def user_id_for(email: str) -> UUID:
    return uuid5(_USERS, email.strip().lower())


class UserEvent(Aggregate.Event):
    def apply(self, aggregate: Any) -> None:
        """Most account events change one field; subclasses say which."""


class UserCreated(UserEvent, Aggregate.Created):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=200)
    display_name: ShortText
    role: Role
    organisation: ShortText
    password_hash: str = Field(min_length=20)
    patient_id: UUID | None = None


class RoleChanged(UserEvent):
    role: Role
    organisation: ShortText
    # The patient a patient or supporter account belongs to; None for other roles.
    patient_id: UUID | None = None

    def apply(self, aggregate: Any) -> None:
        aggregate.role = self.role
        aggregate.organisation = self.organisation
        # Events recorded before change_role took a patient left the link as it was; keep
        # that reading for them (a patient role without a patient_id only exists in those).
        if self.patient_id is not None or self.role not in NAMES_A_PATIENT:
            aggregate.patient_id = self.patient_id


class PasswordChanged(UserEvent):
    password_hash: str = Field(min_length=20)

    def apply(self, aggregate: Any) -> None:
        aggregate.password_hash = self.password_hash


class UserDeactivated(UserEvent):
    reason: ShortText

    def apply(self, aggregate: Any) -> None:
        aggregate.active = False


class User(Aggregate):
    """A person who signs in: clinician, patient, supporter or compliance reviewer."""

    data_class: ClassVar[DataClass] = DataClass.ACCOUNT

    def __init__(
        self,
        email: str,
        display_name: str,
        role: Role,
        organisation: str,
        password_hash: str,
        patient_id: UUID | None,
    ) -> None:
        self.email = email.strip().lower()
        self.display_name = display_name
        self.role = role
        self.organisation = organisation
        self.password_hash = password_hash
        self.patient_id = patient_id
        self.active = True

    @classmethod
    def create(
        cls,
        by: Actor,
        at: datetime,
        *,
        email: str,
        display_name: str,
        role: Role,
        organisation: str,
        password_hash: str,
        patient_id: UUID | None = None,
    ) -> User:
        check_account_role(role, patient_id)
        with refused_fields():
            return cls._create(
                UserCreated,
                id=user_id_for(email),
                actor=by,
                data_class=cls.data_class,
                clinical_time=at,
                email=email.strip().lower(),
                display_name=display_name,
                role=role,
                organisation=organisation,
                password_hash=password_hash,
                patient_id=patient_id,
            )

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.email, role=self.role, organisation=self.organisation)

    def check_active(self) -> None:
        if not self.active:
            raise RuleViolation(f"user {self.email} is deactivated", field="user")

    def change_role(
        self,
        by: Actor,
        at: datetime,
        *,
        role: Role,
        organisation: str,
        patient_id: UUID | None = None,
    ) -> None:
        """Move the account to another role; a patient or supporter role names its patient,
        and no account may become the system (which needs no care-team membership)."""
        self.check_active()
        check_account_role(role, patient_id)
        with refused_fields():
            self.trigger_event(
                RoleChanged,
                actor=by,
                data_class=self.data_class,
                clinical_time=at,
                role=role,
                organisation=organisation,
                patient_id=patient_id,
            )

    def change_password(self, by: Actor, at: datetime, *, password_hash: str) -> None:
        self.check_active()
        with refused_fields():
            self.trigger_event(
                PasswordChanged,
                actor=by,
                data_class=self.data_class,
                clinical_time=at,
                password_hash=password_hash,
            )

    def deactivate(self, by: Actor, at: datetime, *, reason: str) -> None:
        self.check_active()
        with refused_fields():
            self.trigger_event(
                UserDeactivated,
                actor=by,
                data_class=self.data_class,
                clinical_time=at,
                reason=reason,
            )


def check_account_role(role: Role | str, patient_id: UUID | None) -> None:
    """The rules on an account's role, the same at creation and at every change.

    No account may hold the system role: the system actor records without care-team
    membership (record.py, check_may_author), so an account holding it would bypass the
    team. A patient or supporter account acts for one patient and must name them.
    """
    if role == Role.SYSTEM:
        raise RuleViolation("no account may have the system role", field="role")
    if role in NAMES_A_PATIENT and patient_id is None:
        raise RuleViolation(
            f"a {Role(role).value} account must name its patient", field="patient_id"
        )
