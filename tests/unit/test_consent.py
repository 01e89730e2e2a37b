"""A patient's consents: granted, amended, revoked and expired, and read "as of" any moment."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.consent import (
    REDISCLOSURE_NOTICE,
    ConsentAmended,
    ConsentExpired,
    ConsentGranted,
    ConsentRevoked,
    ConsentsOpened,
    ConsentTerms,
    PatientConsents,
    Purpose,
    consents_id_for,
)
from domain.errors import (
    ConsentClosed,
    ConsentRefused,
    InvalidInput,
    NotCombinable,
    NotPermittedAuthor,
    Part2ConsentRequired,
    RuleViolation,
    TandemError,
    UnknownReference,
)
from domain.events import Actor, now
from domain.vocabulary import DataClass, Role
from tests.unit.builders import (
    PATIENT,
    PRESCRIBER,
    PRIMARY_CARE,
    SYSTEM,
    THERAPIST,
    days_ago,
    fields_of,
)

PATIENT_ID = uuid4()
EMPLOYER = Actor(user_id="hr@acme.example", role=Role.EMPLOYER, organisation="Acme Logistics")
VALLEY = PRIMARY_CARE.organisation

# A year of care: granted 300 days ago, valid from then for 200 days.
GRANTED = days_ago(300)
START = GRANTED
END = START + timedelta(days=200)


def opened(at: datetime | None = None) -> PatientConsents:
    consents = PatientConsents.open(SYSTEM, at or days_ago(400), PATIENT_ID)
    consents.collect_events()
    return consents


def grant(
    consents: PatientConsents,
    *,
    by: Actor = PATIENT,
    at: datetime = GRANTED,
    consent_id: UUID | None = None,
    **changes: Any,
) -> UUID:
    """Grant a consent (medication to Valley Primary Care for care coordination unless
    changed) and commit it."""
    terms: dict[str, Any] = {
        "recipient_kind": "organisation",
        "recipient": VALLEY,
        "data_classes": [DataClass.MEDICATION],
        "purpose": Purpose.CARE_COORDINATION,
        "valid_from": START,
        "valid_until": END,
        "part2": False,
    }
    terms.update(changes)
    consent_id = consent_id or uuid4()
    consents.grant(by, at, consent_id=consent_id, **terms)
    consents.collect_events()
    return consent_id


def only(consents: PatientConsents, kind: type[Any]) -> Any:
    events = consents.collect_events()
    assert [type(e) for e in events] == [kind]
    return events[0]


@contextmanager
def refused(
    consents: PatientConsents, error: type[TandemError] = InvalidInput, *, field: str
) -> Iterator[pytest.ExceptionInfo[Any]]:
    """The command in the block is refused with `error` naming `field`, and records nothing."""
    version, history = consents.version, copy.deepcopy(consents.consents)
    with pytest.raises(error) as info:
        yield info
    assert list(consents.pending_events) == []
    assert consents.version == version
    assert consents.consents == history
    if isinstance(info.value, InvalidInput):
        assert field in fields_of(info.value), info.value.errors
    else:
        assert isinstance(info.value, RuleViolation)
        assert info.value.field == field


def classes(terms: ConsentTerms | None) -> set[DataClass] | None:
    return set(terms.data_classes) if terms is not None else None


# --- opening ----------------------------------------------------------------------------


def test_a_patients_consents_have_an_id_that_follows_from_the_patient() -> None:
    at = days_ago(400)
    consents = PatientConsents.open(SYSTEM, at, PATIENT_ID)

    event = only(consents, ConsentsOpened)
    assert consents.id == consents_id_for(PATIENT_ID) == event.originator_id
    assert consents_id_for(PATIENT_ID) != consents_id_for(uuid4())
    assert (event.patient_id, event.actor, event.clinical_time) == (PATIENT_ID, SYSTEM, at)
    assert event.data_class == DataClass.CONSENT
    assert consents.patient_id == PATIENT_ID
    assert consents.in_force(now()) == []


def test_an_employer_may_not_open_or_record_consents() -> None:
    with pytest.raises(NotPermittedAuthor):
        PatientConsents.open(EMPLOYER, days_ago(1), PATIENT_ID)
    consents = opened()
    with refused(consents, NotPermittedAuthor, field="actor.role"):
        grant(consents, by=EMPLOYER)


# --- granting ---------------------------------------------------------------------------


def test_a_patient_grants_their_primary_care_practice_their_medication_list() -> None:
    consents = opened()
    consent_id = uuid4()

    consents.grant(
        PATIENT,
        GRANTED,
        consent_id=consent_id,
        recipient_kind="organisation",
        recipient=VALLEY,
        data_classes=[DataClass.MEDICATION],
        purpose=Purpose.CARE_COORDINATION,
        valid_from=START,
        valid_until=END,
        part2=False,
    )

    event = only(consents, ConsentGranted)
    assert (event.actor, event.data_class, event.clinical_time) == (
        PATIENT,
        DataClass.CONSENT,
        GRANTED,
    )
    assert (event.patient_id, event.consent_id, event.notice) == (PATIENT_ID, consent_id, None)
    assert event.summary().startswith(f"consent granted to organisation {VALLEY}")
    assert consents.terms_at(consent_id, START + timedelta(days=1)) == ConsentTerms(
        consent_id=consent_id,
        recipient_kind="organisation",
        recipient=VALLEY,
        data_classes=frozenset({DataClass.MEDICATION}),
        purpose=Purpose.CARE_COORDINATION,
        valid_from=START,
        valid_until=END,
        part2=False,
        notice=None,
    )


def test_a_treating_clinician_documents_a_written_consent_with_string_inputs() -> None:
    consents = opened()
    consent_id = grant(
        consents,
        by=THERAPIST,
        recipient_kind="user",
        recipient=" G.Nakamura@Valley-PC.example ",
        data_classes=["medication", "measure"],
        purpose="care-coordination",
    )

    terms = consents.terms_at(consent_id, START)
    assert terms is not None
    assert terms.recipient == PRIMARY_CARE.user_id  # emails are user ids, lower case
    assert terms.data_classes == {DataClass.MEDICATION, DataClass.MEASURE}


def test_a_user_recipient_is_named_by_email() -> None:
    consents = opened()
    with refused(consents, field="recipient"):
        grant(consents, recipient_kind="user", recipient="Dr Nakamura")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"data_classes": []}, "data_classes"),
        ({"data_classes": ["medication", "medication"]}, "data_classes"),
        ({"data_classes": ["horoscope"]}, "data_classes.0"),
        ({"data_classes": [DataClass.ACCOUNT]}, "data_classes"),
        ({"recipient_kind": "family"}, "recipient_kind"),
        ({"recipient": "   "}, "recipient"),
        ({"purpose": "marketing"}, "purpose"),
        ({"valid_from": datetime(2025, 1, 1)}, "valid_from"),  # naive on purpose
        ({"valid_until": START}, "valid_until"),
        ({"valid_until": START - timedelta(days=1)}, "valid_until"),
        ({"part2": "perhaps"}, "part2"),
    ],
)
def test_a_grant_with_a_bad_field_is_refused_naming_it(changes: dict[str, Any], field: str) -> None:
    consents = opened()
    with refused(consents, field=field):
        grant(consents, **changes)


def test_a_consent_granted_in_the_future_of_its_recording_is_refused() -> None:
    consents = opened()
    with refused(consents, field="clinical_time"):
        grant(consents, at=now() + timedelta(days=1))


def test_a_consent_id_is_used_once() -> None:
    consents = opened()
    consent_id = grant(consents)
    with refused(consents, ConsentRefused, field="consent_id"):
        grant(consents, consent_id=consent_id, data_classes=[DataClass.LAB])


def test_no_consent_is_given_for_the_patients_own_right_of_access() -> None:
    consents = opened()
    with refused(consents, field="purpose") as refusal:
        grant(consents, purpose=Purpose.RIGHT_OF_ACCESS)
    assert "not a consent's purpose" in str(refusal.value)


def test_psychotherapy_notes_cannot_be_combined_with_any_other_class() -> None:
    consents = opened()
    with refused(consents, NotCombinable, field="data_classes"):
        grant(consents, data_classes=[DataClass.PSYCHOTHERAPY_NOTE, DataClass.PROGRESS_NOTE])


def test_a_psychotherapy_note_consent_of_its_own_is_granted() -> None:
    consents = opened()
    consent_id = grant(consents, data_classes=[DataClass.PSYCHOTHERAPY_NOTE])
    assert classes(consents.terms_at(consent_id, START)) == {DataClass.PSYCHOTHERAPY_NOTE}


def test_sud_records_are_shared_only_under_a_part2_consent() -> None:
    consents = opened()
    with refused(consents, Part2ConsentRequired, field="part2"):
        grant(consents, data_classes=[DataClass.SUD, DataClass.MEDICATION], part2=False)


def test_a_part2_consent_carries_the_redisclosure_notice() -> None:
    consents = opened()
    consents.grant(
        PATIENT,
        GRANTED,
        consent_id=(consent_id := uuid4()),
        recipient_kind="organisation",
        recipient=VALLEY,
        data_classes=[DataClass.SUD, DataClass.MEDICATION],
        purpose=Purpose.TREATMENT,
        valid_from=START,
        valid_until=None,
        until_end_of_treatment=True,
        part2=True,
    )

    event = only(consents, ConsentGranted)
    assert event.notice == REDISCLOSURE_NOTICE
    assert "under 42 CFR Part 2" in event.summary() and "end of treatment" in event.summary()
    terms = consents.terms_at(consent_id, now())
    assert terms is not None and terms.part2 and terms.notice == REDISCLOSURE_NOTICE


def test_the_notice_is_statement_1_of_42_cfr_2_32() -> None:
    assert REDISCLOSURE_NOTICE.startswith(
        "This record which has been disclosed to you is protected by Federal confidentiality "
        "rules (42 CFR part 2)."
    )
    assert "NOT sufficient" in REDISCLOSURE_NOTICE and "42 CFR 2.31" in REDISCLOSURE_NOTICE


def test_a_part2_consent_without_sud_records_is_allowed_and_carries_the_notice_too() -> None:
    consents = opened()
    consent_id = grant(consents, data_classes=[DataClass.PSYCHOTHERAPY_NOTE], part2=True)
    terms = consents.terms_at(consent_id, START)
    assert terms is not None and terms.part2 and terms.notice == REDISCLOSURE_NOTICE


def test_a_stored_part2_consent_without_its_notice_does_not_load() -> None:
    consents = opened()
    consents.grant(
        PATIENT,
        GRANTED,
        consent_id=uuid4(),
        recipient_kind="organisation",
        recipient=VALLEY,
        data_classes=[DataClass.SUD],
        purpose=Purpose.TREATMENT,
        valid_from=START,
        valid_until=END,
        part2=True,
    )
    state = only(consents, ConsentGranted).model_dump(mode="json")
    state["notice"] = None
    with pytest.raises(ValueError, match="notice"):
        ConsentGranted(**state)


def test_a_consent_event_is_always_labelled_consent() -> None:
    consents = opened()
    grant(consents)
    consents.revoke(PATIENT, days_ago(200), consent_id=next(iter(consents.consents)), reason="x")
    state = only(consents, ConsentRevoked).model_dump(mode="json")
    state["data_class"] = DataClass.MEDICATION.value
    with pytest.raises(ValueError, match="labelled consent"):
        ConsentRevoked(**state)


# --- amending ---------------------------------------------------------------------------


def test_an_amendment_changes_the_classes_from_its_time_on() -> None:
    consents = opened()
    consent_id = grant(consents)
    amended_at = days_ago(200)

    consents.amend(PATIENT, amended_at, consent_id=consent_id, data_classes=["medication", "lab"])

    event = only(consents, ConsentAmended)
    assert (event.actor, event.clinical_time, event.data_class) == (
        PATIENT,
        amended_at,
        DataClass.CONSENT,
    )
    assert event.summary() == "consent amended: data classes medication, lab"
    before = consents.terms_at(consent_id, amended_at - timedelta(seconds=1))
    after = consents.terms_at(consent_id, amended_at)
    assert classes(before) == {DataClass.MEDICATION}
    assert classes(after) == {DataClass.MEDICATION, DataClass.LAB}
    assert after is not None and before is not None
    assert (after.valid_until, after.recipient) == (before.valid_until, before.recipient)


def test_an_amendment_extends_the_period_from_its_time_on() -> None:
    consents = opened()
    consent_id = grant(consents)
    extended_until = END + timedelta(days=300)

    consents.amend(PATIENT, days_ago(150), consent_id=consent_id, valid_until=extended_until)
    consents.collect_events()

    # Before the amendment, the old end still held; after it, the new one.
    assert consents.terms_at(consent_id, END) is not None  # END is after the amendment
    terms = consents.terms_at(consent_id, days_ago(1))
    assert terms is not None and terms.valid_until == extended_until
    earlier = consents.recorded_terms_at(consent_id, days_ago(160))
    assert earlier is not None and earlier.valid_until == END


def test_a_later_amendment_does_not_change_what_an_earlier_view_saw() -> None:
    consents = opened()
    consent_id = grant(consents, data_classes=["medication", "lab", "measure"])
    first, second = days_ago(250), days_ago(220)
    consents.amend(PATIENT, first, consent_id=consent_id, data_classes=["medication", "lab"])
    consents.amend(PATIENT, second, consent_id=consent_id, data_classes=["measure"])
    consents.collect_events()

    assert classes(consents.terms_at(consent_id, first - timedelta(days=1))) == {
        DataClass.MEDICATION,
        DataClass.LAB,
        DataClass.MEASURE,
    }
    assert classes(consents.terms_at(consent_id, first)) == {DataClass.MEDICATION, DataClass.LAB}
    assert classes(consents.terms_at(consent_id, second)) == {DataClass.MEASURE}


def test_an_amendment_cannot_add_other_classes_to_a_psychotherapy_note_consent() -> None:
    consents = opened()
    consent_id = grant(consents, data_classes=[DataClass.PSYCHOTHERAPY_NOTE])
    with refused(consents, NotCombinable, field="data_classes"):
        consents.amend(
            PATIENT,
            days_ago(200),
            consent_id=consent_id,
            data_classes=[DataClass.PSYCHOTHERAPY_NOTE, DataClass.MEDICATION],
        )
    with refused(consents, NotCombinable, field="data_classes"):
        consents.amend(
            PATIENT, days_ago(200), consent_id=consent_id, data_classes=[DataClass.MEDICATION]
        )


def test_an_ordinary_consent_cannot_be_amended_into_a_psychotherapy_note_consent() -> None:
    consents = opened()
    consent_id = grant(consents)
    with refused(consents, NotCombinable, field="data_classes"):
        consents.amend(
            PATIENT,
            days_ago(200),
            consent_id=consent_id,
            data_classes=[DataClass.PSYCHOTHERAPY_NOTE],
        )


def test_an_amendment_cannot_add_sud_records_to_a_consent_without_part2() -> None:
    consents = opened()
    consent_id = grant(consents)
    with refused(consents, Part2ConsentRequired, field="part2"):
        consents.amend(
            PATIENT,
            days_ago(200),
            consent_id=consent_id,
            data_classes=[DataClass.MEDICATION, DataClass.SUD],
        )


def test_an_amendment_may_add_sud_records_to_a_part2_consent() -> None:
    consents = opened()
    consent_id = grant(consents, part2=True)
    consents.amend(
        PATIENT, days_ago(200), consent_id=consent_id, data_classes=["medication", "sud"]
    )
    assert only(consents, ConsentAmended).data_classes == [DataClass.MEDICATION, DataClass.SUD]
    terms = consents.terms_at(consent_id, days_ago(150))
    assert terms is not None and terms.notice == REDISCLOSURE_NOTICE


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({}, "data_classes"),
        ({"data_classes": []}, "data_classes"),
        ({"data_classes": ["lab", "lab"]}, "data_classes"),
        ({"valid_until": START - timedelta(days=1)}, "valid_until"),
        # An end already past would be a revocation without the writing it needs.
        ({"valid_until": days_ago(210)}, "valid_until"),
        ({"valid_until": datetime(2030, 1, 1)}, "valid_until"),  # naive
    ],
)
def test_an_amendment_with_a_bad_field_is_refused_naming_it(
    changes: dict[str, Any], field: str
) -> None:
    consents = opened()
    consent_id = grant(consents)
    with refused(consents, field=field):
        consents.amend(PATIENT, days_ago(200), consent_id=consent_id, **changes)


def test_an_unknown_consent_cannot_be_amended_revoked_or_expired() -> None:
    consents = opened()
    grant(consents)
    unknown = uuid4()
    with refused(consents, UnknownReference, field="consent_id"):
        consents.amend(PATIENT, days_ago(1), consent_id=unknown, data_classes=["lab"])
    with refused(consents, UnknownReference, field="consent_id"):
        consents.revoke(PATIENT, days_ago(1), consent_id=unknown, reason="moved away")
    with refused(consents, UnknownReference, field="consent_id"):
        consents.expire(SYSTEM, days_ago(1), consent_id=unknown)


def test_a_change_cannot_be_dated_before_the_last_change() -> None:
    consents = opened()
    consent_id = grant(consents)
    consents.amend(PATIENT, days_ago(200), consent_id=consent_id, data_classes=["lab"])
    consents.collect_events()
    with refused(consents, ConsentRefused, field="at"):
        consents.revoke(PATIENT, days_ago(201), consent_id=consent_id, reason="changed my mind")
    with refused(consents, ConsentRefused, field="at"):
        consents.amend(PATIENT, days_ago(250), consent_id=consent_id, data_classes=["measure"])


def test_a_lapsed_consent_cannot_be_amended_or_revoked() -> None:
    consents = opened()
    consent_id = grant(consents)
    after_end = END + timedelta(days=1)
    with refused(consents, ConsentClosed, field="consent_id"):
        consents.amend(PATIENT, after_end, consent_id=consent_id, valid_until=now())
    with refused(consents, ConsentClosed, field="consent_id"):
        consents.revoke(PATIENT, after_end, consent_id=consent_id, reason="too late")


# --- revoking ---------------------------------------------------------------------------


def test_a_written_revocation_ends_the_consent_at_its_time() -> None:
    consents = opened()
    consent_id = grant(consents)
    revoked_at = days_ago(200)

    consents.revoke(PATIENT, revoked_at, consent_id=consent_id, reason="signed revocation form")

    event = only(consents, ConsentRevoked)
    assert (event.actor, event.clinical_time, event.reason) == (
        PATIENT,
        revoked_at,
        "signed revocation form",
    )
    assert event.summary() == "consent revoked in writing: signed revocation form"
    assert consents.terms_at(consent_id, revoked_at - timedelta(microseconds=1)) is not None
    assert consents.terms_at(consent_id, revoked_at) is None
    assert consents.in_force(revoked_at) == []
    # What the consent said is still on record (what was disclosed before is not undone).
    assert classes(consents.recorded_terms_at(consent_id, revoked_at)) == {DataClass.MEDICATION}


def test_a_revocation_states_its_reason() -> None:
    consents = opened()
    consent_id = grant(consents)
    with refused(consents, field="reason"):
        consents.revoke(PATIENT, days_ago(200), consent_id=consent_id, reason=" ")


def test_a_revoked_consent_cannot_be_amended_revoked_again_or_expired() -> None:
    consents = opened()
    consent_id = grant(consents)
    consents.revoke(PATIENT, days_ago(200), consent_id=consent_id, reason="revoked")
    consents.collect_events()

    with refused(consents, ConsentClosed, field="consent_id"):
        consents.amend(PATIENT, days_ago(150), consent_id=consent_id, data_classes=["lab"])
    with refused(consents, ConsentClosed, field="consent_id"):
        consents.revoke(PATIENT, days_ago(150), consent_id=consent_id, reason="again")
    with refused(consents, ConsentClosed, field="consent_id"):
        consents.expire(SYSTEM, END + timedelta(days=1), consent_id=consent_id)


def test_a_revocation_cannot_be_dated_in_the_future() -> None:
    consents = opened()
    consent_id = grant(consents, valid_until=now() + timedelta(days=30))
    with refused(consents, field="clinical_time"):
        consents.revoke(
            PATIENT, now() + timedelta(days=1), consent_id=consent_id, reason="from tomorrow"
        )


# --- expiring ---------------------------------------------------------------------------


def test_a_consent_expires_at_or_after_its_end() -> None:
    consents = opened()
    consent_id = grant(consents)

    consents.expire(SYSTEM, END, consent_id=consent_id)

    event = only(consents, ConsentExpired)
    assert (event.actor, event.clinical_time, event.summary()) == (
        SYSTEM,
        END,
        "consent expired",
    )
    assert consents.terms_at(consent_id, END - timedelta(seconds=1)) is not None
    assert consents.terms_at(consent_id, END) is None


def test_a_consent_does_not_expire_before_its_end() -> None:
    consents = opened()
    consent_id = grant(consents)
    with refused(consents, ConsentRefused, field="at"):
        consents.expire(SYSTEM, END - timedelta(days=1), consent_id=consent_id)


def test_a_consent_until_the_end_of_treatment_expires_when_treatment_ends() -> None:
    consents = opened()
    consent_id = grant(consents, valid_until=None, until_end_of_treatment=True)
    ended = days_ago(20)
    assert consents.terms_at(consent_id, ended) is not None

    consents.expire(THERAPIST, ended, consent_id=consent_id)

    assert only(consents, ConsentExpired).clinical_time == ended
    assert consents.terms_at(consent_id, ended) is None
    assert consents.terms_at(consent_id, ended - timedelta(days=1)) is not None


def test_a_consent_without_an_end_does_not_expire_but_may_be_revoked() -> None:
    consents = opened()
    consent_id = grant(consents, valid_until=None)
    with refused(consents, ConsentRefused, field="consent_id"):
        consents.expire(SYSTEM, days_ago(1), consent_id=consent_id)
    consents.revoke(PATIENT, days_ago(1), consent_id=consent_id, reason="in writing")
    assert only(consents, ConsentRevoked).consent_id == consent_id


def test_an_expired_consent_cannot_be_amended_revoked_or_expired_again() -> None:
    consents = opened()
    consent_id = grant(consents, valid_until=None, until_end_of_treatment=True)
    consents.expire(PRESCRIBER, days_ago(100), consent_id=consent_id)
    consents.collect_events()

    with refused(consents, ConsentClosed, field="consent_id"):
        consents.amend(PATIENT, days_ago(50), consent_id=consent_id, data_classes=["lab"])
    with refused(consents, ConsentClosed, field="consent_id"):
        consents.revoke(PATIENT, days_ago(50), consent_id=consent_id, reason="again")
    with refused(consents, ConsentClosed, field="consent_id"):
        consents.expire(SYSTEM, days_ago(50), consent_id=consent_id)


# --- reading "as of" --------------------------------------------------------------------


def test_a_consent_is_in_force_from_its_grant_and_valid_from_until_its_end() -> None:
    consents = opened()
    later_start = START + timedelta(days=10)
    consent_id = grant(consents, valid_from=later_start, at=GRANTED)
    backdated = grant(consents, valid_from=START - timedelta(days=30), at=GRANTED)

    assert consents.terms_at(consent_id, GRANTED) is None  # not yet valid
    assert consents.terms_at(consent_id, later_start) is not None
    assert consents.terms_at(consent_id, END) is None  # the end is exclusive
    # A consent covers nothing before it was given, whatever its valid_from says.
    assert consents.terms_at(backdated, GRANTED - timedelta(days=1)) is None
    assert consents.terms_at(backdated, GRANTED) is not None
    assert consents.terms_at(uuid4(), GRANTED) is None


def test_in_force_lists_every_consent_in_force_at_that_moment() -> None:
    consents = opened()
    medication = grant(consents)
    school = grant(
        consents,
        recipient="State University",
        data_classes=["functional"],
        purpose="education-support",
        valid_from=START + timedelta(days=50),
    )
    revoked = grant(consents, data_classes=["lab"])
    consents.revoke(PATIENT, START + timedelta(days=60), consent_id=revoked, reason="no")
    consents.collect_events()

    def ids(at: datetime) -> list[UUID]:
        return [t.consent_id for t in consents.in_force(at)]

    assert ids(START + timedelta(days=10)) == [medication, revoked]
    assert ids(START + timedelta(days=55)) == [medication, school, revoked]
    assert ids(START + timedelta(days=60)) == [medication, school]
    assert ids(END) == []


def test_consents_rebuild_from_their_stored_events_alone() -> None:
    consents = PatientConsents.open(SYSTEM, days_ago(400), PATIENT_ID)
    consent_id = uuid4()
    consents.grant(
        PATIENT,
        GRANTED,
        consent_id=consent_id,
        recipient_kind="user",
        recipient=PRIMARY_CARE.user_id,
        data_classes=[DataClass.SUD, DataClass.MEDICATION],
        purpose=Purpose.TREATMENT,
        valid_from=START,
        valid_until=END,
        part2=True,
    )
    consents.amend(PATIENT, days_ago(250), consent_id=consent_id, data_classes=["sud"])
    consents.revoke(PATIENT, days_ago(200), consent_id=consent_id, reason="in writing")
    events: Sequence[Any] = consents.collect_events()

    rebuilt: Any = None
    for event in events:
        # As the store's mapper does: JSON out, the model built and validated again.
        rebuilt = type(event)(**event.model_dump(mode="json")).mutate(rebuilt)

    assert isinstance(rebuilt, PatientConsents)
    assert (rebuilt.id, rebuilt.version, rebuilt.patient_id) == (
        consents.id,
        consents.version,
        PATIENT_ID,
    )
    assert rebuilt.consents == consents.consents
    for day in (300, 260, 250, 201, 200, 10):
        assert rebuilt.terms_at(consent_id, days_ago(day)) == consents.terms_at(
            consent_id, days_ago(day)
        )
