"""The directory of recipients (domain/directory.py): who may register, what an entry must
say, and how a consent's terms name an entry (by id, or a stored free-text recipient by an
exact match) or none."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from domain.consent_terms import ConsentTerms, Purpose
from domain.directory import EMPTY_DIRECTORY, RecipientDirectory, entry_id_for
from domain.errors import InvalidInput, NotPermittedAuthor
from domain.events import Actor
from domain.vocabulary import DataClass, Role

AT = datetime(2026, 3, 1, 9, tzinfo=UTC)
STAFF = Actor(user_id="therapist@test", role=Role.THERAPIST, organisation="Test Clinic")


def directory() -> RecipientDirectory:
    found = RecipientDirectory.open(STAFF, AT)
    found.register(
        STAFF, AT, kind="organisation", name="Maple Family Practice", role=Role.PRIMARY_CARE
    )
    found.register(STAFF, AT, kind="user", name="Sam", role=Role.SUPPORTER, email="Sam@Family.test")
    return found


def terms(kind: str, recipient: str, recipient_id: uuid.UUID | None = None) -> ConsentTerms:
    return ConsentTerms(
        consent_id=uuid.uuid4(),
        recipient_kind=kind,  # type: ignore[arg-type]
        recipient=recipient,
        data_classes=frozenset({DataClass.MEDICATION}),
        purpose=Purpose.TREATMENT,
        valid_from=AT,
        valid_until=None,
        part2=False,
        notice=None,
        recipient_id=recipient_id,
    )


def test_a_stored_free_text_recipient_names_the_entry_it_matches_exactly() -> None:
    listing = directory().listing
    maple = entry_id_for("organisation", "Maple Family Practice")

    assert listing.resolved(terms("organisation", "Maple Family Practice")).recipient_id == maple  # type: ignore[union-attr]
    # An email is compared without regard to case, as the policy always compared it...
    sam = listing.resolved(terms("user", " SAM@family.test"))
    assert sam is not None and sam.recipient == "sam@family.test"
    # ...an organisation's name exactly: a typo or another case names no entry.
    assert listing.resolved(terms("organisation", "Mapel Family Pratice")) is None
    assert listing.resolved(terms("organisation", "maple family practice")) is None
    assert listing.resolved(terms("user", "Maple Family Practice")) is None
    assert EMPTY_DIRECTORY.resolved(terms("organisation", "Maple Family Practice")) is None


def test_a_grant_naming_an_entry_counts_through_the_entry_whatever_its_text() -> None:
    listing = directory().listing
    maple = entry_id_for("organisation", "Maple Family Practice")

    named = listing.resolved(terms("organisation", "anything at all", maple))

    assert named is not None and named.recipient == "Maple Family Practice"
    assert listing.resolved(terms("organisation", "Maple Family Practice", uuid.uuid4())) is None


def test_an_entry_is_registered_once_complete_and_in_a_recipient_role() -> None:
    found = directory()
    cases = [
        (
            {"kind": "organisation", "name": "Maple Family Practice", "role": Role.PRIMARY_CARE},
            "name",
        ),
        (
            {"kind": "user", "name": "Sam", "role": Role.SUPPORTER, "email": "sam@family.test"},
            "email",
        ),
        ({"kind": "user", "name": "Lee", "role": Role.SUPPORTER}, "email"),
        ({"kind": "organisation", "name": "X", "role": Role.EMPLOYER, "email": "x@y"}, "email"),
        ({"kind": "organisation", "name": "X", "role": Role.COMPLIANCE}, "role"),
        ({"kind": "organisation", "name": "", "role": Role.EMPLOYER}, "name"),
    ]
    for entry, field in cases:
        with pytest.raises(InvalidInput) as refused:
            found.register(STAFF, AT, **entry)  # type: ignore[arg-type]
        assert [e.field for e in refused.value.errors] == [field], entry
    assert len(found.pending_events) == 3  # opened, and the two entries above


def test_only_the_clinic_keeps_the_directory() -> None:
    outsider = Actor(user_id="pcp@test", role=Role.PRIMARY_CARE, organisation="Maple")
    with pytest.raises(NotPermittedAuthor):
        RecipientDirectory.open(outsider, AT)
    found = directory()
    with pytest.raises(NotPermittedAuthor):
        found.register(outsider, AT, kind="organisation", name="Mine", role=Role.PRIMARY_CARE)
