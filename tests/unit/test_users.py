"""User accounts: creation, role changes, passwords, deactivation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from domain.errors import InvalidInput, RuleViolation
from domain.events import Actor, now
from domain.registration import patient_id_for
from domain.users import (
    PasswordChanged,
    RoleChanged,
    User,
    UserCreated,
    UserDeactivated,
    user_id_for,
)
from domain.vocabulary import DataClass, Role
from tests.unit.builders import days_ago

ADMIN = Actor(user_id="admin@riverside.example", role=Role.THERAPIST, organisation="Riverside")
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
OTHER_HASH = "$argon2id$v=19$m=65536,t=3,p=4$bmV3c2FsdA$bmV3aGFzaG5ld2hhc2hu"


def account(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "email": "t.okafor@riverside.example",
        "display_name": "Tolu Okafor, LCSW",
        "role": Role.THERAPIST,
        "organisation": "Riverside Behavioral Health",
        "password_hash": HASH,
    }
    fields.update(changes)
    return fields


def a_user(**changes: Any) -> User:
    user = User.create(ADMIN, days_ago(10), **account(**changes))
    user.collect_events()
    return user


def only(user: User, kind: type[Any]) -> Any:
    events = user.collect_events()
    assert [type(e) for e in events] == [kind]
    return events[0]


def test_creating_an_account_records_who_created_it_and_when(at: datetime) -> None:
    user = User.create(ADMIN, at, **account())

    created = only(user, UserCreated)
    assert (created.actor, created.data_class, created.clinical_time) == (
        ADMIN,
        DataClass.ACCOUNT,
        at,
    )
    assert (created.email, created.display_name, created.role, created.organisation) == (
        "t.okafor@riverside.example",
        "Tolu Okafor, LCSW",
        Role.THERAPIST,
        "Riverside Behavioral Health",
    )
    assert created.password_hash == HASH
    assert created.patient_id is None
    assert (user.email, user.role, user.active) == (
        "t.okafor@riverside.example",
        Role.THERAPIST,
        True,
    )
    assert user.actor == Actor(
        user_id="t.okafor@riverside.example",
        role=Role.THERAPIST,
        organisation="Riverside Behavioral Health",
    )


def test_a_users_id_follows_from_the_lower_cased_email(at: datetime) -> None:
    user = User.create(ADMIN, at, **account(email="  T.Okafor@Riverside.EXAMPLE "))

    assert user.id == user_id_for("t.okafor@riverside.example")
    assert user.email == "t.okafor@riverside.example"
    assert only(user, UserCreated).email == "t.okafor@riverside.example"
    assert user_id_for("T.OKAFOR@riverside.example") == user.id
    assert user_id_for("s.okafor@riverside.example") != user.id


@pytest.mark.parametrize("role", [Role.PATIENT, Role.SUPPORTER])
def test_a_patient_or_supporter_account_names_its_patient(at: datetime, role: Role) -> None:
    patient_id = patient_id_for("RBH-000123")

    user = User.create(
        ADMIN, at, **account(email="sam@mail.example", role=role, patient_id=patient_id)
    )

    assert only(user, UserCreated).patient_id == patient_id
    assert user.patient_id == patient_id


@pytest.mark.parametrize("role", [Role.PATIENT, Role.SUPPORTER])
def test_a_patient_or_supporter_account_without_its_patient_is_refused(
    at: datetime, role: Role
) -> None:
    with pytest.raises(RuleViolation) as refusal:
        User.create(ADMIN, at, **account(role=role))
    assert refusal.value.field == "patient_id"


def test_no_account_may_have_the_system_role(at: datetime) -> None:
    with pytest.raises(RuleViolation) as refusal:
        User.create(ADMIN, at, **account(role=Role.SYSTEM))
    assert refusal.value.field == "role"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "t.okafor"}, "email"),
        ({"email": "t okafor@riverside.example"}, "email"),
        ({"password_hash": "hunter2"}, "password_hash"),
        ({"display_name": ""}, "display_name"),
        ({"role": "nurse"}, "role"),
        ({"organisation": " "}, "organisation"),
    ],
)
def test_an_account_with_a_malformed_field_is_refused(
    at: datetime, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refusal:
        User.create(ADMIN, at, **account(**changes))
    assert field in [e.field for e in refusal.value.errors]


def test_an_account_cannot_be_created_in_the_future() -> None:
    with pytest.raises(InvalidInput) as refusal:
        User.create(ADMIN, now() + timedelta(hours=1), **account())
    assert [e.field for e in refusal.value.errors] == ["clinical_time"]


def test_a_role_change_moves_the_user_to_a_new_role_and_organisation(at: datetime) -> None:
    user = a_user()

    user.change_role(ADMIN, at, role=Role.PRESCRIBER, organisation="Harbor OTP")

    changed = only(user, RoleChanged)
    assert (changed.actor, changed.data_class, changed.clinical_time) == (
        ADMIN,
        DataClass.ACCOUNT,
        at,
    )
    assert (changed.role, changed.organisation) == (Role.PRESCRIBER, "Harbor OTP")
    assert (user.role, user.organisation) == (Role.PRESCRIBER, "Harbor OTP")
    assert user.actor.role == Role.PRESCRIBER


def test_a_password_change_keeps_only_the_new_hash(at: datetime) -> None:
    user = a_user()

    user.change_password(user.actor, at, password_hash=OTHER_HASH)

    changed = only(user, PasswordChanged)
    assert changed.password_hash == OTHER_HASH
    assert user.password_hash == OTHER_HASH


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (lambda u, at: u.change_password(u.actor, at, password_hash="plaintext"), "password_hash"),
        (lambda u, at: u.change_role(ADMIN, at, role="nurse", organisation="x"), "role"),
        (lambda u, at: u.deactivate(ADMIN, at, reason=" "), "reason"),
        (
            lambda u, at: u.deactivate(ADMIN, now() + timedelta(hours=1), reason="left"),
            "clinical_time",
        ),
    ],
    ids=["short password hash", "unknown role", "empty reason", "future time"],
)
def test_a_refused_account_change_is_invalid_input_and_records_nothing(
    at: datetime, command: Any, field: str
) -> None:
    user = a_user()
    with pytest.raises(InvalidInput) as refusal:
        command(user, at)
    assert [e.field for e in refusal.value.errors] == [field]
    assert user.pending_events == []
    assert (user.password_hash, user.role, user.active) == (HASH, Role.THERAPIST, True)


def test_a_deactivated_user_is_inactive(at: datetime) -> None:
    user = a_user()

    user.deactivate(ADMIN, at, reason="left the practice")

    deactivated = only(user, UserDeactivated)
    assert (deactivated.actor, deactivated.reason) == (ADMIN, "left the practice")
    assert user.active is False


@pytest.mark.parametrize(
    "command",
    [
        lambda u, at: u.change_role(ADMIN, at, role=Role.PRESCRIBER, organisation="x"),
        lambda u, at: u.change_password(ADMIN, at, password_hash=OTHER_HASH),
        lambda u, at: u.deactivate(ADMIN, at, reason="again"),
    ],
    ids=["role change", "password change", "second deactivation"],
)
def test_a_deactivated_user_refuses_further_changes(at: datetime, command: Any) -> None:
    user = a_user()
    user.deactivate(ADMIN, at, reason="left the practice")
    user.collect_events()
    version = user.version

    with pytest.raises(RuleViolation) as refusal:
        command(user, at)

    assert refusal.value.field == "user"
    assert "deactivated" in str(refusal.value)
    assert user.pending_events == []
    assert user.version == version
    assert (user.role, user.password_hash) == (Role.THERAPIST, HASH)


def test_no_account_may_be_moved_to_the_system_role(at: datetime) -> None:
    user = a_user()
    with pytest.raises(RuleViolation):
        user.change_role(ADMIN, at, role=Role.SYSTEM, organisation="tandem")


def test_a_role_change_to_patient_needs_the_patient(at: datetime) -> None:
    user = a_user()
    with pytest.raises(RuleViolation):
        user.change_role(ADMIN, at, role=Role.PATIENT, organisation="self")


@pytest.mark.parametrize("role", [Role.PATIENT, Role.SUPPORTER])
def test_a_role_change_to_patient_or_supporter_without_the_patient_records_nothing(
    at: datetime, role: Role
) -> None:
    user = a_user()
    with pytest.raises(RuleViolation) as refusal:
        user.change_role(ADMIN, at, role=role, organisation="self")
    assert refusal.value.field == "patient_id"
    assert user.pending_events == []
    assert (user.role, user.patient_id) == (Role.THERAPIST, None)


def test_a_role_change_to_system_names_the_role_and_records_nothing(at: datetime) -> None:
    user = a_user()
    with pytest.raises(RuleViolation) as refusal:
        user.change_role(ADMIN, at, role=Role.SYSTEM, organisation="tandem")
    assert refusal.value.field == "role"
    assert user.pending_events == []
    assert user.role == Role.THERAPIST


@pytest.mark.parametrize("role", [Role.PATIENT, Role.SUPPORTER])
def test_a_role_change_to_patient_or_supporter_names_the_patient(at: datetime, role: Role) -> None:
    user = a_user()
    patient_id = patient_id_for("RBH-000123")

    user.change_role(ADMIN, at, role=role, organisation="self", patient_id=patient_id)

    changed = only(user, RoleChanged)
    assert (changed.role, changed.patient_id) == (role, patient_id)
    assert (user.role, user.patient_id) == (role, patient_id)


def test_a_role_change_away_from_patient_drops_the_patient(at: datetime) -> None:
    user = a_user(role=Role.PATIENT, patient_id=patient_id_for("RBH-000123"))

    user.change_role(ADMIN, at, role=Role.PRIMARY_CARE, organisation="Valley Primary Care")

    assert only(user, RoleChanged).patient_id is None
    assert (user.role, user.patient_id) == (Role.PRIMARY_CARE, None)


def test_a_role_change_recorded_before_it_named_the_patient_keeps_the_patient(
    at: datetime,
) -> None:
    # Such events (a patient role without patient_id) are only in stores written before
    # change_role took a patient; replaying them must not cut the account off its patient.
    patient_id = patient_id_for("RBH-000123")
    user = a_user(role=Role.PATIENT, patient_id=patient_id)
    legacy = RoleChanged(
        originator_id=user.id,
        originator_version=user.version + 1,
        actor=ADMIN,
        data_class=DataClass.ACCOUNT,
        clinical_time=at,
        role=Role.PATIENT,
        organisation="self (new address)",
    )

    legacy.mutate(user)

    assert (user.organisation, user.patient_id) == ("self (new address)", patient_id)


def test_a_role_change_with_a_malformed_patient_id_is_invalid_input(at: datetime) -> None:
    user = a_user()
    with pytest.raises(InvalidInput) as refusal:
        user.change_role(ADMIN, at, role=Role.PATIENT, organisation="self", patient_id="RBH-1")
    assert [e.field for e in refusal.value.errors] == ["patient_id"]
    assert user.pending_events == []


def test_an_account_is_a_separate_aggregate_from_any_record() -> None:
    # Account ids and patient ids live in different uuid5 namespaces: an email that looks
    # like an MRN can never collide with a patient's record.
    assert user_id_for("rbh-000123") != patient_id_for("rbh-000123")
