"""Who may correct an entry, decided in the record (domain/corrections.py): the author, or
a treating clinician of the author's role; a psychotherapy note only its author; a patient
only what they recorded themselves."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.corrections import EntryMarkedInError
from domain.errors import NotPermittedAuthor, RuleViolation
from domain.events import Actor
from domain.patient import PatientRecord
from domain.vocabulary import Role

AT = datetime(2026, 3, 1, 10, tzinfo=UTC)
SYSTEM = Actor.system("tests")
THERAPIST = Actor(user_id="t1@test", role=Role.THERAPIST, organisation="Clinic")
COLLEAGUE = Actor(user_id="t2@test", role=Role.THERAPIST, organisation="Clinic")
PRESCRIBER = Actor(user_id="p1@test", role=Role.PRESCRIBER, organisation="Clinic")
PATIENT = Actor(user_id="pt@test", role=Role.PATIENT, organisation="self")


def record() -> PatientRecord:
    found: Any = PatientRecord.register(
        SYSTEM,
        AT - timedelta(days=30),
        mrn="U-1",
        given_name="Unit",
        family_name="Synthetic",
        birth_date=date(1990, 1, 1),
        sex_at_birth="female",
    )
    for actor in (THERAPIST, COLLEAGUE, PRESCRIBER, PATIENT):
        found.add_team_member(
            SYSTEM,
            AT - timedelta(days=30),
            user_id=actor.user_id,
            role=actor.role,
            organisation=actor.organisation,
        )
    return found  # type: ignore[no-any-return]


def test_a_colleague_of_the_same_role_corrects_and_another_role_may_not() -> None:
    r = record()
    r.write_progress_note(THERAPIST, AT, text="Sleep poor.")
    note = r.version
    with pytest.raises(NotPermittedAuthor):
        r.mark_entered_in_error(PRESCRIBER, AT, entry_version=note, reason="not mine")
    r.mark_entered_in_error(COLLEAGUE, AT, entry_version=note, reason="wrong chart")
    assert isinstance(r.collect_events()[-1], EntryMarkedInError)
    with pytest.raises(RuleViolation):
        r.mark_entered_in_error(THERAPIST, AT, entry_version=note, reason="again")


def test_a_patient_may_not_correct_a_clinicians_entry_but_corrects_their_own() -> None:
    r = record()
    r.write_progress_note(THERAPIST, AT, text="Sleep poor.")
    note = r.version
    with pytest.raises(NotPermittedAuthor):
        r.mark_entered_in_error(PATIENT, AT, entry_version=note, reason="I disagree")
    r.log_sleep(PATIENT, AT, night_of=date(2026, 2, 28), hours_asleep="3", quality=2)
    own = r.version
    r.mark_entered_in_error(PATIENT, AT, entry_version=own, reason="typed 3 for 8")
    assert own in r.state.errored


def test_a_psychotherapy_note_is_corrected_by_its_author_alone() -> None:
    r = record()
    r.write_psychotherapy_note(THERAPIST, AT, text="Process notes.")
    note = r.version
    with pytest.raises(NotPermittedAuthor):
        r.amend_entry(COLLEAGUE, AT, entry_version=note, reason="typo", changes={"text": "Other."})
    r.amend_entry(THERAPIST, AT, entry_version=note, reason="typo", changes={"text": "Fixed."})
    # The correction carries the note's class: the policy shows it to the note's readers only.
    assert r.collect_events()[-1].data_class == r.state.entries[note][0].data_class
