"""User accounts: created and deactivated through the one write path."""

from __future__ import annotations

from typing import Any

from application.clinic import Clinic, Receipt
from application.ports import Passwords, Sessions
from application.writer import CommandWriter, Target
from domain.errors import Conflict
from domain.events import Actor, now
from domain.users import User, user_id_for


def create_user_now(writer: CommandWriter, by: Actor, **account: Any) -> Receipt:
    """Open an account (its password already hashed); Conflict if the email has one."""
    user = User.create(by, now(), **account)
    try:
        return writer.create(user)
    except Conflict:
        raise Conflict(user.id, f"an account for {user.email} already exists") from None


def deactivate_now(
    writer: CommandWriter,
    clinic: Clinic,
    by: Actor,
    email: str,
    reason: str,
    sessions: Sessions | None = None,
) -> Receipt:
    """Close an account: its tokens stop working at once in this process, and its page
    sessions end server-side (for every process sharing the data directory)."""
    try:
        receipt = writer.write(
            Target(user_id_for(email), User, lambda: clinic.user(email)),
            lambda u: u.deactivate(by, max(now(), u.modified_on), reason=reason),
        )
    finally:
        clinic.forget_user(email)
    if sessions is not None:
        sessions.end_all(email)
    return receipt


def add_account(
    writer: CommandWriter,
    clinic: Clinic,
    passwords: Passwords,
    by: Actor,
    *,
    password: str,
    patient: str | None = None,
    **account: object,
) -> Receipt:
    """A new account for a person (for a patient or supporter, tied to that patient's
    record, which must exist); the password is kept only as its hash."""
    patient_id = clinic.find_patient(patient).id if patient else None
    return create_user_now(
        writer, by, password_hash=passwords.hash(password), patient_id=patient_id, **account
    )
