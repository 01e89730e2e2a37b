"""The access policy: who may see which events of a patient's record, at a moment, for a
purpose, on which basis."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.access import (
    PRESCRIBER_CLASSES,
    Decision,
    EventFacts,
    Viewer,
    check_auditor,
    check_record_writer,
    check_treating_member,
    decide,
    may_manage_consents,
    own_patient_of,
)
from domain.consent import RECORD_CLASSES, REDISCLOSURE_NOTICE, PatientConsents, Purpose
from domain.errors import AccessDenied, InvalidInput, NotAnAuditor, NotAPatient
from domain.events import Actor
from domain.record import Membership
from domain.vocabulary import DataClass, Role
from tests.unit.builders import (
    OUTSIDER,
    PART2_COUNSELOR,
    PART2_PRESCRIBER,
    PATIENT,
    PRESCRIBER,
    PRIMARY_CARE,
    SCHOOL_COUNSELOR,
    SUPPORTER,
    SYSTEM,
    THERAPIST,
    a_registered_record,
    days_ago,
    recorded,
    with_session,
)

PATIENT_ID = uuid4()
EMPLOYER = Actor(user_id="hr@acme.example", role=Role.EMPLOYER, organisation="Acme Logistics")
COMPLIANCE = Actor(
    user_id="audit@riverside.example", role=Role.COMPLIANCE, organisation="Riverside"
)
ALL = frozenset(DataClass)
NOTE = DataClass.PSYCHOTHERAPY_NOTE
SUD = DataClass.SUD

GRANTED = days_ago(300)
NOW = days_ago(1)


def member(actor: Actor, *, part2: bool = False, active: bool = True) -> Membership:
    return Membership(actor.user_id, actor.role, actor.organisation, part2, active)


TEAM = {
    m.user_id: m
    for m in (
        member(THERAPIST),
        member(PRESCRIBER),
        member(PATIENT),
        member(SUPPORTER),
        member(PART2_COUNSELOR, part2=True),
        member(PART2_PRESCRIBER, part2=True),
        member(PRIMARY_CARE),
    )
}


def viewer(actor: Actor, patient_id: UUID | None = None) -> Viewer:
    if actor.role in {Role.PATIENT, Role.SUPPORTER} and patient_id is None:
        patient_id = PATIENT_ID
    return Viewer(actor.user_id, actor.role, actor.organisation, patient_id)


def consents() -> PatientConsents:
    opened = PatientConsents.open(SYSTEM, days_ago(400), PATIENT_ID)
    opened.collect_events()
    return opened


def grant(
    on: PatientConsents,
    to: Actor | str,
    classes: Iterable[DataClass | str],
    *,
    purpose: Purpose = Purpose.TREATMENT,
    part2: bool = False,
    at: datetime = GRANTED,
    **changes: Any,
) -> UUID:
    """A consent naming a user (an Actor) or an organisation (a string), from `at` on."""
    consent_id = uuid4()
    on.grant(
        PATIENT,
        at,
        consent_id=consent_id,
        recipient_kind="user" if isinstance(to, Actor) else "organisation",
        recipient=to.user_id if isinstance(to, Actor) else to,
        data_classes=[DataClass(c) for c in classes],
        purpose=purpose,
        valid_from=changes.pop("valid_from", at),
        valid_until=changes.pop("valid_until", None),
        part2=part2,
        **changes,
    )
    on.collect_events()
    return consent_id


def decision(
    actor: Actor,
    given_consents: PatientConsents | None = None,
    *,
    at: datetime = NOW,
    purpose: Purpose = Purpose.TREATMENT,
    team: dict[str, Membership] | None = None,
    emergency_reason: str | None = None,
    patient_id: UUID = PATIENT_ID,
) -> Decision:
    return decide(
        viewer(actor),
        patient_id,
        TEAM if team is None else team,
        given_consents,
        at,
        purpose,
        emergency_reason,
    )


def event(data_class: DataClass, author: Actor = THERAPIST, *, sud: bool = False) -> EventFacts:
    return EventFacts(data_class, author.user_id, sud, part2=sud)


def part2_event(
    data_class: DataClass = DataClass.MEDICATION, author: Actor = THERAPIST
) -> EventFacts:
    """A Part 2 record (42 CFR Part 2) of `data_class`: a buprenorphine dose change, say."""
    return EventFacts(data_class, author.user_id, part2=True)


def permitted_part2_classes(made: Decision, author: Actor = THERAPIST) -> set[DataClass]:
    """The classes whose Part 2 records by `author` the decision lets through."""
    return {c for c in DataClass if c != NOTE and made.permits(part2_event(c, author))}


def permitted_classes(made: Decision, author: Actor = THERAPIST) -> set[DataClass]:
    """The classes whose events by `author` the decision lets through."""
    return {c for c in DataClass if made.permits(event(c, author))}


# --- compliance and the system ------------------------------------------------------------


def test_a_compliance_reviewer_never_sees_clinical_content() -> None:
    given_consents = consents()
    grant(given_consents, COMPLIANCE, RECORD_CLASSES - {NOTE}, part2=True)
    for made in (
        decision(COMPLIANCE, given_consents),
        decision(COMPLIANCE, given_consents, emergency_reason="fire drill"),
        decision(COMPLIANCE, team={COMPLIANCE.user_id: member(COMPLIANCE)}),
    ):
        assert (made.basis, made.allowed, made.classes) == ("none", False, frozenset())
        assert permitted_classes(made) == set()


def test_the_system_sees_nothing_through_the_read_policy() -> None:
    assert not decision(SYSTEM).allowed


def test_only_compliance_reviewers_read_the_audit_trail() -> None:
    check_auditor(viewer(COMPLIANCE))
    for actor in (THERAPIST, PATIENT, SYSTEM):
        with pytest.raises(NotAnAuditor) as refusal:
            check_auditor(viewer(actor))
        assert isinstance(refusal.value, AccessDenied)


def test_only_a_patients_own_account_has_a_record_of_its_own() -> None:
    assert own_patient_of(viewer(PATIENT)) == PATIENT_ID
    for actor in (THERAPIST, PRESCRIBER, SUPPORTER, COMPLIANCE, SYSTEM):
        with pytest.raises(NotAPatient) as refusal:
            own_patient_of(viewer(actor))
        assert isinstance(refusal.value, AccessDenied)
    with pytest.raises(NotAPatient):  # a patient's account that names no record
        own_patient_of(Viewer(PATIENT.user_id, Role.PATIENT, "self", None))


# --- the treating team ----------------------------------------------------------------------


def test_the_treating_therapist_sees_the_whole_record_but_sud_and_others_notes() -> None:
    made = decision(THERAPIST)

    assert made.basis == "treating-team" and made.consents == ()
    assert permitted_classes(made, THERAPIST) == RECORD_CLASSES - {SUD}
    assert permitted_classes(made, PART2_COUNSELOR) == RECORD_CLASSES - {SUD, NOTE}
    assert made.notice is None


def test_a_therapist_in_a_part2_program_sees_sud_records_without_a_consent() -> None:
    made = decision(PART2_COUNSELOR)

    assert made.basis == "treating-team"
    assert made.permits(part2_event(author=PRESCRIBER))
    assert made.notice is None  # use inside the program is not a disclosure under consent
    # ...and its own SUD counseling notes, but not another counselor's.
    assert made.permits(event(NOTE, PART2_COUNSELOR, sud=True))
    assert not made.permits(event(NOTE, THERAPIST))


def test_a_treating_therapist_sees_sud_records_under_a_part2_consent_with_the_notice() -> None:
    given_consents = consents()
    consent_id = grant(given_consents, THERAPIST, [SUD], part2=True)

    made = decision(THERAPIST, given_consents)

    assert made.permits(part2_event())
    assert made.consents == (consent_id,)
    assert made.notice == REDISCLOSURE_NOTICE


def test_the_treating_prescriber_sees_what_prescribing_needs() -> None:
    made = decision(PRESCRIBER)

    assert made.basis == "treating-team"
    assert permitted_classes(made) == set(PRESCRIBER_CLASSES)
    assert permitted_classes(made) == {
        DataClass.MEDICATION,
        DataClass.LAB,
        DataClass.MEASURE,
        DataClass.PROGRESS_NOTE,
        DataClass.SAFETY,
        DataClass.CARE_PLAN,
        DataClass.DEMOGRAPHICS,
        DataClass.CARE_TEAM,
        DataClass.APPOINTMENT,
        DataClass.MESSAGE,
        DataClass.FUNCTIONAL,
        DataClass.CONSENT,
    }


def test_a_prescriber_never_sees_a_therapists_psychotherapy_note_without_its_consent() -> None:
    given_consents = consents()
    # Even a consent that gives the prescriber everything else does not reach the notes.
    grant(given_consents, PRESCRIBER, RECORD_CLASSES - {NOTE}, part2=True)

    for made in (decision(PRESCRIBER), decision(PRESCRIBER, given_consents)):
        assert not made.permits(event(NOTE, THERAPIST))


def test_a_recorded_psychotherapy_note_reaches_its_author_but_not_the_treating_prescriber() -> None:
    record, session_id = with_session(a_registered_record())
    record.write_psychotherapy_note(THERAPIST, days_ago(3), text="private", session_id=session_id)
    record.write_progress_note(THERAPIST, days_ago(3), text="shared", session_id=session_id)
    written = recorded(record)

    def seen_by(actor: Actor) -> list[str]:
        made = decision(actor, team=record.state.team, patient_id=record.id)
        return [
            type(e).__name__
            for e in written
            if made.permits(EventFacts(e.data_class, e.actor.user_id))
        ]

    assert seen_by(THERAPIST) == ["PsychotherapyNoteWritten", "ProgressNoteWritten"]
    assert seen_by(PRESCRIBER) == ["ProgressNoteWritten"]


def test_a_prescriber_with_a_psychotherapy_note_consent_sees_the_notes() -> None:
    given_consents = consents()
    consent_id = grant(given_consents, PRESCRIBER, [NOTE])

    made = decision(PRESCRIBER, given_consents)

    assert made.psychotherapy_consent and not made.sud_counseling_consent
    assert made.consents == (consent_id,)
    assert made.permits(event(NOTE, THERAPIST))
    # An SUD counseling note needs a Part 2 consent of its own (42 CFR 2.31).
    assert not made.permits(event(NOTE, PART2_COUNSELOR, sud=True))
    assert made.notice is None


def test_a_part2_psychotherapy_note_consent_covers_sud_counseling_notes_with_the_notice() -> None:
    given_consents = consents()
    grant(given_consents, PRESCRIBER, [NOTE], part2=True)

    made = decision(PRESCRIBER, given_consents)

    assert made.sud_counseling_consent
    assert made.permits(event(NOTE, PART2_COUNSELOR, sud=True))
    assert made.notice == REDISCLOSURE_NOTICE


def test_a_prescriber_in_a_part2_program_sees_sud_records() -> None:
    assert decision(PART2_PRESCRIBER).permits(part2_event())
    assert not decision(PRESCRIBER).permits(part2_event())


def test_a_member_acting_in_another_role_falls_back_to_consents() -> None:
    as_prescriber = Actor(
        user_id=THERAPIST.user_id, role=Role.PRESCRIBER, organisation=THERAPIST.organisation
    )
    made = decision(as_prescriber)
    assert (made.basis, made.allowed) == ("none", False)


def test_a_member_who_left_the_team_falls_back_to_consents() -> None:
    team = {**TEAM, THERAPIST.user_id: member(THERAPIST, active=False)}
    given_consents = consents()
    consent_id = grant(given_consents, THERAPIST.organisation, [DataClass.MEDICATION])

    assert not decision(THERAPIST, team=team).allowed
    made = decision(THERAPIST, given_consents, team=team)
    assert (made.basis, made.consents) == ("consent", (consent_id,))
    assert permitted_classes(made) == {DataClass.MEDICATION}
    # Their own psychotherapy notes were for treating; no longer treating, no longer seen.
    assert not made.permits(event(NOTE, THERAPIST))


def test_a_clinician_off_the_team_sees_only_what_a_consent_gives_them() -> None:
    given_consents = consents()
    assert not decision(OUTSIDER, given_consents).allowed
    grant(given_consents, OUTSIDER.organisation, [DataClass.PROGRESS_NOTE, DataClass.CARE_PLAN])
    made = decision(OUTSIDER, given_consents)
    assert permitted_classes(made) == {DataClass.PROGRESS_NOTE, DataClass.CARE_PLAN}


# --- the patient ----------------------------------------------------------------------------


def test_a_patient_sees_their_own_record_except_psychotherapy_notes() -> None:
    made = decision(PATIENT)

    assert made.basis == "own-record"
    assert permitted_classes(made) == RECORD_CLASSES - {NOTE, SUD}
    # Their Part 2 records of every class too (42 CFR 2.23).
    assert permitted_part2_classes(made, PART2_COUNSELOR) == RECORD_CLASSES - {NOTE, SUD}


def test_a_patient_never_sees_psychotherapy_notes_even_under_a_consent_naming_them() -> None:
    given_consents = consents()
    grant(given_consents, PATIENT, [NOTE], part2=True)
    made = decision(PATIENT, given_consents)
    assert not made.permits(event(NOTE, THERAPIST))
    assert not made.permits(event(NOTE, PART2_COUNSELOR, sud=True))
    assert not made.psychotherapy_consent


def test_a_patient_sees_nothing_of_another_patients_record() -> None:
    made = decision(PATIENT, patient_id=uuid4())
    assert made.basis == "none" and permitted_classes(made) == set()


# --- recipients under consent ---------------------------------------------------------------


def test_primary_care_with_a_medication_consent_sees_medications_and_nothing_else() -> None:
    given_consents = consents()
    consent_id = grant(given_consents, PRIMARY_CARE, [DataClass.MEDICATION])

    made = decision(PRIMARY_CARE, given_consents)

    assert (made.basis, made.consents, made.notice) == ("consent", (consent_id,), None)
    assert permitted_classes(made) == {DataClass.MEDICATION}
    assert not made.permits(part2_event(author=PART2_PRESCRIBER))
    assert not made.permits(event(NOTE))


def test_primary_care_on_the_team_sees_nothing_without_a_consent() -> None:
    assert PRIMARY_CARE.user_id in TEAM
    assert decision(PRIMARY_CARE, consents()).basis == "none"


def test_after_revocation_the_next_decision_permits_nothing() -> None:
    given_consents = consents()
    consent_id = grant(given_consents, PRIMARY_CARE, [DataClass.MEDICATION])
    read_at = days_ago(2)
    before = decision(PRIMARY_CARE, given_consents, at=read_at)
    assert before.permits(event(DataClass.MEDICATION))

    revoked_at = read_at + timedelta(minutes=1)
    given_consents.revoke(PATIENT, revoked_at, consent_id=consent_id, reason="in writing")

    after = decision(PRIMARY_CARE, given_consents, at=revoked_at)
    assert after.basis == "none" and after.consents == ()
    assert permitted_classes(after) == set()
    # A view "as of" before the revocation still shows what was seen then.
    assert decision(PRIMARY_CARE, given_consents, at=read_at) == before


def test_a_consent_applies_only_for_its_period() -> None:
    given_consents = consents()
    start, end = days_ago(200), days_ago(100)
    grant(
        given_consents,
        PRIMARY_CARE,
        [DataClass.MEDICATION],
        valid_from=start,
        valid_until=end,
    )
    assert not decision(PRIMARY_CARE, given_consents, at=start - timedelta(seconds=1)).allowed
    assert decision(PRIMARY_CARE, given_consents, at=start).allowed
    assert not decision(PRIMARY_CARE, given_consents, at=end).allowed


def test_an_amendment_applies_from_its_time_on() -> None:
    given_consents = consents()
    consent_id = grant(given_consents, PRIMARY_CARE, [DataClass.MEDICATION])
    amended_at = days_ago(100)
    given_consents.amend(
        PATIENT, amended_at, consent_id=consent_id, data_classes=["medication", "lab"]
    )

    before = decision(PRIMARY_CARE, given_consents, at=amended_at - timedelta(seconds=1))
    after = decision(PRIMARY_CARE, given_consents, at=amended_at)
    assert permitted_classes(before) == {DataClass.MEDICATION}
    assert permitted_classes(after) == {DataClass.MEDICATION, DataClass.LAB}


def test_a_consent_applies_only_for_its_purpose() -> None:
    given_consents = consents()
    grant(given_consents, PRIMARY_CARE, [DataClass.MEDICATION], purpose=Purpose.CARE_COORDINATION)
    assert not decision(PRIMARY_CARE, given_consents, purpose=Purpose.TREATMENT).allowed
    assert decision(PRIMARY_CARE, given_consents, purpose=Purpose.CARE_COORDINATION).allowed


def test_a_consent_to_an_organisation_covers_its_people_and_one_to_a_user_only_them() -> None:
    colleague = Actor(
        user_id="a.rossi@valley-pc.example",
        role=Role.PRIMARY_CARE,
        organisation=PRIMARY_CARE.organisation,
    )
    to_user = consents()
    grant(to_user, PRIMARY_CARE, [DataClass.MEDICATION])
    to_organisation = consents()
    grant(to_organisation, PRIMARY_CARE.organisation, [DataClass.MEDICATION])

    assert decision(PRIMARY_CARE, to_user).allowed
    assert not decision(colleague, to_user).allowed
    assert decision(colleague, to_organisation).allowed


def test_a_school_counselor_gets_functional_and_measures_only_whatever_the_consent_lists() -> None:
    given_consents = consents()
    grant(
        given_consents,
        SCHOOL_COUNSELOR.organisation,
        RECORD_CLASSES - {NOTE, SUD},
        purpose=Purpose.EDUCATION_SUPPORT,
    )
    grant(given_consents, SCHOOL_COUNSELOR, [NOTE], purpose=Purpose.EDUCATION_SUPPORT)

    made = decision(SCHOOL_COUNSELOR, given_consents, purpose=Purpose.EDUCATION_SUPPORT)

    assert permitted_classes(made) == {DataClass.FUNCTIONAL, DataClass.MEASURE}
    for never in (DataClass.CARE_PLAN, DataClass.PROGRESS_NOTE, NOTE):
        assert not made.permits(event(never))
    assert not made.psychotherapy_consent


def test_a_school_counselor_with_a_consent_for_notes_only_sees_nothing() -> None:
    given_consents = consents()
    grant(
        given_consents,
        SCHOOL_COUNSELOR,
        [DataClass.PROGRESS_NOTE, DataClass.CARE_PLAN],
        purpose=Purpose.EDUCATION_SUPPORT,
    )
    made = decision(SCHOOL_COUNSELOR, given_consents, purpose=Purpose.EDUCATION_SUPPORT)
    assert (made.basis, made.consents) == ("none", ())


def test_an_employer_gets_functional_recommendations_only() -> None:
    given_consents = consents()
    grant(
        given_consents,
        EMPLOYER.organisation,
        [DataClass.FUNCTIONAL, DataClass.MEASURE, DataClass.MEDICATION],
        purpose=Purpose.RETURN_TO_WORK,
    )
    made = decision(EMPLOYER, given_consents, purpose=Purpose.RETURN_TO_WORK)
    assert permitted_classes(made) == {DataClass.FUNCTIONAL}


def test_a_supporter_on_the_team_sees_what_the_patient_allowed() -> None:
    given_consents = consents()
    grant(
        given_consents,
        SUPPORTER,
        [DataClass.MEASURE, DataClass.APPOINTMENT],
        purpose=Purpose.FAMILY_SUPPORT,
    )
    made = decision(SUPPORTER, given_consents, purpose=Purpose.FAMILY_SUPPORT)
    assert made.basis == "consent"
    assert permitted_classes(made) == {DataClass.MEASURE, DataClass.APPOINTMENT}


def test_a_supporter_off_the_team_sees_nothing_even_with_a_consent() -> None:
    given_consents = consents()
    grant(given_consents, SUPPORTER, [DataClass.MEASURE], purpose=Purpose.FAMILY_SUPPORT)
    for team in (
        {k: v for k, v in TEAM.items() if k != SUPPORTER.user_id},
        {**TEAM, SUPPORTER.user_id: member(SUPPORTER, active=False)},
    ):
        made = decision(SUPPORTER, given_consents, purpose=Purpose.FAMILY_SUPPORT, team=team)
        assert made.basis == "none"


def test_a_supporter_without_a_consent_sees_nothing() -> None:
    assert decision(SUPPORTER, consents(), purpose=Purpose.FAMILY_SUPPORT).basis == "none"


# --- psychotherapy notes --------------------------------------------------------------------


def test_nobody_but_the_author_sees_a_psychotherapy_note_without_its_own_consent() -> None:
    given_consents = consents()
    # Everything else, to everyone, under every purpose: still not the notes.
    for to in (
        THERAPIST.organisation,
        "Harbor OTP",
        PRIMARY_CARE.organisation,
        SCHOOL_COUNSELOR.organisation,
        EMPLOYER.organisation,
        SUPPORTER.organisation,
    ):
        grant(given_consents, to, RECORD_CLASSES - {NOTE}, part2=True)
    note = event(NOTE, THERAPIST)

    assert decision(THERAPIST, given_consents).permits(note)
    for actor in (
        PRESCRIBER,
        PART2_COUNSELOR,
        PART2_PRESCRIBER,
        PRIMARY_CARE,
        SCHOOL_COUNSELOR,
        EMPLOYER,
        SUPPORTER,
        PATIENT,
        OUTSIDER,
        COMPLIANCE,
    ):
        assert not decision(actor, given_consents).permits(note), actor
        assert not decision(actor, given_consents, emergency_reason="overdose").permits(note)


def test_primary_care_with_a_psychotherapy_note_consent_sees_the_notes_it_covers() -> None:
    given_consents = consents()
    grant(given_consents, PRIMARY_CARE, [NOTE])
    made = decision(PRIMARY_CARE, given_consents)
    assert made.permits(event(NOTE, THERAPIST))
    assert not made.permits(event(NOTE, PART2_COUNSELOR, sud=True))
    assert not made.permits(event(DataClass.PROGRESS_NOTE))


def test_a_psychotherapy_note_consent_for_another_purpose_does_not_apply() -> None:
    given_consents = consents()
    grant(given_consents, PRIMARY_CARE, [NOTE], purpose=Purpose.PAYMENT)
    assert not decision(PRIMARY_CARE, given_consents).permits(event(NOTE))


# --- SUD records ----------------------------------------------------------------------------


def test_part2_records_reach_a_consent_recipient_only_under_a_part2_consent_with_the_notice() -> (
    None
):
    given_consents = consents()
    ordinary = grant(given_consents, PRIMARY_CARE, [DataClass.MEDICATION])
    made = decision(PRIMARY_CARE, given_consents)
    assert made.permits(event(DataClass.MEDICATION))
    assert not made.permits(part2_event(author=PART2_PRESCRIBER))
    assert made.notice is None and made.consents == (ordinary,)

    part2 = grant(given_consents, PRIMARY_CARE, [DataClass.MEDICATION], part2=True)
    made = decision(PRIMARY_CARE, given_consents)
    assert made.permits(part2_event(author=PART2_PRESCRIBER))
    assert made.notice == REDISCLOSURE_NOTICE
    assert made.consents == (part2,)  # it covers all the ordinary one did, and more


def test_a_part2_consent_for_medications_discloses_medications_only() -> None:
    """42 CFR 2.31(a)(3): the consent says how much and what kind; Part 2 is a label beside
    the data class, so a Part 2 medication consent opens no counseling note, lab or lapse."""
    given_consents = consents()
    grant(given_consents, PRIMARY_CARE, [DataClass.MEDICATION], part2=True)

    made = decision(PRIMARY_CARE, given_consents)

    assert permitted_part2_classes(made, PART2_PRESCRIBER) == {DataClass.MEDICATION}
    assert permitted_classes(made, PART2_PRESCRIBER) == {DataClass.MEDICATION}
    assert not made.permits(event(NOTE, PART2_COUNSELOR, sud=True))
    assert made.notice == REDISCLOSURE_NOTICE


def test_a_part2_consent_naming_sud_covers_every_kind_of_part2_record_but_notes() -> None:
    given_consents = consents()
    grant(given_consents, PRIMARY_CARE, [SUD], part2=True)

    made = decision(PRIMARY_CARE, given_consents)

    assert permitted_part2_classes(made, PART2_PRESCRIBER) == RECORD_CLASSES - {NOTE, SUD}
    assert permitted_classes(made, PART2_PRESCRIBER) == set()  # Part 2 records only
    assert made.notice == REDISCLOSURE_NOTICE


def test_sud_records_stay_with_the_part2_program_the_patient_and_consent_recipients() -> None:
    sud = part2_event(author=PART2_PRESCRIBER)
    assert decision(PART2_COUNSELOR).permits(sud)
    assert decision(PART2_PRESCRIBER).permits(sud)
    assert decision(PATIENT).permits(sud)
    for actor in (THERAPIST, PRESCRIBER, PRIMARY_CARE, SUPPORTER, OUTSIDER, COMPLIANCE):
        assert not decision(actor).permits(sud), actor


def test_an_employer_never_gets_sud_records_even_under_a_part2_consent() -> None:
    given_consents = consents()
    grant(given_consents, EMPLOYER, [SUD, DataClass.FUNCTIONAL], part2=True)
    made = decision(EMPLOYER, given_consents)
    assert not made.permits(part2_event())
    assert made.notice is None


# --- break-the-glass ------------------------------------------------------------------------


@pytest.mark.parametrize("actor", [THERAPIST, PRESCRIBER, PRIMARY_CARE, OUTSIDER])
def test_a_clinician_breaks_the_glass_for_everything_but_psychotherapy_notes(actor: Actor) -> None:
    made = decision(actor, emergency_reason="unresponsive after suspected overdose", team={})

    assert made.basis == "break-the-glass" and made.allowed
    assert permitted_classes(made, actor) == RECORD_CLASSES - {NOTE, SUD}
    # Part 2 records of every class too (42 CFR 2.51): the team to call among them.
    assert permitted_part2_classes(made, PART2_PRESCRIBER) == RECORD_CLASSES - {NOTE, SUD}
    assert made.consents == () and made.notice is None


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_breaking_the_glass_states_a_reason(reason: str) -> None:
    with pytest.raises(InvalidInput) as refusal:
        decision(PRIMARY_CARE, emergency_reason=reason)
    assert [e.field for e in refusal.value.errors] == ["reason"]


def test_only_clinicians_break_the_glass() -> None:
    given_consents = consents()
    grant(
        given_consents,
        SCHOOL_COUNSELOR,
        [DataClass.FUNCTIONAL],
        purpose=Purpose.EDUCATION_SUPPORT,
    )
    made = decision(
        SCHOOL_COUNSELOR,
        given_consents,
        purpose=Purpose.EDUCATION_SUPPORT,
        emergency_reason="student in crisis",
    )
    assert made.basis == "consent"
    assert permitted_classes(made) == {DataClass.FUNCTIONAL}
    for actor in (SUPPORTER, EMPLOYER, COMPLIANCE, PATIENT):
        assert decision(actor, emergency_reason="worried").basis != "break-the-glass"


# --- the decision itself ----------------------------------------------------------------------


def test_a_decision_says_who_when_and_why() -> None:
    made = decision(PRESCRIBER, at=NOW, purpose=Purpose.CARE_COORDINATION)
    assert (made.patient_id, made.viewer, made.at, made.purpose) == (
        PATIENT_ID,
        viewer(PRESCRIBER),
        NOW,
        Purpose.CARE_COORDINATION,
    )


def test_another_patients_consents_are_never_used() -> None:
    other = PatientConsents.open(SYSTEM, days_ago(400), uuid4())
    with pytest.raises(ValueError, match="consents of patient"):
        decision(PRIMARY_CARE, other)


def test_events_of_a_class_outside_the_record_are_seen_by_nobody() -> None:
    for actor in (THERAPIST, PATIENT, PART2_COUNSELOR):
        for label in ALL - RECORD_CLASSES:
            assert not decision(actor).permits(event(label, actor))


# --- who keeps consents -------------------------------------------------------------------


def test_the_patient_and_active_treating_clinicians_manage_consents() -> None:
    inactive = {**TEAM, PRESCRIBER.user_id: member(PRESCRIBER, active=False)}
    assert may_manage_consents(viewer(PATIENT), PATIENT_ID, {})
    assert may_manage_consents(viewer(THERAPIST), PATIENT_ID, TEAM)
    assert may_manage_consents(viewer(PRESCRIBER), PATIENT_ID, TEAM)
    assert not may_manage_consents(viewer(PRESCRIBER), PATIENT_ID, inactive)
    assert not may_manage_consents(viewer(PATIENT, patient_id=uuid4()), PATIENT_ID, TEAM)
    for actor in (PRIMARY_CARE, SUPPORTER, SCHOOL_COUNSELOR, EMPLOYER, OUTSIDER, COMPLIANCE):
        assert not may_manage_consents(viewer(actor), PATIENT_ID, TEAM), actor


# --- what the API still uses -------------------------------------------------------------------


def test_writes_stay_with_the_active_treating_team() -> None:
    record = a_registered_record(others=[PRIMARY_CARE])
    check_treating_member(record, THERAPIST)
    check_treating_member(record, PRESCRIBER)
    for actor in (PATIENT, SUPPORTER, PRIMARY_CARE, OUTSIDER):
        with pytest.raises(AccessDenied):
            check_treating_member(record, actor)


def test_the_patient_writes_to_their_own_record_and_to_no_other() -> None:
    record = a_registered_record(others=[PRIMARY_CARE])
    check_record_writer(record, THERAPIST, None)
    check_record_writer(record, PRESCRIBER, None)
    check_record_writer(record, PATIENT, record.id)
    check_record_writer(record, SUPPORTER, None)  # on the team as the supporter
    refused = [
        (PATIENT, uuid4()),  # someone else's account
        (PATIENT, None),  # an account that names no patient
        (SUPPORTER.model_copy(update={"user_id": "other-supporter@test"}), None),  # not on it
        (PRIMARY_CARE, None),
        (OUTSIDER, None),
        (COMPLIANCE, None),
    ]
    for actor, own in refused:
        with pytest.raises(AccessDenied):
            check_record_writer(record, actor, own)
    record.remove_team_member(SYSTEM, days_ago(1), user_id=SUPPORTER.user_id, reason="Moved away")
    with pytest.raises(AccessDenied):  # removed from the team: no longer
        check_record_writer(record, SUPPORTER, None)
